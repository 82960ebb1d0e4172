"""Access tokens (signed, short-lived) and refresh tokens (stored, single use).

An access token is a short-lived JWT (audience ``argus-api``) whose ``sid``
is its sign-in session; each request re-reads the user, so disabling, a role
change or a password change takes effect at once (``tv``, the token version).
A refresh token is ``rt_<id>.<secret>``; only the secret's SHA-256 is stored.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from argus.domain.cameras import new_id
from argus.domain.errors import AuthenticationError
from argus.domain.identity import User
from argus.ports.crypto import TokenCodec
from argus.ports.identity import RefreshToken, RefreshTokenRepository

__all__ = [
    "AUDIENCE",
    "ISSUER",
    "AccessTokens",
    "RefreshTokens",
    "Restriction",
    "TokenPair",
    "secret_digest",
]

AUDIENCE = "argus-api"
ISSUER = "argus"
Restriction = Literal["password_change", "mfa_enrolment"]
"""What a restricted sign-in allows: changing the password, or enrolling MFA."""

_CLAIMS = ["exp", "iat", "sub", "aud", "iss", "sid"]
_TIMES = ("exp", "nbf", "iat")


def secret_digest(text: str) -> str:
    """The stored form of a token's or key's random secret (SHA-256, hex)."""
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class TokenPair:
    """What a sign-in or a refresh returns.

    Attributes:
        access_token: The JWT for ``Authorization: Bearer``.
        expires_in: Its lifetime in seconds.
        refresh_token: Exchanged for a new pair (``None`` for a restricted sign-in).
        restricted: ``password_change`` or ``mfa_enrolment`` when the token
            only allows that step.
    """

    access_token: str
    expires_in: int
    refresh_token: str | None
    restricted: Restriction | None = None


class AccessTokens:
    """Issues and checks access tokens, their times on the service's clock.

    Args:
        codec: Signs and checks the claims.
        ttl_s: Lifetime of an access token.
        clock: Current UTC time.
    """

    def __init__(self, codec: TokenCodec, ttl_s: int, clock: Callable[[], datetime]) -> None:
        self._codec = codec
        self._clock = clock
        self.ttl_s = ttl_s

    def issue(self, user: User, now: datetime, restricted: Restriction | None, session: str) -> str:
        """A token of ``user`` in ``session``, valid from ``now``."""
        claims: dict[str, Any] = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": user.id,
            "iat": int(now.timestamp()),
            "nbf": int(now.timestamp()),
            "exp": int(now.timestamp()) + self.ttl_s,
            "jti": secrets.token_hex(8),
            "tv": user.token_version,
            "sid": session,
        }
        if restricted is not None:
            claims["rst"] = restricted
        return self._codec.encode(claims)

    def claims(self, token: str, *, check_expiry: bool = True) -> dict[str, Any] | None:
        """The claims of a genuine access token of this installation, else ``None``."""
        try:
            return self.decode(token, check_expiry=check_expiry)
        except AuthenticationError:
            return None

    def decode(self, token: str, *, check_expiry: bool = True) -> dict[str, Any]:
        """Check an access token's signature, audience, issuer and times (on the clock).

        Raises:
            AuthenticationError: Any of them is wrong, or a claim is missing.
        """
        claims = self._codec.decode(token, audience=AUDIENCE, issuer=ISSUER, required=_CLAIMS)
        values = [claims.get(t) for t in _TIMES]
        if not all(v is None or isinstance(v, int | float) for v in values):
            raise AuthenticationError("the access token is not valid: times must be numbers")
        now = self._clock().timestamp()
        expires, not_before, issued = values
        if check_expiry and expires is not None and now >= expires:
            raise AuthenticationError("the access token has expired")
        if (not_before is not None and now < not_before) or (issued is not None and now < issued):
            raise AuthenticationError("the access token is not valid yet")
        return claims


class RefreshTokens:
    """Makes and finds refresh tokens.

    Args:
        store: Where their hashes are kept.
        ttl_s: Lifetime of a refresh token.
    """

    def __init__(self, store: RefreshTokenRepository, ttl_s: int) -> None:
        self._store = store
        self._ttl_s = ttl_s

    async def new(self, user_id: str, family: str, now: datetime) -> str:
        """A new token of session ``family``; only its hash is stored."""
        token_id, secret = new_id(), secrets.token_urlsafe(32)
        await self._store.add(
            RefreshToken(
                id=token_id,
                family_id=family,
                user_id=user_id,
                token_hash=secret_digest(secret),
                created_at=now,
                expires_at=now + timedelta(seconds=self._ttl_s),
            )
        )
        return f"rt_{token_id}.{secret}"

    async def find(self, token: str) -> RefreshToken | None:
        """The stored token ``token`` names, when its secret matches, else ``None``."""
        if not token.startswith("rt_") or "." not in token:
            return None
        token_id, _, secret = token[3:].partition(".")
        if not token_id or len(token_id) > 64:
            return None
        stored = await self._store.get(token_id)
        if stored is None or not hmac.compare_digest(stored.token_hash, secret_digest(secret)):
            return None
        return stored

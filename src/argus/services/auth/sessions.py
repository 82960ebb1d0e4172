"""``SessionService``: sign-in, refresh, sign-out and request authentication.

* A login for an unknown name still costs one password hash, so timing does
  not tell names apart; sign-in attempts are limited per client address, and
  failures lock the account (``Lockout``).
* Refresh tokens rotate on every use; presenting a used one again revokes its
  whole family (the sign-in session), since one of the two holders is a thief.
* A token family is a sign-in session; its id is the access token's ``sid``.
  Signing out or a reused refresh token puts the session in the revocation
  set in the database, which every server reads on every request.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from argus.domain.cameras import new_id
from argus.domain.errors import (
    AuthenticationError,
    NotFoundError,
    RateLimitedError,
    ValidationError,
)
from argus.domain.identity import Principal, User
from argus.ports.repositories import Database
from argus.services.auth.config import AuthConfig
from argus.services.auth.factors import SecondFactor
from argus.services.auth.lockout import Lockout
from argus.services.auth.passwords import Passwords, check_password_strength
from argus.services.auth.policy import PolicyStore
from argus.services.auth.revocation import Revocations
from argus.services.auth.tokens import (
    AccessTokens,
    RefreshTokens,
    Restriction,
    TokenPair,
    secret_digest,
)
from argus.services.auth.trail import AuthTrail
from argus.services.ratelimit import RateLimiter

__all__ = ["MfaRequiredError", "SessionService"]


class MfaRequiredError(AuthenticationError):
    """The password was right, but the account needs a TOTP or recovery code too."""

    code = "mfa_required"


class SessionService:
    """Sign-in sessions of users, and the principals of tokens and API keys.

    Args:
        database: Users, refresh tokens and API keys.
        trail: The audit trail.
        passwords: Password checks.
        factors: TOTP and recovery codes.
        lockout: Failure counting.
        policy: The security policy (which roles must use MFA).
        revocations: Ends sessions.
        access: Access tokens.
        config: Lifetimes and limits.
        clock: Current UTC time.
        monotonic: Seconds for the per-address sign-in limiter.
    """

    def __init__(
        self,
        database: Database,
        trail: AuthTrail,
        *,
        passwords: Passwords,
        factors: SecondFactor,
        lockout: Lockout,
        policy: PolicyStore,
        revocations: Revocations,
        access: AccessTokens,
        config: AuthConfig,
        clock: Callable[[], datetime],
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._db = database
        self._trail = trail
        self._passwords = passwords
        self._factors = factors
        self._lockout = lockout
        self._policy = policy
        self._revocations = revocations
        self._access = access
        self._refresh = RefreshTokens(database.refresh_tokens, config.refresh_ttl_s)
        self._clock = clock
        self._login_limit = RateLimiter(
            config.login_rate_per_s,
            config.login_burst,
            what="sign-in attempts from this address",
            clock=monotonic,
        )

    async def login(
        self, username: str, password: str, otp: str | None = None, *, ip: str | None = None
    ) -> TokenPair:
        """Check a password (and a TOTP or recovery code when the account has MFA).

        Raises:
            RateLimitedError: Too many attempts from ``ip``, or the account is locked.
            MfaRequiredError: The password is right and a code is needed.
            AuthenticationError: Anything else wrong (one message for all).
        """
        record = self._trail.record
        if ip is not None:
            try:
                self._login_limit.hit(ip)
            except RateLimitedError:
                await record(
                    "auth.login", username[:200], outcome="denied", ip=ip, reason="rate limited"
                )
                raise
        now = self._clock()
        user = await self._db.users.find(username)
        if user is None:
            self._passwords.burn(password)
            await record(
                "auth.login", username[:200], outcome="failure", ip=ip, reason="unknown user"
            )
            raise AuthenticationError("wrong username or password")
        actor = f"user:{user.username}"
        locked = self._lockout.refusal(user, now)
        if locked is not None:
            await record("auth.login", actor, outcome="denied", ip=ip, reason="locked")
            raise locked
        if not self._passwords.matches(user, password):
            await self._lockout.failed(user, ip, "wrong password")
            raise AuthenticationError("wrong username or password")
        if user.disabled:
            await record("auth.login", actor, outcome="denied", ip=ip, reason="disabled")
            raise AuthenticationError("wrong username or password")
        changes: dict[str, Any] = {}
        if user.mfa_secret is not None:
            if not otp:
                await record(
                    "auth.login", actor, outcome="failure", ip=ip, reason="mfa code missing"
                )
                raise MfaRequiredError("this account needs a TOTP or recovery code (otp)")
            second = await self._factors.check(user, otp)
            if second is None:
                await self._lockout.failed(user, ip, "wrong mfa code")
                raise AuthenticationError("wrong MFA code")
            changes.update(second)
        if user.failed_logins or user.locked_until is not None:
            changes.update(failed_logins=0, locked_until=None)
        if changes:
            user = user.evolve(now, **changes)
            await self._db.users.update(user)
        restricted = await self.restriction(user)
        await record(
            "auth.login",
            actor,
            target=f"user:{user.id}",
            ip=ip,
            mfa=user.mfa_enabled,
            restricted=restricted,
        )
        return await self.issue(user, restricted=restricted)

    async def restriction(self, user: User) -> Restriction | None:
        """What a sign-in of ``user`` is limited to, if anything, before it may do more."""
        if user.must_change_password:
            return "password_change"
        if not user.mfa_enabled and user.role in (await self._policy.current()).mfa_required_roles:
            return "mfa_enrolment"
        return None

    async def issue(self, user: User, *, restricted: Restriction | None) -> TokenPair:
        """A new sign-in session (a restricted one has an id but no refresh token)."""
        now, session = self._clock(), new_id()
        access = self._access.issue(user, now, restricted, session)
        if restricted is not None:
            return TokenPair(access, self._access.ttl_s, None, restricted)
        refresh = await self._refresh.new(user.id, session, now)
        return TokenPair(access, self._access.ttl_s, refresh)

    async def refresh(self, token: str, *, ip: str | None = None) -> TokenPair:
        """Exchange a refresh token for a new pair (the old one stops working).

        Raises:
            AuthenticationError: Unknown, expired, revoked or reused token;
                reuse also revokes the whole session.
        """
        now = self._clock()
        stored = await self._refresh.find(token)
        if stored is None or stored.revoked_at is not None or now >= stored.expires_at:
            await self._trail.record(
                "auth.refresh",
                "anonymous",
                outcome="failure",
                ip=ip,
                reason="unknown, revoked or expired",
            )
            raise AuthenticationError("the refresh token is not valid; sign in again")
        if not await self._db.refresh_tokens.use(stored.id, now):
            revoked = await self._revocations.end_session(stored.user_id, stored.family_id, now)
            await self._trail.record(
                "auth.refresh_reuse",
                f"user-id:{stored.user_id}",
                target=f"user:{stored.user_id}",
                outcome="denied",
                ip=ip,
                family=stored.family_id,
                revoked=revoked,
            )
            raise AuthenticationError(
                "this refresh token was already used: the session is revoked; sign in again"
            )
        user = await self._user_or_none(stored.user_id)
        if user is None or user.disabled:
            raise AuthenticationError("the account no longer exists or is disabled")
        restricted = await self.restriction(user)
        access = self._access.issue(user, now, restricted, stored.family_id)
        if restricted is not None:
            return TokenPair(access, self._access.ttl_s, None, restricted)
        refresh = await self._refresh.new(user.id, stored.family_id, now)
        return TokenPair(access, self._access.ttl_s, refresh)

    async def logout(
        self,
        refresh_token: str | None = None,
        *,
        access_token: str | None = None,
        ip: str | None = None,
    ) -> int:
        """End the session of a refresh token and of an access token (unknown ones are ignored).

        An access token signs out even after it expired, as long as its
        signature holds: its session may still have a live refresh token.

        Returns:
            How many sessions were ended (not counting ones ended before).
        """
        sessions: dict[str, str] = {}
        if refresh_token:
            stored = await self._refresh.find(refresh_token)
            if stored is not None:
                sessions[stored.family_id] = stored.user_id
        if access_token:
            claims = self._access.claims(access_token, check_expiry=False)
            if claims is not None:
                sessions[str(claims["sid"])] = str(claims["sub"])
        now = self._clock()
        for session, user_id in list(sessions.items()):
            if await self._db.refresh_tokens.session_revoked(session):
                del sessions[session]  # signed out already: nothing to do or audit again
                continue
            revoked = await self._revocations.end_session(user_id, session, now)
            await self._trail.record(
                "auth.logout",
                f"user-id:{user_id}",
                target=f"user:{user_id}",
                ip=ip,
                session=session,
                revoked=revoked,
            )
        return len(sessions)

    async def change_password(
        self, principal: Principal, current: str, new: str, *, ip: str | None = None
    ) -> TokenPair:
        """Change one's own password; every other session ends.

        Raises:
            AuthenticationError: ``current`` is wrong.
            ValidationError: ``new`` is too weak or unchanged.
        """
        user = await self._db.users.get(principal.id)
        if not self._passwords.matches(user, current):
            await self._trail.record(
                "user.password",
                principal.actor,
                target=f"user:{user.id}",
                outcome="failure",
                ip=ip,
                reason="wrong current password",
            )
            raise AuthenticationError("the current password is wrong")
        check_password_strength(new, user.username)
        if current == new:
            raise ValidationError("the new password must differ from the current one")
        user, _ = await self._revocations.save_ending_sessions(
            user, password_hash=self._passwords.hash(new), must_change_password=False
        )
        await self._trail.record("user.password", principal.actor, target=f"user:{user.id}", ip=ip)
        return await self.issue(user, restricted=await self.restriction(user))

    async def authenticate(self, access_token: str) -> Principal:
        """The principal of a bearer access token.

        Raises:
            AuthenticationError: Bad signature or algorithm, expired, wrong
                audience or issuer, or the user is gone, disabled or its
                tokens were invalidated.
        """
        claims = self._access.decode(access_token)
        session = claims["sid"]
        if not isinstance(session, str) or not 0 < len(session) <= 64:
            raise AuthenticationError("the access token is not valid")
        user = await self._user_or_none(str(claims["sub"]))
        if user is None or user.disabled or claims.get("tv") != user.token_version:
            raise AuthenticationError("the access token is no longer valid; sign in again")
        if await self._db.refresh_tokens.session_revoked(session):
            raise AuthenticationError("this session was signed out; sign in again")
        restricted = claims.get("rst")
        if restricted is not None and restricted not in ("password_change", "mfa_enrolment"):
            raise AuthenticationError("the access token is not valid")
        return Principal.of_user(user, restricted=restricted)

    async def authenticate_key(self, key: str) -> Principal:
        """The principal of an API key (``ak_<id>.<secret>``).

        Raises:
            AuthenticationError: Malformed, unknown or revoked key.
        """
        if not key.startswith("ak_") or "." not in key:
            raise AuthenticationError("not an Argus API key")
        key_id, _, secret = key[3:].partition(".")
        try:
            stored = await self._db.api_keys.get(key_id) if 0 < len(key_id) <= 64 else None
        except NotFoundError:
            stored = None
        if stored is None or not hmac.compare_digest(stored.key_hash, secret_digest(secret)):
            raise AuthenticationError("unknown API key")
        if stored.revoked_at is not None:
            raise AuthenticationError("this API key was revoked")
        return Principal.of_key(stored)

    async def _user_or_none(self, user_id: str) -> User | None:
        try:
            return await self._db.users.get(user_id)
        except NotFoundError:
            return None

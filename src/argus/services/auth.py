"""Sign-in, tokens, MFA, users and API keys, every step audited.

* Passwords are hashed with argon2id; a login for an unknown name still costs
  one hash, so timing does not tell names apart.
* An access token is a short-lived JWT (HS256 under a key derived from the
  installation secret, audience ``argus-api``); each request re-reads the
  user, so disabling, a role change or a password change takes effect at once
  (``token_version``).
* Refresh tokens rotate on every use; presenting a used one again revokes its
  whole family (the sign-in session), since one of the two holders is a thief.
* A token family is a sign-in session; its id is the access token's ``sid``.
  Signing out or a reused refresh token puts the session in the revocation
  set in the database, which every server reads on every request, so its
  access tokens stop working at once, on every server. ``on_revoked`` is told
  of every ended session (or of every session of a principal) so that open
  sockets and streams re-check without waiting for their next periodic check.
* TOTP (RFC 6238, 30 s, one step of drift) with the same step never accepted
  twice for sign-in, and ten one-time recovery codes kept as keyed hashes.
* Replacing an active TOTP secret or turning MFA off needs the password and a
  current code (or a recovery code), so a stolen access token cannot take
  over the account's second factor.
* After ``max_failures`` failed sign-ins in a row the account locks for
  ``lockout_s``; sign-in attempts are also limited per client address.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import logging
import secrets
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import argon2
import jwt
import pyotp
import segno
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from argus.domain.audit import AuditEntry, AuditOutcome
from argus.domain.cameras import new_id
from argus.domain.errors import (
    AuthenticationError,
    ConfigError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    ValidationError,
)
from argus.domain.identity import (
    ApiKey,
    Permission,
    Principal,
    Role,
    SecurityPolicy,
    User,
)
from argus.ports.audit import AuditLog
from argus.ports.identity import RefreshToken
from argus.ports.repositories import Database, Page
from argus.services.ratelimit import RateLimiter

__all__ = [
    "AuthConfig",
    "AuthService",
    "IssuedKey",
    "MfaEnrolment",
    "MfaRequiredError",
    "TokenPair",
    "derive_key",
    "one_time_password",
]

log = logging.getLogger(__name__)

AUDIENCE = "argus-api"
ISSUER = "argus"
POLICY_KEY = "security.policy"
TOTP_STEP = 30
RECOVERY_CODES = 10
MIN_PASSWORD = 12
MAX_PASSWORD = 256
Restriction = Literal["password_change", "mfa_enrolment"]
_MFA_OFF: Mapping[str, Any] = {"mfa_secret": None, "mfa_pending": None, "recovery_codes": ()}
_CLAIMS = ["exp", "iat", "sub", "aud", "iss", "sid"]

RevocationHook = Callable[[str, str | None], Awaitable[None]]
"""Told ``(principal id, session id)`` when a session ends, or ``(principal id, None)``
when every token of a user or API key stops working."""


def derive_key(secret: bytes, label: str) -> bytes:
    """A 32-byte key for one purpose, derived from the installation secret (HKDF-SHA256)."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=label.encode()).derive(secret)


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def one_time_password() -> str:
    """A random password (20 URL-safe characters) that must be changed at first sign-in."""
    return secrets.token_urlsafe(15)


def _actor(actor: Principal | str) -> str:
    """How the audit trail names who acted: a principal, or a name such as ``cli:<os user>``."""
    return actor if isinstance(actor, str) else actor.actor


class MfaRequiredError(AuthenticationError):
    """The password was right, but the account needs a TOTP or recovery code too."""

    code = "mfa_required"


@dataclass(frozen=True, slots=True)
class AuthConfig:
    """Lifetimes and limits of the auth service (from ``Settings``)."""

    access_ttl_s: int = 900
    refresh_ttl_s: int = 14 * 86_400
    max_failures: int = 5
    lockout_s: float = 900.0
    login_rate_per_s: float = 0.5
    login_burst: int = 20


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


@dataclass(frozen=True, slots=True)
class MfaEnrolment:
    """A TOTP secret being enrolled: show the URI as a QR code, then confirm a code."""

    secret: str
    uri: str
    qr_png: bytes


@dataclass(frozen=True, slots=True)
class IssuedKey:
    """A new API key; ``key`` is shown once and never stored."""

    key: str
    api_key: ApiKey


class _SecretBox:
    """AES-256-GCM for small secrets at rest (TOTP secrets), bound to the user id."""

    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)

    def seal(self, plaintext: str, context: str) -> str:
        nonce = secrets.token_bytes(12)
        blob = nonce + self._aead.encrypt(nonce, plaintext.encode(), context.encode())
        return base64.b64encode(blob).decode()

    def open(self, sealed: str, context: str) -> str:
        try:
            blob = base64.b64decode(sealed, validate=True)
            return self._aead.decrypt(blob[:12], blob[12:], context.encode()).decode()
        except (InvalidTag, ValueError) as exc:
            raise ConfigError(
                "a stored MFA secret does not decrypt: was the secret key changed?"
            ) from exc


def _enrolment_qr(secret: str, username: str, issuer: str) -> tuple[str, bytes]:
    """The otpauth URI of a TOTP secret and its QR code as PNG."""
    uri = pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=issuer)
    buffer = io.BytesIO()
    segno.make(uri, error="m").save(buffer, kind="png", scale=6, border=4)
    return uri, buffer.getvalue()


def check_password_strength(password: str, username: str) -> None:
    """Refuse passwords that are short, overlong, or the username.

    Raises:
        ValidationError: The password is too weak.
    """
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise ValidationError(f"a password must have {MIN_PASSWORD} to {MAX_PASSWORD} characters")
    if password.strip().lower() == username.lower() or len(set(password)) < 4:
        raise ValidationError("this password is too easy to guess")


class AuthService:
    """Users, sessions, MFA and API keys over the database, audited.

    Args:
        database: Users, refresh tokens, API keys and settings live here.
        audit: Every security-relevant step is appended here.
        secret: The installation secret; token, MFA and recovery-code keys are
            derived from it.
        config: Lifetimes and limits.
        clock: Current UTC time (injectable for tests).
        monotonic: Seconds for the per-address sign-in limiter.
        on_revoked: Told of ended sessions (see ``RevocationHook``); its
            failures are logged, never raised: the revocation is already stored.
    """

    def __init__(
        self,
        database: Database,
        audit: AuditLog,
        secret: bytes,
        config: AuthConfig | None = None,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        monotonic: Callable[[], float] = time.monotonic,
        on_revoked: RevocationHook | None = None,
    ) -> None:
        self._db = database
        self._on_revoked = on_revoked
        self._audit = audit
        self._config = config or AuthConfig()
        self._clock = clock
        self._jwt_key = derive_key(secret, "argus access tokens v1")
        self._box = _SecretBox(derive_key(secret, "argus mfa secrets v1"))
        self._code_key = derive_key(secret, "argus recovery codes v1")
        self._hasher = argon2.PasswordHasher(
            time_cost=2, memory_cost=19_456, parallelism=1, type=argon2.Type.ID
        )
        self._dummy_hash = self._hasher.hash(secrets.token_urlsafe(16))
        self._login_limit = RateLimiter(
            self._config.login_rate_per_s,
            self._config.login_burst,
            what="sign-in attempts from this address",
            clock=monotonic,
        )

    # --- audit -------------------------------------------------------------------------------

    async def record(
        self,
        action: str,
        actor: str,
        *,
        target: str = "",
        outcome: AuditOutcome = "success",
        ip: str | None = None,
        details: Mapping[str, Any] | None = None,
        **facts: Any,
    ) -> None:
        """Append one record to the audit trail (``details`` and ``facts`` merged)."""
        await self._audit.append(
            AuditEntry(
                action=action,
                actor=actor,
                at=self._clock(),
                target=target,
                outcome=outcome,
                details={**(details or {}), **facts},
                ip=ip,
            )
        )

    # --- first start -------------------------------------------------------------------------

    async def ensure_admin(self, username: str, password: str | None) -> str | None:
        """Create the first admin when there are no users.

        Args:
            username: The admin's name.
            password: Its password; ``None`` makes a one-time password that
                must be changed at first sign-in.

        Returns:
            The one-time password when one was made (print it once), else ``None``.
        """
        if await self._db.users.count() > 0:
            return None
        one_time = password is None
        chosen = one_time_password() if password is None else password
        check_password_strength(chosen, username)
        now = self._clock()
        user = User(
            id=new_id(),
            username=username,
            role="admin",
            password_hash=self._hasher.hash(chosen),
            created_at=now,
            updated_at=now,
            must_change_password=one_time,
        )
        try:
            await self._db.users.add(user)
        except ConflictError:
            return None  # another server made it first
        await self.record("user.create", "system", target=f"user:{user.id}", role="admin")
        return chosen if one_time else None

    # --- sign-in -----------------------------------------------------------------------------

    async def policy(self) -> SecurityPolicy:
        """The security policy (defaults when none was set)."""
        stored = await self._db.settings.get(POLICY_KEY)
        return SecurityPolicy() if stored is None else SecurityPolicy.from_dict(stored)

    async def set_policy(self, policy: SecurityPolicy, actor: Principal) -> SecurityPolicy:
        """Replace the security policy (admin)."""
        await self._db.settings.put(POLICY_KEY, policy.to_dict(), self._clock())
        await self.record("policy.update", actor.actor, target="policy", **policy.to_dict())
        return policy

    async def login(
        self, username: str, password: str, otp: str | None = None, *, ip: str | None = None
    ) -> TokenPair:
        """Check a password (and a TOTP or recovery code when the account has MFA).

        Raises:
            RateLimitedError: Too many attempts from ``ip``, or the account is locked.
            MfaRequiredError: The password is right and a code is needed.
            AuthenticationError: Anything else wrong (one message for all).
        """
        if ip is not None:
            try:
                self._login_limit.hit(ip)
            except RateLimitedError:
                await self.record(
                    "auth.login",
                    username[:200],
                    outcome="denied",
                    ip=ip,
                    reason="rate limited",
                )
                raise
        now = self._clock()
        user = await self._db.users.find(username)
        if user is None:
            self._check_hash(self._dummy_hash, password)
            await self.record(
                "auth.login",
                username[:200],
                outcome="failure",
                ip=ip,
                reason="unknown user",
            )
            raise AuthenticationError("wrong username or password")
        actor = f"user:{user.username}"
        if user.locked(now):
            assert user.locked_until is not None
            wait = (user.locked_until - now).total_seconds()
            await self.record("auth.login", actor, outcome="denied", ip=ip, reason="locked")
            raise RateLimitedError(
                f"account locked after failed sign-ins; retry in {wait:.0f} s", wait
            )
        if not self._verify_password(user, password):
            await self._failed(user, ip, "wrong password")
            raise AuthenticationError("wrong username or password")
        if user.disabled:
            await self.record("auth.login", actor, outcome="denied", ip=ip, reason="disabled")
            raise AuthenticationError("wrong username or password")
        changes: dict[str, Any] = {}
        if user.mfa_secret is not None:
            if not otp:
                await self.record(
                    "auth.login", actor, outcome="failure", ip=ip, reason="mfa code missing"
                )
                raise MfaRequiredError("this account needs a TOTP or recovery code (otp)")
            second = await self._check_second_factor(user, otp)
            if second is None:
                await self._failed(user, ip, "wrong mfa code")
                raise AuthenticationError("wrong MFA code")
            changes.update(second)
        if user.failed_logins or user.locked_until is not None:
            changes.update(failed_logins=0, locked_until=None)
        if changes:
            user = user.evolve(now, **changes)
            await self._db.users.update(user)
        restricted = await self._restriction(user)
        await self.record(
            "auth.login",
            actor,
            target=f"user:{user.id}",
            ip=ip,
            mfa=user.mfa_enabled,
            restricted=restricted,
        )
        return await self._issue(user, restricted=restricted)

    def _check_hash(self, stored: str, password: str) -> bool:
        try:
            return bool(self._hasher.verify(stored, password))
        except argon2.exceptions.VerificationError:
            return False
        except argon2.exceptions.InvalidHashError:
            log.error("a stored password hash is not an argon2 hash")
            return False

    def _verify_password(self, user: User, password: str) -> bool:
        return self._check_hash(user.password_hash, password)

    async def _failed(
        self, user: User, ip: str | None, reason: str, *, action: str = "auth.login"
    ) -> None:
        now = self._clock()
        failures = user.failed_logins + 1
        locked_until = None
        if failures >= self._config.max_failures:
            locked_until = now + timedelta(seconds=self._config.lockout_s)
        try:
            await self._db.users.update(
                user.evolve(now, failed_logins=failures, locked_until=locked_until)
            )
        except ConflictError:
            log.info("concurrent sign-in failures for %s; one count kept", user.username)
        await self.record(
            action,
            f"user:{user.username}",
            target=f"user:{user.id}",
            outcome="failure",
            ip=ip,
            reason=reason,
            failures=failures,
        )
        if locked_until is not None:
            await self.record(
                "auth.lockout", "system", target=f"user:{user.id}", ip=ip, failures=failures
            )

    async def _restriction(self, user: User) -> Restriction | None:
        if user.must_change_password:
            return "password_change"
        if not user.mfa_enabled and user.role in (await self.policy()).mfa_required_roles:
            return "mfa_enrolment"
        return None

    async def _issue(self, user: User, *, restricted: Restriction | None) -> TokenPair:
        """A new sign-in session (a restricted one has an id but no refresh token)."""
        now, session = self._clock(), new_id()
        access = self._access_token(user, now, restricted, session)
        if restricted is not None:
            return TokenPair(access, self._config.access_ttl_s, None, restricted)
        refresh = await self._new_refresh(user.id, session, now)
        return TokenPair(access, self._config.access_ttl_s, refresh)

    def _access_token(
        self, user: User, now: datetime, restricted: Restriction | None, session: str
    ) -> str:
        claims: dict[str, Any] = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": user.id,
            "iat": int(now.timestamp()),
            "nbf": int(now.timestamp()),
            "exp": int(now.timestamp()) + self._config.access_ttl_s,
            "jti": secrets.token_hex(8),
            "tv": user.token_version,
            "sid": session,
        }
        if restricted is not None:
            claims["rst"] = restricted
        return jwt.encode(claims, self._jwt_key, algorithm="HS256")

    async def _new_refresh(self, user_id: str, family: str, now: datetime) -> str:
        token_id, secret = new_id(), secrets.token_urlsafe(32)
        await self._db.refresh_tokens.add(
            RefreshToken(
                id=token_id,
                family_id=family,
                user_id=user_id,
                token_hash=_sha256(secret),
                created_at=now,
                expires_at=now + timedelta(seconds=self._config.refresh_ttl_s),
            )
        )
        return f"rt_{token_id}.{secret}"

    async def refresh(self, token: str, *, ip: str | None = None) -> TokenPair:
        """Exchange a refresh token for a new pair (the old one stops working).

        Raises:
            AuthenticationError: Unknown, expired, revoked or reused token;
                reuse also revokes the whole session.
        """
        now = self._clock()
        stored = await self._find_refresh(token)
        if stored is None or stored.revoked_at is not None or now >= stored.expires_at:
            await self.record(
                "auth.refresh",
                "anonymous",
                outcome="failure",
                ip=ip,
                reason="unknown, revoked or expired",
            )
            raise AuthenticationError("the refresh token is not valid; sign in again")
        if not await self._db.refresh_tokens.use(stored.id, now):
            revoked = await self._db.refresh_tokens.revoke_family(stored.family_id, now)
            await self._announce(stored.user_id, stored.family_id)
            await self.record(
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
        restricted = await self._restriction(user)
        access = self._access_token(user, now, restricted, stored.family_id)
        if restricted is not None:
            return TokenPair(access, self._config.access_ttl_s, None, restricted)
        refresh = await self._new_refresh(user.id, stored.family_id, now)
        return TokenPair(access, self._config.access_ttl_s, refresh)

    async def _find_refresh(self, token: str) -> RefreshToken | None:
        if not token.startswith("rt_") or "." not in token:
            return None
        token_id, _, secret = token[3:].partition(".")
        if not token_id or len(token_id) > 64:
            return None
        stored = await self._db.refresh_tokens.get(token_id)
        if stored is None or not hmac.compare_digest(stored.token_hash, _sha256(secret)):
            return None
        return stored

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
            stored = await self._find_refresh(refresh_token)
            if stored is not None:
                sessions[stored.family_id] = stored.user_id
        if access_token:
            claims = self._claims(access_token, check_expiry=False)
            if claims is not None:
                sessions[str(claims["sid"])] = str(claims["sub"])
        now = self._clock()
        for session, user_id in list(sessions.items()):
            if await self._db.refresh_tokens.session_revoked(session):
                del sessions[session]  # signed out already: nothing to do or audit again
                continue
            revoked = await self._db.refresh_tokens.revoke_family(session, now)
            await self._announce(user_id, session)
            await self.record(
                "auth.logout",
                f"user-id:{user_id}",
                target=f"user:{user_id}",
                ip=ip,
                session=session,
                revoked=revoked,
            )
        return len(sessions)

    async def _announce(self, principal_id: str, session: str | None) -> None:
        if self._on_revoked is None:
            return
        try:
            await self._on_revoked(principal_id, session)
        except Exception:  # the revocation is stored; sockets still re-check periodically
            log.exception("could not announce the end of a session of %s", principal_id)

    def _claims(self, token: str, *, check_expiry: bool = True) -> dict[str, Any] | None:
        """The claims of a genuine access token of this installation, else ``None``."""
        try:
            return self._decode(token, check_expiry=check_expiry)
        except AuthenticationError:
            return None

    def _decode(self, token: str, *, check_expiry: bool = True) -> dict[str, Any]:
        """Check an access token's signature, audience, issuer and times (on ``clock``).

        PyJWT would check the times on the wall clock; they are checked here on
        the service's clock, so that tests (and the clock) agree with issuing.

        Raises:
            AuthenticationError: Any of them is wrong, or a claim is missing.
        """
        times = ("exp", "nbf", "iat")
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                self._jwt_key,
                algorithms=["HS256"],
                audience=AUDIENCE,
                issuer=ISSUER,
                options={
                    "require": _CLAIMS,
                    "verify_exp": False,
                    "verify_nbf": False,
                    "verify_iat": False,
                },
            )
        except jwt.PyJWTError as exc:
            raise AuthenticationError(f"the access token is not valid: {exc}") from exc
        values = [claims.get(t) for t in times]
        if not all(v is None or isinstance(v, int | float) for v in values):
            raise AuthenticationError("the access token is not valid: times must be numbers")
        now = self._clock().timestamp()
        expires, not_before, issued = values
        if check_expiry and expires is not None and now >= expires:
            raise AuthenticationError("the access token has expired")
        if (not_before is not None and now < not_before) or (issued is not None and now < issued):
            raise AuthenticationError("the access token is not valid yet")
        return claims

    async def _user_or_none(self, user_id: str) -> User | None:
        try:
            return await self._db.users.get(user_id)
        except NotFoundError:
            return None

    # --- request authentication --------------------------------------------------------------

    async def authenticate(self, access_token: str) -> Principal:
        """The principal of a bearer access token.

        Raises:
            AuthenticationError: Bad signature or algorithm, expired, wrong
                audience or issuer, or the user is gone, disabled or its
                tokens were invalidated.
        """
        claims = self._decode(access_token)
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
        if stored is None or not hmac.compare_digest(stored.key_hash, _sha256(secret)):
            raise AuthenticationError("unknown API key")
        if stored.revoked_at is not None:
            raise AuthenticationError("this API key was revoked")
        return Principal.of_key(stored)

    # --- own account -------------------------------------------------------------------------

    async def me(self, principal: Principal) -> User:
        """The signed-in user."""
        return await self._db.users.get(principal.id)

    async def change_password(
        self, principal: Principal, current: str, new: str, *, ip: str | None = None
    ) -> TokenPair:
        """Change one's own password; every other session ends.

        Raises:
            AuthenticationError: ``current`` is wrong.
            ValidationError: ``new`` is too weak or unchanged.
        """
        user = await self._db.users.get(principal.id)
        if not self._verify_password(user, current):
            await self.record(
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
        user, _ = await self._save_ending_sessions(
            user, password_hash=self._hasher.hash(new), must_change_password=False
        )
        await self.record("user.password", principal.actor, target=f"user:{user.id}", ip=ip)
        return await self._issue(user, restricted=await self._restriction(user))

    # --- MFA ---------------------------------------------------------------------------------

    async def mfa_begin(
        self,
        principal: Principal,
        *,
        password: str | None = None,
        otp: str | None = None,
        ip: str | None = None,
        issuer: str = "Argus",
    ) -> MfaEnrolment:
        """Start TOTP enrolment: a new secret, its URI and QR code (not active until confirmed).

        When MFA is already on, replacing the secret needs the password and a
        current code (or a recovery code): an access token alone must not be
        enough to take over the second factor.

        Raises:
            AuthenticationError: MFA is on and the password or code is missing or wrong.
            RateLimitedError: The account is locked after failed attempts.
        """
        user = await self._db.users.get(principal.id)
        changes: dict[str, Any] = {}
        if user.mfa_secret is not None:
            changes = await self._reauthenticate(user, password, otp, "mfa.begin", ip)
        secret = pyotp.random_base32()
        await self._db.users.update(
            user.evolve(self._clock(), mfa_pending=self._box.seal(secret, user.id), **changes)
        )
        uri, png = _enrolment_qr(secret, user.username, issuer)
        await self.record("mfa.begin", principal.actor, target=f"user:{user.id}")
        return MfaEnrolment(secret=secret, uri=uri, qr_png=png)

    async def mfa_qr(self, principal: Principal, *, issuer: str = "Argus") -> bytes:
        """The QR code (PNG) of the enrolment in progress.

        Raises:
            ConflictError: No enrolment was started.
        """
        user = await self._db.users.get(principal.id)
        if user.mfa_pending is None:
            raise ConflictError("no MFA enrolment in progress; start one first")
        _, png = _enrolment_qr(self._box.open(user.mfa_pending, user.id), user.username, issuer)
        return png

    async def mfa_confirm(
        self, principal: Principal, code: str, *, ip: str | None = None
    ) -> tuple[list[str], TokenPair]:
        """Activate the pending secret with a current code.

        Returns:
            The recovery codes (shown once) and a fresh, unrestricted token pair.

        Raises:
            ConflictError: No enrolment was started.
            AuthenticationError: The code is wrong.
        """
        user = await self._db.users.get(principal.id)
        if user.mfa_pending is None:
            raise ConflictError("no MFA enrolment in progress; start one first")
        secret = self._box.open(user.mfa_pending, user.id)
        # A new secret has no used step yet (the stored one belongs to the old secret).
        step = self._totp_step(secret, code, -1)
        if step is None:
            await self.record(
                "mfa.enable",
                principal.actor,
                target=f"user:{user.id}",
                outcome="failure",
                ip=ip,
                reason="wrong code",
            )
            raise AuthenticationError("wrong MFA code")
        codes = [self._new_recovery_code() for _ in range(RECOVERY_CODES)]
        # Confirming does not use the code up for sign-in: the owner signs in right
        # after, usually within the same 30 s step and so with the same code. The
        # confirmation itself cannot be replayed (the pending secret is gone), and a
        # sign-in still needs the password and accepts each step once.
        user, _ = await self._save_ending_sessions(
            user,
            mfa_secret=user.mfa_pending,
            mfa_pending=None,
            last_totp_step=step - 1,
            recovery_codes=tuple(self._code_hash(c) for c in codes),
        )
        await self.record("mfa.enable", principal.actor, target=f"user:{user.id}", ip=ip)
        return codes, await self._issue(user, restricted=await self._restriction(user))

    async def mfa_disable(
        self, principal: Principal, password: str, otp: str | None = None, *, ip: str | None = None
    ) -> None:
        """Turn one's own MFA off (refused when the policy requires MFA).

        Needs the password and, when MFA is on, a current code or a recovery code.

        Raises:
            AuthenticationError: Wrong or missing password or code.
            RateLimitedError: The account is locked after failed attempts.
            PermissionDeniedError: The role must use MFA.
        """
        user = await self._db.users.get(principal.id)
        if user.role in (await self.policy()).mfa_required_roles:
            raise PermissionDeniedError(f"the policy requires MFA for {user.role}s")
        if user.mfa_secret is None:
            if not self._verify_password(user, password):
                await self._failed(user, ip, "wrong password", action="mfa.disable")
                raise AuthenticationError("wrong password")
        else:
            await self._reauthenticate(user, password, otp, "mfa.disable", ip)
        await self._clear_mfa(user, failed_logins=0, locked_until=None)
        await self.record("mfa.disable", principal.actor, target=f"user:{user.id}", ip=ip)

    async def _reauthenticate(
        self, user: User, password: str | None, otp: str | None, action: str, ip: str | None
    ) -> dict[str, Any]:
        """Check the password and a second factor again before changing the second factor.

        A failure counts towards the account's lockout, as a failed sign-in
        does, so a stolen token cannot be used to guess the password.

        Returns:
            The user's changes (the code's step, or the recovery code used up).

        Raises:
            AuthenticationError: The password or code is missing or wrong.
            RateLimitedError: The account is locked.
        """
        now = self._clock()
        if user.locked(now):
            assert user.locked_until is not None
            wait = (user.locked_until - now).total_seconds()
            raise RateLimitedError(
                f"account locked after failed sign-ins; retry in {wait:.0f} s", wait
            )
        if not password or not otp:
            await self.record(
                action,
                f"user:{user.username}",
                target=f"user:{user.id}",
                outcome="failure",
                ip=ip,
                reason="password and code missing",
            )
            raise AuthenticationError(
                "MFA is on: give your password and a current code (or a recovery code)"
            )
        # The code is only looked at after the password holds, so a recovery code is
        # neither used up nor audited as used by a caller who does not know the password.
        right = self._verify_password(user, password)
        second = await self._check_second_factor(user, otp) if right else None
        if second is None:
            await self._failed(user, ip, "wrong password or code", action=action)
            raise AuthenticationError("wrong password or code")
        return {**second, "failed_logins": 0, "locked_until": None}

    async def _save_ending_sessions(self, user: User, **fields: Any) -> tuple[User, int]:
        """Store ``user`` with ``fields`` changed and end its sessions.

        A new token version invalidates its access tokens, and its refresh
        tokens are revoked.

        Returns:
            The stored user and how many refresh tokens were revoked.
        """
        now = self._clock()
        updated = user.evolve(now, token_version=user.token_version + 1, **fields)
        await self._db.users.update(updated)
        revoked = await self._db.refresh_tokens.revoke_user(user.id, now)
        await self._announce(user.id, None)
        return updated, revoked

    async def _clear_mfa(self, user: User, **fields: Any) -> None:
        await self._db.users.update(
            user.evolve(
                self._clock(), token_version=user.token_version + 1, **{**_MFA_OFF, **fields}
            )
        )
        await self._announce(user.id, None)

    async def regenerate_recovery_codes(
        self,
        principal: Principal,
        *,
        password: str | None = None,
        otp: str | None = None,
        ip: str | None = None,
    ) -> list[str]:
        """New recovery codes (the old ones stop working).

        Like replacing the TOTP secret, this needs the password and a current
        code (or a recovery code): new codes are a second factor.

        Raises:
            ConflictError: MFA is not enabled.
            AuthenticationError: The password or code is missing or wrong.
            RateLimitedError: The account is locked after failed attempts.
        """
        user = await self._db.users.get(principal.id)
        if user.mfa_secret is None:
            raise ConflictError("MFA is not enabled")
        changes = await self._reauthenticate(user, password, otp, "mfa.recovery_codes", ip)
        codes = [self._new_recovery_code() for _ in range(RECOVERY_CODES)]
        changes["recovery_codes"] = tuple(self._code_hash(c) for c in codes)
        await self._db.users.update(user.evolve(self._clock(), **changes))
        await self.record("mfa.recovery_codes", principal.actor, target=f"user:{user.id}")
        return codes

    def _totp_step(self, secret: str, code: str, last_step: int) -> int | None:
        code = code.strip().replace(" ", "")
        if not (code.isdigit() and len(code) == 6):
            return None
        totp = pyotp.TOTP(secret)
        now = self._clock().timestamp()
        current = int(now // TOTP_STEP)
        for step in (current - 1, current, current + 1):
            if step > last_step and hmac.compare_digest(totp.at(step * TOTP_STEP), code):
                return step
        return None

    def _new_recovery_code(self) -> str:
        raw = base64.b32encode(secrets.token_bytes(10)).decode().lower()
        return f"{raw[:8]}-{raw[8:16]}"

    def _code_hash(self, code: str) -> str:
        normal = code.strip().lower().replace("-", "").replace(" ", "")
        return hmac.new(self._code_key, normal.encode(), hashlib.sha256).hexdigest()

    async def _check_second_factor(self, user: User, code: str) -> dict[str, Any] | None:
        """The user's changes after a valid TOTP (its step, so it is not accepted again) or
        recovery code (used up); ``None`` when the code is wrong."""
        assert user.mfa_secret is not None
        secret = self._box.open(user.mfa_secret, user.id)
        step = self._totp_step(secret, code, user.last_totp_step)
        if step is not None:
            return {"last_totp_step": step}
        digest = self._code_hash(code)
        for stored in user.recovery_codes:
            if hmac.compare_digest(stored, digest):
                remaining = tuple(c for c in user.recovery_codes if c != stored)
                await self.record(
                    "mfa.recovery_code_used",
                    f"user:{user.username}",
                    target=f"user:{user.id}",
                    remaining=len(remaining),
                )
                return {"recovery_codes": remaining}
        return None

    # --- users (admin) -----------------------------------------------------------------------

    async def create_user(
        self,
        actor: Principal | str,
        *,
        username: str,
        password: str,
        role: Role,
        cameras: frozenset[str] | None = None,
        must_change_password: bool = False,
    ) -> User:
        """Create a user (``actor`` is a principal, or ``cli:<os user>`` from a shell).

        Raises:
            ValidationError: Weak password or bad fields.
            ConflictError: The username is taken.
        """
        check_password_strength(password, username)
        now = self._clock()
        user = User(
            id=new_id(),
            username=username,
            role=role,
            password_hash=self._hasher.hash(password),
            created_at=now,
            updated_at=now,
            cameras=cameras,
            must_change_password=must_change_password,
        )
        await self._db.users.add(user)
        await self.record(
            "user.create",
            _actor(actor),
            target=f"user:{user.id}",
            username=username,
            role=role,
            cameras=None if cameras is None else sorted(cameras),
        )
        return user

    async def list_users(self, *, limit: int, offset: int) -> Page[User]:
        """Users by name."""
        return await self._db.users.list(limit=limit, offset=offset)

    async def get_user(self, user_id: str) -> User:
        """One user."""
        return await self._db.users.get(user_id)

    async def user_named(self, username: str) -> User:
        """The user named ``username`` (exact match).

        Raises:
            NotFoundError: There is none.
        """
        user = await self._db.users.find(username)
        if user is None:
            raise NotFoundError(f"no user named {username}")
        return user

    async def update_user(self, actor: Principal, user_id: str, changes: Mapping[str, Any]) -> User:
        """Change a user's role, cameras, disabled flag, or set a new password.

        Any change ends the user's sessions (its tokens are invalidated).

        Raises:
            PermissionDeniedError: An admin demoting or disabling itself.
        """
        user = await self._db.users.get(user_id)
        fields: dict[str, Any] = {}
        for name in ("role", "cameras", "disabled", "must_change_password"):
            if name in changes:
                fields[name] = changes[name]
        if "password" in changes:
            check_password_strength(changes["password"], user.username)
            fields["password_hash"] = self._hasher.hash(changes["password"])
        if user.id == actor.id and (
            fields.get("role", "admin") != "admin" or fields.get("disabled", False)
        ):
            raise PermissionDeniedError("an admin cannot demote or disable itself")
        updated, _ = await self._save_ending_sessions(user, **fields)
        shown = {
            k: (sorted(v) if isinstance(v, frozenset) else v)
            for k, v in fields.items()
            if k != "password_hash"
        }
        await self.record(
            "user.update",
            actor.actor,
            target=f"user:{user.id}",
            password_reset="password_hash" in fields,
            details=shown,
        )
        return updated

    async def unlock_user(self, actor: Principal | str, user_id: str) -> User:
        """Clear a lockout (``actor`` as in ``create_user``)."""
        user = await self._db.users.get(user_id)
        updated = user.evolve(self._clock(), failed_logins=0, locked_until=None)
        await self._db.users.update(updated)
        await self.record("user.unlock", _actor(actor), target=f"user:{user.id}")
        return updated

    async def reset_password(
        self, actor: Principal | str, user_id: str, *, reset_mfa: bool = False
    ) -> tuple[User, str]:
        """Give a user a one-time password (account recovery, e.g. ``argus users``).

        The user must change it at the next sign-in; its lockout is cleared and
        every session ends, as after a password change. With ``reset_mfa`` its
        TOTP secret and recovery codes are removed too (a lost phone), audited
        as ``mfa.reset`` (as the admin API does).

        Returns:
            The updated user and the one-time password (show it once).
        """
        user = await self._db.users.get(user_id)
        password = one_time_password()
        updated, revoked = await self._save_ending_sessions(
            user,
            password_hash=self._hasher.hash(password),
            must_change_password=True,
            failed_logins=0,
            locked_until=None,
            **(_MFA_OFF if reset_mfa else {}),
        )
        name, target = _actor(actor), f"user:{user.id}"
        await self.record(
            "user.password_reset", name, target=target, username=user.username, revoked=revoked
        )
        if reset_mfa:
            await self.record(
                "mfa.reset",
                name,
                target=target,
                username=user.username,
                had_mfa=user.mfa_enabled,
            )
        return updated, password

    async def reset_mfa(self, actor: Principal, user_id: str) -> User:
        """Remove a user's MFA (lost phone and codes); it enrols again."""
        user = await self._db.users.get(user_id)
        await self._clear_mfa(user)
        await self.record("mfa.reset", actor.actor, target=f"user:{user.id}")
        return await self._db.users.get(user_id)

    async def delete_user(self, actor: Principal, user_id: str) -> None:
        """Delete a user and end its sessions.

        Raises:
            PermissionDeniedError: An admin deleting itself.
        """
        if user_id == actor.id:
            raise PermissionDeniedError("an admin cannot delete itself")
        user = await self._db.users.get(user_id)
        await self._db.users.delete(user_id)
        await self._db.refresh_tokens.revoke_user(user_id, self._clock())
        await self._announce(user_id, None)
        await self.record(
            "user.delete", actor.actor, target=f"user:{user_id}", username=user.username
        )

    # --- API keys (admin) --------------------------------------------------------------------

    async def create_key(
        self,
        actor: Principal,
        *,
        name: str,
        permissions: frozenset[Permission],
        cameras: frozenset[str] | None = None,
    ) -> IssuedKey:
        """Make an API key; its secret is returned once."""
        key_id, secret = new_id(), secrets.token_urlsafe(32)
        api_key = ApiKey(
            id=key_id,
            name=name,
            key_hash=_sha256(secret),
            permissions=permissions,
            created_at=self._clock(),
            created_by=actor.actor,
            cameras=cameras,
        )
        await self._db.api_keys.add(api_key)
        await self.record(
            "apikey.create",
            actor.actor,
            target=f"apikey:{key_id}",
            name=name,
            permissions=sorted(permissions),
            cameras=None if cameras is None else sorted(cameras),
        )
        return IssuedKey(key=f"ak_{key_id}.{secret}", api_key=api_key)

    async def list_keys(self, *, limit: int, offset: int) -> Page[ApiKey]:
        """API keys, newest first."""
        return await self._db.api_keys.list(limit=limit, offset=offset)

    async def revoke_key(self, actor: Principal, key_id: str) -> ApiKey:
        """Revoke an API key (idempotent)."""
        key = await self._db.api_keys.revoke(key_id, self._clock())
        await self._announce(key_id, None)
        await self.record("apikey.revoke", actor.actor, target=f"apikey:{key_id}")
        return key

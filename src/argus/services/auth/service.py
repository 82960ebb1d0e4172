"""``AuthService``: the auth services assembled over one database, audit trail and crypto."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

from argus.domain.identity import Principal
from argus.ports.audit import AuditLog
from argus.ports.crypto import AuthCrypto
from argus.ports.repositories import Database
from argus.services.auth.accounts import AccountService
from argus.services.auth.config import AuthConfig
from argus.services.auth.factors import SecondFactor
from argus.services.auth.lockout import Lockout
from argus.services.auth.mfa import MfaService
from argus.services.auth.passwords import Passwords
from argus.services.auth.policy import PolicyStore
from argus.services.auth.revocation import RevocationHook, Revocations
from argus.services.auth.sessions import SessionService
from argus.services.auth.tokens import AccessTokens
from argus.services.auth.trail import AuthTrail

__all__ = ["AuthService"]


def _utc_now() -> datetime:
    return datetime.now(UTC)


class AuthService:
    """Sessions, MFA and accounts sharing one database, audit trail, clock and keys.

    Attributes:
        sessions: Sign-in, refresh, sign-out, own password, request authentication.
        mfa: One's own TOTP enrolment and recovery codes.
        accounts: Users, API keys and the security policy (administration).

    Args:
        database: Users, refresh tokens, API keys and settings live here.
        audit: Every security-relevant step is appended here; account
            administration appends through ``database``'s units of work, so
            pass ``database.audit``.
        crypto: Password hashing, token signing, TOTP and the secret box, keyed
            from the installation secret (``argus.adapters.crypto.auth_crypto``).
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
        crypto: AuthCrypto,
        config: AuthConfig | None = None,
        *,
        clock: Callable[[], datetime] = _utc_now,
        monotonic: Callable[[], float] = time.monotonic,
        on_revoked: RevocationHook | None = None,
    ) -> None:
        config = config or AuthConfig()
        trail = AuthTrail(audit, clock)
        passwords = Passwords(crypto.passwords)
        policy = PolicyStore(database.settings, clock)
        revocations = Revocations(database.users, database.refresh_tokens, clock, on_revoked)
        factors = SecondFactor(crypto.totp, crypto.box, crypto.recovery_key, trail, clock)
        lockout = Lockout(
            database.users,
            trail,
            max_failures=config.max_failures,
            lockout_s=config.lockout_s,
            clock=clock,
        )
        self.sessions = SessionService(
            database,
            trail,
            passwords=passwords,
            factors=factors,
            lockout=lockout,
            policy=policy,
            revocations=revocations,
            access=AccessTokens(crypto.tokens, config.access_ttl_s, clock),
            config=config,
            clock=clock,
            monotonic=monotonic,
        )
        self.mfa = MfaService(
            database.users,
            trail,
            passwords=passwords,
            factors=factors,
            lockout=lockout,
            policy=policy,
            revocations=revocations,
            sessions=self.sessions,
            clock=clock,
        )
        self.accounts = AccountService(
            database,
            trail,
            passwords=passwords,
            policy=policy,
            revocations=revocations,
            clock=clock,
        )

    async def authenticate(self, access_token: str) -> Principal:
        """The principal of a bearer access token (``SessionService.authenticate``)."""
        return await self.sessions.authenticate(access_token)

    async def authenticate_key(self, key: str) -> Principal:
        """The principal of an API key (``SessionService.authenticate_key``)."""
        return await self.sessions.authenticate_key(key)

    async def ensure_admin(self, username: str, password: str | None) -> str | None:
        """Create the first admin when there are no users (``AccountService.ensure_admin``)."""
        return await self.accounts.ensure_admin(username, password)

"""``MfaService``: one's own second factor: TOTP enrolment, recovery codes, turning it off.

Replacing an active TOTP secret, new recovery codes or turning MFA off need
the password and a current code (or a recovery code), so a stolen access
token cannot take over the account's second factor; failures count towards
the account's lockout, as failed sign-ins do.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from argus.domain.errors import AuthenticationError, ConflictError, PermissionDeniedError
from argus.domain.identity import Principal, User
from argus.ports.identity import UserRepository
from argus.services.auth.factors import SecondFactor
from argus.services.auth.lockout import Lockout
from argus.services.auth.passwords import Passwords
from argus.services.auth.policy import PolicyStore
from argus.services.auth.revocation import Revocations
from argus.services.auth.sessions import SessionService
from argus.services.auth.tokens import TokenPair
from argus.services.auth.trail import AuthTrail

__all__ = ["MfaEnrolment", "MfaService"]


@dataclass(frozen=True, slots=True)
class MfaEnrolment:
    """A TOTP secret being enrolled: show the URI as a QR code, then confirm a code."""

    secret: str
    uri: str
    qr_png: bytes


class MfaService:
    """TOTP enrolment and recovery codes of the signed-in user, audited.

    Args:
        users: The users.
        trail: The audit trail.
        passwords: Password checks.
        factors: TOTP and recovery codes.
        lockout: Failure counting.
        policy: The security policy (MFA may be required for a role).
        revocations: Ends sessions when the second factor changes.
        sessions: Issues the fresh tokens after enrolment.
        clock: Current UTC time.
    """

    def __init__(
        self,
        users: UserRepository,
        trail: AuthTrail,
        *,
        passwords: Passwords,
        factors: SecondFactor,
        lockout: Lockout,
        policy: PolicyStore,
        revocations: Revocations,
        sessions: SessionService,
        clock: Callable[[], datetime],
    ) -> None:
        self._users = users
        self._trail = trail
        self._passwords = passwords
        self._factors = factors
        self._lockout = lockout
        self._policy = policy
        self._revocations = revocations
        self._sessions = sessions
        self._clock = clock

    async def begin(
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
        current code (or a recovery code).

        Raises:
            AuthenticationError: MFA is on and the password or code is missing or wrong.
            RateLimitedError: The account is locked after failed attempts.
        """
        user = await self._users.get(principal.id)
        changes: dict[str, Any] = {}
        if user.mfa_secret is not None:
            changes = await self._reauthenticate(user, password, otp, "mfa.begin", ip)
        secret = self._factors.totp.new_secret()
        await self._users.update(
            user.evolve(
                self._clock(), mfa_pending=self._factors.box.seal(secret, user.id), **changes
            )
        )
        uri, png = self._factors.totp.enrolment(secret, user.username, issuer)
        await self._trail.record("mfa.begin", principal.actor, target=f"user:{user.id}")
        return MfaEnrolment(secret=secret, uri=uri, qr_png=png)

    async def qr(self, principal: Principal, *, issuer: str = "Argus") -> bytes:
        """The QR code (PNG) of the enrolment in progress.

        Raises:
            ConflictError: No enrolment was started.
        """
        user = await self._users.get(principal.id)
        if user.mfa_pending is None:
            raise ConflictError("no MFA enrolment in progress; start one first")
        secret = self._factors.box.open(user.mfa_pending, user.id)
        _, png = self._factors.totp.enrolment(secret, user.username, issuer)
        return png

    async def confirm(
        self, principal: Principal, code: str, *, ip: str | None = None
    ) -> tuple[list[str], TokenPair]:
        """Activate the pending secret with a current code.

        Returns:
            The recovery codes (shown once) and a fresh, unrestricted token pair.

        Raises:
            ConflictError: No enrolment was started.
            AuthenticationError: The code is wrong.
        """
        user = await self._users.get(principal.id)
        if user.mfa_pending is None:
            raise ConflictError("no MFA enrolment in progress; start one first")
        secret = self._factors.box.open(user.mfa_pending, user.id)
        # A new secret has no used step yet (the stored one belongs to the old secret).
        step = self._factors.step(secret, code, -1)
        if step is None:
            await self._trail.record(
                "mfa.enable",
                principal.actor,
                target=f"user:{user.id}",
                outcome="failure",
                ip=ip,
                reason="wrong code",
            )
            raise AuthenticationError("wrong MFA code")
        codes, hashes = self._factors.recovery_codes()
        # Confirming does not use the code up for sign-in: the owner signs in right
        # after, usually within the same 30 s step and so with the same code. The
        # confirmation itself cannot be replayed (the pending secret is gone), and a
        # sign-in still needs the password and accepts each step once.
        user, _ = await self._revocations.save_ending_sessions(
            user,
            mfa_secret=user.mfa_pending,
            mfa_pending=None,
            last_totp_step=step - 1,
            recovery_codes=hashes,
        )
        await self._trail.record("mfa.enable", principal.actor, target=f"user:{user.id}", ip=ip)
        sessions = self._sessions
        return codes, await sessions.issue(user, restricted=await sessions.restriction(user))

    async def disable(
        self, principal: Principal, password: str, otp: str | None = None, *, ip: str | None = None
    ) -> None:
        """Turn one's own MFA off (refused when the policy requires MFA).

        Needs the password and, when MFA is on, a current code or a recovery code.

        Raises:
            AuthenticationError: Wrong or missing password or code.
            RateLimitedError: The account is locked after failed attempts.
            PermissionDeniedError: The role must use MFA.
        """
        user = await self._users.get(principal.id)
        if user.role in (await self._policy.current()).mfa_required_roles:
            raise PermissionDeniedError(f"the policy requires MFA for {user.role}s")
        if user.mfa_secret is None:
            if not self._passwords.matches(user, password):
                await self._lockout.failed(user, ip, "wrong password", action="mfa.disable")
                raise AuthenticationError("wrong password")
        else:
            await self._reauthenticate(user, password, otp, "mfa.disable", ip)
        await self._revocations.clear_mfa(user, failed_logins=0, locked_until=None)
        await self._trail.record("mfa.disable", principal.actor, target=f"user:{user.id}", ip=ip)

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
        user = await self._users.get(principal.id)
        if user.mfa_secret is None:
            raise ConflictError("MFA is not enabled")
        changes = await self._reauthenticate(user, password, otp, "mfa.recovery_codes", ip)
        codes, changes["recovery_codes"] = self._factors.recovery_codes()
        await self._users.update(user.evolve(self._clock(), **changes))
        await self._trail.record("mfa.recovery_codes", principal.actor, target=f"user:{user.id}")
        return codes

    async def _reauthenticate(
        self, user: User, password: str | None, otp: str | None, action: str, ip: str | None
    ) -> dict[str, Any]:
        """Check the password and a second factor again before changing the second factor.

        Returns:
            The user's changes (the code's step, or the recovery code used up).

        Raises:
            AuthenticationError: The password or code is missing or wrong.
            RateLimitedError: The account is locked.
        """
        locked = self._lockout.refusal(user, self._clock())
        if locked is not None:
            raise locked
        if not password or not otp:
            await self._trail.record(
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
        right = self._passwords.matches(user, password)
        second = await self._factors.check(user, otp) if right else None
        if second is None:
            await self._lockout.failed(user, ip, "wrong password or code", action=action)
            raise AuthenticationError("wrong password or code")
        return {**second, "failed_logins": 0, "locked_until": None}

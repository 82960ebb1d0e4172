"""``Lockout``: failed password or code checks count towards locking the account."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from argus.domain.errors import ConflictError, RateLimitedError
from argus.domain.identity import User
from argus.ports.identity import UserRepository
from argus.services.auth.trail import AuthTrail

__all__ = ["Lockout"]

log = logging.getLogger(__name__)


class Lockout:
    """Locks an account for ``lockout_s`` after ``max_failures`` failures in a row.

    Args:
        users: Where the failure count is kept.
        trail: The audit trail.
        max_failures: Failures in a row that lock the account.
        lockout_s: How long it stays locked.
        clock: Current UTC time.
    """

    def __init__(
        self,
        users: UserRepository,
        trail: AuthTrail,
        *,
        max_failures: int,
        lockout_s: float,
        clock: Callable[[], datetime],
    ) -> None:
        self._users = users
        self._trail = trail
        self._max_failures = max_failures
        self._lockout_s = lockout_s
        self._clock = clock

    def refusal(self, user: User, now: datetime) -> RateLimitedError | None:
        """The error to raise while ``user`` is locked at ``now``, else ``None``."""
        if not user.locked(now):
            return None
        assert user.locked_until is not None
        wait = (user.locked_until - now).total_seconds()
        return RateLimitedError(
            f"account locked after failed sign-ins; retry in {wait:.0f} s", wait
        )

    async def failed(
        self, user: User, ip: str | None, reason: str, *, action: str = "auth.login"
    ) -> None:
        """Count one failure of ``user`` (audited as ``action``); lock it at the limit."""
        now = self._clock()
        failures = user.failed_logins + 1
        locked_until = None
        if failures >= self._max_failures:
            locked_until = now + timedelta(seconds=self._lockout_s)
        try:
            await self._users.update(
                user.evolve(now, failed_logins=failures, locked_until=locked_until)
            )
        except ConflictError:
            log.info("concurrent sign-in failures for %s; one count kept", user.username)
        await self._trail.record(
            action,
            f"user:{user.username}",
            target=f"user:{user.id}",
            outcome="failure",
            ip=ip,
            reason=reason,
            failures=failures,
        )
        if locked_until is not None:
            await self._trail.record(
                "auth.lockout", "system", target=f"user:{user.id}", ip=ip, failures=failures
            )

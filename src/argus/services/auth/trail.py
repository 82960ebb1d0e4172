"""``AuthTrail``: how the auth services append to the audit trail."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from argus.domain.audit import AuditEntry, AuditOutcome
from argus.ports.audit import AuditLog

__all__ = ["AuthTrail"]


class AuthTrail:
    """Appends the auth services' records, stamped on their clock.

    Args:
        audit: The audit trail.
        clock: Current UTC time.
    """

    def __init__(self, audit: AuditLog, clock: Callable[[], datetime]) -> None:
        self._audit = audit
        self._clock = clock

    def within(self, audit: AuditLog) -> AuthTrail:
        """The same trail appending to ``audit`` (a unit of work's: it commits with the unit)."""
        return AuthTrail(audit, self._clock)

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
        """Append one record (``details`` and ``facts`` merged, ``facts`` last)."""
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

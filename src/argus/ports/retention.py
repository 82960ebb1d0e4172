"""The retention port: batched deletes of data past its retention (``Database.retention``).

The conventions of ``argus.ports.repositories`` hold: every method is one
transaction and a failing database raises ``StorageError``. Each method
deletes at most ``limit`` rows, oldest first, and returns how many it deleted,
so the retention sweep (``argus.services.retention``) can work through
millions of rows in short transactions that never hold the store's write lock
for long: ingest keeps flowing between two batches. A call that deletes fewer
than ``limit`` rows has nothing more to delete.

``keep`` names rows that stay whatever their age: those under legal hold (an
incident's alerts and their events) and, for alerts, those an incident still
links to. The audit log prunes itself (``AuditLog.prune_before``: it must
write a signed checkpoint); evidence, whose objects live in a blob store, is
deleted through the evidence service; edge node health through
``NodeRepository.purge_reports``; notifications through their outbox.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Final, Protocol, runtime_checkable

from argus.domain.alerts import AlertState, IncidentStatus
from argus.domain.errors import ValidationError

__all__ = [
    "CLOSED_INCIDENT_STATUSES",
    "FINAL_ALERT_STATES",
    "RetentionStore",
    "check_delete_args",
]

FINAL_ALERT_STATES: Final[tuple[AlertState, ...]] = ("confirmed", "false_positive", "cleared")
"""Alert states that never change again: only those alerts are deleted."""

CLOSED_INCIDENT_STATUSES: Final[tuple[IncidentStatus, ...]] = ("resolved", "closed")
"""Incident statuses past which an incident may be deleted (by its last change)."""

MAX_BATCH = 100_000
"""The largest ``limit`` of one delete."""


def check_delete_args(before: datetime, limit: int) -> None:
    """Validate a delete's cutoff and batch size.

    Raises:
        ValidationError: ``before`` is naive or ``limit`` is outside ``[1, MAX_BATCH]``.
    """
    if before.tzinfo is None or before.utcoffset() is None:
        raise ValidationError("before must be timezone-aware")
    if not 1 <= limit <= MAX_BATCH:
        raise ValidationError(f"limit must be in [1, {MAX_BATCH}], got {limit}")


@runtime_checkable
class RetentionStore(Protocol):
    """Batched deletes of events, alerts and their groups, incidents, face decisions."""

    async def delete_events(
        self,
        before: datetime,
        *,
        limit: int,
        types: Collection[str] | None = None,
        exclude_types: Collection[str] = (),
        keep: Collection[str] = (),
    ) -> int:
        """Delete events with ``timestamp`` strictly before ``before``, oldest first.

        Args:
            before: The cutoff (timezone-aware).
            limit: At most this many.
            types: Only events of these types (``None``: any).
            exclude_types: Never events of these types.
            keep: Event ids that stay.
        """
        ...

    async def delete_alerts(
        self, before: datetime, *, limit: int, keep: Collection[str] = ()
    ) -> int:
        """Delete alerts in a final state (``FINAL_ALERT_STATES``) created before ``before``.

        Args:
            before: The cutoff (timezone-aware).
            limit: At most this many.
            keep: Alert ids that stay.
        """
        ...

    async def delete_alert_groups(self, before: datetime, *, limit: int) -> int:
        """Delete closed alert groups last seen before ``before`` that no alert belongs to."""
        ...

    async def delete_incidents(
        self, before: datetime, *, limit: int, keep: Collection[str] = ()
    ) -> int:
        """Delete resolved and closed incidents last changed before ``before``.

        Args:
            before: The cutoff (timezone-aware).
            limit: At most this many.
            keep: Incident ids that stay (those under legal hold).
        """
        ...

    async def delete_decisions(self, before: datetime, *, limit: int) -> int:
        """Delete workstation verification decisions made before ``before``, oldest first."""
        ...

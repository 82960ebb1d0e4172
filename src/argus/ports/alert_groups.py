"""Repository ports of alert groups, snoozes and maintenance windows.

The conventions of ``argus.ports.repositories`` hold: every method is one
transaction (or part of a unit of work); unknown ids raise ``NotFoundError``;
taken ids ``ConflictError``; a failing database ``StorageError``. Groups are
updated optimistically like alerts (``update`` stores over ``version - 1``).

Group lists are cursor-paginated, newest ``last_seen`` first (then id
descending): ``next_cursor`` of one page is the ``cursor`` of the next, and
``total`` counts every match.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable

from argus.domain.alerts import Severity
from argus.domain.alerts.groups import AlertGroup, GroupState
from argus.domain.alerts.suppression import MaintenanceWindow, Snooze
from argus.domain.alerts.triage import AlertOrder
from argus.domain.errors import ValidationError
from argus.ports.paging import Page

__all__ = ["AlertGroupRepository", "GroupFilter", "SuppressionRepository"]


@dataclass(frozen=True, slots=True)
class GroupFilter:
    """Which groups a query returns; ``None`` fields do not filter.

    Attributes:
        state: Groups in this state.
        camera_id: Groups of this camera.
        camera_ids: Groups of any of these cameras (a caller's camera scope).
        rule_id: Groups of this rule.
        severities: Groups whose highest severity is one of these.
    """

    state: GroupState | None = None
    camera_id: str | None = None
    camera_ids: tuple[str, ...] | None = None
    rule_id: str | None = None
    severities: tuple[Severity, ...] | None = None

    def __post_init__(self) -> None:
        if self.severities is not None and not self.severities:
            raise ValidationError("severities must be None or name at least one value")


@runtime_checkable
class AlertGroupRepository(Protocol):
    """Alert groups, updated optimistically."""

    async def add(self, group: AlertGroup) -> None:
        """Store a new group (``ConflictError`` if its id exists)."""
        ...

    async def get(self, group_id: str) -> AlertGroup:
        """Return a group (``NotFoundError`` if unknown)."""
        ...

    async def update(self, group: AlertGroup) -> None:
        """Store ``group`` over the stored version ``group.version - 1``.

        Raises:
            NotFoundError: Unknown id.
            ConflictError: The stored version is not ``group.version - 1``.
        """
        ...

    async def find_open(self, key: str, since: datetime) -> AlertGroup | None:
        """The open group of ``key`` whose ``last_seen`` is at or after ``since`` (newest)."""
        ...

    async def list(
        self,
        where: GroupFilter | None = None,
        *,
        limit: int = 100,
        cursor: str | None = None,
        offset: int = 0,
        order: AlertOrder = "newest",
    ) -> Page[AlertGroup]:
        """Matching groups, newest ``last_seen`` first (``ValidationError`` on a bad cursor).

        ``order="triage"`` sorts by ``domain.alerts.triage.group_triage_key``
        (highest severity, the highest attention of the group's alerts, oldest
        ``first_seen`` first) and pages by ``offset`` only (no ``next_cursor``);
        ``offset`` with a cursor, or a cursor in triage order, is a ``ValidationError``.
        """
        ...


@runtime_checkable
class SuppressionRepository(Protocol):
    """Snoozes and maintenance windows."""

    async def add_snooze(self, snooze: Snooze) -> None:
        """Store a snooze (``ConflictError`` if its id exists)."""
        ...

    async def delete_snooze(self, snooze_id: str) -> Snooze:
        """Delete a snooze and return it (``NotFoundError`` if unknown)."""
        ...

    async def list_snoozes(
        self, *, active_at: datetime | None = None, limit: int = 100, offset: int = 0
    ) -> Page[Snooze]:
        """Snoozes, latest ``until`` first; only those not ended at ``active_at`` if given."""
        ...

    async def add_window(self, window: MaintenanceWindow) -> None:
        """Store a maintenance window (``ConflictError`` if its id exists)."""
        ...

    async def delete_window(self, window_id: str) -> MaintenanceWindow:
        """Delete a window and return it (``NotFoundError`` if unknown)."""
        ...

    async def list_windows(
        self, *, active_at: datetime | None = None, limit: int = 100, offset: int = 0
    ) -> Page[MaintenanceWindow]:
        """Windows, latest ``start`` first; only those not ended at ``active_at`` if given."""
        ...

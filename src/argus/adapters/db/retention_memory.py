"""The retention port on the memory store (see ``ports.retention``).

It deletes from the dicts the memory repositories keep their rows in (the
memory store's modules share their state, as its unit of work does), oldest
first, following the SQL store's order and conditions exactly.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from datetime import datetime
from typing import TypeVar

from argus.adapters.db.alerts_memory import MemoryAlertRepository, MemoryIncidentRepository
from argus.adapters.db.groups_memory import MemoryAlertGroupRepository
from argus.adapters.db.scene_memory import MemoryState
from argus.adapters.db.workstations_memory import MemoryDecisionRepository
from argus.ports.retention import (
    CLOSED_INCIDENT_STATUSES,
    FINAL_ALERT_STATES,
    check_delete_args,
)

__all__ = ["MemoryRetentionStore"]

V = TypeVar("V")


def _delete(
    table: dict[str, V],
    rows: Iterable[tuple[str, V]],
    order: Callable[[tuple[str, V]], tuple[datetime, str]],
    limit: int,
) -> int:
    chosen = sorted(rows, key=order)[:limit]
    for key, _ in chosen:
        del table[key]
    return len(chosen)


class MemoryRetentionStore:
    """A ``RetentionStore`` over the memory repositories' state.

    Args:
        state: The scene and event tables.
        alerts: The alert repository.
        incidents: The incident repository.
        decisions: The face decision repository.
        groups: The alert group repository.
    """

    def __init__(
        self,
        state: MemoryState,
        alerts: MemoryAlertRepository,
        incidents: MemoryIncidentRepository,
        decisions: MemoryDecisionRepository,
        groups: MemoryAlertGroupRepository,
    ) -> None:
        self._state = state
        self._alerts = alerts
        self._incidents = incidents
        self._decisions = decisions
        self._groups = groups

    async def delete_events(
        self,
        before: datetime,
        *,
        limit: int,
        types: Collection[str] | None = None,
        exclude_types: Collection[str] = (),
        keep: Collection[str] = (),
    ) -> int:
        self._state.check()
        check_delete_args(before, limit)
        table, kept, excluded = self._state.events, set(keep), set(exclude_types)
        wanted = None if types is None else set(types)
        rows = [
            (key, e)
            for key, e in table.items()
            if e.timestamp < before
            and key not in kept
            and e.type not in excluded
            and (wanted is None or e.type in wanted)
        ]
        return _delete(table, rows, lambda row: (row[1].timestamp, row[0]), limit)

    async def delete_alerts(
        self, before: datetime, *, limit: int, keep: Collection[str] = ()
    ) -> int:
        self._state.check()
        check_delete_args(before, limit)
        table, kept = self._alerts._alerts, set(keep)
        rows = [
            (key, a)
            for key, a in table.items()
            if a.created_at < before and a.state in FINAL_ALERT_STATES and key not in kept
        ]
        return _delete(table, rows, lambda row: (row[1].created_at, row[0]), limit)

    async def delete_alert_groups(self, before: datetime, *, limit: int) -> int:
        self._state.check()
        check_delete_args(before, limit)
        table = self._groups._groups
        members = {a.group_id for a in self._alerts._alerts.values()}
        rows = [
            (key, g)
            for key, g in table.items()
            if g.last_seen < before and g.state == "closed" and key not in members
        ]
        return _delete(table, rows, lambda row: (row[1].last_seen, row[0]), limit)

    async def delete_incidents(
        self, before: datetime, *, limit: int, keep: Collection[str] = ()
    ) -> int:
        self._state.check()
        check_delete_args(before, limit)
        table, kept = self._incidents._incidents, set(keep)
        rows = [
            (key, i)
            for key, i in table.items()
            if i.updated_at < before and i.status in CLOSED_INCIDENT_STATUSES and key not in kept
        ]
        return _delete(table, rows, lambda row: (row[1].updated_at, row[0]), limit)

    async def delete_decisions(self, before: datetime, *, limit: int) -> int:
        self._state.check()
        check_delete_args(before, limit)
        table = self._decisions._records
        rows = [(key, d) for key, d in table.items() if d.at < before]
        return _delete(table, rows, lambda row: (row[1].at, row[0]), limit)

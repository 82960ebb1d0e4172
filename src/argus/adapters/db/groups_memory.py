"""In-memory alert groups, snoozes and maintenance windows (see ``ports.alert_groups``).

The fakes for service tests and the contract's reference: dicts of frozen
values with the ordering, cursor paging and optimistic versions of the SQL
store (``groups_sql``). Each repository is given its store's ``check``.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from argus.adapters.db._common import decode_cursor, encode_cursor
from argus.domain.alerts import Alert
from argus.domain.alerts.groups import AlertGroup
from argus.domain.alerts.suppression import MaintenanceWindow, Snooze
from argus.domain.alerts.triage import AlertOrder, group_triage_key
from argus.domain.checks import aware_utc
from argus.domain.errors import ConflictError, NotFoundError, ValidationError
from argus.ports.alert_groups import GroupFilter
from argus.ports.paging import Page, check_page

__all__ = ["MemoryAlertGroupRepository", "MemorySuppressionRepository"]


def _matches(group: AlertGroup, where: GroupFilter) -> bool:
    return all(
        (
            where.state is None or group.state == where.state,
            where.camera_id is None or group.camera_id == where.camera_id,
            where.camera_ids is None or group.camera_id in where.camera_ids,
            where.rule_id is None or group.rule_id == where.rule_id,
            where.severities is None or group.max_severity in where.severities,
        )
    )


class MemoryAlertGroupRepository:
    """Alert groups in a dict keyed by id (see ``AlertGroupRepository``).

    ``alerts_of`` reads a group's stored alerts (the triage order needs their
    states and escalations); without it every group sorts as if closed.
    """

    def __init__(
        self,
        check: Callable[[], None],
        alerts_of: Callable[[str], Iterable[Alert]] | None = None,
    ) -> None:
        self._check = check
        self._alerts_of = alerts_of or (lambda _group_id: ())
        self._groups: dict[str, AlertGroup] = {}

    def tables(self) -> tuple[dict[str, Any], ...]:
        """The containers of its state (a unit of work restores them on rollback)."""
        return (self._groups,)

    async def add(self, group: AlertGroup) -> None:
        self._check()
        if group.id in self._groups:
            raise ConflictError(f"alert group {group.id} already exists")
        self._groups[group.id] = group

    async def get(self, group_id: str) -> AlertGroup:
        self._check()
        try:
            return self._groups[group_id]
        except KeyError:
            raise NotFoundError(f"no alert group {group_id}") from None

    async def update(self, group: AlertGroup) -> None:
        stored = await self.get(group.id)
        if stored.version != group.version - 1:
            raise ConflictError(
                f"alert group {group.id} is at version {stored.version}, not "
                f"{group.version - 1}: it changed meanwhile"
            )
        self._groups[group.id] = group

    async def find_open(self, key: str, since: datetime) -> AlertGroup | None:
        self._check()
        since = aware_utc(since, "since")
        found = [
            g
            for g in self._groups.values()
            if g.key == key and g.state == "open" and g.last_seen >= since
        ]
        return max(found, key=lambda g: (g.last_seen, g.id), default=None)

    async def list(
        self,
        where: GroupFilter | None = None,
        *,
        limit: int = 100,
        cursor: str | None = None,
        offset: int = 0,
        order: AlertOrder = "newest",
    ) -> Page[AlertGroup]:
        self._check()
        check_page(limit, offset)
        where = where or GroupFilter()
        matching = [g for g in self._groups.values() if _matches(g, where)]
        if cursor and (offset or order == "triage"):
            raise ValidationError("this order pages by offset, not by cursor")
        if order == "triage":
            matching.sort(
                key=lambda g: group_triage_key(
                    g.max_severity, self._alerts_of(g.id), g.first_seen, g.id
                )
            )
            return Page(tuple(matching[offset : offset + limit]), len(matching))
        items = sorted(matching, key=lambda g: (g.last_seen, g.id), reverse=True)
        total = len(items)
        items = items[offset:]
        if cursor:
            stamp, after = decode_cursor(cursor)
            items = [g for g in items if (g.last_seen, g.id) < (stamp, after)]
        page = tuple(items[:limit])
        more = len(items) > limit
        next_cursor = encode_cursor(page[-1].last_seen, page[-1].id) if more else None
        return Page(page, total, next_cursor)


def _page(items: builtins.list[Any], limit: int, offset: int) -> Page[Any]:
    check_page(limit, offset)
    return Page(tuple(items[offset : offset + limit]), len(items))


class MemorySuppressionRepository:
    """Snoozes and maintenance windows in dicts (see ``SuppressionRepository``)."""

    def __init__(self, check: Callable[[], None]) -> None:
        self._check = check
        self._snoozes: dict[str, Snooze] = {}
        self._windows: dict[str, MaintenanceWindow] = {}

    def tables(self) -> tuple[dict[str, Any], ...]:
        """The containers of its state (a unit of work restores them on rollback)."""
        return (self._snoozes, self._windows)

    async def add_snooze(self, snooze: Snooze) -> None:
        self._check()
        if snooze.id in self._snoozes:
            raise ConflictError(f"snooze {snooze.id} already exists")
        self._snoozes[snooze.id] = snooze

    async def delete_snooze(self, snooze_id: str) -> Snooze:
        self._check()
        try:
            return self._snoozes.pop(snooze_id)
        except KeyError:
            raise NotFoundError(f"no snooze {snooze_id}") from None

    async def list_snoozes(
        self, *, active_at: datetime | None = None, limit: int = 100, offset: int = 0
    ) -> Page[Snooze]:
        self._check()
        items = sorted(
            (s for s in self._snoozes.values() if active_at is None or s.until > active_at),
            key=lambda s: (s.until, s.id),
            reverse=True,
        )
        return _page(items, limit, offset)

    async def add_window(self, window: MaintenanceWindow) -> None:
        self._check()
        if window.id in self._windows:
            raise ConflictError(f"maintenance window {window.id} already exists")
        self._windows[window.id] = window

    async def delete_window(self, window_id: str) -> MaintenanceWindow:
        self._check()
        try:
            return self._windows.pop(window_id)
        except KeyError:
            raise NotFoundError(f"no maintenance window {window_id}") from None

    async def list_windows(
        self, *, active_at: datetime | None = None, limit: int = 100, offset: int = 0
    ) -> Page[MaintenanceWindow]:
        self._check()
        items = sorted(
            (w for w in self._windows.values() if active_at is None or w.end > active_at),
            key=lambda w: (w.start, w.id),
            reverse=True,
        )
        return _page(items, limit, offset)

"""SQL alert groups, snoozes and maintenance windows (see ``ports.alert_groups``).

Values are stored whole as JSON (``to_dict``) beside the columns queries
filter and sort on (``tables_groups``). Groups are updated optimistically with
``UPDATE ... WHERE id = ? AND version = ?`` (``alerts_sql._update_version``)
and listed newest ``last_seen`` first by keyset (a cursor of ``last_seen`` and
id), so a page never re-reads what the pages before it skipped.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, TypeVar

import sqlalchemy as sa

from argus.adapters.db._common import decode_cursor, encode_cursor
from argus.adapters.db._sqlcore import Bind, count_rows, transaction
from argus.adapters.db.alerts_sql import _update_version
from argus.adapters.db.tables import alerts
from argus.adapters.db.tables_groups import alert_groups, alert_snoozes, maintenance_windows
from argus.adapters.db.tables_triage import attention_of, severity_rank
from argus.domain.alerts.groups import AlertGroup
from argus.domain.alerts.suppression import MaintenanceWindow, Snooze
from argus.domain.alerts.triage import CLOSED_ATTENTION, AlertOrder
from argus.domain.checks import aware_utc
from argus.domain.errors import NotFoundError, StorageError, ValidationError
from argus.ports.alert_groups import GroupFilter
from argus.ports.paging import Page, check_page

__all__ = ["SqlAlertGroupRepository", "SqlSuppressionRepository"]

T = TypeVar("T")


def _parse(kind: str, parse: Callable[[Mapping[str, object]], T], data: Any) -> T:
    try:
        return parse(data)
    except ValidationError as exc:
        raise StorageError(f"a stored {kind} is unreadable: {exc}") from exc


def _group_row(group: AlertGroup) -> dict[str, Any]:
    return {
        "id": group.id,
        "key": group.key,
        "rule_id": group.rule_id,
        "camera_id": group.camera_id,
        "state": group.state,
        "max_severity": group.max_severity,
        "first_seen": group.first_seen,
        "last_seen": group.last_seen,
        "version": group.version,
        "body": group.to_dict(),
    }


def _group(row: sa.Row[Any]) -> AlertGroup:
    return _parse("alert group", AlertGroup.from_dict, row.body)


def _conditions(where: GroupFilter) -> builtins.list[Any]:
    table = alert_groups.c
    conditions: builtins.list[Any] = []
    if where.state is not None:
        conditions.append(table.state == where.state)
    if where.camera_id is not None:
        conditions.append(table.camera_id == where.camera_id)
    if where.camera_ids is not None:
        conditions.append(table.camera_id.in_(where.camera_ids))
    if where.rule_id is not None:
        conditions.append(table.rule_id == where.rule_id)
    if where.severities is not None:
        conditions.append(table.max_severity.in_(where.severities))
    return conditions


class SqlAlertGroupRepository:
    """Alert groups in the ``alert_groups`` table (see ``AlertGroupRepository``)."""

    def __init__(self, engine: Bind) -> None:
        self._engine = engine

    async def add(self, group: AlertGroup) -> None:
        async with transaction(self._engine, f"adding alert group {group.id}") as connection:
            await connection.execute(sa.insert(alert_groups).values(_group_row(group)))

    async def get(self, group_id: str) -> AlertGroup:
        query = sa.select(alert_groups).where(alert_groups.c.id == group_id)
        async with transaction(self._engine, "reading an alert group") as connection:
            row = (await connection.execute(query)).first()
        if row is None:
            raise NotFoundError(f"no alert group {group_id}")
        return _group(row)

    async def update(self, group: AlertGroup) -> None:
        async with transaction(self._engine, f"updating alert group {group.id}") as connection:
            await _update_version(connection, alert_groups, "alert group", _group_row(group))

    async def find_open(self, key: str, since: datetime) -> AlertGroup | None:
        since = aware_utc(since, "since")
        table = alert_groups.c
        query = (
            sa.select(alert_groups)
            .where(table.key == key, table.state == "open", table.last_seen >= since)
            .order_by(table.last_seen.desc(), table.id.desc())
            .limit(1)
        )
        async with transaction(self._engine, "finding an alert group") as connection:
            row = (await connection.execute(query)).first()
        return None if row is None else _group(row)

    async def list(
        self,
        where: GroupFilter | None = None,
        *,
        limit: int = 100,
        cursor: str | None = None,
        offset: int = 0,
        order: AlertOrder = "newest",
    ) -> Page[AlertGroup]:
        check_page(limit, offset)
        table = alert_groups.c
        conditions = _conditions(where or GroupFilter())
        after: builtins.list[Any] = []
        sort: tuple[Any, ...] = (table.last_seen.desc(), table.id.desc())
        if cursor and (offset or order == "triage"):
            raise ValidationError("this order pages by offset, not by cursor")
        if order == "triage":
            # The group's attention is the highest of its alerts' (one indexed lookup each).
            most = (
                sa.select(sa.func.max(attention_of(alerts.c.state, alerts.c.escalation_level)))
                .where(alerts.c.group_id == table.id)
                .scalar_subquery()
            )
            sort = (
                severity_rank(table.max_severity).desc(),
                sa.func.coalesce(most, CLOSED_ATTENTION).desc(),
                table.first_seen,
                table.id,
            )
        elif cursor:
            stamp, group_id = decode_cursor(cursor)
            after.append(
                sa.or_(
                    table.last_seen < stamp,
                    sa.and_(table.last_seen == stamp, table.id < group_id),
                )
            )
        query = (
            sa.select(alert_groups)
            .where(*conditions, *after)
            .order_by(*sort)
            .limit(limit + 1)
            .offset(offset)
        )
        async with transaction(self._engine, "listing alert groups") as connection:
            total = await count_rows(connection, alert_groups, *conditions)
            rows = (await connection.execute(query)).all()
        items = tuple(_group(row) for row in rows[:limit])
        more = len(rows) > limit and order == "newest"
        next_cursor = encode_cursor(items[-1].last_seen, items[-1].id) if more else None
        return Page(items, total, next_cursor)


class SqlSuppressionRepository:
    """Snoozes and maintenance windows (see ``SuppressionRepository``)."""

    def __init__(self, engine: Bind) -> None:
        self._engine = engine

    async def add_snooze(self, snooze: Snooze) -> None:
        row = {"id": snooze.id, "until": snooze.until, "body": snooze.to_dict()}
        async with transaction(self._engine, f"adding snooze {snooze.id}") as connection:
            await connection.execute(sa.insert(alert_snoozes).values(row))

    async def delete_snooze(self, snooze_id: str) -> Snooze:
        body = await self._delete(alert_snoozes, "snooze", snooze_id)
        return _parse("snooze", Snooze.from_dict, body)

    async def list_snoozes(
        self, *, active_at: datetime | None = None, limit: int = 100, offset: int = 0
    ) -> Page[Snooze]:
        table = alert_snoozes.c
        where = [] if active_at is None else [table.until > aware_utc(active_at, "active_at")]
        rows, total = await self._list(
            alert_snoozes, where, (table.until.desc(), table.id.desc()), limit, offset
        )
        return Page(tuple(_parse("snooze", Snooze.from_dict, r.body) for r in rows), total)

    async def add_window(self, window: MaintenanceWindow) -> None:
        row = {"id": window.id, "start": window.start, "end": window.end}
        row["body"] = window.to_dict()
        async with transaction(self._engine, f"adding window {window.id}") as connection:
            await connection.execute(sa.insert(maintenance_windows).values(row))

    async def delete_window(self, window_id: str) -> MaintenanceWindow:
        body = await self._delete(maintenance_windows, "maintenance window", window_id)
        return _parse("maintenance window", MaintenanceWindow.from_dict, body)

    async def list_windows(
        self, *, active_at: datetime | None = None, limit: int = 100, offset: int = 0
    ) -> Page[MaintenanceWindow]:
        table = maintenance_windows.c
        where = [] if active_at is None else [table.end > aware_utc(active_at, "active_at")]
        rows, total = await self._list(
            maintenance_windows, where, (table.start.desc(), table.id.desc()), limit, offset
        )
        parse = MaintenanceWindow.from_dict
        return Page(tuple(_parse("maintenance window", parse, r.body) for r in rows), total)

    async def _delete(self, table: sa.Table, kind: str, entity_id: str) -> Any:
        async with transaction(self._engine, f"deleting {kind} {entity_id}") as connection:
            body = await connection.scalar(
                sa.delete(table).where(table.c.id == entity_id).returning(table.c.body)
            )
        if body is None:
            raise NotFoundError(f"no {kind} {entity_id}")
        return body

    async def _list(
        self,
        table: sa.Table,
        where: builtins.list[Any],
        order: tuple[Any, ...],
        limit: int,
        offset: int,
    ) -> tuple[builtins.list[sa.Row[Any]], int]:
        check_page(limit, offset)
        query = sa.select(table).where(*where).order_by(*order).limit(limit).offset(offset)
        async with transaction(self._engine, f"listing {table.name}") as connection:
            total = await count_rows(connection, table, *where)
            rows = list((await connection.execute(query)).all())
        return rows, total

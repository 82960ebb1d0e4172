"""The retention port on SQL stores: batched deletes by a keyed subquery (``ports.retention``).

Each delete is ``DELETE ... WHERE id IN (SELECT id ... ORDER BY <time> LIMIT n)``
in a transaction of its own, which SQLite and PostgreSQL both run off the time
indexes (``events(timestamp, event_id)``, ``alerts(created_at, id)``,
``verify_decisions(at, id)``). A batch of a few thousand rows holds SQLite's
write lock for milliseconds, so event inserts queued behind it wait little.
``keep`` is bound as an expanding ``NOT IN`` list: it names the few rows under
legal hold, not a large set.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from argus.adapters.db._sqlcore import Bind, transaction
from argus.adapters.db.tables import alerts, events, incidents, verify_decisions
from argus.adapters.db.tables_groups import alert_groups
from argus.ports.retention import (
    CLOSED_INCIDENT_STATUSES,
    FINAL_ALERT_STATES,
    check_delete_args,
)

__all__ = ["SqlRetentionStore"]


async def _delete(
    bind: Bind,
    table: sa.Table,
    order: tuple[sa.Column[Any], sa.Column[Any]],
    *,
    where: list[Any],
    limit: int,
    what: str,
) -> int:
    """Delete the oldest ``limit`` rows of ``table`` matching ``where`` in one transaction."""
    time, key = order
    chosen = sa.select(key).where(*where).order_by(time, key).limit(limit)
    async with transaction(bind, what) as connection:
        result = await connection.execute(sa.delete(table).where(key.in_(chosen.scalar_subquery())))
    return max(int(result.rowcount or 0), 0)


class SqlRetentionStore:
    """A ``RetentionStore`` over the SQL tables.

    Args:
        engine: The store's engine (or a unit's connection).
    """

    def __init__(self, engine: Bind) -> None:
        self._engine = engine

    async def delete_events(
        self,
        before: datetime,
        *,
        limit: int,
        types: Collection[str] | None = None,
        exclude_types: Collection[str] = (),
        keep: Collection[str] = (),
    ) -> int:
        check_delete_args(before, limit)
        where: list[Any] = [events.c.timestamp < before]
        if types is not None:
            where.append(events.c.type.in_(list(types)))
        if exclude_types:
            where.append(events.c.type.not_in(list(exclude_types)))
        if keep:
            where.append(events.c.event_id.not_in(list(keep)))
        return await _delete(
            self._engine,
            events,
            (events.c.timestamp, events.c.event_id),
            where=where,
            limit=limit,
            what="deleting expired events",
        )

    async def delete_alerts(
        self, before: datetime, *, limit: int, keep: Collection[str] = ()
    ) -> int:
        check_delete_args(before, limit)
        where: list[Any] = [alerts.c.created_at < before, alerts.c.state.in_(FINAL_ALERT_STATES)]
        if keep:
            where.append(alerts.c.id.not_in(list(keep)))
        return await _delete(
            self._engine,
            alerts,
            (alerts.c.created_at, alerts.c.id),
            where=where,
            limit=limit,
            what="deleting expired alerts",
        )

    async def delete_alert_groups(self, before: datetime, *, limit: int) -> int:
        check_delete_args(before, limit)
        member = sa.select(alerts.c.id).where(alerts.c.group_id == alert_groups.c.id)
        where: list[Any] = [
            alert_groups.c.last_seen < before,
            alert_groups.c.state == "closed",
            ~member.exists(),
        ]
        return await _delete(
            self._engine,
            alert_groups,
            (alert_groups.c.last_seen, alert_groups.c.id),
            where=where,
            limit=limit,
            what="deleting expired alert groups",
        )

    async def delete_incidents(
        self, before: datetime, *, limit: int, keep: Collection[str] = ()
    ) -> int:
        check_delete_args(before, limit)
        where: list[Any] = [
            incidents.c.updated_at < before,
            incidents.c.status.in_(CLOSED_INCIDENT_STATUSES),
        ]
        if keep:
            where.append(incidents.c.id.not_in(list(keep)))
        return await _delete(
            self._engine,
            incidents,
            (incidents.c.updated_at, incidents.c.id),
            where=where,
            limit=limit,
            what="deleting expired incidents",
        )

    async def delete_decisions(self, before: datetime, *, limit: int) -> int:
        check_delete_args(before, limit)
        table = verify_decisions
        return await _delete(
            self._engine,
            table,
            (table.c.at, table.c.id),
            where=[table.c.at < before],
            limit=limit,
            what="deleting expired face decisions",
        )

"""Count rollups in SQL: written with the events, read by ``plan_counts``.

``event_rollups`` holds, per count group (``count_key``) and UTC unit of each
grain (day, hour, quarter, minute), how many counted events it has. Rows are
upserted (``ON CONFLICT DO UPDATE SET total = total + excluded.total``) in the
same transaction as the event insert, and only for the events that insert
actually stored (``RETURNING event_id``), so a replayed event (same id) is
counted once and a rolled-back batch leaves no count behind. Upserts go in
key order so that concurrent batches lock rows in one order (no deadlocks).

Events are append-only: nothing deletes them today. A future retention or
erasure job must delete their rollup counts in the same transaction, or call
``rebuild`` afterwards; ``rebuild`` (also the migration's backfill) recomputes
every row from the events.

``SqlCountRollups.counts`` answers ``EventRepository.counts`` from the rows
its plan names plus the raw events of the plan's edges, through the same
``CountTally`` as a scan of every event (``counts_from_events``, kept for the
comparison tests and the benchmark).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime, tzinfo
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from argus.adapters.db._common import only_types
from argus.adapters.db._sqlcore import transaction
from argus.adapters.db.tables import UtcDateTime, event_rollups, events
from argus.domain.event_stats import (
    COUNTED_TYPES,
    CountBucket,
    CountKey,
    CountTally,
    Interval,
    count_key,
)
from argus.domain.events import Envelope
from argus.domain.rollups import GRAINS, CountPlan, Grain, plan_counts, unit_start
from argus.ports.repositories import EventFilter

__all__ = [
    "SqlCountRollups",
    "rebuild",
    "rollup_rows",
    "upsert_statement",
]

_SCAN_BATCH = 1000
"""Rows fetched at a time from a rollup or event query."""
_FLUSH = 20_000
"""Events ``rebuild`` collects before it writes their rollup rows."""
_CLASS_COLUMN = 200
"""Length of ``events.class_name``; longer classes are stored there as NULL."""

Counted = tuple[datetime, str, str, Mapping[str, Any]]
"""An event as rollups see it: time, camera, type, payload."""


def _group_key(key: CountKey) -> str:
    # A digest, not the names: names from edge payloads have no length limit, and a
    # primary key of unbounded text would not fit PostgreSQL's index rows.
    raw = json.dumps(key, ensure_ascii=True, separators=(",", ":"))
    return hashlib.sha256(raw.encode()).hexdigest()


def rollup_rows(counted: Iterable[Counted]) -> list[dict[str, Any]]:
    """The rollup increments of some events: one row per grain, unit and group, in key order."""
    totals: dict[tuple[Grain, datetime, CountKey], int] = {}
    digests: dict[CountKey, str] = {}
    for timestamp, camera_id, type, payload in counted:
        key = count_key(camera_id, type, payload)
        if key is None:
            continue
        if key not in digests:
            digests[key] = _group_key(key)
        for grain in GRAINS:
            slot = (grain, unit_start(timestamp.astimezone(UTC), grain), key)
            totals[slot] = totals.get(slot, 0) + 1
    rows = [
        {
            "grain": grain,
            "bucket": bucket,
            "group_key": digests[key],
            "camera_id": key[0],
            "type": key[1],
            "name": key[2],
            "direction": key[3],
            "class_name": key[4],
            "total": total,
        }
        for (grain, bucket, key), total in totals.items()
    ]
    rows.sort(key=lambda row: (row["grain"], row["bucket"], row["group_key"]))
    return rows


def upsert_statement(dialect: str) -> Any:
    """``INSERT ... ON CONFLICT DO UPDATE`` that adds a row's total to the stored one."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(event_rollups)
    return statement.on_conflict_do_update(
        index_elements=[
            event_rollups.c.grain,
            event_rollups.c.bucket,
            event_rollups.c.group_key,
        ],
        set_={"total": event_rollups.c.total + statement.excluded.total},
    )


def rebuild(connection: Connection) -> int:
    """Recompute every rollup row from the events (synchronous: migrations, repairs).

    Returns:
        The number of counted events.
    """
    connection.execute(sa.delete(event_rollups))
    statement = upsert_statement(connection.dialect.name)
    query = sa.select(events.c.timestamp, events.c.camera_id, events.c.type, events.c.payload)
    query = query.where(events.c.type.in_(COUNTED_TYPES)).order_by(events.c.timestamp)
    pending: list[Counted] = []
    seen = 0
    for row in connection.execute(query.execution_options(yield_per=_SCAN_BATCH)):
        payload = row.payload if isinstance(row.payload, Mapping) else {}
        pending.append((row.timestamp, row.camera_id, row.type, payload))
        seen += 1
        if len(pending) >= _FLUSH:
            connection.execute(statement, rollup_rows(pending))
            pending.clear()
    if pending:
        connection.execute(statement, rollup_rows(pending))
    return seen


def _conditions(where: EventFilter, table: sa.Table) -> list[Any]:
    """The filter's camera, type and class conditions on ``events`` or ``event_rollups``."""
    conditions: list[Any] = []
    if where.camera_id is not None:
        conditions.append(table.c.camera_id == where.camera_id)
    if where.camera_ids is not None:
        conditions.append(table.c.camera_id.in_(where.camera_ids))
    if where.types is not None:
        conditions.append(table.c.type.in_(where.types))
    if where.class_name is not None:
        conditions.append(table.c.class_name == where.class_name)
    return conditions


def _event_conditions(where: EventFilter) -> list[Any]:
    conditions = _conditions(where, events)
    if where.edge_node_id is not None:
        conditions.append(events.c.edge_node_id == where.edge_node_id)
    if where.since is not None:
        conditions.append(events.c.timestamp >= where.since)
    if where.until is not None:
        conditions.append(events.c.timestamp < where.until)
    return conditions


class SqlCountRollups:
    """Keeps and reads ``event_rollups`` for one engine."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._upsert = upsert_statement(engine.dialect.name)

    async def record(self, connection: AsyncConnection, stored: Sequence[Envelope]) -> None:
        """Add the events just stored to the rollups, in the caller's transaction.

        Args:
            connection: The transaction that inserted the events.
            stored: The events that insert stored (never ones already stored).
        """
        rows = rollup_rows(
            (e.timestamp, e.source.camera_id, e.type, e.payload)
            for e in stored
            if e.type in COUNTED_TYPES
        )
        if rows:
            await connection.execute(self._upsert, rows)

    async def counts(
        self, where: EventFilter, *, interval: Interval = "hour", tz: tzinfo = UTC
    ) -> tuple[CountBucket, ...]:
        """``EventRepository.counts``, from the rollups and the raw events of the edges.

        A filter without both ends of the period, by edge node (rollups do
        not keep it) or by a class name longer than the events' indexed column
        (which then holds no class) is answered from the events alone.
        """
        narrowed = only_types(where, COUNTED_TYPES)
        if narrowed is None:
            return ()
        if (
            narrowed.since is None
            or narrowed.until is None
            or narrowed.edge_node_id is not None
            or len(narrowed.class_name or "") > _CLASS_COLUMN
        ):
            return await self.counts_from_events(narrowed, interval=interval, tz=tz)
        plan = plan_counts(narrowed.since, narrowed.until, interval, tz)
        tally = CountTally(interval, tz)
        async with transaction(self._engine, "counting events") as connection:
            for grain in GRAINS:
                await _read_units(connection, narrowed, plan, grain, tally=tally)
            if plan.raw:
                ranges = [
                    sa.and_(events.c.timestamp >= start, events.c.timestamp < end)
                    for start, end in plan.raw
                ]
                await _scan(connection, [*_event_conditions(narrowed), sa.or_(*ranges)], tally.add)
        return tally.result()

    async def counts_from_events(
        self, where: EventFilter, *, interval: Interval = "hour", tz: tzinfo = UTC
    ) -> tuple[CountBucket, ...]:
        """The same answer from a scan of every matching event (no rollups)."""
        narrowed = only_types(where, COUNTED_TYPES)
        if narrowed is None:
            return ()
        tally = CountTally(interval, tz)
        async with transaction(self._engine, "counting events") as connection:
            await _scan(connection, _event_conditions(narrowed), tally.add)
        return tally.result()


_GROUP = (
    event_rollups.c.camera_id,
    event_rollups.c.type,
    event_rollups.c.name,
    event_rollups.c.direction,
    event_rollups.c.class_name,
)


async def _read_units(
    connection: AsyncConnection,
    where: EventFilter,
    plan: CountPlan,
    grain: Grain,
    *,
    tally: CountTally,
) -> None:
    """Add the rollup counts of the plan's ``grain`` units to ``tally``.

    Where each unit is a local bucket of its own (UTC days, minutes), the rows
    are read by range. Where several units make one local bucket (a Berlin day
    of 24 UTC hours), the plan's segments travel as a ``VALUES`` list joined to
    the rollups and the database sums each segment per group, so one row per
    group and local bucket comes back. Either way each range is an index
    range scan of ``(grain, bucket)``.
    """
    segments = plan.segments(grain)
    if not segments:
        return
    rollups = event_rollups
    units = plan.units[grain]
    direct = len(segments) == len(units)
    if direct:
        ranges: list[tuple[datetime, datetime]] = []
        for start, end, _ in segments:
            if ranges and ranges[-1][1] == start:
                ranges[-1] = (ranges[-1][0], end)
            else:
                ranges.append((start, end))
        query = sa.select(rollups.c.bucket, *_GROUP, rollups.c.total).where(
            rollups.c.grain == grain,
            sa.or_(*(sa.and_(rollups.c.bucket >= a, rollups.c.bucket < b) for a, b in ranges)),
            *_conditions(where, rollups),
        )
    else:
        wanted = sa.values(
            sa.column("seg_start", UtcDateTime()),
            sa.column("seg_end", UtcDateTime()),
            sa.column("seg_local", UtcDateTime()),
            name="segments",
        ).data(segments)
        # A CTE, not ``(VALUES ...) AS segments (columns)``: SQLite knows only the former.
        cte = wanted.cte("segments")
        covered = sa.and_(
            rollups.c.grain == grain,
            rollups.c.bucket >= cte.c.seg_start,
            rollups.c.bucket < cte.c.seg_end,
        )
        query = (
            sa.select(cte.c.seg_local, *_GROUP, sa.func.sum(rollups.c.total))
            .select_from(cte.join(rollups, covered))
            .where(*_conditions(where, rollups))
            .group_by(cte.c.seg_local, rollups.c.group_key, *_GROUP)
        )
    result = await connection.stream(query.execution_options(yield_per=_SCAN_BATCH))
    # A batch per await, not a row: each await crosses into the driver's thread.
    async for batch in result.partitions():
        for start, camera_id, type, name, direction, class_name, total in batch:
            # A unit's row names its unit, a segment's sum the segment's bucket.
            bucket = units[start] if direct else start
            tally.add_count(bucket, (camera_id, type, name, direction, class_name), int(total))


async def _scan(
    connection: AsyncConnection,
    conditions: list[Any],
    consume: Callable[[datetime, str, str, Mapping[str, Any]], None],
) -> None:
    query = sa.select(
        events.c.timestamp, events.c.camera_id, events.c.type, events.c.payload
    ).where(*conditions)
    result = await connection.stream(query.execution_options(yield_per=_SCAN_BATCH))
    async for batch in result.partitions():
        for row in batch:
            payload = row.payload if isinstance(row.payload, Mapping) else {}
            consume(row.timestamp, row.camera_id, row.type, payload)

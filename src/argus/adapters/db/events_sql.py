"""The event store in SQL (see ``EventRepository``).

Events are inserted with ``INSERT ... ON CONFLICT DO NOTHING RETURNING
event_id``, executed over chunks of rows (SQLAlchemy's multi-row
"insertmanyvalues"), so a batch costs a few round trips and replays are no-ops.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, tzinfo
from typing import Any

import sqlalchemy as sa
import sqlalchemy.exc
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine

from argus.adapters.db._common import (
    batch_result,
    decode_cursor,
    encode_cursor,
    event_class_name,
    event_track_id,
    only_types,
    unique_batch,
)
from argus.adapters.db._sqlcore import count_rows as _count
from argus.adapters.db._sqlcore import transaction as _transaction
from argus.adapters.db.rollups_sql import SqlCountRollups
from argus.adapters.db.tables import events
from argus.domain.cameras import utc_now
from argus.domain.errors import (
    NotFoundError,
    ValidationError,
)
from argus.domain.event_stats import (
    DWELL_TYPE,
    HEATMAP_TYPE,
    CountBucket,
    DetectionStats,
    DetectionTally,
    DwellStats,
    DwellTally,
    HeatmapGrid,
    HeatmapTally,
    Interval,
)
from argus.domain.events import Envelope, EventSource
from argus.ports.paging import Page, check_page
from argus.ports.repositories import EventFilter, InsertResult

__all__ = [
    "SqlEventRepository",
]

Row = sa.Row[Any]

_CHUNK = 500
"""Events per execute call; SQLAlchemy splits it into multi-row INSERTs within driver limits."""
_SCAN_BATCH = 1000
"""Rows fetched at a time when statistics stream over events."""


def _event_row(envelope: Envelope, received: Any) -> dict[str, Any]:
    source = envelope.source
    for name, value, limit in (
        ("type", envelope.type, 100),
        ("source.camera_id", source.camera_id, 200),
        ("source.edge_node_id", source.edge_node_id, 200),
    ):
        if len(value) > limit:
            raise ValidationError(f"event {envelope.event_id}: {name} exceeds {limit} characters")
    class_name = event_class_name(envelope)
    track_id = event_track_id(envelope)
    return {
        "event_id": envelope.event_id,
        "type": envelope.type,
        "timestamp": envelope.timestamp,
        "camera_id": source.camera_id,
        "edge_node_id": source.edge_node_id,
        "class_name": class_name if class_name is not None and len(class_name) <= 200 else None,
        "track_id": track_id if track_id is not None and abs(track_id) < 2**63 else None,
        "payload": dict(envelope.payload),
        "received_at": received,
    }


def _envelope(row: Row) -> Envelope:
    return Envelope(
        event_id=row.event_id,
        type=row.type,
        timestamp=row.timestamp,
        source=EventSource(edge_node_id=row.edge_node_id, camera_id=row.camera_id),
        payload=row.payload,
    )


def _event_conditions(where: EventFilter) -> builtins.list[Any]:
    conditions: builtins.list[Any] = []
    if where.camera_id is not None:
        conditions.append(events.c.camera_id == where.camera_id)
    if where.camera_ids is not None:
        conditions.append(events.c.camera_id.in_(where.camera_ids))
    if where.edge_node_id is not None:
        conditions.append(events.c.edge_node_id == where.edge_node_id)
    if where.types is not None:
        conditions.append(events.c.type.in_(where.types))
    if where.class_name is not None:
        conditions.append(events.c.class_name == where.class_name)
    if where.since is not None:
        conditions.append(events.c.timestamp >= where.since)
    if where.until is not None:
        conditions.append(events.c.timestamp < where.until)
    return conditions


class SqlEventRepository:
    """Events in the ``events`` table (see ``EventRepository``)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._insert: Callable[[sa.Table], Any] = (
            postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert
        )
        self.rollups = SqlCountRollups(engine)

    async def add(self, envelope: Envelope) -> bool:
        return bool((await self.add_many([envelope])).inserted)

    async def add_many(self, envelopes: Sequence[Envelope]) -> InsertResult:
        first, _repeated = unique_batch(envelopes)
        received = utc_now()
        rows = [_event_row(envelope, received) for envelope in first]
        stored: set[str] = set()
        if not rows:
            return batch_result(envelopes, stored)
        # One cached statement executed over many rows: SQLAlchemy's "insertmanyvalues"
        # batches it into multi-row INSERTs and still returns the inserted ids.
        statement = (
            self._insert(events)
            .on_conflict_do_nothing(index_elements=[events.c.event_id])
            .returning(events.c.event_id)
        )
        async with _transaction(self._engine, f"storing {len(rows)} events") as connection:
            for start in range(0, len(rows), _CHUNK):
                result = await connection.execute(statement, rows[start : start + _CHUNK])
                stored.update(result.scalars())
            # Same transaction: the counts of exactly the events stored now (never a replay).
            await self.rollups.record(connection, [e for e in first if e.event_id in stored])
        return batch_result(envelopes, stored)

    async def exists(self, event_id: str) -> bool:
        async with _transaction(self._engine, "checking an event") as connection:
            found = await connection.scalar(
                sa.select(sa.literal(1)).where(events.c.event_id == event_id)
            )
        return found is not None

    async def get(self, event_id: str) -> Envelope:
        async with _transaction(self._engine, "reading an event") as connection:
            row = (
                await connection.execute(sa.select(events).where(events.c.event_id == event_id))
            ).first()
        if row is None:
            raise NotFoundError(f"no event {event_id}")
        return _envelope(row)

    async def query(
        self, where: EventFilter | None = None, *, limit: int = 100, cursor: str | None = None
    ) -> Page[Envelope]:
        check_page(limit)
        conditions = _event_conditions(where or EventFilter())
        page_conditions = list(conditions)
        if cursor:
            stamp, event_id = decode_cursor(cursor)
            page_conditions.append(
                sa.or_(
                    events.c.timestamp < stamp,
                    sa.and_(events.c.timestamp == stamp, events.c.event_id < event_id),
                )
            )
        query = (
            sa.select(events)
            .where(*page_conditions)
            .order_by(events.c.timestamp.desc(), events.c.event_id.desc())
            .limit(limit + 1)
        )
        async with _transaction(self._engine, "querying events") as connection:
            total = await _count(connection, events, *conditions)
            rows = (await connection.execute(query)).all()
        items = tuple(_envelope(row) for row in rows[:limit])
        next_cursor = (
            encode_cursor(items[-1].timestamp, items[-1].event_id) if len(rows) > limit else None
        )
        return Page(items, total, next_cursor)

    async def _scan(
        self,
        what: str,
        where: EventFilter | None,
        consume: Callable[[datetime, str, str, Mapping[str, Any]], None],
        *,
        newest_first: bool = False,
    ) -> None:
        """Stream the matching events' time, camera, type and payload into ``consume``.

        Rows arrive in batches from a server-side cursor (PostgreSQL) or the
        driver's incremental fetch (SQLite), so memory stays bounded by the batch.
        """
        if where is None:
            return
        query = sa.select(
            events.c.timestamp, events.c.camera_id, events.c.type, events.c.payload
        ).where(*_event_conditions(where))
        if newest_first:
            query = query.order_by(events.c.timestamp.desc(), events.c.event_id.desc())
        async with _transaction(self._engine, what) as connection:
            result = await connection.stream(query.execution_options(yield_per=_SCAN_BATCH))
            async for row in result:
                payload = row.payload if isinstance(row.payload, Mapping) else {}
                consume(row.timestamp, row.camera_id, row.type, payload)

    async def counts(
        self, where: EventFilter, *, interval: Interval = "hour", tz: tzinfo = UTC
    ) -> tuple[CountBucket, ...]:
        # From the rollups (adapters/db/rollups_sql.py): the cost follows the buckets, not events.
        return await self.rollups.counts(where, interval=interval, tz=tz)

    async def dwell(self, where: EventFilter, *, zone: str | None = None) -> tuple[DwellStats, ...]:
        tally = DwellTally(zone)
        await self._scan(
            "summarising dwell times",
            only_types(where, (DWELL_TYPE,)),
            lambda _, camera_id, type, payload: tally.add(camera_id, type, payload),
        )
        return tally.result()

    async def detections(self, where: EventFilter) -> tuple[DetectionStats, ...]:
        tally = DetectionTally()
        await self._scan(
            "summarising detections",
            where,
            lambda _, camera_id, type, payload: tally.add(camera_id, type, payload),
        )
        return tally.result()

    async def heatmap(self, camera_id: str, since: datetime, until: datetime) -> HeatmapGrid | None:
        where = EventFilter(camera_id=camera_id, types=(HEATMAP_TYPE,), since=since, until=until)
        tally = HeatmapTally()
        await self._scan(
            "summing heatmaps",
            where,
            lambda _, __, ___, payload: tally.add(payload),
            newest_first=True,
        )
        return tally.result()

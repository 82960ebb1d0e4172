"""The event store in a dict (see ``EventRepository``), idempotent on ``event_id``."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, tzinfo

from argus.adapters.db._common import (
    batch_result,
    decode_cursor,
    encode_cursor,
    event_class_name,
    only_types,
    unique_batch,
)
from argus.adapters.db.scene_memory import MemoryState
from argus.domain.errors import NotFoundError
from argus.domain.event_stats import (
    COUNTED_TYPES,
    DWELL_TYPE,
    HEATMAP_TYPE,
    CountBucket,
    CountTally,
    DetectionStats,
    DetectionTally,
    DwellStats,
    DwellTally,
    HeatmapGrid,
    HeatmapTally,
    Interval,
)
from argus.domain.events import Envelope
from argus.ports.paging import Page, check_page
from argus.ports.repositories import EventFilter, InsertResult

__all__ = ["MemoryEventRepository"]


def _matches(envelope: Envelope, where: EventFilter) -> bool:
    checks = (
        where.camera_id is None or envelope.source.camera_id == where.camera_id,
        where.camera_ids is None or envelope.source.camera_id in where.camera_ids,
        where.edge_node_id is None or envelope.source.edge_node_id == where.edge_node_id,
        where.types is None or envelope.type in where.types,
        where.class_name is None or event_class_name(envelope) == where.class_name,
        where.since is None or envelope.timestamp >= where.since,
        where.until is None or envelope.timestamp < where.until,
    )
    return all(checks)


class MemoryEventRepository:
    """Events in a dict keyed by id (see ``EventRepository``)."""

    def __init__(self, state: MemoryState) -> None:
        self._state = state

    async def add(self, envelope: Envelope) -> bool:
        result = await self.add_many([envelope])
        return bool(result.inserted)

    async def add_many(self, envelopes: Sequence[Envelope]) -> InsertResult:
        self._state.check()
        first, _repeated = unique_batch(envelopes)
        stored = {e.event_id for e in first if e.event_id not in self._state.events}
        for envelope in first:
            if envelope.event_id in stored:
                self._state.events[envelope.event_id] = envelope
        return batch_result(envelopes, stored)

    async def exists(self, event_id: str) -> bool:
        self._state.check()
        return event_id in self._state.events

    async def get(self, event_id: str) -> Envelope:
        self._state.check()
        try:
            return self._state.events[event_id]
        except KeyError:
            raise NotFoundError(f"no event {event_id}") from None

    async def query(
        self, where: EventFilter | None = None, *, limit: int = 100, cursor: str | None = None
    ) -> Page[Envelope]:
        self._state.check()
        check_page(limit)
        where = where or EventFilter()
        matching = sorted(
            (e for e in self._state.events.values() if _matches(e, where)),
            key=lambda e: (e.timestamp, e.event_id),
            reverse=True,
        )
        after: tuple[datetime, str] | None = decode_cursor(cursor) if cursor else None
        rest = (
            [e for e in matching if (e.timestamp, e.event_id) < after]
            if after is not None
            else matching
        )
        items = tuple(rest[:limit])
        next_cursor = (
            encode_cursor(items[-1].timestamp, items[-1].event_id) if len(rest) > limit else None
        )
        return Page(items, len(matching), next_cursor)

    def _matching(self, where: EventFilter | None) -> Iterator[Envelope]:
        self._state.check()
        if where is None:
            return iter(())
        return (e for e in self._state.events.values() if _matches(e, where))

    async def counts(
        self, where: EventFilter, *, interval: Interval = "hour", tz: tzinfo = UTC
    ) -> tuple[CountBucket, ...]:
        tally = CountTally(interval, tz)
        for e in self._matching(only_types(where, COUNTED_TYPES)):
            tally.add(e.timestamp, e.source.camera_id, e.type, e.payload)
        return tally.result()

    async def dwell(self, where: EventFilter, *, zone: str | None = None) -> tuple[DwellStats, ...]:
        tally = DwellTally(zone)
        for e in self._matching(only_types(where, (DWELL_TYPE,))):
            tally.add(e.source.camera_id, e.type, e.payload)
        return tally.result()

    async def detections(self, where: EventFilter) -> tuple[DetectionStats, ...]:
        tally = DetectionTally()
        for e in self._matching(where):
            tally.add(e.source.camera_id, e.type, e.payload)
        return tally.result()

    async def heatmap(self, camera_id: str, since: datetime, until: datetime) -> HeatmapGrid | None:
        where = EventFilter(camera_id=camera_id, types=(HEATMAP_TYPE,), since=since, until=until)
        tally = HeatmapTally()
        for e in sorted(
            self._matching(where), key=lambda e: (e.timestamp, e.event_id), reverse=True
        ):
            tally.add(e.payload)
        return tally.result()

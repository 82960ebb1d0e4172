"""The event ingest: batched, exactly once across replays, restarts and failed writes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, tzinfo
from pathlib import Path

import pytest

from argus.adapters.bus.memory import MemoryEventBus
from argus.adapters.db.memory import MemoryDatabase
from argus.domain.errors import StorageError
from argus.domain.event_stats import (
    CountBucket,
    DetectionStats,
    DwellStats,
    HeatmapGrid,
    Interval,
)
from argus.domain.events import Envelope
from argus.ports.paging import Page
from argus.ports.repositories import EventFilter, EventRepository, InsertResult
from argus.services.ingest import EventIngest
from tests.integration.api_support import STORES, crossing, eventually, open_store

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

SUBJECT = "events"


class Tally:
    def __init__(self) -> None:
        self.stored = 0
        self.duplicates = 0

    def store(self, n: int) -> None:
        self.stored += n

    def duplicate(self, n: int) -> None:
        self.duplicates += n


def ingest(bus: MemoryEventBus, events: EventRepository, tally: Tally) -> EventIngest:
    return EventIngest(
        bus, events, SUBJECT, on_stored=tally.store, on_duplicate=tally.duplicate, batch_size=2
    )


@pytest.mark.parametrize("kind", STORES)
async def test_replays_across_a_restart_are_stored_once(kind: str, tmp_path: Path) -> None:
    database = await open_store(kind, tmp_path)
    bus, tally = MemoryEventBus(), Tally()
    envelopes = [crossing("cam", second=i) for i in range(5)]
    for envelope in envelopes:
        await bus.publish(SUBJECT, envelope)
    first = ingest(bus, database.events, tally)
    first.start()

    async def all_stored() -> bool:
        return tally.stored == 5

    await eventually(all_stored, "five stored events")
    await first.stop()

    # A producer re-publishes everything (it never saw the acks) plus one new event;
    # a fresh consumer (empty memory of ids, as after a restart) must store only the new one.
    for envelope in [*envelopes, crossing("cam", second=9)]:
        await bus.publish(SUBJECT, envelope)
    second = ingest(bus, database.events, tally)
    second.start()

    async def caught_up() -> bool:
        return tally.stored == 6 and tally.duplicates == 5

    await eventually(caught_up, "one new event and five skipped replays")
    await second.stop()
    assert (await database.events.query(limit=100)).total == 6
    await bus.close()
    await database.close()


class FlakyEvents:
    """An event store whose first batch write fails; everything else goes to ``inner``."""

    def __init__(self, inner: EventRepository) -> None:
        self.inner = inner
        self.failures = 1

    async def add(self, envelope: Envelope) -> bool:
        return await self.inner.add(envelope)

    async def add_many(self, envelopes: Sequence[Envelope]) -> InsertResult:
        if self.failures:
            self.failures -= 1
            raise StorageError("disk full")
        return await self.inner.add_many(envelopes)

    async def exists(self, event_id: str) -> bool:
        return await self.inner.exists(event_id)

    async def get(self, event_id: str) -> Envelope:
        return await self.inner.get(event_id)

    async def query(
        self, where: EventFilter | None = None, *, limit: int = 100, cursor: str | None = None
    ) -> Page[Envelope]:
        return await self.inner.query(where, limit=limit, cursor=cursor)

    async def counts(
        self, where: EventFilter, *, interval: Interval = "hour", tz: tzinfo = UTC
    ) -> tuple[CountBucket, ...]:
        return await self.inner.counts(where, interval=interval, tz=tz)

    async def dwell(self, where: EventFilter, *, zone: str | None = None) -> tuple[DwellStats, ...]:
        return await self.inner.dwell(where, zone=zone)

    async def detections(self, where: EventFilter) -> tuple[DetectionStats, ...]:
        return await self.inner.detections(where)

    async def heatmap(self, camera_id: str, since: datetime, until: datetime) -> HeatmapGrid | None:
        return await self.inner.heatmap(camera_id, since, until)


async def test_a_failed_batch_is_delivered_again(caplog: pytest.LogCaptureFixture) -> None:
    database = MemoryDatabase()
    events = FlakyEvents(database.events)
    bus, tally = MemoryEventBus(ack_wait=0.2), Tally()
    envelope = crossing("cam")
    await bus.publish(SUBJECT, envelope)
    worker = ingest(bus, events, tally)
    worker.start()

    async def stored() -> bool:
        return tally.stored == 1

    await eventually(stored, "the event stored after the failed write")
    await worker.stop()
    assert await database.events.exists(envelope.event_id)
    assert "disk full" in caplog.text
    await bus.close()

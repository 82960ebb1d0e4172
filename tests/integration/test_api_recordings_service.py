"""``RecordingService`` limits that the API cannot reach cheaply: export size and segment
count caps, the marker cap, camera scope of every call.

The service runs over the in-memory database, a real evidence service and the
in-memory recordings store holding segments ``SegmentRecorder`` wrote from the
real ``bikes.mp4``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from argus.adapters.db.memory import MemoryDatabase
from argus.adapters.recording import SegmentRecorder
from argus.bootstrap.evidence import open_evidence_service
from argus.domain.actor import SYSTEM_ACTOR, Actor
from argus.domain.cameras import Camera
from argus.domain.errors import NotFoundError, ValidationError
from argus.domain.events import Envelope, EventSource, ZoneEntered
from argus.domain.identity import Principal
from argus.domain.recording import Segment
from argus.ports.evidence import EvidenceFilter
from argus.ports.recordings import MemoryRecordingStore, segment_id
from argus.services.evidence import MAX_EXPORT, EvidenceService
from argus.services.recording_markers import MAX_MARKERS
from argus.services.recordings import RecordingService
from tests.auth_support import settings_for

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

SECRET = b"recordings-test-secret-0123456789"
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
CAMERA = "cam-1"


@dataclass
class Rig:
    database: MemoryDatabase
    store: MemoryRecordingStore
    evidence: EvidenceService
    segments: list[Segment]

    def service(self, max_export_bytes: int = 1 << 30) -> RecordingService:
        return RecordingService(
            self.database,
            self.store,
            self.evidence,
            clock=lambda: T0,
            max_export_bytes=max_export_bytes,
        )


@pytest.fixture
async def rig(tmp_path: Path, bikes_mp4: Path) -> AsyncIterator[Rig]:
    database = MemoryDatabase()
    await database.cameras.add(Camera(CAMERA, "gate", "rtsp://127.0.0.1:8554/gate"))
    await database.cameras.add(Camera("cam-2", "yard", "rtsp://127.0.0.1:8554/yard"))
    root = tmp_path / "recordings"
    recorder = SegmentRecorder(
        CAMERA, str(bikes_mp4), root, segment_seconds=2.0, realtime=False, now=lambda: T0
    )
    segments = list(recorder.segments())
    store = MemoryRecordingStore()
    for segment in segments:
        store.add(segment, (root / segment.path).read_bytes())
    evidence = await open_evidence_service(
        settings_for(tmp_path), database.evidence, database.audit, secret=SECRET
    )
    try:
        yield Rig(database, store, evidence, segments)
    finally:
        await evidence.close()


async def _stored(rig: Rig) -> int:
    return (await rig.evidence.list(EvidenceFilter(camera_id=CAMERA))).total


async def test_an_export_over_the_byte_cap_is_refused_before_anything_is_stored(
    rig: Rig,
) -> None:
    total = sum(s.bytes for s in rig.segments)
    service = rig.service(max_export_bytes=total - 1)
    with pytest.raises(ValidationError, match="shorter range"):
        await service.export(CAMERA, T0, T0 + timedelta(minutes=1), actor=SYSTEM_ACTOR)
    assert await _stored(rig) == 0
    done = await rig.service(max_export_bytes=total).export(
        CAMERA, T0, T0 + timedelta(minutes=1), actor=SYSTEM_ACTOR
    )
    assert len(done.clips) == len(rig.segments)
    assert await _stored(rig) == len(rig.segments) + 1


async def test_an_export_of_more_segments_than_a_bundle_holds_is_refused(rig: Rig) -> None:
    real = rig.segments[0]
    data = b"".join(rig.store.chunks(real, 0, real.bytes - 1))
    for n in range(MAX_EXPORT):
        start = T0 + timedelta(minutes=10, seconds=n * 3)
        name = f"{CAMERA}-{start:%Y%m%dT%H%M%S}.000Z.mp4"
        fake_path = f"{CAMERA}/{start:%Y-%m-%d}/{name}"
        copy = replace(real, start=start, end=start + timedelta(seconds=3), path=fake_path)
        rig.store.add(copy, data)
    with pytest.raises(ValidationError, match="segments"):
        await rig.service().export(
            CAMERA, T0 + timedelta(minutes=10), T0 + timedelta(minutes=60), actor=SYSTEM_ACTOR
        )
    assert await _stored(rig) == 0


async def test_a_camera_outside_the_scope_is_not_found(rig: Rig) -> None:
    scoped = Actor(
        Principal("user", "u-2", "op-2", frozenset({"view", "operate"}), frozenset({"cam-2"})),
        ip="127.0.0.1",
    )
    service = rig.service()
    span = (T0, T0 + timedelta(minutes=1))
    with pytest.raises(NotFoundError):
        await service.timeline(CAMERA, *span, actor=scoped)
    with pytest.raises(NotFoundError):
        await service.media(CAMERA, segment_id(rig.segments[0]), None, actor=scoped)
    with pytest.raises(NotFoundError):
        await service.export(CAMERA, *span, actor=scoped)
    assert await _stored(rig) == 0
    assert (await service.timeline("cam-2", *span, actor=scoped)).segments == ()


async def test_markers_are_capped(rig: Rig) -> None:
    source = EventSource("edge-1", CAMERA)
    events = [
        Envelope.wrap(
            ZoneEntered(
                zone="lobby", track_id=n, class_id=0, class_name="car", timestamp=0.0, confidence=1
            ),
            source,
            T0 + timedelta(milliseconds=n),
        )
        for n in range(MAX_MARKERS + 5)
    ]
    await rig.database.events.add_many(events)
    service = rig.service()
    timeline = await service.timeline(CAMERA, T0, T0 + timedelta(hours=1), actor=SYSTEM_ACTOR)
    assert timeline.markers_truncated
    assert len(timeline.markers) == MAX_MARKERS
    assert timeline.markers[0].label == "car entered lobby"
    # The newest are kept, in time order.
    assert timeline.markers[-1].id == events[-1].event_id
    assert [m.time for m in timeline.markers] == sorted(m.time for m in timeline.markers)
    small = await service.timeline(CAMERA, T0, T0 + timedelta(milliseconds=10), actor=SYSTEM_ACTOR)
    assert (len(small.markers), small.markers_truncated) == (10, False)


async def test_the_default_timeline_is_the_last_hour_of_the_clock(rig: Rig) -> None:
    service = RecordingService(
        rig.database, rig.store, rig.evidence, clock=lambda: T0 + timedelta(minutes=30)
    )
    timeline = await service.timeline(CAMERA, actor=SYSTEM_ACTOR)
    assert (timeline.start, timeline.end) == (
        T0 - timedelta(minutes=30),
        T0 + timedelta(minutes=30),
    )
    assert list(timeline.segments) == rig.segments
    assert timeline.recording.enabled is False
    from_start = await service.timeline(CAMERA, T0, actor=SYSTEM_ACTOR)
    assert from_start.end == T0 + timedelta(hours=1)

"""``NodeEvidence``: coalesced, bounded captures sealed with the node's key into the outbox."""

from __future__ import annotations

import asyncio
import base64
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

import pytest

from argus.adapters.crypto.seal import evidence_aad, open_sealed, seal
from argus.adapters.edge.outbox_memory import MemoryOutbox
from argus.adapters.pipelines_memory import tiny_jpeg
from argus.domain.edge import EdgeEvidence
from argus.domain.events import Envelope, EventSource, new_event_id
from argus.ports.pipelines import Capture
from argus.services.edge_evidence import NodeEvidence

pytestmark = pytest.mark.anyio

NOW = datetime(2026, 12, 6, 8, 0, tzinfo=UTC)
NODE = "node-1"
KEY = bytes(range(32))


class Source:
    """Captures held until ``release`` (to see coalescing), tamper frames on request."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, datetime, float, float]] = []
        self.gate = asyncio.Event()
        self.gate.set()
        self.tamper: tuple[bytes, bytes] | None = (b"before-jpeg", b"after-jpeg")
        self.running = 0
        self.most_running = 0

    async def capture(
        self, camera_id: str, at: datetime, *, pre_s: float, post_s: float
    ) -> Capture | None:
        self.asked.append((camera_id, at, pre_s, post_s))
        self.running += 1
        self.most_running = max(self.most_running, self.running)
        try:
            await self.gate.wait()
        finally:
            self.running -= 1
        return Capture(
            snapshot=tiny_jpeg(),
            snapshot_at=at,
            clip=b"mp4-bytes-" + camera_id.encode(),
            start=at - timedelta(seconds=pre_s),
            end=at + timedelta(seconds=post_s),
            frames=3,
            fps=1.0,
            width=16,
            height=16,
        )

    def tamper_frames(self, camera_id: str) -> tuple[bytes, bytes] | None:
        return self.tamper


def _event(camera_id: str, kind: str, second: float) -> Envelope:
    moment = NOW + timedelta(seconds=second)
    return Envelope(
        event_id=new_event_id(moment),
        type=kind,
        timestamp=moment,
        source=EventSource(NODE, camera_id),
        payload={},
    )


class Rig:
    def __init__(
        self,
        *,
        key: bytes | None = KEY,
        concurrency: int = 2,
        queue_size: int = 8,
        types: Sequence[str] = ("line.crossed",),
    ) -> None:
        self.source = Source()
        self.outbox = MemoryOutbox()
        self.wakes = 0
        self.evidence = NodeEvidence(
            node_id=NODE,
            source=self.source,
            outbox=self.outbox,
            evidence_types=lambda camera_id: types if camera_id != "cam-off" else (),
            rolls=lambda: (5.0, 5.0),
            key=lambda: key,
            seal=seal,
            aad=evidence_aad,
            wake=self._wake,
            clock=lambda: NOW,
            concurrency=concurrency,
            queue_size=queue_size,
        )

    def _wake(self) -> None:
        self.wakes += 1

    def items(self) -> list[EdgeEvidence]:
        return [EdgeEvidence.from_dict(s.item.body) for s in self.outbox.peek(100, 1 << 30)]


async def _until(check: Callable[[], bool], timeout: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not check():
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(0.005)


async def test_an_event_of_an_evidence_type_gets_a_sealed_snapshot_and_clip() -> None:
    rig = Rig()
    rig.evidence.start()
    try:
        event = _event("cam-a", "line.crossed", 0)
        rig.evidence.receive("cam-a", [event])
        await _until(lambda: rig.evidence.sealed == 2)
    finally:
        await rig.evidence.stop()
    assert rig.source.asked == [("cam-a", event.timestamp, 5.0, 5.0)]
    snapshot, clip = rig.items()
    assert (snapshot.kind, clip.kind) == ("snapshot", "clip")
    assert snapshot.content_type == "image/jpeg"
    assert clip.content_type == "video/mp4"
    for item in (snapshot, clip):
        assert item.node_id == NODE
        assert item.camera_id == "cam-a"
        assert item.event_ids == (event.event_id,)
    aad = evidence_aad(clip.evidence_id, NODE, "cam-a", "clip")
    assert open_sealed(KEY, clip.blob, aad) == b"mp4-bytes-cam-a"
    assert base64.b64decode(snapshot.blob.ciphertext)[:2] != b"\xff\xd8"  # not a bare JPEG
    assert rig.wakes == 1


async def test_events_inside_a_pending_window_join_its_capture() -> None:
    rig = Rig()
    rig.source.gate.clear()
    rig.evidence.start()
    try:
        first = _event("cam-a", "line.crossed", 0)
        joins = [_event("cam-a", "line.crossed", s) for s in (1.0, 4.5)]
        later = _event("cam-a", "line.crossed", 6.0)
        other_camera = _event("cam-b", "line.crossed", 1.0)
        rig.evidence.receive("cam-a", [first])
        await _until(lambda: len(rig.source.asked) == 1)  # being cut now
        rig.evidence.receive("cam-a", [*joins, later])
        rig.evidence.receive("cam-b", [other_camera])
        rig.source.gate.set()
        await _until(lambda: rig.evidence.sealed == 6)
    finally:
        await rig.evidence.stop()
    assert [(a[0], a[1]) for a in rig.source.asked] == [
        ("cam-a", first.timestamp),
        ("cam-a", later.timestamp),
        ("cam-b", other_camera.timestamp),
    ]
    by_event = {(i.camera_id, i.event_ids, i.kind) for i in rig.items()}
    ids = (first.event_id, joins[0].event_id, joins[1].event_id)
    assert ("cam-a", ids, "clip") in by_event
    assert ("cam-a", (later.event_id,), "clip") in by_event
    assert ("cam-b", (other_camera.event_id,), "snapshot") in by_event


async def test_other_event_types_and_cameras_without_rules_get_none() -> None:
    rig = Rig()
    rig.evidence.start()
    try:
        rig.evidence.receive("cam-a", [_event("cam-a", "zone.entered", 0)])
        rig.evidence.receive("cam-off", [_event("cam-off", "line.crossed", 0)])
        await asyncio.sleep(0)
    finally:
        await rig.evidence.stop()
    assert rig.source.asked == []
    assert rig.outbox.stats(NOW).items == 0


async def test_a_tamper_event_gets_the_before_and_after_frames() -> None:
    rig = Rig(types=())
    rig.evidence.start()
    try:
        tamper = _event("cam-a", "camera.tamper", 0)
        rig.evidence.receive("cam-a", [tamper])
        await _until(lambda: rig.evidence.sealed == 2)
    finally:
        await rig.evidence.stop()
    before, after = rig.items()
    assert (before.kind, after.kind) == ("before", "after")
    assert before.event_ids == after.event_ids == (tamper.event_id,)
    aad = evidence_aad(before.evidence_id, NODE, "cam-a", "before")
    assert open_sealed(KEY, before.blob, aad) == b"before-jpeg"
    assert rig.source.asked == []


async def test_captures_are_bounded_and_a_full_queue_skips_and_counts() -> None:
    rig = Rig(concurrency=1, queue_size=2)
    rig.source.gate.clear()
    rig.evidence.start()
    try:
        # Four cameras, so nothing coalesces: one is cut, two wait, one is skipped.
        rig.evidence.receive("cam-1", [_event("cam-1", "line.crossed", 0)])
        await _until(lambda: rig.source.running == 1)
        for camera in ("cam-2", "cam-3", "cam-4"):
            rig.evidence.receive(camera, [_event(camera, "line.crossed", 0)])
        assert rig.evidence.skipped == 1
        assert rig.evidence.pending == 3
        rig.source.gate.set()
        await _until(lambda: rig.evidence.sealed == 6)
    finally:
        await rig.evidence.stop()
    assert rig.source.most_running == 1
    assert sorted({i.camera_id for i in rig.items()}) == ["cam-1", "cam-2", "cam-3"]


async def test_without_an_evidence_key_nothing_is_sealed() -> None:
    rig = Rig(key=None)
    rig.evidence.start()
    try:
        rig.evidence.receive("cam-a", [_event("cam-a", "line.crossed", 0)])
        await _until(lambda: rig.evidence.skipped == 1)
    finally:
        await rig.evidence.stop()
    assert rig.outbox.stats(NOW).items == 0


async def test_envelopes_handed_over_from_a_video_thread_reach_the_loop() -> None:
    rig = Rig()
    rig.evidence.start()
    try:
        event = _event("cam-a", "line.crossed", 0)
        thread = threading.Thread(target=rig.evidence.notify, args=("cam-a", (event,)))
        thread.start()
        thread.join()
        await _until(lambda: rig.evidence.sealed == 2)
    finally:
        await rig.evidence.stop()
    assert {i.event_ids for i in rig.items()} == {(event.event_id,)}

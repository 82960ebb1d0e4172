"""Alert evidence from the camera's recent frames: snapshot and clip around a moment.

The capture contract runs against both ``PipelineSupervisor`` implementations:
the in-memory one and the embedded edge worker on ``bikes.mp4`` played in real
time. The edge-only tests check that an event's own frame is the snapshot of
its timestamp, that a capture waits for its post-roll, and that a camera that
goes away mid-wait never leaves a capture hanging.
"""

from __future__ import annotations

import asyncio
import dataclasses
import io
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path

import anyio
import av
import cv2
import numpy as np
import pytest

from argus.adapters.bus.memory import MemoryEventBus
from argus.adapters.pipelines import (
    DetectDefaults,
    EdgePipelines,
    RestartPolicy,
    SourceOptions,
    demo_camera,
)
from argus.adapters.pipelines.clips import FrameRing
from argus.adapters.pipelines_memory import MemoryPipelines
from argus.bootstrap.container import Container, build_container
from argus.bootstrap.edge import edge_pipelines
from argus.config import Settings
from argus.domain.backoff import BackoffPolicy
from argus.domain.cameras import Camera, Line, Zone, utc_now
from argus.domain.errors import ConfigError
from argus.ports.pipelines import Capture, PipelineSupervisor

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.anyio]

WAIT = 120.0
"""Seconds a test waits for a state; generous for a loaded 2-core machine."""

FAST = RestartPolicy(backoff=BackoffPolicy(initial=0.2, max_delay=1.0), stall_s=30.0)
DEFAULTS = DetectDefaults(input_size=320, confidence=0.3)
DETECT_FPS = 5.0
BIKES_SIZE = (640, 272)

Scene = tuple[Camera, list[Line], list[Zone]]
Started = tuple[PipelineSupervisor, Callable[[Camera, list[Line], list[Zone]], Awaitable[None]]]


@pytest.fixture(scope="module")
def container(tmp_path_factory: pytest.TempPathFactory) -> Container:
    return build_container(Settings(data_dir=tmp_path_factory.mktemp("argus-capture")))


@pytest.fixture
def bikes(container: Container) -> Scene:
    camera, lines, zones = demo_camera(container.demo_video())
    if not Path(camera.stream_url).is_file():
        pytest.skip(f"bikes.mp4 is missing ({camera.stream_url})")
    return dataclasses.replace(camera, detect_fps=DETECT_FPS), lines, zones


@pytest.fixture
async def bus() -> AsyncIterator[MemoryEventBus]:
    bus = MemoryEventBus()
    try:
        yield bus
    finally:
        await bus.close()


def make_edge(
    container: Container,
    bus: MemoryEventBus,
    *,
    realtime: bool,
    capture_margin: float = 2.0,
) -> EdgePipelines:
    sources = SourceOptions(
        realtime_files=realtime,
        loop_files=True,
        backoff=BackoffPolicy(initial=0.2, max_delay=1.0),
    )
    return edge_pipelines(
        container.settings,
        bus,
        container=container,
        sources=sources,
        defaults=DEFAULTS,
        restart=FAST,
        capture_margin=capture_margin,
    )


@pytest.fixture
async def edge(container: Container, bus: MemoryEventBus) -> AsyncIterator[EdgePipelines]:
    pipelines = make_edge(container, bus, realtime=True)
    try:
        yield pipelines
    finally:
        await pipelines.close()


def ring_of(edge: EdgePipelines, camera_id: str) -> FrameRing:
    worker = edge.worker(camera_id)
    assert worker is not None
    assert worker.ring is not None
    return worker.ring


async def buffered(edge: EdgePipelines, camera_id: str, seconds: float) -> FrameRing:
    """Wait until the camera's ring holds ``seconds`` of frames."""
    ring = ring_of(edge, camera_id)
    with anyio.fail_after(WAIT):
        while True:
            latest = ring.latest
            if latest is not None:
                frames = ring.window(latest - timedelta(seconds=ring.seconds), latest)
                if frames and (frames[-1].at - frames[0].at).total_seconds() >= seconds:
                    return ring
            await anyio.sleep(0.1)


@pytest.fixture(params=["memory", "edge"])
async def started(
    request: pytest.FixtureRequest, container: Container, bus: MemoryEventBus
) -> AsyncIterator[Started]:
    """A supervisor and how to start a camera on it until it has frames to capture."""
    if request.param == "memory":
        memory = MemoryPipelines()

        async def start_memory(camera: Camera, lines: list[Line], zones: list[Zone]) -> None:
            await memory.apply(camera, lines, zones)

        yield memory, start_memory
        await memory.close()
        return
    edge = make_edge(container, bus, realtime=True)

    async def start_edge(camera: Camera, lines: list[Line], zones: list[Zone]) -> None:
        await edge.apply(camera, lines, zones)
        await buffered(edge, camera.id, 2.5)

    try:
        yield edge, start_edge
    finally:
        await edge.close()


def decode_clip(capture: Capture) -> list[tuple[float, tuple[int, int]]]:
    """Each frame of the capture's clip as (seconds, (width, height))."""
    with av.open(io.BytesIO(capture.clip), mode="r") as container:
        return [
            (float(frame.time or 0.0), (frame.width, frame.height))
            for frame in container.decode(video=0)
        ]


def decode_snapshot(capture: Capture) -> tuple[int, int]:
    image = cv2.imdecode(np.frombuffer(capture.snapshot, np.uint8), cv2.IMREAD_COLOR)
    assert image is not None
    return int(image.shape[1]), int(image.shape[0])


def check_capture(capture: Capture, at: datetime, pre_s: float, post_s: float) -> None:
    """What every capture promises, whoever made it."""
    assert at - timedelta(seconds=pre_s) <= capture.start <= capture.snapshot_at
    assert capture.snapshot_at <= capture.end <= at + timedelta(seconds=post_s)
    assert capture.clip_content_type == "video/mp4"
    assert capture.clip[4:8] == b"ftyp"
    assert decode_snapshot(capture) == (capture.width, capture.height)
    frames = decode_clip(capture)
    assert len(frames) == capture.frames >= 1
    assert frames[0][0] == 0.0
    # The clip's frames keep their times: its last one is as far from the first.
    assert frames[-1][0] == pytest.approx((capture.end - capture.start).total_seconds(), abs=2e-3)
    width, height = capture.width, capture.height
    assert {size for _, size in frames} == {(width + width % 2, height + height % 2)}


async def test_capture_of_a_running_camera(started: Started, bikes: Scene) -> None:
    supervisor, start = started
    await start(*bikes)
    camera = bikes[0]
    at = utc_now() - timedelta(seconds=1.0)
    with anyio.fail_after(WAIT):
        capture = await supervisor.capture(camera.id, at, pre_s=1.0, post_s=0.5)
    assert capture is not None
    check_capture(capture, at, 1.0, 0.5)
    assert capture.frames >= 2
    assert abs((capture.snapshot_at - at).total_seconds()) <= 0.5 / min(capture.fps, DETECT_FPS)


async def test_capture_of_an_unknown_or_disabled_camera_is_none(
    started: Started, bikes: Scene
) -> None:
    supervisor, _ = started
    camera, lines, zones = bikes
    assert await supervisor.capture("nowhere", utc_now(), pre_s=1.0, post_s=1.0) is None
    await supervisor.apply(dataclasses.replace(camera, enabled=False), lines, zones)
    assert await supervisor.capture(camera.id, utc_now(), pre_s=1.0, post_s=1.0) is None


@pytest.mark.parametrize(
    ("naive", "pre_s", "post_s"),
    [(True, 1.0, 1.0), (False, -1.0, 1.0), (False, 1.0, float("nan"))],
    ids=["naive-time", "negative-pre", "nan-post"],
)
async def test_bad_capture_windows_are_refused(
    started: Started, naive: bool, pre_s: float, post_s: float
) -> None:
    supervisor, _ = started
    at = utc_now().replace(tzinfo=None) if naive else utc_now()
    with pytest.raises(ConfigError):
        await supervisor.capture("nowhere", at, pre_s=pre_s, post_s=post_s)


async def test_an_event_finds_its_own_frame(
    edge: EdgePipelines, bus: MemoryEventBus, bikes: Scene
) -> None:
    camera, lines, zones = bikes
    subscription = await bus.subscribe(edge.subject, durable="capture-test")
    await edge.apply(camera, lines, zones)
    with anyio.fail_after(WAIT):
        async for delivery in subscription:
            await delivery.ack()
            if delivery.envelope.type.startswith(("line.", "zone.")):
                event = delivery.envelope
                break
    await subscription.close()

    with anyio.fail_after(WAIT):
        capture = await edge.capture(camera.id, event.timestamp, pre_s=2.0, post_s=1.5)
    assert capture is not None
    check_capture(capture, event.timestamp, 2.0, 1.5)
    # Frames are dated like the events raised on them; the ring keeps every
    # analysed frame at 5 fps, so the event's own frame is the snapshot.
    assert capture.snapshot_at == event.timestamp
    assert (capture.width, capture.height) == BIKES_SIZE
    # The capture waited for its post-roll: the last frame is within one frame of it.
    assert capture.end >= event.timestamp + timedelta(seconds=1.5 - 1.0 / DETECT_FPS - 0.05)
    assert capture.fps == pytest.approx(DETECT_FPS, rel=0.1)


async def test_a_capture_ahead_of_the_stream_waits_for_its_post_roll(
    container: Container, bus: MemoryEventBus, bikes: Scene
) -> None:
    # Decoded as fast as it goes, the file runs ahead of the wall clock, so a
    # moment a few stream seconds ahead is reached by frames, not by waiting out time.
    # On a busy machine decoding may fall behind the wall clock: the capture waits for
    # the frames (up to WAIT, which bounds the test), not for a wall-clock margin.
    edge = make_edge(container, bus, realtime=False, capture_margin=WAIT)
    try:
        camera, lines, zones = bikes
        await edge.apply(camera, lines, zones)
        ring = await buffered(edge, camera.id, 0.5)
        assert ring.latest is not None
        at = ring.latest + timedelta(seconds=2.0)
        with anyio.fail_after(WAIT):
            capture = await edge.capture(camera.id, at, pre_s=1.0, post_s=2.0)
        assert capture is not None
        check_capture(capture, at, 1.0, 2.0)
        step = timedelta(seconds=1.0 / DETECT_FPS + 0.05)
        assert capture.start <= at - timedelta(seconds=1.0) + step
        assert capture.end >= at + timedelta(seconds=2.0) - step
        assert capture.frames == pytest.approx(3.0 * DETECT_FPS + 1, abs=2)
        assert abs(capture.snapshot_at - at) <= step / 2
    finally:
        await edge.close()


async def test_a_camera_removed_mid_wait_yields_what_it_had(
    edge: EdgePipelines, bikes: Scene
) -> None:
    camera, lines, zones = bikes
    await edge.apply(camera, lines, zones)
    ring = await buffered(edge, camera.id, 1.5)
    assert ring.latest is not None
    at = ring.latest
    # A minute of post-roll: only the removal can end this wait in time.
    pending = asyncio.create_task(edge.capture(camera.id, at, pre_s=1.0, post_s=60.0))
    with anyio.fail_after(WAIT):
        while not ring.reached(at + timedelta(seconds=0.5)):
            await anyio.sleep(0.05)
    await edge.remove(camera.id)
    with anyio.fail_after(30.0):
        capture = await pending
    assert capture is not None
    check_capture(capture, at, 1.0, 60.0)
    assert capture.end < at + timedelta(seconds=30.0)
    assert await edge.capture(camera.id, at, pre_s=1.0, post_s=1.0) is None


async def test_the_ring_survives_a_restart_on_the_same_stream(
    edge: EdgePipelines, bikes: Scene
) -> None:
    camera, lines, zones = bikes
    await edge.apply(camera, lines, zones)
    ring = ring_of(edge, camera.id)
    old = edge.worker(camera.id)
    await edge.apply(camera, lines[:0], zones)
    assert edge.worker(camera.id) is not old
    assert ring_of(edge, camera.id) is ring

    moved = dataclasses.replace(camera, stream_url=camera.stream_url + "?again")
    await edge.apply(moved, lines, zones)
    assert ring_of(edge, camera.id) is not ring

    await edge.apply(dataclasses.replace(camera, enabled=False), lines, zones)
    assert edge.worker(camera.id) is None
    assert await edge.capture(camera.id, utc_now(), pre_s=1.0, post_s=1.0) is None

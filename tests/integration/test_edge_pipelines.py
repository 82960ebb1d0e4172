"""The embedded edge worker on real video: bikes.mp4, a real RTSP server, bad streams."""

from __future__ import annotations

import asyncio
import dataclasses
import socket
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import anyio
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
from argus.adapters.pipelines.outbox import EventOutbox
from argus.bootstrap.container import Container, build_container
from argus.bootstrap.edge import edge_pipelines
from argus.config import Settings
from argus.domain.backoff import BackoffPolicy
from argus.domain.cameras import Camera, Line, Zone
from argus.domain.errors import BusError
from argus.domain.events import Envelope, EventSource, new_event_id
from argus.domain.live import LiveFrame
from argus.ports.pipelines import INFERENCE_BUCKETS, CameraState, CameraStatus
from tests.auth_support import TEST_DENY_NETWORKS

if TYPE_CHECKING:
    from tests.integration.conftest import ServerProcess

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.anyio]

WAIT = 120.0
"""Seconds a test waits for a state; generous for a loaded 2-core machine."""

FAST = RestartPolicy(backoff=BackoffPolicy(initial=0.2, max_delay=1.0), stall_s=30.0)
SOURCES = SourceOptions(
    realtime_files=False,
    loop_files=True,
    open_timeout=20.0,
    read_timeout=5.0,
    backoff=BackoffPolicy(initial=0.2, max_delay=1.0),
)
# 320 px keeps several cameras affordable on a shared 2-core test machine.
DEFAULTS = DetectDefaults(input_size=320, confidence=0.3)


@pytest.fixture(scope="module")
def container(tmp_path_factory: pytest.TempPathFactory) -> Container:
    # Test media lie under pytest's temporary root and test servers listen on loopback.
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("argus-edge"),
        media_dirs=str(tmp_path_factory.getbasetemp()),
        camera_deny_networks=TEST_DENY_NETWORKS,
    )
    return build_container(settings)


@pytest.fixture
def bikes(container: Container) -> tuple[Camera, list[Line], list[Zone]]:
    camera, lines, zones = demo_camera(container.demo_video())
    if not Path(camera.stream_url).is_file():
        pytest.skip(f"bikes.mp4 is missing ({camera.stream_url})")
    return dataclasses.replace(camera, detect_fps=5.0), lines, zones


def _camera(camera_id: str, url: str, *, enabled: bool = True) -> Camera:
    return Camera(id=camera_id, name=camera_id, stream_url=url, detect_fps=5.0, enabled=enabled)


@pytest.fixture
async def bus() -> AsyncIterator[MemoryEventBus]:
    bus = MemoryEventBus()
    try:
        yield bus
    finally:
        await bus.close()


@pytest.fixture
async def edge(container: Container, bus: MemoryEventBus) -> AsyncIterator[EdgePipelines]:
    pipelines = edge_pipelines(
        container.settings,
        bus,
        container=container,
        sources=SOURCES,
        defaults=DEFAULTS,
        restart=FAST,
    )
    try:
        yield pipelines
    finally:
        await pipelines.close()


async def wait_for(
    edge: EdgePipelines,
    camera_id: str,
    condition: Callable[[CameraStatus], bool],
    what: str,
    timeout: float = WAIT,
) -> CameraStatus:
    deadline = time.monotonic() + timeout
    seen: list[CameraState] = []
    while True:
        status = edge.status(camera_id)
        assert status is not None, f"{camera_id} has no pipeline"
        if not seen or seen[-1] != status.state:
            seen.append(status.state)
        if condition(status):
            return status
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}: states {seen}, last {status}")
        await anyio.sleep(0.1)


def online(status: CameraStatus) -> bool:
    return status.state == "online" and status.fps_detected > 0


async def test_file_camera_runs_publishes_events_and_serves_snapshots(
    edge: EdgePipelines, bus: MemoryEventBus, bikes: tuple[Camera, list[Line], list[Zone]]
) -> None:
    camera, lines, zones = bikes
    received: list[LiveFrame] = []
    cancel = edge.subscribe_live(camera.id, received.append)
    subscription = await bus.subscribe(edge.subject, durable="edge-test")
    await edge.apply(camera, lines, zones)

    status = await wait_for(edge, camera.id, online, "online with fps")
    assert status.fps_in > 0
    assert status.fps_decoded > 0
    assert status.updated_at.tzinfo is not None

    jpeg = edge.snapshot(camera.id)
    assert jpeg is not None
    assert jpeg[:2] == b"\xff\xd8"
    image = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert image is not None
    assert image.shape == (272, 640, 3)

    with anyio.fail_after(WAIT):
        delivery = await anext(aiter(subscription))
    await delivery.ack()
    assert delivery.envelope.source.camera_id == camera.id
    assert delivery.envelope.type.startswith(("line.", "zone."))
    await subscription.close()

    latest = edge.latest(camera.id)
    assert latest is not None
    assert latest.camera_id == camera.id
    assert set(latest.counts) == {"kerb", "street"}
    assert received
    assert received[-1].camera_id == camera.id
    cancel()
    detail = edge.detail(camera.id)
    assert detail is not None
    assert detail.events_published >= 1
    assert detail.events_dropped == 0
    assert detail.frames_detected > 0
    # Every analysed frame is in the inference histogram, with a positive time.
    now = edge.status(camera.id)
    assert now is not None
    assert len(now.inference_counts) == len(INFERENCE_BUCKETS) + 1
    assert sum(now.inference_counts) >= detail.frames_detected > 0
    assert now.inference_sum > 0
    assert now.events_dropped == 0


async def test_apply_restarts_only_the_changed_camera(
    edge: EdgePipelines, bikes: tuple[Camera, list[Line], list[Zone]]
) -> None:
    base, _, _ = bikes
    a = _camera("cam-a", base.stream_url)
    b = _camera("cam-b", base.stream_url)
    a_lines = [Line(id="la", camera_id="cam-a", name="kerb", start=(320, 272), end=(320, 0))]
    await edge.apply(a, a_lines, [])
    await edge.apply(b, [], [])
    for camera_id in ("cam-a", "cam-b"):
        await wait_for(edge, camera_id, online, f"{camera_id} online")
    old_a, old_b = edge.worker("cam-a"), edge.worker("cam-b")
    assert old_a is not None
    assert old_b is not None

    moved = [Line(id="la", camera_id="cam-a", name="kerb", start=(200, 272), end=(200, 0))]
    await edge.apply(a, moved, [])
    new_a = edge.worker("cam-a")
    assert new_a is not None
    assert new_a is not old_a
    assert new_a.scene.lines[0].start == (200.0, 272.0)
    assert not old_a.thread.is_alive()
    assert edge.worker("cam-b") is old_b
    assert old_b.thread.is_alive()

    # The same configuration again changes nothing.
    await edge.apply(b, [], [])
    assert edge.worker("cam-b") is old_b
    await wait_for(edge, "cam-a", online, "cam-a online after the restart")
    assert edge.status("cam-b") is not None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize("kind", ["missing-file", "closed-rtsp-port"])
async def test_bad_stream_reports_error_and_keeps_retrying(
    edge: EdgePipelines, tmp_path: Path, kind: str
) -> None:
    url = (
        str(tmp_path / "nowhere.mp4")
        if kind == "missing-file"
        else f"rtsp://127.0.0.1:{_free_port()}/test"
    )
    await edge.apply(_camera("bad", url), [], [])
    status = await wait_for(edge, "bad", lambda s: s.state == "error", "error")
    assert status.last_error
    worker = edge.worker("bad")
    assert worker is not None
    if kind == "missing-file":
        # The pipeline is restarted again and again (with backoff).
        deadline = time.monotonic() + WAIT
        while (detail := edge.detail("bad")) is not None and detail.restarts < 2:
            assert time.monotonic() < deadline, f"no retries: {detail}"
            await anyio.sleep(0.1)
        assert "nowhere.mp4" in (edge.status("bad") or status).last_error  # type: ignore[operator]
    assert worker.thread.is_alive()
    assert edge.status("bad").state in ("error", "starting")  # type: ignore[union-attr]


async def test_disable_remove_and_close_stop_threads(
    container: Container, bus: MemoryEventBus, bikes: tuple[Camera, list[Line], list[Zone]]
) -> None:
    edge = edge_pipelines(
        container.settings, bus, container=container, sources=SOURCES, defaults=DEFAULTS
    )
    camera, _, _ = bikes
    a, b = _camera("cam-a", camera.stream_url), _camera("cam-b", camera.stream_url)
    await edge.apply(a, [], [])
    await edge.apply(b, [], [])
    await wait_for(edge, "cam-a", lambda s: s.state != "starting", "cam-a running")
    worker_a, worker_b = edge.worker("cam-a"), edge.worker("cam-b")
    assert worker_a is not None
    assert worker_b is not None

    await edge.apply(_camera("cam-a", camera.stream_url, enabled=False), [], [])
    assert not worker_a.thread.is_alive()
    disabled = edge.status("cam-a")
    assert disabled is not None
    assert disabled.state == "disabled"
    assert edge.snapshot("cam-a") is None

    await edge.remove("cam-a")
    assert edge.status("cam-a") is None
    await edge.remove("cam-a")  # no error when none runs

    await edge.close()
    assert not worker_b.thread.is_alive()
    assert edge.statuses() == []
    await edge.close()


async def test_rtsp_camera_recovers_after_the_server_is_killed(
    edge: EdgePipelines, rtsp_server: ServerProcess
) -> None:
    camera = _camera("rtsp", f"rtsp://127.0.0.1:{rtsp_server.port}/test")
    await edge.apply(camera, [], [])
    await wait_for(edge, "rtsp", online, "online")
    worker = edge.worker("rtsp")

    rtsp_server.kill()
    down = await wait_for(edge, "rtsp", lambda s: s.state in ("offline", "error"), "offline")
    assert down.last_error

    rtsp_server.start()
    await wait_for(edge, "rtsp", online, "online again")
    detail = edge.detail("rtsp")
    assert detail is not None
    assert detail.frames_detected > 0
    assert edge.worker("rtsp") is worker  # the stream reconnected inside the same pipeline


class FlakyBus(MemoryEventBus):
    """The in-process bus that refuses to publish while ``down`` (a broker outage)."""

    def __init__(self) -> None:
        super().__init__()
        self.down = True

    async def publish(self, subject: str, envelope: Envelope) -> None:
        if self.down:
            raise BusError("bus is down")
        await super().publish(subject, envelope)


def _envelope(camera_id: str) -> Envelope:
    return Envelope(
        event_id=new_event_id(),
        type="test.event",
        timestamp=datetime.now(UTC),
        source=EventSource(edge_node_id="local", camera_id=camera_id),
        payload={"n": 1},
    )


async def test_outbox_keeps_events_while_the_bus_is_down_and_drops_beyond_capacity() -> None:
    bus = FlakyBus()
    outbox = EventOutbox(
        bus,
        "events",
        asyncio.get_running_loop(),
        capacity=5,
        retry=BackoffPolicy(initial=0.05, max_delay=0.1),
    )
    outbox.start()
    subscription = await bus.subscribe("events", durable="outbox-test")
    sent = [_envelope("cam") for _ in range(7)]
    await asyncio.to_thread(outbox.put, "cam", sent)  # from another thread, as a camera does
    with anyio.fail_after(WAIT):
        while outbox.last_error is None:
            await anyio.sleep(0.02)
    assert outbox.dropped["cam"] == 2
    assert outbox.depth == 5

    bus.down = False
    got = []
    with anyio.fail_after(WAIT):
        async for delivery in subscription:
            got.append(delivery.envelope.event_id)
            await delivery.ack()
            if len(got) == 5:
                break
    assert got == [e.event_id for e in sent[2:]]
    assert outbox.published["cam"] == 5
    assert outbox.depth == 0
    await outbox.close()
    await subscription.close()
    await bus.close()

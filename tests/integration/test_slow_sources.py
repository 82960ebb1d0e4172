"""A camera that answers too slowly (issue 15, finding 10), against real slow server processes.

``tests/servers/slow_camera.py`` runs as a subprocess on loopback: it dribbles
one header line per interval (slow loris), or sends the headers and stalls, or
dribbles the body one byte at a time, or accepts and says nothing (a dead RTSP
peer). Each phase of opening a source must time out with a message that names
it; closing a source blocked in a read must end its thread and close its
socket; and the API must answer ``PATCH`` and ``DELETE`` of such a camera at
once, then reap its thread and socket.

Timeouts are small settings of the test; nothing here asserts a duration. The
waits are bounds on a hang: where the code used to block (forever in a read,
or 30 s in the API), the bound is what tells a hang from an answer.
"""

from __future__ import annotations

import asyncio
import dataclasses
import sys
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from argus.adapters.bus.memory import MemoryEventBus
from argus.adapters.pipelines import (
    EdgePipelines,
    RestartPolicy,
    SourceOptions,
    WorkerDeps,
    open_camera,
)
from argus.adapters.video import MjpegSource, RtspSource, SnapshotSource
from argus.bootstrap.container import make_cued_tracker
from argus.bootstrap.sources import source_options
from argus.domain.backoff import BackoffPolicy
from argus.domain.cameras import Camera
from argus.domain.errors import SourceOpenError
from argus.ports.detector import Detector
from argus.ports.tracker import Tracker
from argus.ports.video import VideoSource
from argus.scene import DetectSpec, TrackerSpec
from tests.auth_support import settings_for
from tests.factories import ScriptedDetector
from tests.integration.api_support import api
from tests.integration.conftest import SERVERS, ServerProcess

if TYPE_CHECKING:
    from tests.integration.conftest import FrameCollector

    Collect = Callable[[VideoSource], FrameCollector]

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

BOUND = 30.0
"""Seconds a test waits for something that must happen (a bound on a hang, not a duration)."""

API_BOUND = 15.0
"""Seconds ``PATCH`` and ``DELETE`` may take: half the 30 s the API used to block for."""

TIMEOUT = 1.0
"""Every source timeout in these tests, in seconds."""

NEVER = 600.0
"""A timeout that cannot expire during a test: only an interrupt can end the read."""

FAST = BackoffPolicy(initial=0.05, max_delay=0.5)


@dataclass
class SlowServer:
    """A running ``slow_camera.py`` and the file it reports connection events to."""

    process: ServerProcess
    events: Path

    def url(self, path: str = "/stream.mjpeg", scheme: str = "http") -> str:
        return f"{scheme}://127.0.0.1:{self.process.port}{path}"

    def lines(self) -> list[str]:
        return self.events.read_text().splitlines() if self.events.exists() else []

    def opened(self) -> int:
        return sum(line.startswith("open ") for line in self.lines())

    def open_now(self) -> int:
        """Connections the server holds that the client has not closed."""
        lines = self.lines()
        return sum(x.startswith("open ") for x in lines) - sum(
            x.startswith("closed ") for x in lines
        )


@pytest.fixture
def slow_server(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[SlowServer]:
    """A slow camera in the mode given by indirect parametrisation (``headers`` by default)."""
    mode = getattr(request, "param", "headers")
    events = tmp_path / "events.log"
    process = ServerProcess(
        [
            sys.executable,
            str(SERVERS / "slow_camera.py"),
            "--host",
            "127.0.0.1",
            "--mode",
            mode,
            "--interval",
            "0.2",
            "--events",
            str(events),
        ],
        f"slow camera ({mode})",
    )
    process.start(0)
    try:
        yield SlowServer(process, events)
    finally:
        process.stop()


def wait_until(condition: Callable[[], bool], what: str, bound: float = BOUND) -> None:
    """Poll ``condition``; fail when it still does not hold after ``bound`` seconds."""
    deadline = time.monotonic() + bound
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"{what} did not happen within {bound} s")
        time.sleep(0.02)


def timeout_options(data_dir: Path) -> SourceOptions:
    """How the edge worker opens cameras with every ``ARGUS_SOURCE_*_TIMEOUT_S`` at ``TIMEOUT``."""
    settings = settings_for(
        data_dir,
        source_connect_timeout_s=TIMEOUT,
        source_first_frame_timeout_s=TIMEOUT,
        source_read_timeout_s=TIMEOUT,
    )
    return dataclasses.replace(source_options(settings), backoff=FAST)


def failure_of(collector: FrameCollector) -> str:
    collector.wait_ended(BOUND)
    assert collector.frames == []
    assert isinstance(collector.error, SourceOpenError), collector.describe()
    return str(collector.error)


# --- each phase of opening a source times out ---------------------------------------------


@pytest.mark.parametrize(
    ("slow_server", "expected"),
    [
        ("headers", "no response headers within 1 s"),
        ("stall", "no frame within 1 s"),
        ("body", "no frame within 1 s"),
    ],
    ids=["slow-loris-headers", "headers-then-stall", "dribbled-body"],
    indirect=["slow_server"],
)
def test_mjpeg_source_times_out_on_a_slow_camera(
    slow_server: SlowServer, collect: Collect, expected: str
) -> None:
    source = MjpegSource(
        slow_server.url(),
        open_timeout=TIMEOUT,
        first_frame_timeout=TIMEOUT,
        read_timeout=TIMEOUT,
        max_retries=0,
        backoff=FAST,
    )
    message = failure_of(collect(source))
    assert expected in message
    assert source.stats.last_error is not None
    assert expected in source.stats.last_error
    wait_until(lambda: slow_server.open_now() == 0, "the server seeing its connection closed")


def test_snapshot_source_times_out_on_slow_headers(
    slow_server: SlowServer, collect: Collect
) -> None:
    source = SnapshotSource(
        slow_server.url("/snapshot"),
        open_timeout=TIMEOUT,
        read_timeout=TIMEOUT,
        max_retries=0,
        backoff=FAST,
    )
    assert "no response headers within 1 s" in failure_of(collect(source))
    wait_until(lambda: slow_server.open_now() == 0, "the server seeing its connection closed")


@pytest.mark.parametrize("slow_server", ["stall"], indirect=True)
def test_snapshot_camera_times_out_on_a_stalled_body(
    slow_server: SlowServer, collect: Collect, tmp_path: Path
) -> None:
    # Opened as the edge worker opens a camera, with the timeouts of the settings.
    camera = Camera(id="snap", name="snap", stream_url=slow_server.url("/snapshot"))
    source = open_camera(camera, timeout_options(tmp_path))
    collector = collect(source)
    collector.wait_until(
        lambda: "no complete image within 1 s" in (source.stats.last_error or ""),
        "the body timeout",
        BOUND,
    )
    assert collector.frames == []


@pytest.mark.parametrize("slow_server", ["silent"], indirect=True)
def test_rtsp_source_times_out_on_a_peer_that_never_answers(
    slow_server: SlowServer, collect: Collect
) -> None:
    source = RtspSource(
        slow_server.url("/stream", scheme="rtsp"),
        open_timeout=TIMEOUT,
        read_timeout=TIMEOUT,
        max_retries=0,
        backoff=FAST,
    )
    assert "timed out: the stream did not open within 1 s" in failure_of(collect(source))
    wait_until(lambda: slow_server.open_now() == 0, "the server seeing its connection closed")


def test_a_camera_that_keeps_failing_retries_with_backoff(
    slow_server: SlowServer, collect: Collect
) -> None:
    source = MjpegSource(
        slow_server.url(), open_timeout=TIMEOUT, read_timeout=TIMEOUT, backoff=FAST
    )
    collect(source).wait_until(lambda: slow_server.opened() >= 3, "three attempts", BOUND)
    assert source.stats.last_error is not None
    assert "no response headers within 1 s" in source.stats.last_error


# --- closing a source blocked in a read -----------------------------------------------------


@pytest.mark.parametrize(
    ("slow_server", "kind"),
    [("headers", "mjpeg"), ("stall", "mjpeg"), ("headers", "snapshot")],
    ids=["mjpeg-in-headers", "mjpeg-in-body", "snapshot-in-headers"],
    indirect=["slow_server"],
)
def test_close_breaks_a_blocked_read_and_closes_the_socket(
    slow_server: SlowServer, kind: str
) -> None:
    options: dict[str, Any] = {"open_timeout": NEVER, "read_timeout": NEVER}
    source: VideoSource = (
        MjpegSource(slow_server.url(), first_frame_timeout=NEVER, **options)
        if kind == "mjpeg"
        else SnapshotSource(slow_server.url("/snapshot"), **options)
    )
    reader = threading.Thread(target=lambda: list(source.frames()), name="slow-reader", daemon=True)
    reader.start()
    wait_until(lambda: slow_server.open_now() == 1, "the connection")

    source.close()  # from another thread, as a pipeline's stop does

    reader.join(BOUND)
    assert not reader.is_alive(), "the reader stayed blocked in its read after close()"
    wait_until(lambda: slow_server.open_now() == 0, "the server seeing its connection closed")


# --- the API and the pipelines ----------------------------------------------------------------


class _Deps:
    """Pipeline parts without a model: a scripted detector, Argus's tracker, real sources."""

    def __init__(self, source: Callable[[Camera], VideoSource]) -> None:
        self.source = source

    def detector(self, spec: DetectSpec) -> Detector:
        del spec
        return ScriptedDetector([], ("person",))

    def tracker(self, spec: TrackerSpec, fps: float) -> Tracker:
        del spec, fps
        return make_cued_tracker()


@pytest.fixture
async def edge(tmp_path: Path) -> AsyncIterator[EdgePipelines]:
    options = timeout_options(tmp_path)
    parts = _Deps(lambda camera: open_camera(camera, options))
    bus = MemoryEventBus()
    pipelines = EdgePipelines(
        bus,
        WorkerDeps(detector=parts.detector, tracker=parts.tracker, source=parts.source),
        restart=RestartPolicy(backoff=FAST),
        ring_seconds=0,
    )
    try:
        yield pipelines
    finally:
        await pipelines.close()
        await bus.close()


def camera_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("camera-")]


async def test_api_answers_and_reaps_a_slow_loris_camera(
    edge: EdgePipelines, slow_server: SlowServer, tmp_path: Path
) -> None:
    # The slow camera listens on loopback, which the default camera policy refuses.
    settings = settings_for(tmp_path, camera_deny_networks="")
    async with api("memory", tmp_path, pipelines=edge, settings=settings) as app:
        created = await app.client.post(
            "/api/v1/cameras",
            json={"name": "Slow", "stream_url": slow_server.url(), "detect_fps": 5},
        )
        assert created.status_code == 201, created.text
        cid = created.json()["id"]

        # The camera leaves "starting" for "error", with the phase that timed out.
        deadline = time.monotonic() + BOUND
        while True:
            status = (await app.client.get(f"/api/v1/cameras/{cid}/status")).json()
            if status["state"] == "error" and status["last_error"]:
                break
            assert time.monotonic() < deadline, f"camera stuck: {status}"
            await asyncio.sleep(0.05)
        assert "no response headers within 1 s" in status["last_error"]

        # While it is stuck in a header read, PATCH and DELETE answer: each used to
        # block for 30 s waiting for a thread that never ended.
        patched = await asyncio.wait_for(
            app.client.patch(
                f"/api/v1/cameras/{cid}", json={"stream_url": slow_server.url("/other.mjpeg")}
            ),
            API_BOUND,
        )
        assert patched.status_code == 200, patched.text
        wait_until(lambda: slow_server.opened() >= 2, "the new stream being opened")
        deleted = await asyncio.wait_for(app.client.delete(f"/api/v1/cameras/{cid}"), API_BOUND)
        assert deleted.status_code == 204

        # What the camera owned is reaped: its thread ends, its socket is closed.
        await asyncio.to_thread(
            wait_until, lambda: f"camera-{cid}" not in camera_threads(), "the thread ending"
        )
        await asyncio.to_thread(
            wait_until, lambda: slow_server.open_now() == 0, "the server seeing the socket closed"
        )


@pytest.mark.parametrize("slow_server", ["silent"], indirect=True)
async def test_removing_a_camera_stuck_in_an_rtsp_open_returns_and_reaps_it(
    slow_server: SlowServer, tmp_path: Path
) -> None:
    # FFmpeg's open cannot be broken from another thread; the open deadline ends it.
    # The removal must not wait for that, and the thread and socket must still go.
    options = dataclasses.replace(timeout_options(tmp_path), open_timeout=5.0)
    parts = _Deps(lambda camera: open_camera(camera, options))
    bus = MemoryEventBus()
    edge = EdgePipelines(
        bus,
        WorkerDeps(detector=parts.detector, tracker=parts.tracker, source=parts.source),
        restart=RestartPolicy(backoff=FAST),
        ring_seconds=0,
        stop_grace=0.1,
    )
    try:
        camera = Camera(id="rtsp-stuck", name="stuck", stream_url=slow_server.url("/s", "rtsp"))
        await edge.apply(camera, [], [])
        await asyncio.to_thread(wait_until, lambda: slow_server.open_now() == 1, "the connection")
        await asyncio.wait_for(edge.remove(camera.id), API_BOUND)
        assert edge.status(camera.id) is None
        await asyncio.to_thread(
            wait_until, lambda: "camera-rtsp-stuck" not in camera_threads(), "the thread ending"
        )
        await asyncio.to_thread(
            wait_until, lambda: slow_server.open_now() == 0, "the server seeing the socket closed"
        )
    finally:
        await edge.close()
        await bus.close()

"""Sub-streams on real streams: the suite's GStreamer RTSP server serving a 1280x720
main stream and a 320x180 sub-stream, and real clips (bikes.mp4 with a quarter-size
copy made by PyAV) through the embedded edge pipelines.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import AsyncIterator, Callable, Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any

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
    open_camera,
)
from argus.adapters.pipelines.substream import DualStreamSource
from argus.adapters.video.factory import open_source
from argus.bootstrap.container import Container, build_container
from argus.bootstrap.edge import edge_pipelines
from argus.config import Settings
from argus.domain.backoff import BackoffPolicy
from argus.domain.cameras import Camera
from argus.domain.live import LiveFrame
from argus.ports.video import VideoSource
from tests.auth_support import TEST_DENY_NETWORKS
from tests.integration.conftest import (
    SERVERS,
    SYSTEM_PYTHON,
    FrameCollector,
    ServerProcess,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]

WAIT = 120.0
"""Seconds a test waits for frames or a state; generous for a loaded 2-core machine."""

FAST = BackoffPolicy(initial=0.2, max_delay=1.0)
LIVE = SourceOptions(open_timeout=20.0, read_timeout=5.0, first_frame_timeout=20.0, backoff=FAST)


def _server(*options: str) -> ServerProcess:
    return ServerProcess(
        [SYSTEM_PYTHON, str(SERVERS / "rtsp_server.py"), "--host", "127.0.0.1", *options],
        "rtsp server",
    )


@pytest.fixture
def camera_server(rtsp_available: None) -> Iterator[ServerProcess]:
    """One camera: a 1280x720 main stream at /main and a 320x180 sub-stream at /sub."""
    server = _server(
        "--path", "/main", "--width", "1280", "--height", "720", "--fps", "15", "--sub-path", "/sub"
    )
    server.start(0)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def split_servers(rtsp_available: None) -> Iterator[tuple[ServerProcess, ServerProcess]]:
    """A 1280x720 main stream and a 320x180 detect stream on two servers (one can die)."""
    main = _server("--width", "1280", "--height", "720", "--fps", "15")
    detect = _server("--width", "320", "--height", "180", "--fps", "15")
    main.start(0)
    try:
        detect.start(0)
        try:
            yield main, detect
        finally:
            detect.stop()
    finally:
        main.stop()


def test_a_camera_with_a_sub_stream_pairs_main_and_detect_frames(
    camera_server: ServerProcess, collect: Callable[[VideoSource], FrameCollector]
) -> None:
    base = f"rtsp://127.0.0.1:{camera_server.port}"
    camera = Camera(
        id="cam-sub",
        name="gate",
        stream_url=f"{base}/main",
        detect_stream_url=f"{base}/sub",
        detect_fps=5.0,
    )
    source = open_camera(camera, LIVE)
    assert isinstance(source, DualStreamSource)
    reader = collect(source)
    reader.wait_frames(10)
    frames = list(reader.frames[:10])
    for frame in frames:
        assert frame.image.shape == (720, 1280, 3)
        assert frame.detect_image is not None
        assert frame.detect_image.shape == (180, 320, 3)
        assert frame.source_id == "cam-sub"
    stamps = [f.timestamp for f in frames]
    assert stamps == sorted(stamps)
    assert [f.index for f in frames] == sorted({f.index for f in frames})
    assert source.main_frames_taken >= 10
    # The main stream is thinned (two frames per detect frame), not converted whole.
    assert source.main_stats.frames_decoded >= source.main_frames_read > 0
    assert source.stats.last_error is None


def test_a_lost_main_stream_keeps_frames_flowing_and_comes_back(
    split_servers: tuple[ServerProcess, ServerProcess],
    collect: Callable[[VideoSource], FrameCollector],
) -> None:
    main_server, detect_server = split_servers
    live: dict[str, Any] = {
        "open_timeout": 20.0,
        "read_timeout": 3.0,
        "first_frame_timeout": 20.0,
        "max_retries": None,
        "backoff": FAST,
    }
    detect = open_source(
        f"rtsp://127.0.0.1:{detect_server.port}/test",
        target_fps=5.0,
        source_id="cam/detect",
        **live,
    )
    main = open_source(
        f"rtsp://127.0.0.1:{main_server.port}/test", target_fps=10.0, source_id="cam/main", **live
    )
    source = DualStreamSource(detect, main, source_id="cam", stale_s=1.0, first_main_timeout=40.0)
    reader = collect(source)
    reader.wait_frames(5)
    assert not source.degraded

    main_server.kill()
    reader.wait_until(lambda: source.degraded, "frames without the main stream")
    lost_at = len(reader.frames)
    reader.wait_frames(lost_at + 5)
    for frame in reader.frames[lost_at : lost_at + 5]:
        assert frame.image.shape == (720, 1280, 3)
        assert frame.detect_image is not None
    last_error = source.stats.last_error
    assert last_error is not None
    assert "main stream lost" in last_error
    # At least one of them is the detect picture scaled up, pixel for pixel.
    assert any(
        f.detect_image is not None
        and np.array_equal(f.image, cv2.resize(f.detect_image, (1280, 720)))
        for f in reader.frames[lost_at:]
    )

    main_server.start()  # the same port: the main stream's source reconnects
    reader.wait_until(
        lambda: not source.degraded and source.main_stats.reconnects >= 1,
        "the main stream back",
    )
    back_at = len(reader.frames)
    reader.wait_frames(back_at + 3)
    latest = reader.frames[-1]
    assert latest.detect_image is not None
    assert not np.array_equal(latest.image, cv2.resize(latest.detect_image, (1280, 720)))
    assert source.stats.last_error is None


def scaled_copy(src: Path, dst: Path, size: tuple[int, int]) -> Path:
    """Re-encode ``src`` at ``size`` with PyAV (H.264, same frame rate): a sub-stream of it."""
    with av.open(str(src)) as inp, av.open(str(dst), mode="w") as out:
        video = inp.streams.video[0]
        rate = Fraction(video.average_rate or 25)
        stream = out.add_stream("libx264", rate=rate)
        assert isinstance(stream, av.VideoStream)
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        stream.options = {"g": "10", "bf": "0"}
        for index, frame in enumerate(inp.decode(video)):
            small = frame.reformat(width=size[0], height=size[1], format="yuv420p")
            small.pts = index
            small.time_base = 1 / rate
            out.mux(stream.encode(small))
        out.mux(stream.encode(None))
    return dst


@pytest.fixture(scope="module")
def container(tmp_path_factory: pytest.TempPathFactory) -> Container:
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("argus-substreams"),
        media_dirs=str(tmp_path_factory.getbasetemp()),
        camera_deny_networks=TEST_DENY_NETWORKS,
    )
    return build_container(settings)


@pytest.fixture
async def edge(container: Container) -> AsyncIterator[EdgePipelines]:
    bus = MemoryEventBus()
    pipelines = edge_pipelines(
        container.settings,
        bus,
        container=container,
        sources=SourceOptions(realtime_files=True, loop_files=True, backoff=FAST),
        defaults=DetectDefaults(input_size=320, confidence=0.3),
        restart=RestartPolicy(backoff=FAST, stall_s=30.0),
    )
    try:
        yield pipelines
    finally:
        await pipelines.close()
        await bus.close()


@pytest.mark.anyio
async def test_a_file_camera_with_a_sub_stream_detects_small_and_keeps_main_pixels(
    edge: EdgePipelines, container: Container, tmp_path: Path
) -> None:
    camera, lines, zones = demo_camera(container.demo_video())
    main = Path(camera.stream_url)
    if not main.is_file():
        pytest.skip(f"bikes.mp4 is missing ({main})")
    small = scaled_copy(main, tmp_path / "bikes-sub.mp4", (320, 136))
    camera = dataclasses.replace(camera, detect_fps=5.0, detect_stream_url=str(small))
    received: list[LiveFrame] = []
    cancel = edge.subscribe_live(camera.id, received.append)
    await edge.apply(camera, lines, zones)
    deadline = time.monotonic() + WAIT
    while not any(len(f.tracks) for f in received) or edge.snapshot(camera.id) is None:
        assert time.monotonic() < deadline, f"no tracks: {edge.status(camera.id)}"
        await anyio.sleep(0.1)
    cancel()
    jpeg = edge.snapshot(camera.id)
    assert jpeg is not None
    image = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert image is not None
    assert image.shape == (272, 640, 3)  # evidence stays in main-stream pixels
    assert {(f.width, f.height) for f in received} == {(640, 272)}
    boxes = np.array([t.box for f in received for t in f.tracks])
    assert boxes[:, 2].max() <= 640
    assert boxes[:, 3].max() <= 272
    # Found on a 320x136 picture, placed in 640x272 pixels: some lie right of x = 320.
    assert boxes[:, 2].max() > 320
    status = edge.status(camera.id)
    assert status is not None
    assert status.state == "online"


@pytest.mark.anyio
async def test_a_sub_stream_outside_the_media_directories_is_refused_at_start(
    edge: EdgePipelines, container: Container, tmp_path_factory: pytest.TempPathFactory
) -> None:
    camera, lines, zones = demo_camera(container.demo_video())
    if not Path(camera.stream_url).is_file():
        pytest.skip(f"bikes.mp4 is missing ({camera.stream_url})")
    # The media directories are pytest's temporary root: a file elsewhere is refused.
    outside = Path("/var/tmp") / f"argus-sub-{tmp_path_factory.getbasetemp().name}.mp4"
    camera = dataclasses.replace(camera, detect_fps=5.0, detect_stream_url=str(outside))
    await edge.apply(camera, lines, zones)
    deadline = time.monotonic() + WAIT
    while True:
        status = edge.status(camera.id)
        assert status is not None
        if status.last_error is not None and "media directories" in status.last_error:
            break
        assert time.monotonic() < deadline, f"not refused: {status}"
        await anyio.sleep(0.1)
    assert str(outside) in status.last_error
    assert status.fps_detected == 0

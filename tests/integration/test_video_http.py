"""MJPEG and snapshot sources against a real HTTP camera process on loopback."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import pytest

from argus.adapters.video import MjpegSource, SnapshotSource
from argus.domain.backoff import BackoffPolicy
from argus.domain.errors import ConfigError, SourceClosedError, SourceOpenError
from argus.domain.frames import SourceState
from argus.ports.video import VideoSource

if TYPE_CHECKING:
    from tests.integration.conftest import FrameCollector, ServerProcess

    Collect = Callable[[VideoSource], FrameCollector]

pytestmark = pytest.mark.integration

FAST_BACKOFF = BackoffPolicy(initial=0.05, max_delay=0.5)


def url(server: ServerProcess, path: str) -> str:
    return f"http://127.0.0.1:{server.port}{path}"


def mjpeg(server: ServerProcess, path: str = "/stream.mjpeg", **options: object) -> MjpegSource:
    settings: dict[str, object] = {"backoff": FAST_BACKOFF, "open_timeout": 10.0}
    settings.update(options)
    return MjpegSource(url(server, path), **settings)  # type: ignore[arg-type]


def snapshot(server: ServerProcess, path: str = "/snapshot", **options: object) -> SnapshotSource:
    settings: dict[str, object] = {"backoff": FAST_BACKOFF, "interval": 0.02}
    settings.update(options)
    return SnapshotSource(url(server, path), **settings)  # type: ignore[arg-type]


def assert_camera_frames(collector: FrameCollector) -> None:
    frames = collector.frames
    assert all(f.image.shape == (120, 160, 3) and f.image.dtype == np.uint8 for f in frames)
    assert [f.index for f in frames] == list(range(len(frames)))
    assert all(b.timestamp >= a.timestamp for a, b in itertools.pairwise(frames))


@pytest.mark.parametrize("length", ["1", "0"], ids=["content-length", "boundary-scan"])
def test_mjpeg_reads_frames(http_camera: ServerProcess, collect: Collect, length: str) -> None:
    source = mjpeg(http_camera, f"/stream.mjpeg?length={length}")
    collector = collect(source)
    collector.wait_frames(20)
    assert_camera_frames(collector)
    assert source.stats.state is SourceState.OPEN
    assert source.stats.frames_dropped == 0
    assert source.stats.reconnects == 0
    collector.stop()
    assert source.stats.snapshot()["state"] == "closed"


def test_mjpeg_counts_broken_parts_as_dropped(http_camera: ServerProcess, collect: Collect) -> None:
    source = mjpeg(http_camera, "/stream.mjpeg?bad_every=3")
    collector = collect(source)
    collector.wait_frames(12)
    assert source.stats.frames_dropped >= 5
    assert source.stats.last_error is not None
    assert "not a JPEG" in source.stats.last_error
    assert source.stats.reconnects == 0
    assert_camera_frames(collector)


def test_mjpeg_reconnects_after_the_server_is_killed(
    http_camera: ServerProcess, collect: Collect
) -> None:
    source = mjpeg(http_camera, read_timeout=5.0)
    collector = collect(source)
    collector.wait_frames(10)
    http_camera.kill()
    collector.wait_until(lambda: source.stats.state is SourceState.RECONNECTING, "RECONNECTING")
    http_camera.start()
    collector.wait_until(lambda: source.stats.reconnects >= 1, "a reconnect")
    collector.wait_frames(len(collector.frames) + 10)
    assert source.stats.state is SourceState.OPEN
    assert source.stats.last_error is not None
    assert_camera_frames(collector)


def test_mjpeg_hung_server_times_out_and_reconnects(
    http_camera: ServerProcess, collect: Collect
) -> None:
    source = mjpeg(http_camera, read_timeout=1.0, open_timeout=1.0)
    collector = collect(source)
    collector.wait_frames(5)
    http_camera.pause()
    try:
        collector.wait_until(lambda: source.stats.state is SourceState.RECONNECTING, "RECONNECTING")
    finally:
        http_camera.resume()
    assert source.stats.last_error is not None
    assert "timed out" in source.stats.last_error
    collector.wait_until(lambda: source.stats.reconnects >= 1, "a reconnect")
    collector.wait_frames(len(collector.frames) + 5)


def test_mjpeg_gives_up_when_the_server_stays_down(
    http_camera: ServerProcess, collect: Collect
) -> None:
    source = mjpeg(http_camera, max_retries=2)
    collector = collect(source)
    collector.wait_frames(5)
    http_camera.kill()
    collector.wait_ended()
    assert isinstance(collector.error, SourceOpenError)
    assert "gave up after 3 failed attempt(s)" in str(collector.error)
    assert source.stats.state is SourceState.FAILED
    assert source.stats.last_error is not None


@pytest.mark.parametrize(
    ("path", "reason"),
    [("/snapshot", "not a multipart"), ("/error", "HTTP 500"), ("/missing", "HTTP 404")],
    ids=["not-multipart", "server-error", "not-found"],
)
def test_mjpeg_bad_endpoints_fail_after_retries(
    http_camera: ServerProcess, path: str, reason: str
) -> None:
    source = mjpeg(http_camera, path, max_retries=1)
    with source, pytest.raises(SourceOpenError, match=reason):
        list(source.frames())
    assert source.stats.state is SourceState.FAILED
    assert source.stats.last_error is not None
    assert reason in source.stats.last_error


def test_snapshot_polls_frames(http_camera: ServerProcess, collect: Collect) -> None:
    source = snapshot(http_camera)
    collector = collect(source)
    collector.wait_frames(10)
    assert_camera_frames(collector)
    levels = [round(float(f.image.mean())) for f in collector.frames[:10]]
    assert len(set(levels)) > 1, "every poll should fetch a new image"
    assert source.stats.frames_dropped == 0
    assert source.stats.state is SourceState.OPEN


def test_snapshot_counts_non_images_as_dropped(
    http_camera: ServerProcess, collect: Collect
) -> None:
    source = snapshot(http_camera, "/garbage")
    collector = collect(source)
    collector.wait_until(lambda: source.stats.frames_dropped >= 3, "3 dropped responses")
    assert collector.frames == []
    assert source.stats.last_error is not None
    assert "not an image" in source.stats.last_error
    assert source.stats.reconnects == 0


def test_snapshot_reconnects_after_the_server_is_killed(
    http_camera: ServerProcess, collect: Collect
) -> None:
    source = snapshot(http_camera)
    collector = collect(source)
    collector.wait_frames(5)
    http_camera.kill()
    collector.wait_until(lambda: source.stats.state is SourceState.RECONNECTING, "RECONNECTING")
    http_camera.start()
    collector.wait_until(lambda: source.stats.reconnects >= 1, "a reconnect")
    collector.wait_frames(len(collector.frames) + 5)
    assert source.stats.state is SourceState.OPEN
    assert_camera_frames(collector)


def test_snapshot_error_status_fails_after_max_retries(http_camera: ServerProcess) -> None:
    source = snapshot(http_camera, "/error", max_retries=2)
    with source, pytest.raises(SourceOpenError, match="HTTP 500"):
        list(source.frames())
    assert source.stats.state is SourceState.FAILED
    assert source.stats.frames_decoded == 0


def test_closed_http_sources_refuse_to_read(http_camera: ServerProcess) -> None:
    for source in (snapshot(http_camera), mjpeg(http_camera)):
        source.close()
        with pytest.raises(SourceClosedError):
            source.frames()
        assert source.stats.state is SourceState.CLOSED


@pytest.mark.parametrize(
    ("factory", "target", "options"),
    [
        (MjpegSource, "rtsp://camera/stream", {}),
        (MjpegSource, "http://camera/stream", {"read_timeout": 0.0}),
        (MjpegSource, "http://camera/stream", {"max_retries": -1}),
        (SnapshotSource, "ftp://camera/snapshot", {}),
        (SnapshotSource, "http://camera/snapshot", {"interval": 0.0}),
    ],
    ids=["mjpeg-scheme", "mjpeg-timeout", "mjpeg-retries", "snapshot-scheme", "interval"],
)
def test_bad_settings_are_config_errors(
    factory: type[VideoSource], target: str, options: dict[str, object]
) -> None:
    with pytest.raises(ConfigError):
        factory(target, **options)  # type: ignore[call-arg]

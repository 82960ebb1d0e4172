"""The RTSP source against a real GStreamer RTSP server process on loopback."""

from __future__ import annotations

import itertools
import socket
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import pytest

from argus.adapters.video import RtspSource, Transport
from argus.domain.backoff import BackoffPolicy
from argus.domain.errors import ConfigError, SourceOpenError
from argus.domain.frames import SourceState
from argus.ports.video import VideoSource

if TYPE_CHECKING:
    from tests.integration.conftest import FrameCollector, ServerProcess

    Collect = Callable[[VideoSource], FrameCollector]

pytestmark = pytest.mark.integration

TRANSPORTS: list[Transport] = ["tcp", "udp"]
FAST_BACKOFF = BackoffPolicy(initial=0.1, max_delay=1.0)


def rtsp(server: ServerProcess, transport: Transport, **options: object) -> RtspSource:
    settings: dict[str, object] = {
        "transport": transport,
        "backoff": FAST_BACKOFF,
        "open_timeout": 20.0,
        "read_timeout": 10.0,
        # A short probe opens the stream in a fraction of FFmpeg's default 5 s budget.
        "options": {"analyzeduration": "500000"},
    }
    settings.update(options)
    return RtspSource(f"rtsp://127.0.0.1:{server.port}/test", **settings)  # type: ignore[arg-type]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def assert_stream_frames(collector: FrameCollector) -> None:
    frames = collector.frames
    assert all(f.image.shape == (240, 320, 3) and f.image.dtype == np.uint8 for f in frames)
    assert [f.index for f in frames] == list(range(len(frames)))
    assert all(b.timestamp >= a.timestamp for a, b in itertools.pairwise(frames))


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_reads_frames(rtsp_server: ServerProcess, collect: Collect, transport: Transport) -> None:
    source = rtsp(rtsp_server, transport)
    assert source.transport == transport
    collector = collect(source)
    collector.wait_frames(30)
    assert_stream_frames(collector)
    frames = collector.frames[:30]
    # The test pattern is a moving ball: frames are real pictures, not blanks.
    assert all(f.image.std() > 1.0 for f in frames)
    assert frames[-1].timestamp > frames[0].timestamp
    assert source.stats.state is SourceState.OPEN
    assert source.stats.frames_decoded >= 30
    assert source.stats.reconnects == 0
    collector.stop()
    assert source.stats.snapshot()["state"] == "closed"


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_reconnects_after_the_server_is_killed(
    rtsp_server: ServerProcess, collect: Collect, transport: Transport
) -> None:
    source = rtsp(rtsp_server, transport)
    collector = collect(source)
    collector.wait_frames(10)
    rtsp_server.kill()
    collector.wait_until(lambda: source.stats.state is SourceState.RECONNECTING, "RECONNECTING")
    rtsp_server.start()
    collector.wait_until(lambda: source.stats.reconnects >= 1, "a reconnect")
    collector.wait_frames(len(collector.frames) + 20)
    assert source.stats.state is SourceState.OPEN
    assert source.stats.last_error is not None
    assert_stream_frames(collector)


def test_gives_up_when_the_server_stays_down(rtsp_server: ServerProcess, collect: Collect) -> None:
    source = rtsp(rtsp_server, "tcp", max_retries=3)
    collector = collect(source)
    collector.wait_frames(5)
    rtsp_server.kill()
    collector.wait_ended()
    assert isinstance(collector.error, SourceOpenError)
    assert "gave up after 4 failed attempt(s) (max_retries=3)" in str(collector.error)
    assert source.stats.state is SourceState.FAILED
    assert source.stats.last_error == str(collector.error)


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_hung_server_times_out_and_reconnects(
    rtsp_server: ServerProcess, collect: Collect, transport: Transport
) -> None:
    source = rtsp(rtsp_server, transport, read_timeout=2.0, open_timeout=2.0)
    collector = collect(source)
    collector.wait_frames(10)
    rtsp_server.pause()
    try:
        collector.wait_until(lambda: source.stats.state is SourceState.RECONNECTING, "RECONNECTING")
    finally:
        rtsp_server.resume()
    collector.wait_until(lambda: source.stats.reconnects >= 1, "a reconnect")
    collector.wait_frames(len(collector.frames) + 10)
    assert source.stats.state is SourceState.OPEN


def test_silent_server_hits_the_open_timeout() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]
        source = RtspSource(f"rtsp://127.0.0.1:{port}/test", open_timeout=1.0, max_retries=0)
        with source, pytest.raises(SourceOpenError, match="timed out"):
            list(source.frames())
    assert source.stats.state is SourceState.FAILED


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_no_server_fails_after_max_retries(transport: Transport) -> None:
    source = RtspSource(
        f"rtsp://127.0.0.1:{free_port()}/test",
        transport=transport,
        max_retries=2,
        backoff=FAST_BACKOFF,
        open_timeout=10.0,
    )
    with source, pytest.raises(SourceOpenError, match="Connection refused"):
        list(source.frames())
    assert source.stats.state is SourceState.FAILED
    assert source.stats.frames_decoded == 0


def test_unknown_path_fails_after_max_retries(rtsp_server: ServerProcess) -> None:
    source = RtspSource(
        f"rtsp://127.0.0.1:{rtsp_server.port}/nothing-here",
        max_retries=0,
        open_timeout=20.0,
    )
    with source, pytest.raises(SourceOpenError, match="gave up after 1 failed attempt"):
        list(source.frames())
    assert source.stats.state is SourceState.FAILED


def test_credentials_never_reach_errors_or_ids() -> None:
    url = f"rtsp://admin:s3cret@127.0.0.1:{free_port()}/test"
    source = RtspSource(url, max_retries=0, open_timeout=10.0)
    with source, pytest.raises(SourceOpenError) as raised:
        list(source.frames())
    assert "s3cret" not in str(raised.value)
    assert "s3cret" not in (source.stats.last_error or "")
    assert "s3cret" not in source.source_id
    assert source.source_id.startswith("rtsp://***@127.0.0.1:")


@pytest.mark.parametrize(
    ("target", "options"),
    [
        ("http://camera/stream", {}),
        ("rtsp://camera/stream", {"transport": "http"}),
        ("rtsp://camera/stream", {"open_timeout": -1.0}),
        ("rtsp://camera/stream", {"read_timeout": float("nan")}),
        ("rtsp://camera/stream", {"max_retries": -2}),
    ],
    ids=["scheme", "transport", "open-timeout", "read-timeout", "retries"],
)
def test_bad_settings_are_config_errors(target: str, options: dict[str, object]) -> None:
    with pytest.raises(ConfigError):
        RtspSource(target, **options)  # type: ignore[arg-type]

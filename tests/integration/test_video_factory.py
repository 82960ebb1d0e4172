"""``open_source`` picks the adapter; ``SampledSource`` thins any source."""

from __future__ import annotations

from contextlib import closing
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from argus.adapters.video import (
    FileSource,
    ImageDirectorySource,
    MjpegSource,
    RtspSource,
    SampledSource,
    SnapshotSource,
    open_source,
)
from argus.domain.errors import ConfigError, SourceOpenError, ValidationError
from argus.domain.frames import SourceState
from argus.ports.video import VideoSource

if TYPE_CHECKING:
    from tests.integration.conftest import Media


@pytest.mark.parametrize(
    ("target", "options", "expected"),
    [
        ("rtsp://cam.local:554/stream1", {}, RtspSource),
        ("RTSPS://cam.local/stream1", {"transport": "udp"}, RtspSource),
        ("rtsp://cam.local/s", {"rtsp_transport": "udp"}, RtspSource),
        ("http://cam.local/video.mjpeg", {}, MjpegSource),
        ("https://cam.local/mjpg/video.mjpg", {"verify": False}, MjpegSource),
        ("http://cam.local/api/cameras/3/snapshot", {}, SnapshotSource),
        ("http://cam.local/image.JPG?ts=1", {}, SnapshotSource),
        ("http://cam.local/cgi-bin/still", {"mode": "snapshot", "interval": 2.0}, SnapshotSource),
        ("http://cam.local/snapshot", {"mode": "mjpeg"}, MjpegSource),
    ],
    ids=[
        "rtsp",
        "rtsps-udp",
        "rtsp_transport-alias",
        "mjpeg",
        "https-mjpeg",
        "snapshot-path",
        "jpeg-url",
        "snapshot-mode",
        "mjpeg-mode",
    ],
)
def test_network_urls_pick_their_adapter(
    target: str, options: dict[str, Any], expected: type[VideoSource]
) -> None:
    with closing(open_source(target, **options)) as source:
        assert type(source) is expected
        assert source.stats.state is SourceState.NEW


def test_rtsp_transport_option_reaches_the_source() -> None:
    source = open_source("rtsp://cam.local/s", rtsp_transport="udp", source_id="gate")
    assert isinstance(source, RtspSource)
    assert source.transport == "udp"
    assert source.source_id == "gate"


def test_local_paths_pick_their_adapter(media: Media, tmp_path: Path) -> None:
    video = media.video()
    media.image(tmp_path / "frames" / "0.jpg", 0)
    assert type(open_source(video)) is FileSource
    assert type(open_source(str(video))) is FileSource
    assert type(open_source(video.as_uri())) is FileSource
    assert type(open_source(tmp_path / "frames")) is ImageDirectorySource


def test_file_options_pass_through(video_file: Path) -> None:
    source = open_source(video_file, loop=True, source_id="demo")
    with closing(source):
        assert source.source_id == "demo"
        for frame in source.frames():
            if frame.index == 60:
                break
    assert frame.timestamp == pytest.approx(60 / 25)


def test_target_fps_wraps_in_a_sampler(video_file: Path) -> None:
    source = open_source(video_file, target_fps=5.0)
    assert isinstance(source, SampledSource)
    assert isinstance(source, VideoSource)
    with source:
        frames = list(source.frames())
    assert [f.index for f in frames] == list(range(0, 50, 5))
    assert source.skipped == 40
    stats = source.stats
    assert (stats.frames_decoded, stats.frames_dropped) == (50, 40)
    assert stats.state is SourceState.ENDED
    assert source.source_id == "clip.mp4"


def test_sampler_faster_than_the_source_keeps_every_frame(video_file: Path) -> None:
    with SampledSource(FileSource(video_file), target_fps=100.0) as source:
        assert len(list(source.frames())) == 50
        assert source.skipped == 0


def test_closing_the_sampler_closes_the_source(video_file: Path) -> None:
    inner = FileSource(video_file)
    source = SampledSource(inner, 5.0)
    next(iter(source.frames()))
    source.close()
    assert inner.stats.state is SourceState.CLOSED
    assert source.stats.state is SourceState.CLOSED


def test_missing_path_is_an_open_error(tmp_path: Path) -> None:
    with pytest.raises(SourceOpenError, match="no such file"):
        open_source(tmp_path / "missing.mp4")


@pytest.mark.parametrize(
    ("target", "options", "message"),
    [
        ("srt://cam.local:9000", {}, "unsupported source"),
        ("ftp://user:pw@cam.local/x.mp4", {}, "ftp://\\*\\*\\*@cam.local"),
        ("rtsp://cam.local/s", {"loop": True}, "does not take option"),
        ("rtsp://cam.local/s", {"mode": "snapshot"}, "http"),
        ("http://cam.local/s", {"mode": "jpeg"}, "mode must be"),
        ("rtsp://cam.local/s", {"transport": "quic"}, "tcp"),
    ],
    ids=["scheme", "redacted", "unknown-option", "mode-not-http", "bad-mode", "bad-value"],
)
def test_config_mistakes_are_config_errors(
    target: str, options: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        open_source(target, **options)


def test_bad_target_fps_is_refused(video_file: Path) -> None:
    with pytest.raises(ValidationError):
        open_source(video_file, target_fps=0.0)

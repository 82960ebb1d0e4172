"""One contract, every adapter: the same lifecycle and frame rules for all sources."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import pytest

from argus.adapters.video import (
    FileSource,
    ImageDirectorySource,
    MjpegSource,
    RtspSource,
    SampledSource,
    SnapshotSource,
)
from argus.domain.errors import SourceClosedError, SourceError
from argus.domain.frames import SourceState
from argus.ports.video import VideoSource

if TYPE_CHECKING:
    from tests.integration.conftest import Media, ServerProcess

SourceMaker = Callable[[], VideoSource]


def _file(request: pytest.FixtureRequest) -> SourceMaker:
    media: Media = request.getfixturevalue("media")
    path = media.video(frames=30)
    return lambda: FileSource(path, loop=True)


def _images(request: pytest.FixtureRequest) -> SourceMaker:
    media: Media = request.getfixturevalue("media")
    folder = media.directory / "frames"
    for index in range(10):
        media.image(folder / f"{index}.png", index)
    return lambda: ImageDirectorySource(folder)


def _mjpeg(request: pytest.FixtureRequest) -> SourceMaker:
    server: ServerProcess = request.getfixturevalue("http_camera")
    return lambda: MjpegSource(f"http://127.0.0.1:{server.port}/stream.mjpeg")


def _snapshot(request: pytest.FixtureRequest) -> SourceMaker:
    server: ServerProcess = request.getfixturevalue("http_camera")
    return lambda: SnapshotSource(f"http://127.0.0.1:{server.port}/snapshot", interval=0.02)


def _rtsp(request: pytest.FixtureRequest) -> SourceMaker:
    server: ServerProcess = request.getfixturevalue("rtsp_server")
    return lambda: RtspSource(f"rtsp://127.0.0.1:{server.port}/test", open_timeout=20.0)


@pytest.fixture(
    params=[
        pytest.param(_file, id="file"),
        pytest.param(_images, id="images"),
        pytest.param(_mjpeg, id="mjpeg", marks=pytest.mark.integration),
        pytest.param(_snapshot, id="snapshot", marks=pytest.mark.integration),
        pytest.param(_rtsp, id="rtsp", marks=pytest.mark.integration),
    ]
)
def make_source(request: pytest.FixtureRequest) -> SourceMaker:
    """A factory of fresh sources of one kind, with its server running."""
    builder: Callable[[pytest.FixtureRequest], SourceMaker] = request.param
    return builder(request)


def state_of(source: VideoSource) -> SourceState:
    return source.stats.state


@pytest.mark.parametrize("sampled", [False, True], ids=["plain", "sampled"])
def test_frames_follow_the_contract(make_source: SourceMaker, sampled: bool) -> None:
    source = make_source()
    if sampled:
        source = SampledSource(source, target_fps=1000.0)
    assert isinstance(source, VideoSource)
    assert state_of(source) is SourceState.NEW
    iterator = source.frames()
    frames = list(itertools.islice(iterator, 5))
    try:
        assert len(frames) == 5
        for frame in frames:
            assert frame.image.ndim == 3
            assert frame.image.shape[2] == 3
            assert frame.image.dtype == np.uint8
            assert frame.image.flags.c_contiguous
            assert frame.source_id == source.source_id
        assert frames[0].index == 0
        assert frames[0].timestamp == 0.0
        for before, after in itertools.pairwise(frames):
            assert after.index > before.index
            assert after.index == before.index + 1 or sampled
            assert after.timestamp >= before.timestamp
        stats = source.stats
        assert stats.frames_decoded >= 5
        assert stats.frames_in >= stats.frames_decoded
        assert stats.state is SourceState.OPEN
        assert set(stats.snapshot()) == {
            "frames_in",
            "frames_decoded",
            "frames_dropped",
            "reconnects",
            "last_error",
            "state",
        }
    finally:
        source.close()
    assert state_of(source) is SourceState.CLOSED


def test_lifecycle_misuse_is_caught(make_source: SourceMaker) -> None:
    source = make_source()
    iterator = source.frames()
    with pytest.raises(SourceError, match="already called"):
        source.frames()
    next(iterator)
    source.close()
    source.close()
    with pytest.raises(StopIteration):
        next(iterator)
    with pytest.raises(SourceClosedError):
        source.frames()
    assert state_of(source) is SourceState.CLOSED


def test_close_before_reading_is_fine(make_source: SourceMaker) -> None:
    source = make_source()
    source.close()
    assert state_of(source) is SourceState.CLOSED
    with pytest.raises(SourceClosedError):
        source.frames()


def test_abandoned_iterator_closes_the_source(make_source: SourceMaker) -> None:
    source = make_source()
    assert len(list(itertools.islice(source.frames(), 2))) == 2
    assert state_of(source) is SourceState.CLOSED
    source.close()
    assert state_of(source) is SourceState.CLOSED


def test_context_manager_closes(make_source: SourceMaker) -> None:
    source = make_source()
    with SampledSource(source, target_fps=1000.0) as wrapped:
        iterator = wrapped.frames()
        next(iterator)
    assert state_of(source) is SourceState.CLOSED

"""The PyAV file source on generated and real media, sound and damaged."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest

from argus.adapters.video import FileSource
from argus.domain.errors import (
    ConfigError,
    SourceClosedError,
    SourceDecodeError,
    SourceError,
    SourceOpenError,
)
from argus.domain.frames import Frame, SourceState
from argus.ports.video import VideoSource

if TYPE_CHECKING:
    from tests.integration.conftest import Media


class FakeClock:
    """A clock that only moves when the source sleeps."""

    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def state_of(source: VideoSource) -> SourceState:
    """The current state (a call, so that type narrowing does not stick)."""
    return source.stats.state


def read_all(source: FileSource) -> list[Frame]:
    with source:
        return list(source.frames())


def test_reads_every_frame_in_order(video_file: Path, media: Media) -> None:
    source = FileSource(video_file)
    assert isinstance(source, VideoSource)
    frames = read_all(source)
    assert len(frames) == 50
    width, height = media.frame_size
    for index, frame in enumerate(frames):
        assert frame.image.shape == (height, width, 3)
        assert frame.image.dtype == np.uint8
        assert frame.index == index
        assert frame.source_id == "clip.mp4"
        assert frame.timestamp == pytest.approx(index / 25)
        assert abs(float(frame.image.mean()) - media.level(index)) < 8
    stats = source.stats
    assert (stats.frames_in, stats.frames_decoded, stats.frames_dropped) == (50, 50, 0)
    assert stats.state is SourceState.ENDED
    assert stats.last_error is None


@pytest.mark.parametrize(
    ("suffix", "codec"),
    [(".mkv", "libx264"), (".ts", "libx264"), (".avi", "mjpeg"), (".mp4", "mpeg4")],
    ids=["mkv-h264", "ts-h264", "avi-mjpeg", "mp4-mpeg4"],
)
def test_reads_other_containers_and_codecs(media: Media, suffix: str, codec: str) -> None:
    path = media.video(f"clip{suffix}", frames=20, codec=codec)
    frames = read_all(FileSource(path))
    assert len(frames) == 20
    assert [f.index for f in frames] == list(range(20))
    assert np.all(np.diff([f.timestamp for f in frames]) > 0)


def test_reads_a_real_camera_clip(bikes_mp4: Path) -> None:
    source = FileSource(bikes_mp4, source_id="bikes")
    frames = read_all(source)
    assert len(frames) == 250
    assert frames[0].image.shape == (272, 640, 3)
    assert frames[-1].timestamp == pytest.approx(249 / 25)
    assert source.stats.frames_dropped == 0


def test_loop_restarts_with_increasing_timestamps(video_file: Path, media: Media) -> None:
    with FileSource(video_file, loop=True) as source:
        frames = []
        for frame in source.frames():
            frames.append(frame)
            if len(frames) == 130:
                break
    timestamps = [f.timestamp for f in frames]
    assert timestamps == pytest.approx([i / 25 for i in range(130)])
    assert abs(float(frames[50].image.mean()) - media.level(0)) < 8
    assert source.stats.state is SourceState.CLOSED


def test_realtime_pacing_sleeps_to_the_presentation_times(video_file: Path) -> None:
    clock = FakeClock()
    source = FileSource(video_file, realtime=True, clock=clock, sleep=clock.sleep)
    frames = read_all(source)
    assert len(frames) == 50
    assert len(clock.sleeps) == 49
    assert sum(clock.sleeps) == pytest.approx(49 / 25)


def test_realtime_speed_factor_shortens_the_sleeps(video_file: Path) -> None:
    clock = FakeClock()
    read_all(FileSource(video_file, realtime=True, speed=4.0, clock=clock, sleep=clock.sleep))
    assert sum(clock.sleeps) == pytest.approx(49 / 25 / 4)


def test_close_from_another_thread_interrupts_a_paced_read(video_file: Path) -> None:
    source = FileSource(video_file, realtime=True, speed=0.01, loop=True)
    frames: list[Frame] = []
    errors: list[BaseException] = []

    def consume() -> None:
        try:
            frames.extend(source.frames())
        except BaseException as exc:  # noqa: BLE001  (reported by the assertion below)
            errors.append(exc)

    reader = threading.Thread(target=consume)
    reader.start()
    while not frames and reader.is_alive():
        reader.join(0.05)
    source.close()
    reader.join(timeout=30)
    assert not reader.is_alive()
    assert errors == []
    assert len(frames) == 1
    assert source.stats.state is SourceState.CLOSED


def test_truncated_file_with_index_first_yields_what_it_holds(media: Media, tmp_path: Path) -> None:
    whole = media.video("whole.mp4", frames=100, faststart=True).read_bytes()
    truncated = tmp_path / "truncated.mp4"
    truncated.write_bytes(whole[: len(whole) * 6 // 10])
    source = FileSource(truncated)
    frames = read_all(source)
    assert 20 < len(frames) < 100
    assert source.stats.state is SourceState.ENDED
    assert source.stats.last_error is not None
    assert "truncated" in source.stats.last_error


@pytest.mark.parametrize("keep", [0.5, 0.05], ids=["half", "head-only"])
def test_truncated_real_mp4_without_index_fails_cleanly(
    bikes_mp4: Path, tmp_path: Path, keep: float
) -> None:
    data = bikes_mp4.read_bytes()
    truncated = tmp_path / "bikes-truncated.mp4"
    truncated.write_bytes(data[: int(len(data) * keep)])
    source = FileSource(truncated)
    with source, pytest.raises(SourceDecodeError, match=r"bikes-truncated\.mp4"):
        list(source.frames())
    assert source.stats.state is SourceState.FAILED
    assert source.stats.last_error is not None


@pytest.mark.parametrize("size", [0, 1, 4096, 200_000], ids=["empty", "1B", "4KiB", "200KB"])
def test_random_bytes_fail_with_decode_error(tmp_path: Path, size: int) -> None:
    path = tmp_path / "noise.mp4"
    path.write_bytes(np.random.default_rng(size).bytes(size))
    source = FileSource(path)
    with source, pytest.raises(SourceDecodeError):
        list(source.frames())
    assert source.stats.state is SourceState.FAILED
    assert source.stats.last_error


def test_corrupted_middle_drops_packets_and_reads_on(bikes_mp4: Path, tmp_path: Path) -> None:
    data = bytearray(bikes_mp4.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 20_000] = np.random.default_rng(0).bytes(20_000)
    path = tmp_path / "bikes-corrupt.mp4"
    path.write_bytes(bytes(data))
    source = FileSource(path)
    frames = read_all(source)
    stats = source.stats
    assert 150 < len(frames) < 250
    assert stats.frames_in == 250
    assert stats.frames_dropped > 0
    assert stats.frames_decoded + stats.frames_dropped >= 250
    assert stats.state is SourceState.ENDED
    assert stats.last_error is not None
    assert frames[-1].timestamp == pytest.approx(249 / 25)


def test_corrupted_mpegts_resyncs(media: Media, tmp_path: Path) -> None:
    data = bytearray(media.video("clip.ts", frames=100).read_bytes())
    rng = np.random.default_rng(1)
    for start in (len(data) // 4, len(data) // 2):
        data[start : start + 3000] = rng.bytes(3000)
    path = tmp_path / "corrupt.ts"
    path.write_bytes(bytes(data))
    source = FileSource(path)
    frames = read_all(source)
    assert 50 < len(frames) < 100
    assert source.stats.state is SourceState.ENDED


def test_missing_file_is_an_open_error(tmp_path: Path) -> None:
    source = FileSource(tmp_path / "nope.mp4")
    with source, pytest.raises(SourceOpenError, match="no such file"):
        next(iter(source.frames()))
    assert source.stats.state is SourceState.FAILED


def test_directory_is_an_open_error(tmp_path: Path) -> None:
    with FileSource(tmp_path) as source, pytest.raises(SourceOpenError, match="directory"):
        list(source.frames())


def test_lifecycle_misuse_is_refused(video_file: Path) -> None:
    source = FileSource(video_file)
    assert state_of(source) is SourceState.NEW
    frames = source.frames()
    with pytest.raises(SourceError, match="already called"):
        source.frames()
    next(frames)
    assert state_of(source) is SourceState.OPEN
    source.close()
    source.close()
    assert state_of(source) is SourceState.CLOSED
    with pytest.raises(StopIteration):
        next(frames)
    with pytest.raises(SourceClosedError):
        source.frames()


def test_abandoned_iterator_releases_the_file(video_file: Path) -> None:
    source = FileSource(video_file)
    frames = source.frames()
    next(frames)
    del frames
    assert source.state is SourceState.CLOSED
    with pytest.raises(SourceClosedError):
        source.frames()


@pytest.mark.parametrize(
    "options",
    [{"speed": 0.0}, {"speed": float("nan")}, {"max_demux_errors": -1}],
    ids=["zero-speed", "nan-speed", "negative-errors"],
)
def test_bad_options_are_config_errors(video_file: Path, options: dict[str, float]) -> None:
    with pytest.raises(ConfigError):
        FileSource(video_file, **options)  # type: ignore[arg-type]

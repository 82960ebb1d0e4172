"""The sampler inside the sources keeps exactly the frames ``SampledSource`` kept from outside.

Before, ``SampledSource`` filtered a source's frames after each had been
converted to BGR. Now it hands its sampler to the source, which decides per
decoded frame from the timestamp and converts the kept ones only. These tests
read real clips both ways and compare the kept frames exactly: indices,
timestamps, pixels and counters. The old way is rebuilt here as it was: a
``FrameSampler`` over every frame of a source that has none.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from argus.adapters.video import FileSource, MjpegSource, RtspSource, SampledSource
from argus.domain.backoff import BackoffPolicy
from argus.domain.frames import Frame, SourceStats
from argus.domain.sampler import FrameSampler
from argus.ports.video import VideoSource

if TYPE_CHECKING:
    from tests.integration.conftest import FrameCollector, ServerProcess

    Collect = Callable[[VideoSource], FrameCollector]

MEDIA = Path(__file__).resolve().parents[3] / "shared" / "eval" / "media"
Kept = list[tuple[int, float, str]]


def _clip(name: str) -> Path:
    path = MEDIA / name
    if not path.is_file():
        pytest.skip(f"{path} is absent")
    return path


def _kept(frames: Iterator[Frame], limit: int | None = None) -> Kept:
    """Index, timestamp and a digest of the pixels of each frame."""
    return [
        (f.index, f.timestamp, hashlib.blake2b(f.image.tobytes(), digest_size=16).hexdigest())
        for f in itertools.islice(frames, limit)
    ]


def _old_way(source: VideoSource, fps: float, limit: int | None = None) -> tuple[Kept, SourceStats]:
    """What ``SampledSource`` did before: convert every frame, then ask the sampler."""
    sampler = FrameSampler(fps)
    kept = _kept((f for f in source.frames() if sampler.accept(f.timestamp)), limit)
    source.close()
    stats = source.stats
    stats.frames_dropped += sampler.skipped
    return kept, stats


def _new_way(source: FileSource, fps: float, limit: int | None = None) -> tuple[Kept, SourceStats]:
    sampled = SampledSource(source, fps)
    assert sampled.pushed_down
    kept = _kept(sampled.frames(), limit)
    sampled.close()
    return kept, sampled.stats


@pytest.mark.parametrize(
    ("name", "fps"),
    [
        ("vtest.avi", 5.0),  # 10 fps, B-frames in AVI: reordered media times
        ("vtest.avi", 3.0),
        ("short_hamilton_clip.mp4", 5.0),  # 29.97 fps
        ("short_hamilton_clip.mp4", 7.0),
        ("carphone_pristine.mp4", 5.0),  # 29.97 fps, 176x144
    ],
)
def test_shared_clips_keep_the_same_frames(name: str, fps: float) -> None:
    path = _clip(name)
    old, old_stats = _old_way(FileSource(path), fps)
    new, new_stats = _new_way(FileSource(path), fps)
    assert len(new) > 10
    assert new == old
    assert new_stats == old_stats


def test_vtest_reordered_times_still_give_every_other_frame_at_5_fps() -> None:
    # vtest.avi is 10 fps; the reordered-timestamp fallback must still reach the sampler.
    new, stats = _new_way(FileSource(_clip("vtest.avi")), 5.0)
    assert stats.frames_decoded == 795
    indices = [index for index, _, _ in new]
    assert len(indices) == 399
    # After the first frames (stamped before the reordering shows), every other frame.
    assert all(b - a == 2 for a, b in itertools.pairwise(indices[4:]))


@pytest.mark.parametrize("fps", [5.0, 4.0, 12.5])
def test_bikes_keeps_the_same_frames(bikes_mp4: Path, fps: float) -> None:
    old, old_stats = _old_way(FileSource(bikes_mp4), fps)
    new, new_stats = _new_way(FileSource(bikes_mp4), fps)
    assert new == old
    assert new_stats == old_stats
    assert new_stats.frames_decoded == 250


def test_a_looped_file_keeps_the_same_frames_across_its_ends(bikes_mp4: Path) -> None:
    # 250 frames at 25 fps: 50 kept per pass at 5 fps, so 130 kept frames span three passes.
    old, _ = _old_way(FileSource(bikes_mp4, loop=True), 5.0, limit=130)
    new, _ = _new_way(FileSource(bikes_mp4, loop=True), 5.0, limit=130)
    assert new == old
    assert new[-1][0] > 500


class _FakeTime:
    """A clock that the pacing sleep advances, recording every sleep."""

    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_real_time_pacing_waits_for_kept_frames_only(bikes_mp4: Path) -> None:
    fake = _FakeTime()
    source = FileSource(bikes_mp4, realtime=True, clock=fake.clock, sleep=fake.sleep)
    new = _kept(SampledSource(source, 5.0).frames())
    assert len(new) == 50
    # One wait per kept frame after the first (the first is due at once), none for skipped ones.
    assert len(fake.sleeps) == 49
    assert fake.sleeps == pytest.approx([0.2] * 49)
    assert fake.now == pytest.approx(100.0 + new[-1][1])


class _Recording:
    """A ``FrameSampler`` that also records every timestamp it was asked about."""

    def __init__(self, fps: float) -> None:
        self.sampler = FrameSampler(fps)
        self.seen: list[float] = []

    def accept(self, timestamp: float) -> bool:
        self.seen.append(timestamp)
        return self.sampler.accept(timestamp)


@pytest.mark.integration
def test_rtsp_keeps_the_frames_the_outside_sampler_would(
    rtsp_server: ServerProcess, collect: Collect
) -> None:
    source = RtspSource(
        f"rtsp://127.0.0.1:{rtsp_server.port}/test",
        backoff=BackoffPolicy(initial=0.1, max_delay=1.0),
        open_timeout=20.0,
        options={"analyzeduration": "500000"},
    )
    recording = _Recording(5.0)
    assert source.sample_with(recording)
    assert not source.sample_with(FrameSampler(5.0))  # one sampler per source
    collector = collect(source)
    collector.wait_frames(12)
    collector.stop()
    kept = [(f.index, f.timestamp) for f in collector.frames]
    # The old way over the same decoded stream: a fresh sampler over every timestamp.
    outside = FrameSampler(5.0)
    replay = [(i, t) for i, t in enumerate(recording.seen) if outside.accept(t)]
    # The reader may have been closed between a frame's decision and its delivery.
    assert kept == replay[: len(kept)]
    assert len(replay) - len(kept) <= 1
    assert len(recording.seen) >= 4 * len(kept)  # a 25 fps stream sampled at 5 fps
    assert all(f.image.shape == (240, 320, 3) for f in collector.frames)
    assert source.stats.frames_decoded == len(recording.seen)


@pytest.mark.integration
def test_mjpeg_keeps_the_parts_the_outside_sampler_would(
    http_camera: ServerProcess, collect: Collect
) -> None:
    # Every 4th part is not a JPEG: dropped on arrival and unnumbered, as without a sampler.
    source = MjpegSource(
        f"http://127.0.0.1:{http_camera.port}/stream.mjpeg?bad_every=4",
        backoff=BackoffPolicy(initial=0.05, max_delay=0.5),
        open_timeout=10.0,
    )
    recording = _Recording(5.0)
    assert source.sample_with(recording)
    collector = collect(source)
    collector.wait_frames(8)
    collector.stop()
    kept = [(f.index, f.timestamp) for f in collector.frames]
    outside = FrameSampler(5.0)
    replay = [(i, t) for i, t in enumerate(recording.seen) if outside.accept(t)]
    assert kept == replay[: len(kept)]
    assert len(replay) - len(kept) <= 1
    assert len(recording.seen) >= 3 * len(kept)  # 25 fps, three parts in four JPEGs, 5 fps
    assert all(f.image.shape == (120, 160, 3) for f in collector.frames)
    stats = source.stats
    assert stats.frames_dropped >= 5
    assert "not a JPEG" in (stats.last_error or "")
    assert stats.frames_decoded == len(recording.seen)


def test_every_adapter_reading_a_stream_takes_the_sampler() -> None:
    rtsp = SampledSource(RtspSource("rtsp://127.0.0.1:9/none"), 5.0)
    mjpeg = SampledSource(MjpegSource("http://127.0.0.1:9/stream.mjpeg"), 5.0)
    assert rtsp.pushed_down
    assert mjpeg.pushed_down
    rtsp.close()
    mjpeg.close()


class _ListSource:
    """A ``VideoSource`` that is not one of the adapters: sampled from outside."""

    def __init__(self, frames: list[Frame]) -> None:
        self._frames = frames
        self._stats = SourceStats()

    @property
    def source_id(self) -> str:
        return "list"

    @property
    def stats(self) -> SourceStats:
        return self._stats

    def frames(self) -> Iterator[Frame]:
        return iter(self._frames)

    def close(self) -> None:
        return


def test_other_sources_are_still_sampled_from_outside(bikes_mp4: Path) -> None:
    with FileSource(bikes_mp4) as plain:
        frames = list(itertools.islice(plain.frames(), 50))
    sampled = SampledSource(_ListSource(frames), 5.0)
    assert not sampled.pushed_down
    kept = [(f.index, f.timestamp) for f in sampled.frames()]
    assert kept == [(f.index, f.timestamp) for f in frames[::5]]
    assert sampled.stats.frames_dropped == 40


def test_a_source_already_read_is_not_sampled_inside(bikes_mp4: Path) -> None:
    source = FileSource(bikes_mp4)
    next(iter(source.frames()))
    assert not source.sample_with(FrameSampler(5.0))
    source.close()
    closed = FileSource(bikes_mp4)
    closed.close()
    assert not closed.sample_with(FrameSampler(5.0))

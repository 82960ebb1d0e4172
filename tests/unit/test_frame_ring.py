"""The frame ring of evidence clips: rate, time and byte bounds, windows, clips."""

from __future__ import annotations

import io
import threading
from datetime import UTC, datetime, timedelta
from fractions import Fraction

import av
import cv2
import numpy as np
import pytest

from argus.adapters.pipelines.clips import (
    FrameRing,
    RingFrame,
    check_window,
    cut_capture,
    encode_clip,
)
from argus.domain.errors import ConfigError
from tests.factories import solid_image

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
IMAGE = solid_image(48, 64, (40, 90, 160))


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def feed(ring: FrameRing, fps: float, seconds: float, start: float = 0.0) -> int:
    """Push a stream of ``fps`` for ``seconds``; return how many frames were kept."""
    return sum(ring.push(at(start + i / fps), IMAGE) for i in range(round(fps * seconds)))


def jpeg_size(image: bytes) -> tuple[int, int]:
    decoded = cv2.imdecode(np.frombuffer(image, np.uint8), cv2.IMREAD_COLOR)
    assert decoded is not None
    return int(decoded.shape[1]), int(decoded.shape[0])


def decoded_times(clip: bytes) -> list[float]:
    with av.open(io.BytesIO(clip), mode="r") as container:
        return [round(float(frame.time or 0.0), 3) for frame in container.decode(video=0)]


@pytest.mark.parametrize(
    ("source_fps", "ring_fps", "expected"),
    [(25.0, 10.0, 100), (30.0, 10.0, 100), (30.0, 5.0, 50), (5.0, 10.0, 50), (10.0, 10.0, 100)],
    ids=["25to10", "30to10", "30to5", "slower-keeps-all", "equal-keeps-all"],
)
def test_keeps_at_most_its_rate(source_fps: float, ring_fps: float, expected: int) -> None:
    ring = FrameRing(seconds=60.0, fps=ring_fps)
    kept = feed(ring, source_fps, 10.0)
    assert kept == pytest.approx(expected, abs=1)
    assert len(ring) == kept
    times = [f.at for f in ring.window(at(0), at(10))]
    gaps = np.diff([(t - T0).total_seconds() for t in times])
    assert gaps.min() >= 1.0 / ring_fps - 1.0 / source_fps / 2 - 1e-6


def test_skipped_frames_still_advance_the_latest_time() -> None:
    ring = FrameRing(fps=1.0)
    assert ring.push(at(0.0), IMAGE)
    assert not ring.push(at(0.5), IMAGE)
    assert ring.latest == at(0.5)
    assert ring.reached(at(0.5))
    assert not ring.reached(at(0.6))
    assert len(ring) == 1


def test_evicts_frames_older_than_its_seconds() -> None:
    ring = FrameRing(seconds=5.0, fps=10.0)
    feed(ring, 10.0, 20.0)
    frames = ring.window(at(-100), at(100))
    assert frames[-1].at == at(19.9)
    assert frames[0].at >= at(19.9 - 5.0)
    assert len(frames) == pytest.approx(51, abs=1)
    assert ring.nbytes == sum(len(f.jpeg) for f in frames)


def test_byte_budget_evicts_the_oldest_first() -> None:
    probe = FrameRing()
    probe.push(at(0), IMAGE)
    size = probe.nbytes
    ring = FrameRing(seconds=60.0, fps=10.0, max_bytes=3 * size + size // 2)
    feed(ring, 10.0, 2.0)
    assert [f.at for f in ring.window(at(0), at(2))] == [at(1.7), at(1.8), at(1.9)]
    assert ring.nbytes == 3 * size


def test_a_frame_over_the_byte_budget_is_still_kept_alone() -> None:
    ring = FrameRing(max_bytes=1)
    feed(ring, 10.0, 1.0)
    assert len(ring) == 1
    assert ring.window(at(0), at(1))[0].at == at(0.9)


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (1.0, 2.0, [1.0, 1.5, 2.0]),
        (1.2, 1.8, [1.5]),
        (1.6, 1.9, []),
        (-5.0, 0.0, [0.0]),
        (2.5, 99.0, [2.5, 3.0, 3.5]),
    ],
    ids=["inclusive", "inner", "between-frames", "before-start", "after-end"],
)
def test_window_selects_frames_by_time(start: float, end: float, expected: list[float]) -> None:
    ring = FrameRing(fps=2.0)
    feed(ring, 2.0, 4.0)
    assert [f.at for f in ring.window(at(start), at(end))] == [at(t) for t in expected]


def test_a_clock_going_back_drops_the_frames_after_it() -> None:
    ring = FrameRing(fps=10.0)
    feed(ring, 10.0, 3.0, start=10.0)  # a run racing ahead of the wall clock
    feed(ring, 10.0, 1.0, start=11.0)  # the restarted run dates from its own start
    times = [f.at for f in ring.window(at(0), at(100))]
    assert times == sorted(times)
    assert times[-1] == at(11.9)
    assert ring.latest == at(11.9)
    assert ring.nbytes == sum(len(f.jpeg) for f in ring.window(at(0), at(100)))


@pytest.mark.parametrize(
    ("size", "expected"),
    [((1920, 1080), (1280, 720)), ((3840, 2160), (1280, 720)), ((640, 272), (640, 272))],
    ids=["1080p", "4k-area", "small-untouched"],
)
def test_wide_frames_are_scaled_down(size: tuple[int, int], expected: tuple[int, int]) -> None:
    ring = FrameRing(max_width=1280)
    ring.push(at(0), solid_image(size[1], size[0], 200))
    (frame,) = ring.window(at(0), at(0))
    assert (frame.width, frame.height) == expected
    assert jpeg_size(frame.jpeg) == expected


def test_clear_forgets_everything() -> None:
    ring = FrameRing()
    feed(ring, 10.0, 1.0)
    ring.clear()
    assert len(ring) == 0
    assert ring.nbytes == 0
    assert ring.latest is None
    assert ring.push(at(0.95), IMAGE)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"seconds": 0.0},
        {"seconds": float("inf")},
        {"fps": 0.0},
        {"fps": float("nan")},
        {"max_bytes": 0},
        {"max_width": 1},
        {"quality": 0},
        {"quality": 101},
    ],
    ids=["no-seconds", "inf-seconds", "no-fps", "nan-fps", "no-bytes", "width-1", "q0", "q101"],
)
def test_bad_bounds_are_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(ConfigError):
        FrameRing(**kwargs)  # type: ignore[arg-type]


def test_naive_times_are_refused() -> None:
    with pytest.raises(ConfigError, match="timezone"):
        FrameRing().push(datetime(2024, 5, 1, 12, 0), IMAGE)


@pytest.mark.parametrize(
    ("when", "pre_s", "post_s"),
    [
        (datetime(2024, 5, 1), 1.0, 1.0),
        (T0, -1.0, 1.0),
        (T0, 1.0, -0.1),
        (T0, float("nan"), 1.0),
        (T0, 1.0, float("inf")),
    ],
    ids=["naive", "negative-pre", "negative-post", "nan-pre", "inf-post"],
)
def test_bad_windows_are_refused(when: datetime, pre_s: float, post_s: float) -> None:
    with pytest.raises(ConfigError):
        check_window(when, pre_s, post_s)


def test_concurrent_readers_see_consistent_windows() -> None:
    ring = FrameRing(seconds=2.0, fps=25.0)
    done = threading.Event()
    problems: list[str] = []

    def read() -> None:
        while not done.is_set():
            frames = ring.window(at(-1), at(1000))
            times = [f.at for f in frames]
            if times != sorted(times):
                problems.append("out of order")
            if frames and (frames[-1].at - frames[0].at).total_seconds() > 2.0 + 1e-6:
                problems.append("older than the ring's seconds")
            ring.reached(at(5))
            _ = ring.nbytes, len(ring)

    readers = [threading.Thread(target=read) for _ in range(3)]
    for thread in readers:
        thread.start()
    try:
        feed(ring, 25.0, 20.0)
    finally:
        done.set()
        for thread in readers:
            thread.join()
    assert problems == []
    frames = ring.window(at(-1), at(1000))
    assert ring.nbytes == sum(len(f.jpeg) for f in frames)
    assert len(frames) == pytest.approx(51, abs=1)


def ring_frame(seconds: float, width: int = 64, height: int = 48, value: int = 120) -> RingFrame:
    ok, data = cv2.imencode(".jpg", solid_image(height, width, value))
    assert ok
    return RingFrame(at=at(seconds), jpeg=bytes(data.tobytes()), width=width, height=height)


def test_a_clip_keeps_the_frame_times() -> None:
    times = [0.0, 0.1, 0.2, 0.5, 0.6, 1.4]
    clip = encode_clip([ring_frame(t) for t in times], 10.0)
    assert clip[4:8] == b"ftyp"
    assert clip.find(b"moov") < clip.find(b"mdat")  # faststart: the index comes first
    assert decoded_times(clip) == times
    with av.open(io.BytesIO(clip), mode="r") as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name in {"h264", "mpeg4"}
        assert (stream.codec_context.width, stream.codec_context.height) == (64, 48)
        assert stream.duration is not None
        assert float(stream.duration * (stream.time_base or Fraction(1))) == pytest.approx(1.5)


@pytest.mark.parametrize(
    ("sizes", "expected"),
    [
        ([(63, 47), (63, 47)], (64, 48)),
        ([(64, 48), (32, 24), (80, 60)], (64, 48)),
        ([(17, 9)], (18, 10)),
    ],
    ids=["odd-padded", "mixed-resized-to-first", "one-odd-frame"],
)
def test_clips_have_one_even_size(sizes: list[tuple[int, int]], expected: tuple[int, int]) -> None:
    frames = [ring_frame(i / 10, w, h) for i, (w, h) in enumerate(sizes)]
    clip = encode_clip(frames, 10.0)
    with av.open(io.BytesIO(clip), mode="r") as container:
        decoded = [f.to_ndarray(format="bgr24") for f in container.decode(video=0)]
    assert len(decoded) == len(sizes)
    assert {(d.shape[1], d.shape[0]) for d in decoded} == {expected}


@pytest.mark.parametrize(("frames", "fps"), [([], 10.0), ([0.0], 0.0)], ids=["no-frames", "no-fps"])
def test_bad_clips_are_refused(frames: list[float], fps: float) -> None:
    with pytest.raises(ConfigError):
        encode_clip([ring_frame(t) for t in frames], fps)


def test_a_capture_cuts_the_window_around_the_moment() -> None:
    ring = FrameRing(fps=5.0)
    feed(ring, 5.0, 10.0)
    capture = cut_capture(ring, at(4.45), pre_s=1.0, post_s=2.0)
    assert capture is not None
    assert capture.snapshot_at == at(4.4)
    assert jpeg_size(capture.snapshot) == (64, 48)
    assert (capture.start, capture.end) == (at(3.6), at(6.4))
    assert capture.frames == 15
    assert capture.fps == pytest.approx(5.0)
    assert (capture.width, capture.height) == (64, 48)
    assert capture.clip_content_type == "video/mp4"
    times = decoded_times(capture.clip)
    assert len(times) == capture.frames
    assert times[-1] == pytest.approx((capture.end - capture.start).total_seconds())


def test_a_capture_of_an_uncovered_moment_is_none() -> None:
    ring = FrameRing(fps=5.0)
    assert cut_capture(ring, at(0), pre_s=1.0, post_s=1.0) is None
    feed(ring, 5.0, 2.0)
    assert cut_capture(ring, at(10), pre_s=1.0, post_s=1.0) is None
    single = cut_capture(ring, at(-1), pre_s=0.0, post_s=1.0)
    assert single is not None
    assert single.frames == 1
    assert single.fps == 5.0

"""DualStreamSource over in-memory streams the test feeds frame by frame, and the
analyzer detecting on the detect image with boxes mapped to the main image.

The real streams (RTSP server, files) are in tests/integration/test_substreams.py;
here the test decides when each stream delivers, so pairing, staleness and the
lost-main fallback are exact.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Generator, Iterator, Sequence
from datetime import UTC, datetime

import cv2
import numpy as np
import numpy.typing as npt
import pytest

from argus.adapters.pipelines.substream import DualStreamSource
from argus.adapters.video.sampled import SampledSource
from argus.bootstrap.container import make_cued_tracker
from argus.domain.detections import Detections
from argus.domain.errors import SourceClosedError, SourceError, SourceOpenError
from argus.domain.frames import Frame, SourceState, SourceStats
from argus.domain.tracking import TrackerConfig
from argus.scene import parse_scene
from argus.services.analysis import Analyzer
from tests.factories import ListSource, ScriptedDetector, make_detections, solid_image

Image = npt.NDArray[np.uint8]
MAIN = (1280, 720)
SMALL = (320, 180)
WAIT = 30.0
"""Seconds a test waits for the tap thread; generous for a loaded machine."""


class FedSource:
    """A ``VideoSource`` whose frames the test pushes; ``end`` finishes it."""

    def __init__(self, name: str) -> None:
        self.source_id = name
        self.stats = SourceStats(state=SourceState.OPEN)
        self.closed = False
        self._queue: queue.Queue[Frame | None] = queue.Queue()
        self._index = 0

    def push(self, size: tuple[int, int], level: int, timestamp: float) -> Frame:
        frame = Frame(solid_image(size[1], size[0], level), self._index, timestamp, self.source_id)
        self._index += 1
        self._queue.put(frame)
        return frame

    def end(self) -> None:
        self._queue.put(None)

    def frames(self) -> Iterator[Frame]:
        while True:
            frame = self._queue.get()
            if frame is None or self.closed:
                return
            self.stats.frames_decoded += 1
            yield frame

    def close(self) -> None:
        self.closed = True
        self._queue.put(None)


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def wait_until(condition: object, what: str) -> None:
    assert callable(condition)
    deadline = time.monotonic() + WAIT
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.005)


def _pair(
    clock: FakeClock | None = None, **options: float
) -> tuple[FedSource, FedSource, DualStreamSource]:
    detect, main = FedSource("cam/detect"), FedSource("cam/main")
    source = DualStreamSource(detect, main, source_id="cam", clock=clock or FakeClock(), **options)
    return detect, main, source


def _main_read(source: DualStreamSource, count: int) -> None:
    wait_until(lambda: source.main_frames_read >= count, f"{count} main frames read")


def test_frames_pair_the_latest_main_picture_with_each_detect_frame() -> None:
    detect, main, source = _pair()
    frames = source.frames()
    main.push(MAIN, 10, 0.0)
    small = detect.push(SMALL, 1, 0.0)
    first = next(frames)
    assert first.image.shape == (720, 1280, 3)
    assert int(first.image[0, 0, 0]) == 10
    assert first.detect_image is small.image
    assert (first.index, first.timestamp, first.source_id) == (0, 0.0, "cam")
    main.push(MAIN, 20, 0.1)
    main.push(MAIN, 30, 0.2)
    _main_read(source, 3)
    detect.push(SMALL, 2, 0.2)
    second = next(frames)
    assert int(second.image[0, 0, 0]) == 30  # the newest main picture, not the next one
    assert (second.index, second.timestamp) == (1, 0.2)
    # A slower main stream: its latest picture serves the next detect frame too.
    detect.push(SMALL, 3, 0.4)
    assert int(next(frames).image[0, 0, 0]) == 30
    assert (source.main_frames_taken, source.degraded_frames, source.degraded) == (3, 0, False)
    source.close()
    assert detect.closed
    assert main.closed


def test_a_stale_main_stream_gives_the_detect_picture_resized_then_recovers() -> None:
    clock = FakeClock()
    detect, main, source = _pair(clock, stale_s=2.0)
    frames = source.frames()
    main.push(MAIN, 10, 0.0)
    detect.push(SMALL, 1, 0.0)
    next(frames)
    clock.now += 2.5  # no main frame for longer than stale_s
    small = detect.push(SMALL, 77, 2.5)
    lost = next(frames)
    assert source.degraded
    assert lost.image.shape == (720, 1280, 3)
    np.testing.assert_array_equal(lost.image, cv2.resize(small.image, MAIN))
    assert lost.detect_image is small.image
    stats = source.stats
    assert stats.last_error is not None
    assert "main stream lost" in stats.last_error
    main.push(MAIN, 40, 2.6)
    _main_read(source, 2)
    detect.push(SMALL, 2, 2.6)
    back = next(frames)
    assert int(back.image[0, 0, 0]) == 40
    assert (source.degraded, source.stats.last_error) == (False, None)
    assert (source.main_frames_taken, source.degraded_frames) == (2, 1)
    source.close()


@pytest.mark.parametrize("state", [SourceState.RECONNECTING, SourceState.ENDED])
def test_a_main_stream_that_reconnects_or_ended_counts_as_lost(state: SourceState) -> None:
    detect, main, source = _pair()
    frames = source.frames()
    main.push(MAIN, 10, 0.0)
    detect.push(SMALL, 1, 0.0)
    next(frames)
    main.stats.state = state
    detect.push(SMALL, 5, 0.2)
    assert int(next(frames).image[0, 0, 0]) == 5  # the detect picture, resized
    assert source.degraded
    source.close()


def test_a_main_stream_that_ends_before_its_first_frame_fails_the_source() -> None:
    detect, main, source = _pair(first_main_timeout=WAIT)
    frames = source.frames()
    main.end()
    detect.push(SMALL, 1, 0.0)
    with pytest.raises(SourceOpenError, match="main stream gave no frame"):
        next(frames)
    assert detect.closed
    assert main.closed


def test_no_main_frame_within_the_first_timeout_fails_the_source() -> None:
    detect, main, source = _pair(first_main_timeout=0.05)
    frames = source.frames()
    detect.push(SMALL, 1, 0.0)
    with pytest.raises(SourceOpenError, match=r"within 0.05 s"):
        next(frames)
    assert main.closed


def test_lifecycle_misuse_and_abandoned_iterators() -> None:
    detect, main, source = _pair()
    frames = source.frames()
    with pytest.raises(SourceError, match="already called"):
        source.frames()
    main.push(MAIN, 10, 0.0)
    detect.push(SMALL, 1, 0.0)
    next(frames)
    assert isinstance(frames, Generator)
    frames.close()  # the consumer walks away
    assert detect.closed
    assert main.closed
    source.close()  # twice is fine
    _, _, closed = _pair()
    closed.close()
    with pytest.raises(SourceClosedError):
        closed.frames()
    _, _, early = _pair()
    unread = early.frames()
    early.close()  # before the first frame was asked for: no tap thread is started
    assert list(unread) == []


def test_close_from_another_thread_ends_the_wait_for_the_main_stream() -> None:
    detect, _, source = _pair(first_main_timeout=WAIT)
    frames = source.frames()
    detect.push(SMALL, 1, 0.0)
    ended: list[Frame] = []
    reader = threading.Thread(target=lambda: ended.extend(frames))
    reader.start()
    wait_until(lambda: source.main_frames_read == 0 and reader.is_alive(), "the reader waits")
    source.close()
    reader.join(WAIT)
    assert not reader.is_alive()
    assert ended == []


class RecordingDetector(ScriptedDetector):
    """Scripted detections, remembering the size of every image it was given."""

    def __init__(self, frames: Sequence[Detections], class_names: tuple[str, ...]) -> None:
        super().__init__(frames, class_names)
        self.shapes: list[tuple[int, ...]] = []

    def detect(self, image: Image) -> Detections:
        self.shapes.append(image.shape)
        return super().detect(image)


class PairSource:
    """Frames of a 160x120 main picture with a 40x30 detect picture (a quarter)."""

    def __init__(self, count: int) -> None:
        self.source_id = "pair"
        self.stats = SourceStats()
        self.closed = False
        self._count = count

    def frames(self) -> Iterator[Frame]:
        for i in range(self._count):
            yield Frame(
                solid_image(120, 160), i, i / 10.0, "pair", detect_image=solid_image(30, 40)
            )

    def close(self) -> None:
        self.closed = True


def test_the_analyzer_detects_on_the_detect_image_and_counts_in_main_pixels() -> None:
    names = ("person",)
    scene = parse_scene(
        """
camera: {id: cam}
lines:
  - {name: gate, start: [80, 0], end: [80, 120], min_crossing_frames: 2}
"""
    )
    # A walker crossing x = 80 in main pixels, found at a quarter of that on the detect image.
    walk = [
        make_detections([[(40 + 4 * i - 10) / 4, 5, (40 + 4 * i + 10) / 4, 15]], class_names=names)
        for i in range(20)
    ]
    detector = RecordingDetector(walk, names)
    tracker = make_cued_tracker(TrackerConfig(frame_rate=10.0))
    analyzer = Analyzer(scene, detector, tracker, clock=lambda: datetime(2026, 1, 1, tzinfo=UTC))
    results = list(analyzer.run(PairSource(20)))
    assert set(detector.shapes) == {(30, 40, 3)}
    tracked = [r.detections for r in results if len(r.detections)]
    assert tracked
    first = tracked[0].xyxy[0]
    assert first[3] == pytest.approx(60.0)  # y2 = 15 detect px = 60 main px
    events = [e for r in results for e in r.events]
    assert [e.type for e in events].count("line.crossed") == 1


def test_stats_count_decode_losses_apart_from_sampler_skips() -> None:
    detect = SampledSource(ListSource(20, fps=25.0), 5.0)
    main = FedSource("cam/main")
    source = DualStreamSource(detect, main, source_id="cam", clock=FakeClock())
    frames = source.frames()
    main.push(MAIN, 10, 0.0)
    taken = [next(frames) for _ in range(3)]
    assert [f.index for f in taken] == [0, 5, 10]
    assert source.skipped == 8
    assert detect.stats.frames_dropped == 8  # the wrapper counts its skips as dropped
    assert source.stats.frames_dropped == 0  # no frame was lost to an error
    source.close()

"""The ByteTrack-class tracker on small synthetic scenes (pure numpy, no video)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from argus.adapters.tracking.assignment import linear_assign
from argus.domain.detections import Detections
from argus.domain.errors import ValidationError
from argus.domain.tracking import ByteTracker, TrackerConfig, greedy_assign
from argus.domain.tracking.matching import Assign
from argus.ports.tracker import BoxTracker
from tests.factories import make_detections

SOLVERS = pytest.mark.parametrize("assign", [linear_assign, greedy_assign], ids=["scipy", "greedy"])


def box(cx: float, cy: float, w: float = 20.0, h: float = 40.0) -> list[float]:
    return [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2]


def frame(
    centres: Sequence[tuple[float, float]],
    scores: Sequence[float] | None = None,
    classes: Sequence[int] | None = None,
) -> Detections:
    if not centres:
        return Detections.empty(("person", "car"))
    return make_detections([box(x, y) for x, y in centres], scores, classes)


def ids_by_x(out: Detections) -> list[int]:
    """Tracker ids ordered by box centre x (left to right)."""
    order = np.argsort(out.xyxy[:, 0] + out.xyxy[:, 2])
    return [int(i) for i in out.tracker_id[order]]


def test_implements_the_box_tracker_port() -> None:
    assert isinstance(ByteTracker(), BoxTracker)


@SOLVERS
def test_two_crossing_objects_keep_their_ids(assign: Assign) -> None:
    tracker = ByteTracker(assign=assign)
    seen: dict[int, list[float]] = {}
    for t in range(40):
        # A walks right, B walks left; they overlap around t = 20 at different heights.
        out = tracker.update(frame([(100 + 5 * t, 100), (300 - 5 * t, 110)]))
        for d in out:
            assert d.tracker_id is not None
            seen.setdefault(d.tracker_id, []).append((d.xyxy[0] + d.xyxy[2]) / 2)
    assert len(seen) == 2
    xs = sorted(seen.values(), key=lambda v: v[0])
    assert xs[0][-1] > xs[0][0]  # the one that started left ends right
    assert xs[1][-1] < xs[1][0]


@pytest.mark.parametrize(
    ("gap", "same_id"),
    [(5, True), (29, True), (31, False), (60, False)],
    ids=["short-gap", "just-inside-buffer", "just-beyond-buffer", "long-gap"],
)
def test_occlusion_within_the_lost_buffer_keeps_the_id(gap: int, same_id: bool) -> None:
    tracker = ByteTracker(TrackerConfig(lost_buffer=30, frame_rate=30.0))
    t = 0
    first = None
    for _ in range(10):
        first = tracker.update(frame([(100 + 2 * t, 100)]))
        t += 1
    assert first is not None
    assert len(first) == 1
    for _ in range(gap):
        assert len(tracker.update(frame([]))) == 0
        t += 1
    out = Detections.empty()
    for _ in range(3):
        out = tracker.update(frame([(100 + 2 * t, 100)]))
        t += 1
    assert len(out) == 1
    assert (int(out.tracker_id[0]) == int(first.tracker_id[0])) is same_id


def test_frame_rate_scales_the_lost_buffer() -> None:
    assert TrackerConfig(lost_buffer=30, frame_rate=10.0).max_lost_frames == 10
    assert TrackerConfig(lost_buffer=30, frame_rate=60.0).max_lost_frames == 60


def test_low_score_detection_continues_a_track_in_the_second_stage() -> None:
    tracker = ByteTracker(TrackerConfig(high_threshold=0.5, low_threshold=0.1))
    for t in range(5):
        out = tracker.update(frame([(100 + 2 * t, 100)], [0.9]))
    track = int(out.tracker_id[0])
    # Occluded: the detector is unsure, but the box is where the track goes.
    for t in range(5, 10):
        out = tracker.update(frame([(100 + 2 * t, 100)], [0.2]))
        assert out.tracker_id.tolist() == [track]
        assert out.confidence.tolist() == pytest.approx([0.2])
    # A low-score box far from every track starts nothing.
    assert len(tracker.update(frame([(100 + 2 * 10, 100), (500, 300)], [0.9, 0.3]))) == 1
    assert tracker.track_count == 1


def test_low_score_detections_alone_never_start_tracks() -> None:
    tracker = ByteTracker()
    for _ in range(5):
        assert len(tracker.update_all(frame([(100, 100)], [0.3])).detections) == 0
    assert tracker.track_count == 0


def test_unconfirmed_tracks_have_unique_ids_and_are_not_returned() -> None:
    tracker = ByteTracker(TrackerConfig(min_hits=3, confirm_first_frame=False))
    centres = [(50.0 + 60 * i, 100.0) for i in range(7)]
    first = tracker.update_all(frame(centres))
    assert len(first.detections) == 7
    assert not first.confirmed.any()
    ids = first.detections.tracker_id.tolist()
    assert len(set(ids)) == 7
    assert min(ids) > 0
    assert len(tracker.update(frame(centres))) == 0  # second hit: still tentative
    third = tracker.update_all(frame(centres))
    assert third.confirmed.all()
    assert third.detections.tracker_id.tolist() == ids  # a track keeps its id when confirmed
    with pytest.raises(ValueError, match="read-only"):
        third.confirmed[0] = False


def test_tentative_tracks_that_miss_a_frame_are_dropped() -> None:
    tracker = ByteTracker(TrackerConfig(confirm_first_frame=False))
    tracker.update(frame([(100, 100)]))
    tracker.update(frame([]))
    out = tracker.update_all(frame([(100, 100)]))
    assert not out.confirmed.any()
    assert out.detections.tracker_id.tolist() == [2]


def test_first_frame_confirms_at_once_only_when_configured() -> None:
    assert len(ByteTracker().update(frame([(100, 100)]))) == 1
    quiet = ByteTracker(TrackerConfig(confirm_first_frame=False))
    assert len(quiet.update(frame([(100, 100)]))) == 0


@pytest.mark.parametrize(
    ("class_consistent", "expect_same"), [(True, False), (False, True)], ids=["strict", "loose"]
)
def test_class_consistent_matching(class_consistent: bool, expect_same: bool) -> None:
    tracker = ByteTracker(TrackerConfig(class_consistent=class_consistent, min_hits=1))
    a = tracker.update(frame([(100, 100)], classes=[0]))
    b = tracker.update(frame([(101, 100)], classes=[1]))
    assert (a.tracker_id.tolist() == b.tracker_id.tolist()) is expect_same


def test_input_is_never_mutated() -> None:
    tracker = ByteTracker()
    dets = frame([(100, 100), (200, 100)], [0.9, 0.3])
    before = {k: np.array(getattr(dets, k)) for k in ("xyxy", "confidence", "class_id")}
    before_ids = dets.tracker_id.copy()
    for _ in range(3):
        out = tracker.update(dets)
        all_ = tracker.update_all(dets)
    for key, value in before.items():
        np.testing.assert_array_equal(getattr(dets, key), value)
    np.testing.assert_array_equal(dets.tracker_id, before_ids)
    assert (out.tracker_id > 0).all()
    assert (all_.detections.tracker_id > 0).all()
    assert not out.tracker_id.flags.writeable


def test_empty_frames_and_empty_input() -> None:
    tracker = ByteTracker()
    for _ in range(3):
        out = tracker.update(Detections.empty())
        assert len(out) == 0
        assert out.tracker_id.dtype == np.int64
    assert len(tracker.update(frame([(100, 100)]))) == 0  # not the first frame: tentative
    assert len(tracker.update(frame([(100, 100)]))) == 1
    assert len(tracker.update(Detections.empty())) == 0
    assert tracker.track_count == 1  # lost, not forgotten


def test_reset_forgets_tracks_and_restarts_ids() -> None:
    tracker = ByteTracker()
    tracker.update(frame([(100, 100), (300, 100)]))
    tracker.reset()
    assert tracker.track_count == 0
    assert tracker.update(frame([(500, 300)])).tracker_id.tolist() == [1]


def test_output_keeps_input_order_and_metadata() -> None:
    tracker = ByteTracker()
    dets = make_detections([box(300, 100), box(100, 100)], [0.8, 0.9], model="m@2")
    out = tracker.update(dets)
    np.testing.assert_array_equal(out.xyxy, dets.xyxy)
    assert out.model == "m@2"
    assert out.class_names == dets.class_names
    assert out.tracker_id.tolist() == [1, 2]


@SOLVERS
def test_ids_stay_unique_in_a_crowd(assign: Assign) -> None:
    rng = np.random.default_rng(7)
    tracker = ByteTracker(assign=assign)
    start = rng.uniform(0, 600, size=(30, 2))
    velocity = rng.uniform(-3, 3, size=(30, 2))
    for t in range(50):
        centres = [(float(x), float(y)) for x, y in start + t * velocity]
        keep = rng.random(30) > 0.1
        out = tracker.update(frame([c for c, k in zip(centres, keep, strict=True) if k]))
        ids = out.tracker_id.tolist()
        assert len(ids) == len(set(ids))
        assert all(i > 0 for i in ids)


def test_appearance_embeddings_disambiguate_a_swap() -> None:
    """Two boxes that IoU alone would swap keep their ids when appearance is given."""
    config = TrackerConfig(min_hits=1, appearance_weight=0.9)
    red, blue = np.array([[1.0, 0.0]]), np.array([[0.0, 1.0]])
    tracker = ByteTracker(config)
    # Two overlapping, nearly identical boxes standing still.
    a, b = (100.0, 100.0), (104.0, 100.0)
    first = tracker.update(frame([a, b]), np.vstack([red, blue]))
    red_id, blue_id = first.tracker_id.tolist()
    # Next frame the red object is where the blue one was and vice versa.
    out = tracker.update(frame([a, b]), np.vstack([blue, red]))
    assert out.tracker_id.tolist() == [blue_id, red_id]
    # Without appearance the same scene keeps the positions' ids.
    plain = ByteTracker(config)
    plain.update(frame([a, b]))
    assert plain.update(frame([a, b])).tracker_id.tolist() == [red_id, blue_id]


def test_embeddings_are_validated() -> None:
    tracker = ByteTracker()
    with pytest.raises(ValidationError, match="shape"):
        tracker.update(frame([(100, 100)]), np.zeros((2, 4)))
    with pytest.raises(ValidationError, match="NaN"):
        tracker.update(frame([(100, 100)]), np.full((1, 4), np.nan))
    tracker.update(frame([(100, 100)]), np.ones((1, 4)))
    with pytest.raises(ValidationError, match="dimensions"):
        tracker.update(frame([(100, 100)]), np.ones((1, 3)))


@pytest.mark.parametrize(
    "kwargs",
    [
        {"high_threshold": 1.5},
        {"low_threshold": 0.7, "high_threshold": 0.5},
        {"min_hits": 0},
        {"lost_buffer": -1},
        {"frame_rate": 0.0},
        {"appearance_weight": -0.1},
    ],
    ids=["high-range", "low-above-high", "min-hits", "buffer", "frame-rate", "appearance"],
)
def test_config_rejects_bad_values(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValidationError):
        TrackerConfig(**kwargs)  # type: ignore[arg-type]


def grid(count: int, column: int = 0) -> list[tuple[float, float]]:
    """Centres of ``count`` boxes that never overlap, in a grid starting at ``column``."""
    return [
        (50.0 + 40 * ((column + i) % 25), 50.0 + 80 * ((column + i) // 25)) for i in range(count)
    ]


@pytest.mark.parametrize("with_embeddings", [False, True], ids=["plain", "embeddings"])
def test_track_buffers_grow_and_compact_without_changing_ids(with_embeddings: bool) -> None:
    tracker = ByteTracker(TrackerConfig(lost_buffer=2))
    start = tracker.capacity

    def step(centres: list[tuple[float, float]]) -> list[int]:
        emb = np.eye(len(centres), 64) if with_embeddings else None
        return [int(i) for i in tracker.update(frame(centres), emb).tracker_id]

    crowd = grid(3 * start)  # more new tracks in one frame than twice the buffer
    ids = step(crowd)
    assert ids == list(range(1, 3 * start + 1))
    assert tracker.capacity >= tracker.track_count == 3 * start
    half = crowd[: len(crowd) // 2]
    for _ in range(4):  # the other half is lost, then removed after the buffer
        assert step(half) == ids[: len(half)]
    assert tracker.track_count == len(half)
    grown = tracker.capacity
    # Freed columns are reused: newcomers get fresh ids and the buffers keep their size.
    newcomers = grid(5, column=len(crowd))
    assert step(half + newcomers) == ids[: len(half)]  # newcomers are tentative
    fresh = list(range(len(crowd) + 1, len(crowd) + 6))
    assert step(half + newcomers) == ids[: len(half)] + fresh
    assert tracker.capacity == grown


def test_tracks_matched_in_different_stages_are_corrected_in_place() -> None:
    """A confirmed track (first stage) and a tentative one (third stage) in one frame."""
    tracker = ByteTracker(TrackerConfig(min_hits=3, confirm_first_frame=False))
    for t in range(3):
        tracker.update(frame([(100 + 3 * t, 100)]))
    for t in range(3, 8):
        out = tracker.update_all(frame([(100 + 3 * t, 100), (400 - 2 * t, 200)]))
        assert out.detections.tracker_id.tolist() == [1, 2]
    assert out.confirmed.tolist() == [True, True]
    # Both boxes were followed: the prediction lands on the next detection exactly.
    nxt = tracker.update(frame([(100 + 3 * 8, 100), (400 - 2 * 8, 200)]))
    assert nxt.tracker_id.tolist() == [1, 2]

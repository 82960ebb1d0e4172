"""Getting tracks back: camera-motion compensation, re-update after occlusion, momentum."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from argus.domain.detections import Detections
from argus.domain.tracking import ByteTracker, TrackerConfig
from argus.domain.tracking.kalman import BoxKalman, warp_boxes, warp_states
from argus.domain.tracking.recovery import estimate_shift, momentum, recover, reupdate
from tests.factories import make_detections


def box(cx: float, cy: float, w: float = 20.0, h: float = 40.0) -> list[float]:
    return [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2]


def frame(
    centres: Sequence[tuple[float, float]], scores: Sequence[float] | None = None
) -> Detections:
    if not centres:
        return Detections.empty(("person", "car"))
    return make_detections([box(x, y) for x, y in centres], scores)


def centre(out: Detections, track_id: int) -> tuple[float, float]:
    row = out.xyxy[list(out.tracker_id).index(track_id)]
    return float(row[0] + row[2]) / 2, float(row[1] + row[3]) / 2


def test_warp_moves_centres_velocities_and_scales_sizes() -> None:
    kalman = BoxKalman()
    state = kalman.initiate(np.array([[100.0, 50.0, 20.0, 40.0]]))
    state[1] = [[2.0, 0.0, 0.0, 0.0]]
    variance = state[2].copy()
    # Zoom by 2 about the origin and shift by (10, -5).
    warp_states(state, np.array([[2.0, 0.0, 10.0], [0.0, 2.0, -5.0]]))
    np.testing.assert_allclose(state[0], [[210.0, 95.0, 40.0, 80.0]])
    np.testing.assert_allclose(state[1], [[4.0, 0.0, 0.0, 0.0]])
    np.testing.assert_allclose(state[2], variance * 4.0)
    boxes = np.array([[100.0, 50.0, 20.0, 40.0]])
    warp_boxes(boxes, np.array([[2.0, 0.0, 10.0], [0.0, 2.0, -5.0]]))
    np.testing.assert_allclose(boxes, [[210.0, 95.0, 40.0, 80.0]])


def _panned_run(tracker: ByteTracker, *, give_warp: bool) -> set[int]:
    """Five people standing still while the camera jumps 30 px right every 5th frame."""
    people = [(100.0, 100.0), (200.0, 120.0), (300.0, 90.0), (400.0, 110.0), (500.0, 100.0)]
    offset = 0.0
    ids: set[int] = set()
    for t in range(40):
        step = 30.0 if t and t % 5 == 0 else 0.0
        offset -= step
        warp = np.array([[1.0, 0.0, -step], [0.0, 1.0, 0.0]]) if give_warp else None
        out = tracker.update(frame([(x + offset, y) for x, y in people]), warp=warp)
        ids.update(int(i) for i in out.tracker_id)
    return ids


def test_a_warp_from_the_frames_keeps_ids_through_camera_jumps() -> None:
    blind = ByteTracker(TrackerConfig(box_motion=False))
    assert len(_panned_run(blind, give_warp=False)) > 5  # each jump breaks every track
    assert len(_panned_run(ByteTracker(), give_warp=True)) == 5


def test_without_frames_the_shift_is_estimated_from_the_boxes() -> None:
    assert len(_panned_run(ByteTracker(TrackerConfig(box_motion=True)), give_warp=False)) == 5


def test_shift_estimate_needs_agreeing_votes() -> None:
    tracks = np.array([[100.0, 100.0, 20.0, 40.0], [200.0, 100.0, 20.0, 40.0], [300, 100, 20, 40]])
    shift = estimate_shift(tracks, tracks + np.array([25.0, -3.0, 0.0, 0.0]))
    assert shift is not None
    np.testing.assert_allclose(shift, [25.0, -3.0])
    # People walking their own ways: no common motion.
    scattered = tracks + np.array([[20.0, 0, 0, 0], [-20.0, 0, 0, 0], [0.0, 25.0, 0, 0]])
    assert estimate_shift(tracks, scattered) is None
    assert estimate_shift(tracks[:2], tracks[:2]) is None  # too few votes


def test_reupdate_gives_the_velocity_that_was_observed() -> None:
    kalman = BoxKalman()
    saved = kalman.initiate(np.array([[100.0, 100.0, 20.0, 40.0]]))
    last = np.array([[100.0, 100.0, 20.0, 40.0]])
    # Seen again 10 frames later, 50 px to the right: 5 px per frame.
    out = reupdate(kalman, saved, last, np.array([[150.0, 100.0, 20.0, 40.0]]), np.array([10]))
    assert out[0, 0, 0] == pytest.approx(150.0, abs=2.0)
    assert 3.0 < out[1, 0, 0] <= 5.5


def test_a_track_found_after_an_occlusion_continues_with_the_observed_speed() -> None:
    tracker = ByteTracker(TrackerConfig(min_hits=1))
    for t in range(10):
        tracker.update(frame([(100.0 + 2 * t, 100.0)]))
    for _ in range(5):  # hidden, while it speeds up to 3 px per frame
        tracker.update(frame([]))
    x = 118.0 + 3 * 6
    out = tracker.update(frame([(x, 100.0)]))
    assert list(out.tracker_id) == [1]
    for step in range(1, 6):
        out = tracker.update(frame([(x + 3 * step, 100.0)]))
        assert list(out.tracker_id) == [1]
    # The filter followed what it saw: the smoothed box is where the person is.
    assert centre(out, 1)[0] == pytest.approx(x + 15, abs=1.5)


def test_momentum_prefers_the_direction_of_travel() -> None:
    kalman = BoxKalman()
    state = kalman.initiate(np.array([[100.0, 100.0, 20.0, 40.0]]))
    state[1, 0, 0] = 4.0  # moving right
    last = np.array([[100.0, 100.0, 20.0, 40.0]])
    dets = np.array([[110.0, 100.0, 20.0, 40.0], [90.0, 100.0, 20.0, 40.0]])
    ahead, behind = momentum(state, last, dets)[0]
    assert ahead == pytest.approx(0.5)
    assert behind == pytest.approx(-0.5)
    state[1] = 0.0  # at rest: no preference
    np.testing.assert_array_equal(momentum(state, last, dets), 0.0)


def test_recover_admits_only_plausible_pairs() -> None:
    kalman = BoxKalman()
    state = kalman.initiate(np.array([[100.0, 100.0, 20.0, 40.0]]))
    state[1, 0, 0] = 3.0
    for _ in range(10):
        kalman.predict(state, None)
    last = np.array([[100.0, 100.0, 20.0, 40.0]])
    dets = np.array(
        [
            [132.0, 100.0, 20.0, 40.0],  # where it should be
            [60.0, 100.0, 20.0, 40.0],  # behind it
            [132.0, 100.0, 20.0, 90.0],  # twice as tall
            [400.0, 100.0, 20.0, 40.0],  # far away
        ]
    )
    ok, sim = recover(state, last, dets, gate=9.21, kalman=kalman)
    rows, cols = ok.nonzero()
    assert list(zip(rows.tolist(), cols.tolist(), strict=True)) == [(0, 0)]
    assert sim.shape == (1, 4)


def test_smoothed_boxes_are_steadier_than_the_detections() -> None:
    rng = np.random.default_rng(7)
    raw, smooth = [], []
    tracker = ByteTracker(TrackerConfig(min_hits=1))
    for t in range(60):
        cx = 100.0 + 3 * t + rng.normal(0.0, 2.0)
        raw.append(cx)
        out = tracker.update(frame([(cx, 100.0)]))
        smooth.append(centre(out, 1)[0])
    truth = 100.0 + 3 * np.arange(60)
    assert np.std(np.array(smooth[10:]) - truth[10:]) < np.std(np.array(raw[10:]) - truth[10:])
    plain = ByteTracker(TrackerConfig(min_hits=1, smooth_boxes=False))
    out = plain.update(frame([(raw[0], 100.0)]))
    assert centre(out, 1)[0] == pytest.approx(raw[0], abs=1e-3)


def test_buffered_iou_keeps_a_track_whose_boxes_stopped_overlapping() -> None:
    def run(buffer: float) -> set[int]:
        tracker = ByteTracker(TrackerConfig(buffer=buffer, box_motion=False, recovery_gate=0.0))
        ids: set[int] = set()
        for t in range(6):
            tracker.update(frame([(100.0 + 4 * t, 100.0)]))
        # A dropped frame or two: the next box no longer overlaps the prediction.
        out = tracker.update(frame([(140.0, 100.0)]))
        ids.update(int(i) for i in out.tracker_id)
        out = tracker.update(frame([(144.0, 100.0)]))
        ids.update(int(i) for i in out.tracker_id)
        return ids

    assert run(0.5) == {1}
    assert run(0.0) != {1}


def test_confident_detections_correct_the_filter_more() -> None:
    kalman = BoxKalman()
    start = np.array([[100.0, 100.0, 20.0, 40.0]])
    measured = np.array([[110.0, 100.0, 20.0, 40.0]])
    sure, doubtful = kalman.initiate(start), kalman.initiate(start)
    kalman.update(sure, measured, np.array([[0.25]]))
    kalman.update(doubtful, measured, np.array([[2.0]]))
    assert 100.0 < doubtful[0, 0, 0] < sure[0, 0, 0] < 110.0


@pytest.mark.parametrize(
    "kwargs",
    [
        {"buffer": -1.0},
        {"recovery_gate": -1.0},
        {"momentum_weight": -1},
    ],
)
def test_bad_settings_are_refused(kwargs: dict[str, float]) -> None:
    from argus.domain.errors import ValidationError

    with pytest.raises(ValidationError):
        TrackerConfig(**kwargs)  # type: ignore[arg-type]

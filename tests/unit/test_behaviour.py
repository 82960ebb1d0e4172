"""Speed in px/s and m/s (through a ground homography) and running episodes."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from argus.domain.analytics import (
    GroundPlane,
    RunningDetector,
    SpeedEstimator,
    apply_homography,
    homography_from_quads,
)
from argus.domain.detections import Detections
from argus.domain.errors import ConfigError
from argus.domain.events import Running
from tests.factories import make_detections

# A camera looking down at the ground at an angle: metres -> pixels, with perspective.
GROUND_TO_IMAGE = np.array([[80.0, 12.0, 300.0], [5.0, 30.0, 200.0], [0.002, 0.03, 1.0]])
GROUND_QUAD = [(0.0, 0.0), (10.0, 0.0), (10.0, 20.0), (0.0, 20.0)]


def _to_image(ground: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    return apply_homography(GROUND_TO_IMAGE, ground)


IMAGE_QUAD = _to_image(np.asarray(GROUND_QUAD)).tolist()


def _feet_box(x: float, y: float) -> list[float]:
    return [x - 10, y - 40, x + 10, y]


def _walk(
    analytic: SpeedEstimator | RunningDetector,
    image_points: npt.NDArray[np.float64],
    fps: float,
    track: int = 1,
) -> list[Any]:
    results = []
    for i, (x, y) in enumerate(image_points):
        dets = make_detections([_feet_box(x, y)], tracker_id=[track])
        results.append(analytic.trigger(dets, i / fps))
    return results


def test_homography_maps_the_quad_and_the_grid() -> None:
    matrix = homography_from_quads(IMAGE_QUAD, GROUND_QUAD)
    assert matrix[2, 2] == 1.0
    grid = np.asarray([(x, y) for x in range(11) for y in range(0, 21, 2)], dtype=np.float64)
    back = apply_homography(matrix, _to_image(grid))
    np.testing.assert_allclose(back, grid, atol=1e-6)
    expected = np.linalg.inv(GROUND_TO_IMAGE)
    np.testing.assert_allclose(matrix, expected / expected[2, 2], rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize(
    ("image", "ground"),
    [
        ([(0, 0), (1, 0), (2, 0), (0, 1)], GROUND_QUAD),
        ([(0, 0), (1, 0), (1, 1)], GROUND_QUAD[:3]),
        ([(0, 0), (1, 0), (1, 1), (0, float("inf"))], GROUND_QUAD),
    ],
    ids=["collinear", "three-points", "infinite"],
)
def test_degenerate_quads_are_rejected(
    image: list[tuple[float, float]], ground: list[tuple[float, float]]
) -> None:
    with pytest.raises(ConfigError):
        homography_from_quads(image, ground)


def test_speed_in_pixels_per_second() -> None:
    fps = 10.0
    xs = 100.0 + 50.0 * np.arange(30) / fps  # 50 px/s to the right
    points = np.stack([xs, np.full_like(xs, 300.0)], axis=1)
    results = _walk(SpeedEstimator(window_seconds=1.0), points, fps)
    speeds = np.asarray([r.speed[0] for r in results])
    assert np.isnan(speeds[:5]).all()  # less than min_span (half the window) of history
    np.testing.assert_allclose(speeds[5:], 50.0, rtol=1e-6)
    assert all(r.unit == "px/s" for r in results)


def test_speed_is_smoothed_against_jitter() -> None:
    rng = np.random.default_rng(0)
    fps = 25.0
    n = 100
    xs = 200.0 + 40.0 * np.arange(n) / fps + rng.normal(0, 2.0, n)
    points = np.stack([xs, np.full(n, 300.0)], axis=1)
    results = _walk(SpeedEstimator(window_seconds=1.0), points, fps)
    speeds = np.asarray([r.speed[0] for r in results[30:]])
    assert np.all(np.abs(speeds - 40.0) < 6.0)


def test_speed_in_metres_per_second_through_the_ground_plane() -> None:
    fps = 10.0
    t = np.arange(40) / fps
    # Walk diagonally across the metric grid at 2 m/s: (1.2, 1.6) m/s.
    ground = np.stack([1.0 + 1.2 * t, 2.0 + 1.6 * t], axis=1)
    plane = GroundPlane.from_quads(IMAGE_QUAD, GROUND_QUAD)
    results = _walk(SpeedEstimator(homography=plane), _to_image(ground), fps)
    speeds = np.asarray([r.speed[0] for r in results[10:]])
    np.testing.assert_allclose(speeds, 2.0, rtol=1e-6)
    assert results[-1].unit == "m/s"
    # The same walk in pixels is not uniform: perspective changes the pixel speed.
    px = _walk(SpeedEstimator(), _to_image(ground), fps)
    px_speeds = np.asarray([r.speed[0] for r in px[10:]])
    assert px_speeds.max() - px_speeds.min() > 1.0


def test_running_once_per_episode_in_metres() -> None:
    fps = 10.0
    # walk 1 m/s for 3 s, run 4 m/s for 2 s, walk 1 m/s for 3 s, run again for 2 s.
    speeds = [1.0] * 30 + [4.0] * 20 + [1.0] * 30 + [4.0] * 20
    x = np.concatenate([[0.0], np.cumsum(np.asarray(speeds) / fps)])[:-1]
    ground = np.stack([np.full_like(x, 5.0), 1.0 + x * 0.9], axis=1)  # 0.9 of the speed along y
    detector = RunningDetector(speed_m_s=2.5, homography=(IMAGE_QUAD, GROUND_QUAD))
    results = _walk(detector, _to_image(ground), fps, track=8)
    events = [(i, e) for i, r in enumerate(results) for e in r.events]
    assert len(events) == 2
    first_frame, first = events[0]
    assert 30 < first_frame < 50
    assert 80 < events[1][0] < 100
    assert isinstance(first, Running)
    assert first.unit == "m/s"
    assert first.threshold == 2.5
    assert first.speed > 2.5
    assert first.track_id == 8
    assert first.payload()["unit"] == "m/s"
    assert first.payload()["confidence"] == 0.9  # the factory's default score


def test_running_in_pixels_ignores_slow_tracks_and_untracked_boxes() -> None:
    detector = RunningDetector(speed_px_s=100.0, window_seconds=0.5)
    fast = 0.0
    events: list[Running] = []
    for i in range(20):
        fast += 20.0  # 200 px/s at 10 fps
        dets = make_detections(
            [_feet_box(fast, 100), _feet_box(50 + i, 300), _feet_box(fast, 500)],
            tracker_id=[1, 2, -1],
            class_id=[0, 0, 1],
            confidence=[0.5 + i / 64, 0.25, 0.125],
        )
        result = detector.trigger(dets, i / 10)
        events += result.events
        assert np.isnan(result.speed[2])
    assert [e.track_id for e in events] == [1]
    # The score of the running track in the frame that passed the threshold.
    assert [e.confidence for e in events] == [0.5 + events[0].timestamp * 10 / 64]
    assert events[0].payload()["confidence"] == round(events[0].confidence, 3)
    assert detector.running_ids == frozenset({1})


def test_state_stays_bounded_after_many_ids() -> None:
    detector = RunningDetector(speed_px_s=50.0, max_missing_frames=3)
    for i in range(2000):
        detector.trigger(make_detections([_feet_box(i, 100)], tracker_id=[i]), i / 10)
    assert len(detector.estimator.track_ids) <= 4
    assert len(detector.running_ids) <= 4


def test_repeated_timestamps_do_not_divide_by_zero() -> None:
    estimator = SpeedEstimator(window_seconds=0.2, min_span_seconds=0.1)
    for x in (0.0, 10.0, 20.0):
        result = estimator.trigger(make_detections([_feet_box(x, 50)], tracker_id=[1]), 1.0)
    assert np.isnan(result.speed[0])
    result = estimator.trigger(make_detections([_feet_box(40, 50)], tracker_id=[1]), 1.2)
    assert result.speed[0] == pytest.approx(100.0)


def test_input_is_not_mutated_and_speeds_are_read_only() -> None:
    dets = make_detections([_feet_box(1, 2)], tracker_id=[1])
    before = dets.xyxy.copy()
    result = SpeedEstimator().trigger(dets, 0.0)
    np.testing.assert_array_equal(dets.xyxy, before)
    with pytest.raises(ValueError, match="read-only"):
        result.speed[0] = 1.0
    assert SpeedEstimator().trigger(Detections.empty(), 0.0).speed.shape == (0,)


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"speed_px_s": 1.0, "speed_m_s": 1.0, "homography": (IMAGE_QUAD, GROUND_QUAD)},
        {"speed_m_s": 1.0},
        {"speed_px_s": -1.0},
        {"speed_px_s": 1.0, "rearm_ratio": 0.0},
        {"speed_px_s": 1.0, "window_seconds": 0.0},
        {"speed_px_s": 1.0, "window_seconds": 1.0, "min_span_seconds": 2.0},
    ],
    ids=[
        "no-threshold",
        "two-thresholds",
        "metres-without-homography",
        "negative",
        "zero-rearm",
        "zero-window",
        "span-over-window",
    ],
)
def test_bad_arguments(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ConfigError):
        RunningDetector(**kwargs)

"""PolygonZone: the supervision cases, enter/exit, dwell, loitering, crowding, bounded state."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from argus.domain.analytics import PolygonZone, ZoneEvent, points_in_polygon
from argus.domain.detections import Detections
from argus.domain.errors import ConfigError
from argus.domain.events import Crowding, Loitering, ZoneEntered, ZoneExited
from tests.factories import make_detections

CASES_FILE = Path(__file__).resolve().parents[1] / "fixtures" / "supervision_polygonzone_cases.json"
CASES: dict[str, Any] = json.loads(CASES_FILE.read_text(encoding="utf-8"))
SQUARE = [(0.0, 0.0), (10.0, 0.0), (10.0, 10.0), (0.0, 10.0)]


@pytest.mark.parametrize("case", CASES["cases"], ids=[c["id"] for c in CASES["cases"]])
def test_supervision_cases(case: dict[str, Any]) -> None:
    zone = PolygonZone(case["polygon"], anchors=case["triggering_anchors"])
    dets = make_detections(case["boxes_xyxy"])
    result = zone.trigger(dets, 0.0)
    assert result.inside.tolist() == case["expected_in_zone"]
    assert result.occupancy == sum(case["expected_in_zone"])
    assert zone.contains(dets).tolist() == case["expected_in_zone"]


@pytest.mark.parametrize(
    ("point", "inside"),
    [
        ((5, 5), True),
        ((0, 0), True),
        ((10, 5), True),
        ((5, 10), True),
        ((10.001, 5), False),
        ((-1, -1), False),
        ((5, -0.001), False),
    ],
    ids=["centre", "vertex", "right-edge", "bottom-edge", "just-outside", "outside", "above"],
)
def test_point_in_polygon_counts_the_boundary(point: tuple[float, float], inside: bool) -> None:
    mask = points_in_polygon(np.asarray([point], dtype=np.float64), np.asarray(SQUARE))
    assert mask.tolist() == [inside]


def test_point_in_a_concave_polygon() -> None:
    # A "U": the notch between the arms is outside.
    u_shape = np.asarray([(0, 0), (3, 0), (3, 5), (6, 5), (6, 0), (9, 0), (9, 9), (0, 9)], float)
    points = np.asarray([(1, 1), (4.5, 2), (4.5, 7), (7, 1), (10, 5)], float)
    assert points_in_polygon(points, u_shape).tolist() == [True, False, True, True, False]


def _box(x: float, y: float) -> list[float]:
    """A 2-pixel box whose bottom-centre is ``(x, y)``."""
    return [x - 1, y - 2, x + 1, y]


def _frames(
    zone: PolygonZone, positions: Sequence[Sequence[tuple[int, float, float]]], dt: float = 1.0
) -> list[list[ZoneEvent]]:
    """Feed frames of (track, x, y); return the events of each frame."""
    out = []
    for i, frame in enumerate(positions):
        if frame:
            dets = make_detections(
                [_box(x, y) for _, x, y in frame], tracker_id=[t for t, _, _ in frame]
            )
        else:
            dets = Detections.empty()
        out.append(list(zone.trigger(dets, i * dt).events))
    return out


IN, OUT = (5.0, 5.0), (20.0, 5.0)


def _kinds(events: list[list[ZoneEvent]]) -> list[str]:
    return ["|".join(f"{type(e).__name__}" for e in frame) if frame else "-" for frame in events]


@pytest.mark.parametrize(
    ("min_frames", "path", "expected"),
    [
        (1, [OUT, IN, IN, OUT], ["-", "ZoneEntered", "-", "ZoneExited"]),
        (1, [IN, OUT], ["ZoneEntered", "ZoneExited"]),
        (
            2,
            [OUT, IN, OUT, IN, IN, OUT, OUT],
            ["-", "-", "-", "-", "ZoneEntered", "-", "ZoneExited"],
        ),
        (2, [IN, IN, OUT, IN, OUT, IN], ["-", "ZoneEntered", "-", "-", "-", "-"]),
        (3, [OUT, IN, IN, IN, OUT], ["-", "-", "-", "ZoneEntered", "-"]),
    ],
    ids=["enter-exit", "appears-inside", "two-frames-jitter", "two-frames-stays", "three-frames"],
)
def test_enter_and_exit_with_hysteresis(
    min_frames: int, path: list[tuple[float, float]], expected: list[str]
) -> None:
    zone = PolygonZone(SQUARE, min_frames=min_frames)
    events = _frames(zone, [[(1, x, y)] for x, y in path])
    assert _kinds(events) == expected


def test_dwell_and_exit_fields() -> None:
    zone = PolygonZone(SQUARE, name="till", min_frames=2)
    names = ("person", "car")
    stream = [OUT, IN, IN, IN, OUT, OUT]
    scores = [0.5, 0.75, 0.875, 0.625, 0.25, 0.375]
    dwells = []
    events: list[ZoneEvent] = []
    for i, (x, y) in enumerate(stream):
        dets = make_detections(
            [_box(x, y)], class_id=[0], tracker_id=[3], class_names=names, confidence=[scores[i]]
        )
        result = zone.trigger(dets, 10.0 + 0.5 * i)
        dwells.append(float(result.dwell[0]))
        events += result.events
    # Entry confirmed at t=11.0 (2nd inside frame) but dated from the first, t=10.5.
    assert dwells == [0.0, 0.0, 0.5, 1.0, 1.5, 0.0]
    # Each event carries the score of the frame that confirmed it.
    assert events == [
        ZoneEntered("till", 3, 0, "person", 11.0, confidence=0.875),
        ZoneExited(
            "till", 3, 0, "person", 12.5, dwell_seconds=1.5, reason="left", confidence=0.375
        ),
    ]
    assert events[1].payload()["confidence"] == 0.375
    assert zone.visits == 1


def test_loitering_once_per_visit() -> None:
    zone = PolygonZone(SQUARE, name="door", loiter_seconds=2.0)
    path = [IN, IN, IN, IN, IN, OUT, IN, IN, IN]
    events = _frames(zone, [[(9, x, y)] for x, y in path])
    loiters = [(i, e) for i, frame in enumerate(events) for e in frame if isinstance(e, Loitering)]
    assert [i for i, _ in loiters] == [2, 8]
    first = loiters[0][1]
    assert first.dwell_seconds == 2.0
    assert first.threshold_seconds == 2.0
    assert first.payload()["zone"] == "door"
    assert first.payload()["confidence"] == 0.9  # the factory's default score


@pytest.mark.parametrize(
    ("occupancies", "fires"),
    [
        ([0, 1, 2, 3, 3, 2], [3]),
        ([3, 3, 1, 3, 2, 4], [0, 3, 5]),
        ([2, 2, 2], []),
    ],
    ids=["rises-once", "re-arms-after-drop", "never-reaches"],
)
def test_crowding_is_edge_triggered(occupancies: list[int], fires: list[int]) -> None:
    zone = PolygonZone(SQUARE, name="queue", crowd_threshold=3)
    fired = []
    for i, n in enumerate(occupancies):
        dets = make_detections([_box(2 + k, 5) for k in range(n)]) if n else Detections.empty()
        result = zone.trigger(dets, float(i))
        assert result.occupancy == n
        crowd = [e for e in result.events if isinstance(e, Crowding)]
        if crowd:
            fired.append(i)
            assert crowd == [Crowding("queue", float(i), n, 3)]
    assert fired == fires
    assert zone.max_occupancy == max(occupancies)


def test_occupancy_per_class_counts_untracked_detections_too() -> None:
    zone = PolygonZone(SQUARE)
    dets = make_detections(
        [_box(2, 5), _box(5, 5), _box(8, 5), _box(30, 5)],
        class_id=[0, 1, 0, 0],
        tracker_id=[-1, 4, 5, 6],
    )
    result = zone.trigger(dets, 0.0)
    assert result.inside.tolist() == [True, True, True, False]
    assert result.occupancy == 3
    assert dict(result.occupancy_per_class) == {0: 2, 1: 1}
    assert dict(zone.occupancy_per_class) == {0: 2, 1: 1}
    assert zone.tracks_inside == frozenset({4, 5})


def test_vanished_tracks_exit_as_lost() -> None:
    zone = PolygonZone(SQUARE, max_missing_frames=2)
    events = _frames(zone, [[(1, *IN)], [(1, *IN)], [], [], []])
    assert _kinds(events) == ["ZoneEntered", "-", "-", "-", "ZoneExited"]
    exited = events[4][0]
    assert isinstance(exited, ZoneExited)
    assert exited.reason == "lost"
    assert exited.dwell_seconds == 1.0  # entered at 0, last seen at 1
    assert exited.timestamp == 4.0
    assert exited.payload()["confidence"] == 0.9  # as last seen (the factory's default)
    assert zone.tracked_count == 0


def test_state_stays_bounded_after_many_ids() -> None:
    zone = PolygonZone(SQUARE, max_missing_frames=3)
    entered = exited = 0
    for i in range(3000):
        result = zone.trigger(make_detections([_box(*IN)], tracker_id=[i]), i * 0.1)
        entered += sum(isinstance(e, ZoneEntered) for e in result.events)
        exited += sum(isinstance(e, ZoneExited) for e in result.events)
    assert zone.tracked_count <= 4
    assert entered == 3000
    assert exited >= 3000 - 4


def test_input_is_not_mutated_and_results_are_read_only() -> None:
    zone = PolygonZone(SQUARE)
    dets = make_detections([_box(*IN)], tracker_id=[1])
    before = dets.xyxy.copy()
    result = zone.trigger(dets, 0.0)
    np.testing.assert_array_equal(dets.xyxy, before)
    with pytest.raises(ValueError, match="read-only"):
        result.inside[0] = False
    with pytest.raises(ValueError, match="read-only"):
        result.dwell[0] = 1.0


@pytest.mark.parametrize(
    ("polygon", "kwargs"),
    [
        ([(0, 0), (1, 1)], {}),
        (SQUARE, {"min_frames": 0}),
        (SQUARE, {"crowd_threshold": 0}),
        (SQUARE, {"loiter_seconds": -1.0}),
        (SQUARE, {"anchors": "NOWHERE"}),
        ([(0, 0), (1, float("nan")), (2, 2)], {}),
    ],
    ids=["two-points", "zero-frames", "zero-crowd", "negative-loiter", "bad-anchor", "nan"],
)
def test_bad_arguments(polygon: list[tuple[float, float]], kwargs: dict[str, Any]) -> None:
    with pytest.raises(ConfigError):
        PolygonZone(polygon, **kwargs)


@pytest.mark.parametrize(
    ("occupancies", "fires"),
    [
        ([3, 2, 3, 2, 3, 2, 2, 2, 2, 3], [0, 9]),
        ([3, 1, 1, 1, 1, 3], [0, 5]),
        ([4, 4, 4, 2, 2, 4], [0]),
    ],
    ids=["flicker-raises-once", "clear-long-enough-rearms", "short-clear-does-not"],
)
def test_crowding_rearms_only_after_a_clear_spell(occupancies: list[int], fires: list[int]) -> None:
    zone = PolygonZone(SQUARE, name="queue", crowd_threshold=3, crowd_clear_seconds=3.0)
    fired = []
    for i, n in enumerate(occupancies):
        dets = make_detections([_box(2 + k, 5) for k in range(n)]) if n else Detections.empty()
        if any(isinstance(e, Crowding) for e in zone.trigger(dets, float(i)).events):
            fired.append(i)
    assert fired == fires

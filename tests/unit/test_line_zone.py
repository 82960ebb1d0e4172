"""LineZone: the supervision cases, hysteresis, extent, classes, wrong way, bounded state."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from argus.domain.analytics import Anchor, LineZone
from argus.domain.detections import Detections
from argus.domain.errors import ConfigError
from argus.domain.events import Direction, LineCrossed, WrongWay
from tests.factories import make_detections

CASES_FILE = Path(__file__).resolve().parents[1] / "fixtures" / "supervision_linezone_cases.json"
CASES: dict[str, Any] = json.loads(CASES_FILE.read_text(encoding="utf-8"))
FOUR_CORNERS = {"TOP_LEFT", "TOP_RIGHT", "BOTTOM_LEFT", "BOTTOM_RIGHT"}
FPS = 10.0


def _frame_detections(frame: list[dict[str, Any]], anchors: Sequence[str]) -> Detections:
    boxes = np.asarray([d["xyxy"] for d in frame], dtype=np.float64).reshape(-1, 4)
    if np.any(boxes[:, 2] < boxes[:, 0]) or np.any(boxes[:, 3] < boxes[:, 1]):
        # A few upstream cases list corners in reverse order, which Detections rejects.
        # With exactly the four corners as anchors, ordering the corners yields the same
        # set of anchor points, so the case is unchanged.
        assert set(anchors) == FOUR_CORNERS
        boxes = np.concatenate(
            [np.minimum(boxes[:, :2], boxes[:, 2:]), np.maximum(boxes[:, :2], boxes[:, 2:])], 1
        )
    return make_detections(
        boxes.tolist(),
        class_id=[d.get("class_id", 0) for d in frame],
        tracker_id=[d["tracker_id"] for d in frame],
        class_names=tuple(f"c{i}" for i in range(10)),
    )


@pytest.mark.parametrize("case", CASES["cases"], ids=[c["id"] for c in CASES["cases"]])
def test_supervision_cases(case: dict[str, Any]) -> None:
    zone = LineZone(
        case["line"]["start"],
        case["line"]["end"],
        anchors=case["triggering_anchors"],
        min_crossing_frames=case["minimum_crossing_threshold"],
    )
    crossed_in, crossed_out, in_counts, out_counts = [], [], [], []
    for index, frame in enumerate(case["frames"]):
        result = zone.trigger(_frame_detections(frame, case["triggering_anchors"]), index / FPS)
        crossed_in.append(result.crossed_in.tolist())
        crossed_out.append(result.crossed_out.tolist())
        in_counts.append(zone.in_count)
        out_counts.append(zone.out_count)
        assert len(result.events) == int(result.crossed_in.sum() + result.crossed_out.sum())
    expected = case["expected"]
    assert {"crossed_in", "in_count", "in_count_per_class"} & set(expected)
    if "crossed_in" in expected:
        assert crossed_in == expected["crossed_in"]
        assert crossed_out == expected["crossed_out"]
    if "in_count" in expected:
        assert in_counts == expected["in_count"]
        assert out_counts == expected["out_count"]
    if "in_count_per_class" in expected:
        assert zone.in_count_per_class == {
            int(k): v for k, v in expected["in_count_per_class"].items()
        }
        assert zone.out_count_per_class == {
            int(k): v for k, v in expected["out_count_per_class"].items()
        }


@pytest.mark.eval
@pytest.mark.parametrize(
    "name", ["supervision_linezone_cases.json", "supervision_polygonzone_cases.json"]
)
def test_fixtures_are_unchanged_copies_of_the_shared_cases(name: str) -> None:
    shared = Path(__file__).resolve().parents[3] / "shared" / "eval" / "zones" / name
    if not shared.is_file():
        pytest.skip(f"{shared} is absent: ../shared/eval is only beside a project checkout")
    assert (CASES_FILE.parent / name).read_bytes() == shared.read_bytes()


@pytest.mark.parametrize(
    "case",
    CASES["region_of_interest_limits"],
    ids=[c["id"] for c in CASES["region_of_interest_limits"]],
)
def test_degenerate_lines_are_rejected(case: dict[str, Any]) -> None:
    start, end = case["line"]["start"], case["line"]["end"]
    if case["expect_error"]:
        with pytest.raises(ConfigError):
            LineZone(start, end)
    else:
        LineZone(start, end)


def _point_box(x: float, y: float, size: float = 2.0) -> list[float]:
    """A box whose bottom-centre is ``(x, y)``."""
    return [x - size / 2, y - size, x + size / 2, y]


def _run(
    zone: LineZone, ys: Sequence[float | None], x: float = 5.0, track: int = 1
) -> list[str | None]:
    """Move one track along ``ys`` (None = not seen); return the crossing per frame."""
    out: list[str | None] = []
    for i, y in enumerate(ys):
        if y is None:
            dets = make_detections([], tracker_id=[])
        else:
            dets = make_detections([_point_box(x, y)], tracker_id=[track])
        result = zone.trigger(dets, i / FPS)
        if result.crossed_in.any():
            out.append("in")
        elif result.crossed_out.any():
            out.append("out")
        else:
            out.append(None)
    return out


# Horizontal line (0,0)->(10,0): y > 0 is the out side, y < 0 the in side.
@pytest.mark.parametrize(
    ("frames", "ys", "expected"),
    [
        (1, [3, -3], [None, "in"]),
        (1, [3, -3, 3, -3], [None, "in", "out", "in"]),
        (2, [3, -3, 3, -3, 3], [None] * 5),
        (2, [3, -3, -3], [None, None, "in"]),
        (2, [3, -3, 3, -3, -3, -3], [None, None, None, None, "in", None]),
        (2, [3, 3, -3, None, -3], [None, None, None, None, "in"]),
        (3, [3, -3, -3, 3, -3, -3, -3], [None] * 6 + ["in"]),
        (3, [3, 3, -3, -3, -3, 3, 3, 3], [None, None, None, None, "in", None, None, "out"]),
        (3, [-3, 3, -3, 3, -3, 3], [None] * 6),
        (2, [3, -3, -3, 3, -3, -3], [None, None, "in", None, None, None]),
        (2, [3, 3, 3, -3, 3, 3, 3], [None] * 7),
    ],
    ids=[
        "one-frame",
        "one-frame-back-and-forth",
        "two-frames-jitter-never-counts",
        "two-frames-holds",
        "two-frames-jitter-then-holds",
        "two-frames-gap-does-not-reset",
        "three-frames-after-a-blip",
        "three-frames-in-then-out",
        "three-frames-jitter",
        "one-frame-dip-after-a-crossing-is-no-second-crossing",
        "one-frame-dip-never-counts",
    ],
)
def test_hysteresis_on_jittery_tracks(
    frames: int, ys: list[float | None], expected: list[str | None]
) -> None:
    zone = LineZone((0, 0), (10, 0), min_crossing_frames=frames)
    assert _run(zone, ys) == expected


@pytest.mark.parametrize(
    ("x", "counts"),
    [(5.0, True), (0.0, True), (10.0, True), (-0.5, False), (10.5, False), (50.0, False)],
    ids=["middle", "at-start", "at-end", "before-start", "past-end", "far-away"],
)
def test_crossings_beyond_the_segment_do_not_count(x: float, counts: bool) -> None:
    zone = LineZone((0, 0), (10, 0))
    assert _run(zone, [3, -3], x=x) == [None, "in" if counts else None]


def test_a_frame_outside_the_band_is_ignored_not_reset() -> None:
    zone = LineZone((0, 0), (10, 0))
    dets = [
        make_detections([_point_box(5, 3)], tracker_id=[1]),
        make_detections([_point_box(20, -3)], tracker_id=[1]),  # beyond the end: ignored
        make_detections([_point_box(5, -3)], tracker_id=[1]),
    ]
    hits = [bool(zone.trigger(d, i / FPS).crossed_in.any()) for i, d in enumerate(dets)]
    assert hits == [False, False, True]


def test_default_anchor_is_bottom_centre() -> None:
    zone = LineZone((0, 0), (10, 0))
    assert zone.anchors == (Anchor.BOTTOM_CENTER,)
    # A tall box whose feet cross while its head stays above the line.
    zone.trigger(make_detections([[4, -20, 6, 2]], tracker_id=[7]), 0.0)
    result = zone.trigger(make_detections([[4, -20, 6, -1]], tracker_id=[7]), 0.1)
    assert result.crossed_in.tolist() == [True]


def test_per_class_counts_and_events() -> None:
    zone = LineZone((0, 0), (10, 0), name="gate")
    names = ("person", "car", "bike")
    zone.trigger(
        make_detections(
            [_point_box(2, 3), _point_box(5, 3), _point_box(8, 3)],
            class_id=[0, 1, 0],
            tracker_id=[1, 2, 3],
            class_names=names,
        ),
        0.0,
    )
    result = zone.trigger(
        make_detections(
            [_point_box(2, -3), _point_box(5, -3), _point_box(8, 3)],
            class_id=[0, 1, 0],
            tracker_id=[1, 2, 3],
            class_names=names,
            confidence=[0.75, 0.625, 0.5],
        ),
        0.5,
    )
    assert result.crossed_in.tolist() == [True, True, False]
    assert zone.in_count == 2
    assert zone.out_count == 0
    assert zone.in_count_per_class == {0: 1, 1: 1}
    assert zone.out_count_per_class == {}
    assert result.events == (
        LineCrossed("gate", 1, 0, "person", "in", 0.5, confidence=0.75),
        LineCrossed("gate", 2, 1, "car", "in", 0.5, confidence=0.625),
    )
    assert result.events[0].payload() == {
        "line": "gate",
        "track_id": 1,
        "class_id": 0,
        "class_name": "person",
        "direction": "in",
        "timestamp": 0.5,
        "confidence": 0.75,
    }


@pytest.mark.parametrize(
    ("expected_direction", "ys", "wrong"),
    [
        ("in", [3, -3], []),
        ("in", [-3, 3], ["out"]),
        ("out", [3, -3, 3], ["in"]),
        (None, [3, -3, 3], []),
    ],
    ids=["allowed-way", "wrong-way", "wrong-then-allowed", "no-rule"],
)
def test_wrong_way(expected_direction: Direction | None, ys: list[float], wrong: list[str]) -> None:
    zone = LineZone((0, 0), (10, 0), name="exit", expected_direction=expected_direction)
    events: list[LineCrossed | WrongWay] = []
    for i, y in enumerate(ys):
        events += zone.trigger(make_detections([_point_box(5, y)], tracker_id=[4]), float(i)).events
    crossings = [e for e in events if isinstance(e, LineCrossed)]
    wrong_ways = [e for e in events if isinstance(e, WrongWay)]
    assert len(crossings) == len(ys) - 1
    assert [e.direction for e in wrong_ways] == wrong
    assert all(e.expected_direction == expected_direction for e in wrong_ways)
    assert all(e.type == "line.wrong_way" for e in wrong_ways)


def test_untracked_detections_never_count() -> None:
    zone = LineZone((0, 0), (10, 0))
    zone.trigger(make_detections([_point_box(5, 3)]), 0.0)
    result = zone.trigger(make_detections([_point_box(5, -3)]), 0.1)
    assert result.crossed_in.tolist() == [False]
    assert zone.tracked_count == 0


def test_input_is_not_mutated_and_masks_are_read_only() -> None:
    zone = LineZone((0, 0), (10, 0))
    dets = make_detections([_point_box(5, 3), _point_box(6, 3)], tracker_id=[1, -1])
    before = (dets.xyxy.copy(), dets.tracker_id.copy(), dets.class_id.copy())
    zone.trigger(dets, 0.0)
    result = zone.trigger(make_detections([_point_box(5, -3)], tracker_id=[1]), 0.1)
    np.testing.assert_array_equal(dets.xyxy, before[0])
    np.testing.assert_array_equal(dets.tracker_id, before[1])
    np.testing.assert_array_equal(dets.class_id, before[2])
    with pytest.raises(ValueError, match="read-only"):
        result.crossed_in[0] = False


def test_empty_frames() -> None:
    zone = LineZone((0, 0), (10, 0))
    result = zone.trigger(Detections.empty(), 0.0)
    assert result.crossed_in.shape == (0,)
    assert result.events == ()


def test_state_stays_bounded_after_many_ids() -> None:
    zone = LineZone((0, 0), (10, 0), max_missing_frames=5)
    for i in range(2000):
        zone.trigger(make_detections([_point_box(5, 3)], tracker_id=[i]), i / FPS)
    assert zone.tracked_count <= 6


def test_tracks_are_forgotten_after_max_missing_seconds() -> None:
    zone = LineZone((0, 0), (10, 0), max_missing_frames=None, max_missing_seconds=1.0)
    zone.trigger(make_detections([_point_box(5, 3)], tracker_id=[1]), 0.0)
    zone.trigger(Detections.empty(), 0.9)
    assert zone.tracked_count == 1
    zone.trigger(Detections.empty(), 1.5)
    assert zone.tracked_count == 0
    # Seen again on the other side: a new track, so its first frame does not count.
    result = zone.trigger(make_detections([_point_box(5, -3)], tracker_id=[1]), 1.6)
    assert not result.crossed_in.any()


def test_in_side_normal_points_to_the_in_side() -> None:
    zone = LineZone((0, 0), (10, 0))
    assert zone.in_side_normal == pytest.approx((0.0, -1.0))


@pytest.mark.parametrize(
    "kwargs",
    [
        {"min_crossing_frames": 0},
        {"expected_direction": "up"},
        {"anchors": ["FEET"]},
        {"anchors": []},
        {"max_missing_frames": None, "max_missing_seconds": None},
    ],
    ids=["zero-frames", "bad-direction", "bad-anchor", "no-anchor", "unbounded"],
)
def test_bad_arguments(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ConfigError):
        LineZone((0, 0), (10, 0), **kwargs)

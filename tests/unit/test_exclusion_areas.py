"""Exclusion areas: the point the pipeline puts on events, and the rules that exclude by it."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from argus.bootstrap.container import make_cued_tracker
from argus.domain.detections import Detections
from argus.domain.errors import ValidationError
from argus.domain.event_payloads import LineCrossed, ZoneEntered
from argus.domain.event_types import check_event
from argus.domain.events import Envelope, EventSource, new_event_id
from argus.domain.exclusion_areas import Area, check_areas, contains, event_point, foot_point
from argus.domain.rules import Rule, RuleEngine
from argus.domain.tracking import TrackerConfig
from argus.scene import parse_scene
from argus.services.analysis import Analyzer
from tests.factories import ListSource, ScriptedDetector, make_detections

T0 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
SQUARE: Area = ((0.2, 0.2), (0.6, 0.2), (0.6, 0.6), (0.2, 0.6))
# An L shape: the square above without its top right quarter.
ELL: Area = ((0.2, 0.2), (0.4, 0.2), (0.4, 0.4), (0.6, 0.4), (0.6, 0.6), (0.2, 0.6))


@pytest.mark.parametrize(
    ("area", "point", "inside"),
    [
        pytest.param(SQUARE, (0.4, 0.4), True, id="centre"),
        pytest.param(SQUARE, (0.1, 0.4), False, id="left-of"),
        pytest.param(SQUARE, (0.4, 0.7), False, id="below"),
        pytest.param(SQUARE, (0.2, 0.4), True, id="on-left-edge"),
        pytest.param(SQUARE, (0.6, 0.6), True, id="on-corner"),
        pytest.param(ELL, (0.5, 0.3), False, id="notch-of-concave"),
        pytest.param(ELL, (0.3, 0.3), True, id="arm-of-concave"),
        pytest.param(ELL, (0.5, 0.5), True, id="foot-of-concave"),
        pytest.param(ELL, (0.5, 0.4), True, id="inner-edge-of-concave"),
    ],
)
def test_contains(area: Area, point: tuple[float, float], inside: bool) -> None:
    assert contains(area, point) is inside


@pytest.mark.parametrize(
    ("value", "message"),
    [
        pytest.param("square", "list of polygons", id="not-a-list"),
        pytest.param([[[0, 0], [1, 0]]], "3 to 64", id="two-corners"),
        pytest.param([[[0, 0], [1, 0], [1.5, 1]]], r"in \[0, 1\]", id="outside-frame"),
        pytest.param([[[0, 0], [1, 0], [True, 1]]], "number", id="bool-coordinate"),
        pytest.param([[[0, 0], [0.5, 0.5], [1, 1]]], "no area", id="collinear"),
        pytest.param([[[0, 0], [1, 0], [1]]], r"\[x, y\] pair", id="short-corner"),
        pytest.param([list(map(list, SQUARE))] * 17, "more than 16", id="too-many"),
    ],
)
def test_bad_areas_are_refused(value: object, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        check_areas(value)


def _rule(**fields: object) -> Rule:
    return Rule(id="r1", name="gate", created_at=T0, updated_at=T0, **fields)  # type: ignore[arg-type]


def _event(**payload: object) -> Envelope:
    body: dict[str, object] = {"track_id": 1, "class_name": "person", "confidence": 0.9}
    body.update(payload)
    return Envelope(new_event_id(T0), "zone.entered", T0, EventSource("edge", "cam"), body)


@pytest.mark.parametrize(
    ("payload", "matches"),
    [
        pytest.param({"point": [0.4, 0.4]}, False, id="inside-excluded"),
        pytest.param({"point": [0.8, 0.8]}, True, id="outside-matches"),
        pytest.param({"point": [0.9, 0.1]}, False, id="inside-second-area"),
        pytest.param({}, True, id="no-point-never-excluded"),
        pytest.param({"point": "0.4,0.4"}, True, id="malformed-point-not-excluded"),
        pytest.param({"point": [0.4, 1.5]}, True, id="out-of-frame-point-not-excluded"),
    ],
)
def test_a_rule_with_areas_ignores_events_inside_them(
    payload: dict[str, object], matches: bool
) -> None:
    corner = [[0.8, 0.0], [1.0, 0.0], [1.0, 0.2], [0.8, 0.2]]
    rule = _rule(exclude_areas=[list(map(list, SQUARE)), corner])
    assert rule.matches(_event(**payload)) is matches
    assert _rule().matches(_event(**payload))  # without areas every one matches
    assert bool(RuleEngine([rule]).evaluate(_event(**payload))) is matches


def test_areas_round_trip_and_old_definitions_have_none() -> None:
    rule = _rule(exclude_areas=[[[0.1, 0.1], [0.3, 0.1], [0.2, 0.3]]])
    assert rule.exclude_areas == (((0.1, 0.1), (0.3, 0.1), (0.2, 0.3)),)
    assert Rule.from_dict(rule.to_dict()) == rule
    old = rule.to_dict()
    del old["exclude_areas"]
    assert Rule.from_dict(old).exclude_areas == ()


@pytest.mark.parametrize(
    ("point", "ok"),
    [
        pytest.param(None, True, id="absent"),
        pytest.param([0.25, 1.0], True, id="valid"),
        pytest.param([0.25], False, id="one-number"),
        pytest.param([0.25, -0.1], False, id="negative"),
        pytest.param(["a", 0.1], False, id="text"),
    ],
)
def test_the_catalogue_takes_a_point_on_tracked_events(point: object, ok: bool) -> None:
    payloads = (
        LineCrossed("door", 7, 0, "person", "in", 1.5, confidence=0.9).payload(),
        ZoneEntered("yard", 7, 0, "person", 1.5, confidence=0.9).payload(),
    )
    for base, kind in zip(payloads, ("line.crossed", "zone.entered"), strict=True):
        payload = base if point is None else {**base, "point": point}
        if ok:
            check_event(kind, payload, max_bytes=4096)
        else:
            with pytest.raises(ValidationError, match=r"payload\.point"):
                check_event(kind, payload, max_bytes=4096)


def test_foot_point_is_the_bottom_centre_of_the_tracks_box() -> None:
    boxes = Detections(
        xyxy=np.array([[10, 20, 30, 60], [100, 0, 140, 130]], dtype=np.float32),
        confidence=np.array([0.9, 0.8], dtype=np.float32),
        class_id=np.array([0, 0], dtype=np.int64),
        tracker_id=np.array([4, 9], dtype=np.int64),
    )
    assert foot_point(boxes, 4, 160, 120) == (0.125, 0.5)
    assert foot_point(boxes, 9, 160, 120) == (0.75, 1.0)  # clamped to the frame
    assert foot_point(boxes, 5, 160, 120) is None
    assert event_point({"point": [0.125, 0.5]}) == (0.125, 0.5)


SCENE = parse_scene(
    """
camera: {id: cam-7, edge_node_id: edge-1}
lines:
  - {name: gate, start: [80, 0], end: [80, 120], min_crossing_frames: 2, classes: [person]}
zones:
  - {name: right, polygon: [[90, 0], [160, 0], [160, 120], [90, 120]]}
"""
)


def test_the_pipeline_puts_the_foot_point_on_tracked_events() -> None:
    names = ("person", "car")
    walker = [
        make_detections(
            [[40 + i * 4.0 - 10, 20, 40 + i * 4.0 + 10, 60]], [0.9], [0], class_names=names
        )
        for i in range(20)
    ]
    tracker = make_cued_tracker(TrackerConfig(frame_rate=10.0))
    analyzer = Analyzer(SCENE, ScriptedDetector(walker, names), tracker, clock=lambda: T0)
    results = list(analyzer.run(ListSource(20)))
    placed = 0
    for result in results:
        for envelope in result.events:
            track = envelope.payload["track_id"]
            assert isinstance(track, int)
            rows = result.detections.tracker_id == track
            x1, _, x2, y2 = (float(v) for v in result.detections.xyxy[rows][0])
            point = envelope.payload["point"]
            assert point == [round((x1 + x2) / 2 / 160, 4), round(y2 / 120, 4)]
            check_event(envelope.type, envelope.payload, max_bytes=4096)
            placed += 1
    assert placed >= 2  # the crossing and the entry
    crossing = next(e for r in results for e in r.events if e.type == "line.crossed")
    assert not _rule(exclude_areas=[[[0.4, 0.4], [0.6, 0.4], [0.6, 0.6], [0.4, 0.6]]]).matches(
        crossing
    )

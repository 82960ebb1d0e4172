"""The analysis pipeline on scripted detections: tracking, counting, zones, envelopes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from argus.bootstrap.container import make_cued_tracker
from argus.domain.detections import Detections
from argus.domain.errors import ConfigError
from argus.domain.events import event_id_time
from argus.domain.tracking import TrackerConfig
from argus.scene import parse_scene
from argus.services.analysis import Analyzer, SceneAnalytics
from tests.factories import ListSource, ScriptedDetector, make_detections

NAMES = ("person", "car")
START = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)

SCENE = parse_scene(
    """
camera: {id: cam-7, edge_node_id: edge-1}
lines:
  - {name: gate, start: [80, 0], end: [80, 120], min_crossing_frames: 2, classes: [person]}
zones:
  - {name: right, polygon: [[90, 0], [160, 0], [160, 120], [90, 120]], loiter_seconds: 0.5}
"""
)


def _walker(steps: int, x0: float, dx: float, class_id: int = 0) -> list[Detections]:
    """One object walking horizontally, a box 20 px wide, feet at y = 60."""
    return [
        make_detections(
            [[x0 + i * dx - 10, 20, x0 + i * dx + 10, 60]], [0.9], [class_id], class_names=NAMES
        )
        for i in range(steps)
    ]


def _analyzer(frames: list[Detections]) -> Analyzer:
    tracker = make_cued_tracker(TrackerConfig(frame_rate=10.0))
    return Analyzer(SCENE, ScriptedDetector(frames, NAMES), tracker, clock=lambda: START)


def test_a_person_walking_across_the_line_is_counted_once_and_enters_the_zone() -> None:
    analyzer = _analyzer(_walker(20, 40.0, 4.0))
    source = ListSource(20)
    results = list(analyzer.run(source))
    assert source.closed
    assert len(results) == 20
    events = [e for r in results for e in r.events]
    types = [e.type for e in events]
    assert types.count("line.crossed") == 1
    assert types.count("zone.entered") == 1
    assert types.count("zone.loitering") == 1
    crossed = next(e for e in events if e.type == "line.crossed")
    # The line runs top to bottom, so its "in" side is the right (east) side.
    assert crossed.payload["direction"] == "in"
    assert crossed.payload["line"] == "gate"
    assert crossed.source.camera_id == "cam-7"
    assert crossed.source.edge_node_id == "edge-1"
    frame_time = float(str(crossed.payload["timestamp"]))
    assert crossed.timestamp == START + timedelta(seconds=frame_time)
    assert abs(event_id_time(crossed.event_id) - crossed.timestamp) < timedelta(milliseconds=1)
    assert analyzer.analytics is not None
    assert analyzer.analytics.summary()["gate"]["in"] == 1
    assert analyzer.analytics.summary()["gate"]["in_per_class"] == {"person": 1}
    assert analyzer.times.frames == 20
    assert analyzer.events == len(events)


def test_line_class_filter_ignores_other_classes() -> None:
    analyzer = _analyzer(_walker(20, 40.0, 4.0, class_id=1))
    events = [e for r in analyzer.run(ListSource(20)) for e in r.events]
    assert "line.crossed" not in [e.type for e in events]
    assert "zone.entered" in [e.type for e in events]


def test_overlays_follow_the_counts() -> None:
    analyzer = _analyzer(_walker(20, 40.0, 4.0))
    for _ in analyzer.run(ListSource(20)):
        pass
    assert analyzer.analytics is not None
    (line,) = analyzer.analytics.line_overlays()
    assert (line.in_count, line.out_count) == (1, 0)
    (zone,) = analyzer.analytics.zone_overlays()
    assert zone.occupancy == 1
    assert zone.alert  # the walker has stayed past loiter_seconds


def test_max_frames_stops_early_and_closes_the_source() -> None:
    analyzer = _analyzer(_walker(20, 40.0, 4.0))
    source = ListSource(20)
    assert len(list(analyzer.run(source, max_frames=5))) == 5
    assert source.closed
    with pytest.raises(ConfigError, match="max_frames"):
        list(analyzer.run(ListSource(2), max_frames=0))


def test_unknown_class_in_the_scene_is_a_config_error() -> None:
    scene = parse_scene("zones: [{name: z, polygon: [[0, 0], [1, 0], [1, 1]], classes: [cat]}]")
    with pytest.raises(ConfigError, match="zone z: unknown class cat"):
        SceneAnalytics(scene, NAMES, 160, 120)

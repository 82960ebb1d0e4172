"""The scene file: strict schema, clear errors naming the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from argus.domain.errors import ConfigError
from argus.scene import Scene, load_scene, parse_scene

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

GOOD = """
version: 1
camera: {id: cam-1, name: Gate}
detect: {model: yolov7-tiny, input_size: 416, fps: 5, classes: [person, car]}
lines:
  - {name: gate, start: [0, 100], end: [200, 100], expected_direction: in}
zones:
  - {name: yard, polygon: [[0, 0], [10, 0], [10, 10]], loiter_seconds: 30, crowd_threshold: 3}
running: {speed_m_s: 3.0, homography: {image: [[0, 0], [1, 0], [1, 1], [0, 1]],
                                       ground: [[0, 0], [5, 0], [5, 5], [0, 5]]}}
"""


def test_a_full_scene_parses() -> None:
    scene = parse_scene(GOOD)
    assert scene.camera.id == "cam-1"
    assert scene.detect.classes == ("person", "car")
    assert scene.lines[0].anchors == ("BOTTOM_CENTER",)
    assert scene.lines[0].min_crossing_frames == 2
    assert scene.zones[0].polygon[2] == (10.0, 10.0)
    assert scene.running is not None
    assert scene.running.speed_m_s == 3.0


def test_an_empty_file_is_the_default_scene() -> None:
    assert parse_scene("") == Scene()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("lines: [{name: a, start: [0, 0], end: [0, 0]}]", "lines.0: Value error, start and end"),
        ("lines: [{name: a, start: [0, 0], end: [1, 1], colour: red}]", "lines.0.colour: Extra"),
        ("detect: {confidence: 1.5}", "detect.confidence: Input should be less than or equal"),
        ("detect: {fps: 0}", "detect.fps: Input should be greater than 0"),
        ("zones: [{name: z, polygon: [[0, 0], [1, 1]]}]", "zones.0.polygon: Tuple should have"),
        ("lines: [{name: a, start: [0, 0], end: [1, 1], anchors: [MIDDLE]}]", "anchors.0: Input"),
        ("version: 2", "version: Input should be 1"),
        ("running: {speed_m_s: 2}", "speed_m_s needs a homography"),
        ("running: {}", "exactly one of speed_px_s and speed_m_s"),
        ("nonsense: 1", "nonsense: Extra inputs are not permitted"),
        ("- a\n- b", "a scene is a mapping, got list"),
        ("lines: [{name: 'a/b', start: [0, 0], end: [1, 1]}]", "lines.0.name: String should"),
        ("detect: {model: ''}", "detect.model: String should have at least 1"),
        ("camera: {id: x}\ncamera: {id: y}\n  bad: [", "not valid YAML"),
    ],
    ids=[
        "degenerate-line",
        "unknown-key",
        "confidence-range",
        "fps-zero",
        "polygon-too-short",
        "unknown-anchor",
        "unknown-version",
        "metres-without-homography",
        "running-without-threshold",
        "unknown-top-level",
        "not-a-mapping",
        "bad-name",
        "empty-model",
        "broken-yaml",
    ],
)
def test_bad_scenes_are_refused_naming_the_field(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match="scene") as info:
        parse_scene(text)
    assert message in str(info.value)


def test_duplicate_names_are_refused() -> None:
    text = """
lines: [{name: a, start: [0, 0], end: [1, 1]}]
zones: [{name: a, polygon: [[0, 0], [1, 0], [1, 1]]}]
"""
    with pytest.raises(ConfigError, match="unique: a"):
        parse_scene(text)


def test_a_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read scene file"):
        load_scene(tmp_path / "nope.yaml")


@pytest.mark.parametrize("name", ["vtest.yaml", "bikes.yaml"])
def test_shipped_examples_are_valid(name: str) -> None:
    scene = load_scene(EXAMPLES / name)
    assert scene.lines
    assert scene.zones

"""A line's counting settings (mode, band, stitching): domain checks, scene file, edge JSON."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from argus.domain.cameras import Line
from argus.domain.errors import ConfigError, ValidationError
from argus.domain.scene_codec import line_to_dict
from argus.scene import parse_scene
from argus.services.analysis import SceneAnalytics
from argus.services.edge_config import line_from_json

NAMES = ("person", "car")


def _line(**changes: Any) -> Line:
    return Line(id="l1", camera_id="cam", name="door", start=(0, 50), end=(100, 50), **changes)


def test_new_lines_count_robustly_with_an_automatic_band() -> None:
    line = _line()
    assert (line.counting, line.band_px, line.stitch_seconds) == ("robust", 0.0, 1.0)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"counting": "fast"}, "counting must be 'strict' or 'robust'"),
        ({"band_px": -1.0}, r"band_px must be in \[0, 10000\]"),
        ({"band_px": float("inf")}, "band_px must be a finite number"),
        ({"band_px": True}, "band_px must be a finite number"),
        ({"stitch_seconds": 61.0}, r"stitch_seconds must be in \[0, 60\]"),
        ({"stitch_seconds": "1"}, "stitch_seconds must be a finite number"),
    ],
    ids=["mode", "negative-band", "infinite-band", "bool-band", "long-stitch", "text-stitch"],
)
def test_bad_counting_settings_are_refused(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        _line(**changes)


def test_the_edge_json_round_trips_the_counting_settings() -> None:
    line = _line(counting="strict", band_px=12, stitch_seconds=2.5)
    data = line_to_dict(line)
    assert (data["counting"], data["band_px"], data["stitch_seconds"]) == ("strict", 12.0, 2.5)
    assert line_from_json(data) == line


def test_edge_json_of_an_older_server_loads_with_the_defaults() -> None:
    data = line_to_dict(_line())
    for key in ("counting", "band_px", "stitch_seconds"):
        del data[key]
    assert line_from_json(data) == _line()


def test_a_scene_file_sets_the_counting_settings() -> None:
    scene = parse_scene(
        "lines:\n"
        "  - {name: a, start: [0, 0], end: [9, 0]}\n"
        "  - {name: b, start: [0, 5], end: [9, 5], counting: strict, band_px: 8, "
        "stitch_seconds: 0}\n"
    )
    first, second = scene.lines
    assert (first.counting, first.band_px, first.stitch_seconds) == ("robust", 0.0, 1.0)
    assert (second.counting, second.band_px, second.stitch_seconds) == ("strict", 8.0, 0.0)
    assert dataclasses.replace(second, counting="robust").counting == "robust"


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("counting: loose", "lines.0.counting: Input should be 'strict' or 'robust'"),
        ("band_px: -2", "lines.0.band_px: Input should be greater than or equal to 0"),
        ("stitch_seconds: 90", "lines.0.stitch_seconds: Input should be less than or equal"),
        ("band_px: .inf", "lines.0.band_px: Input should be a finite number"),
    ],
    ids=["mode", "band", "stitch", "infinite-band"],
)
def test_bad_counting_settings_in_a_scene_file(entry: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_scene(f"lines: [{{name: a, start: [0, 0], end: [9, 0], {entry}}}]")


def test_the_analysis_builds_each_line_with_its_settings() -> None:
    scene = parse_scene(
        "lines:\n"
        "  - {name: a, start: [0, 0], end: [9, 0], band_px: 6, stitch_seconds: 2}\n"
        "  - {name: b, start: [0, 5], end: [9, 5], counting: strict}\n"
    )
    robust, strict = (watched.analytic for watched in SceneAnalytics(scene, NAMES, 160, 120).lines)
    assert (robust.mode, robust.band, robust.stitch_seconds) == ("robust", 6.0, 2.0)
    assert robust.retention.max_missing_seconds is not None
    assert robust.retention.max_missing_seconds >= 2.0
    assert strict.mode == "strict"

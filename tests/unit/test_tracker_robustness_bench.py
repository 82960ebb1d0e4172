"""The robustness benchmark and the tracker benchmark's published rows render fixed numbers."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from argus.ports.tracker import MotScores
from argus.services.mot import COMBINED, GroupReport, MotReport, TrackerResult
from argus.services.mot_faults import level_named
from argus.services.mot_robustness import LevelReport, RobustnessReport


def result(
    hota: float, idf1: float, ids: int = 3, per_seq: tuple[str, ...] = ("S",)
) -> TrackerResult:
    scores = {name: MotScores(hota, 60.0, idf1, ids) for name in (*per_seq, COMBINED)}
    return TrackerResult(
        scores=scores, seconds=dict.fromkeys(per_seq, 0.01), updates=dict.fromkeys(per_seq, 100)
    )


def level(name: str, ours: float, ref: float) -> LevelReport:
    group = GroupReport(
        "MOT15", ("S",), {"argus": result(ours, 70.0), "trackers-ocsort": result(ref, 70.0)}
    )
    return LevelReport(level_named(name), (0,), MotReport([group]), (), {})


def test_robustness_benchmark_is_registered_and_renders_levels_ratios_and_goal() -> None:
    from benchmarks import tracker_robustness

    main = importlib.import_module("benchmarks.__main__")
    assert main.BENCHMARKS["tracker_robustness"] is tracker_robustness.run
    report = RobustnessReport([level("light", 60.0, 50.0), level("heavy", 20.0, 25.0)])
    assert report.trackers == ("argus", "trackers-ocsort")
    assert report.benchmarks == ("MOT15",)
    assert report.mean_hota("argus") == pytest.approx(40.0)
    assert report.level("heavy").scores("trackers-ocsort").hota == 25.0
    section = tracker_robustness.render(report)
    assert "### light (MOT15, 1 faulted sequences)" in section.body
    assert "| trackers-ocsort" in section.body
    assert "HOTA 1.20x" in section.body
    assert section.headline == [
        "robustness MOT15: HOTA of the best reference, worst level 0.80x, mean 1.00x over "
        "2 levels (goal >= 1.00 on every level: not met); IDF1 worst 1.00x"
    ]
    with pytest.raises(KeyError):
        report.level("medium")


def test_robustness_benchmark_skips_without_the_material(monkeypatch: pytest.MonkeyPatch) -> None:
    from benchmarks import tracker_robustness

    monkeypatch.setattr(tracker_robustness, "MOT_DIR", Path("/nonexistent/mot"))
    assert tracker_robustness.run(True).body.startswith("skipped:")


def test_tracker_benchmark_shows_the_published_official_bytetrack_on_tud() -> None:
    from benchmarks import tracker

    tud = ("TUD-Campus", "TUD-Stadtmitte")
    group = GroupReport(
        "MOT15",
        tud,
        {"argus": result(55.0, 80.0, 9, tud), "trackers-ocsort": result(50.0, 80.0, 5, tud)},
    )
    section = tracker.render(MotReport([group]))
    assert "| official ByteTrack (published by peers, not run here) |" in section.body
    assert "53.2" in section.body
    assert "| TUD-Campus" in section.body
    assert "51.4" in section.body
    assert section.headline[-1] == (
        "tracker MOT15 ID switches: argus 9 vs official ByteTrack 14 "
        "(goal: fewer than the official ByteTrack: met)"
    )

"""Faulted MOT sequences scored by TrackEval: MOT15 rules for TUD, MOT17 rules for MOT17."""

from __future__ import annotations

from pathlib import Path

import pytest

from argus.adapters.mot.format import load_ground_truth, load_sequence
from argus.bootstrap.evaluation import evaluate_robustness
from argus.services.mot import OURS

pytestmark = [pytest.mark.eval, pytest.mark.slow]

MOT = Path(__file__).resolve().parents[3] / "shared" / "eval" / "mot"


def sequence(name: str) -> Path:
    path = MOT / name
    if not (path / "gt" / "gt.txt").is_file():
        pytest.skip(f"{path} is absent: ../shared/eval is only beside a project checkout")
    return path


def test_a_faulted_tud_sequence_is_scored_for_argus_and_ocsort(tmp_path: Path) -> None:
    report = evaluate_robustness(
        [sequence("TUD-Campus")],
        tmp_path,
        levels=("light", "heavy"),
        references=("trackers-ocsort",),
    )
    assert report.trackers == (OURS, "trackers-ocsort")
    assert report.benchmarks == ("MOT15",)
    light, heavy = report.levels
    for lv in report.levels:
        (faulted,) = lv.sequences
        folder = lv.directories[faulted.name]
        assert folder == tmp_path / lv.level.name / "sequences" / f"TUD-Campus~{lv.level.name}~s0"
        assert len(load_sequence(folder).frames) == faulted.length
        assert (tmp_path / lv.level.name / "results" / f"{faulted.name}.txt").is_file()
        for tracker in report.trackers:
            s = lv.scores(tracker)
            assert 0.0 < s.hota <= 100.0
            assert 0.0 < s.idf1 <= 100.0
            assert s.mota <= 100.0
            assert lv.updates_per_second(tracker) > 0
    # Heavier faults cost every tracker accuracy.
    for tracker in report.trackers:
        assert heavy.scores(tracker).hota < light.scores(tracker).hota
    assert light.scores(OURS).hota > 40.0


def test_a_faulted_mot17_sequence_is_scored_by_mot17_rules(tmp_path: Path) -> None:
    report = evaluate_robustness([sequence("MOT17-11-FRCNN")], tmp_path, levels=("camera-motion",))
    (lv,) = report.levels
    assert report.benchmarks == ("MOT17",)
    (faulted,) = lv.sequences
    assert len(faulted.ignored) > 0  # distractors are written, so MOT17 rules can use them
    truth = load_ground_truth(lv.directories[faulted.name])
    assert sum(len(t) for t in truth) == len(faulted.truth)
    assert lv.scores(OURS, "MOT17").hota > 30.0

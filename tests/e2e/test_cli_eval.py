"""``argus eval mot`` on the public TUD sequences, against the reference trackers."""

from __future__ import annotations

from pathlib import Path

import pytest

from argus.bootstrap.evaluation import evaluate_mot_dirs, reference_tracker_names
from argus.services.mot import COMBINED, OURS
from tests.e2e.conftest import EVAL, RunArgus

pytestmark = [pytest.mark.eval, pytest.mark.slow]

TUD = ("TUD-Campus", "TUD-Stadtmitte")


def tud_dirs() -> list[Path]:
    dirs = [EVAL / "mot" / name for name in TUD]
    for path in dirs:
        if not (path / "gt" / "gt.txt").is_file():
            pytest.skip(f"{path} is absent: ../shared/eval is only beside a project checkout")
    return dirs


def test_eval_mot_cli_with_references_and_check(argus: RunArgus, tmp_path: Path) -> None:
    dirs = tud_dirs()
    out = tmp_path / "results"
    # Accuracy bars only: timing on a shared machine belongs in the benchmark.
    result = argus(
        "eval", "mot", *map(str, dirs), "--out", str(out), "--reference", "all",
        "--check", "--min-speed-ratio", "0",
    )  # fmt: skip
    assert "all bars met" in result.stdout
    for name in (OURS, *reference_tracker_names()):
        assert name in result.stdout
    assert "HOTA" in result.stdout
    assert "updates/s" in result.stdout
    for seq in TUD:
        lines = (out / f"{seq}.txt").read_text(encoding="utf-8").splitlines()
        assert lines
        assert all(len(line.split(",")) == 10 for line in lines)
        assert (out / "references" / "sv-bytetrack" / f"{seq}.txt").is_file()
    assert "Warning" not in result.stderr


def test_eval_mot_cli_rejects_unknown_reference(argus: RunArgus) -> None:
    result = argus("eval", "mot", *map(str, tud_dirs()), "-r", "nope", check=False)
    assert result.returncode == 2
    assert "unknown reference tracker" in result.stderr


def test_accuracy_bar_against_references_in_the_same_run(tmp_path: Path) -> None:
    """Our HOTA and IDF1 on TUD are at least the best reference's, measured in the same run."""
    report = evaluate_mot_dirs(tud_dirs(), tmp_path, references=reference_tracker_names())
    (group,) = report.groups
    assert group.benchmark == "MOT15"
    ours = group.results[OURS].scores[COMBINED]
    refs = [r.scores[COMBINED] for name, r in group.results.items() if name != OURS]
    assert len(refs) == len(reference_tracker_names())
    assert ours.hota >= max(r.hota for r in refs)
    assert ours.idf1 >= max(r.idf1 for r in refs)
    assert ours.mota >= max(r.mota for r in refs) - 1.0  # no trade of detection for identity


def test_eval_counts_compares_tracks_with_ground_truth(argus: RunArgus) -> None:
    result = argus("eval", "counts", *map(str, tud_dirs()), "-r", "sv-bytetrack")
    out = result.stdout
    assert "TUD-Campus" in out
    assert "x=320" in out
    assert f"{OURS}: " in out
    assert "sv-bytetrack: " in out
    assert "true crossings" in out


def test_eval_counts_takes_explicit_lines(argus: RunArgus) -> None:
    result = argus("eval", "counts", str(tud_dirs()[0]), "--line", "mid=320,0,320,480")
    assert "mid" in result.stdout
    bad = argus("eval", "counts", str(tud_dirs()[0]), "--line", "mid=1,2,3", check=False)
    assert bad.returncode == 2
    assert "NAME=X1,Y1,X2,Y2" in bad.stderr

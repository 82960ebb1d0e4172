"""``argus eval robustness`` on a public TUD sequence."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.conftest import EVAL, RunArgus

pytestmark = [pytest.mark.eval, pytest.mark.slow]


def tud_campus() -> Path:
    path = EVAL / "mot" / "TUD-Campus"
    if not (path / "gt" / "gt.txt").is_file():
        pytest.skip(f"{path} is absent: ../shared/eval is only beside a project checkout")
    return path


def test_eval_robustness_prints_a_table_per_level(argus: RunArgus, tmp_path: Path) -> None:
    out = tmp_path / "robust"
    result = argus(
        "eval", "robustness", str(tud_campus()), "-L", "camera-motion", "-L", "frame-drop",
        "-r", "trackers-ocsort", "--seeds", "2", "--out", str(out),
    )  # fmt: skip
    text = result.stdout
    assert "camera-motion / MOT15 (2 faulted sequences)" in text
    assert "frame-drop / MOT15" in text
    assert "trackers-ocsort" in text
    assert "argus / best reference: HOTA" in text
    assert (
        out / "frame-drop" / "sequences" / "TUD-Campus~frame-drop~s1" / "det" / "det.txt"
    ).is_file()
    assert "Warning" not in result.stderr


def test_eval_robustness_rejects_an_unknown_level(argus: RunArgus) -> None:
    result = argus("eval", "robustness", str(tud_campus()), "-L", "nope", check=False)
    assert result.returncode == 2
    assert "unknown fault level" in result.stderr

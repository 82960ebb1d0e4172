"""Counting accuracy helpers: ground truth loading and line counts on known trajectories."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from argus.adapters.mot.format import load_ground_truth, read_frame_size
from argus.domain.detections import Detections
from argus.domain.errors import ValidationError
from argus.services.counting import LineCount, count_crossings, default_lines
from tests.factories import make_detections

SEQINFO = "[Sequence]\nname=T\nframeRate=10\nseqLength=4\nimWidth=200\nimHeight=100\n"


def _sequence(tmp_path: Path, gt: str) -> Path:
    (tmp_path / "gt").mkdir()
    (tmp_path / "seqinfo.ini").write_text(SEQINFO)
    (tmp_path / "gt" / "gt.txt").write_text(gt)
    return tmp_path


def test_ground_truth_keeps_ids_and_drops_ignored_rows(tmp_path: Path) -> None:
    seq = _sequence(tmp_path, "1,7,10,20,30,40,1,1,1\n1,8,0,0,5,5,0,1,1\n3,7,12,20,30,40,1,1,1\n")
    frames = load_ground_truth(seq)
    assert len(frames) == 4
    assert frames[0].tracker_id.tolist() == [7]
    assert frames[0].xyxy.tolist() == [[10, 20, 40, 60]]
    assert len(frames[1]) == 0
    assert frames[2].tracker_id.tolist() == [7]
    assert read_frame_size(seq) == (200, 100)


@pytest.mark.parametrize(
    ("gt", "message"),
    [
        ("1,7,10\n", ":1: expected"),
        ("9,7,1,1,1,1,1,1,1\n", "outside 1..4"),
        ("1,a,1,1,1,1,1\n", "not a number"),
    ],
    ids=["short", "frame-range", "text"],
)
def test_bad_ground_truth_names_the_line(tmp_path: Path, gt: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        load_ground_truth(_sequence(tmp_path, gt))


def _walk(xs: list[float], track: int = 1) -> list[Detections]:
    return [make_detections([[x - 5, 10, x + 5, 50]], tracker_id=[track]) for x in xs]


def test_count_crossings_with_hysteresis() -> None:
    line = default_lines(200, 100)["x=100"]
    walk = _walk([80, 90, 110, 120, 130, 95, 110, 120])
    # The dip back to 95 lasts one frame: with 2 frames of hysteresis it is not a crossing.
    assert count_crossings(walk, line, frame_rate=10, min_crossing_frames=2) == (1, 0)
    assert count_crossings(walk, line, frame_rate=10, min_crossing_frames=1) == (2, 1)


def test_line_count_error_sums_both_directions() -> None:
    count = LineCount("s", "l", "t", truth_in=3, truth_out=1, counted_in=1, counted_out=2)
    assert count.error == 3
    assert count.truth == 4
    assert np.isclose(count.error / count.truth, 0.75)

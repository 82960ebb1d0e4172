"""Faulted sequences written as MOTChallenge folders read back like any sequence."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from argus.adapters.mot.faulted import fault_sequence, read_truth_rows, write_faulted
from argus.adapters.mot.format import load_ground_truth, load_sequence, read_frame_size
from argus.domain.errors import ValidationError
from argus.services.mot_faults import corrupt, level_named


def source(tmp_path: Path, gt: str) -> Path:
    folder = tmp_path / "SRC-01"
    (folder / "gt").mkdir(parents=True)
    (folder / "seqinfo.ini").write_text(
        "[Sequence]\nname=SRC-01\nframeRate=30\nseqLength=40\nimWidth=320\nimHeight=240\n",
        encoding="utf-8",
    )
    (folder / "gt" / "gt.txt").write_text(gt, encoding="utf-8")
    return folder


def walkers(frames: int = 40) -> str:
    lines = []
    for f in range(1, frames + 1):
        lines.append(f"{f},1,{10 + 2 * f},50,30,80,1,1,1")
        lines.append(f"{f},2,{200 - f},60,30,80,1,-1,-1")  # MOT15-style placeholders
        lines.append(f"{f},3,150,150,40,40,0,3,0.5")  # a car: MOT17 distractor row
    return "\n".join(lines) + "\n"


def test_read_truth_rows_fills_placeholders_and_keeps_flags(tmp_path: Path) -> None:
    rows = read_truth_rows(source(tmp_path, walkers()))
    assert rows.shape == (120, 9)
    assert set(rows[rows[:, 1] == 2][:, 7]) == {1.0}  # -1 class placeholder reads as pedestrian
    assert set(rows[rows[:, 1] == 3][:, 6]) == {0.0}
    with pytest.raises(ValidationError, match="not a number"):
        read_truth_rows(source(tmp_path / "bad", "1,1,a,2,3,4\n"))
    with pytest.raises(ValidationError, match="missing"):
        read_truth_rows(tmp_path / "nowhere")


def test_written_folder_loads_with_the_faulted_frames_and_truth(tmp_path: Path) -> None:
    src = source(tmp_path, walkers())
    seq = fault_sequence(src, level_named("heavy"), seed=1)
    assert seq.name == "SRC-01~heavy~s1"
    folder = write_faulted(seq, tmp_path / "out")
    assert folder == tmp_path / "out" / "SRC-01~heavy~s1"
    loaded = load_sequence(folder)
    assert loaded.name == seq.name
    assert loaded.frame_rate == pytest.approx(15.0)  # heavy drops every other frame
    assert len(loaded.frames) == seq.length == 20
    assert sum(len(d) for d in loaded.frames) == len(seq.detections)
    assert read_frame_size(folder) == (320, 240)
    truth = load_ground_truth(folder)  # the car is written, but not as a considered row
    assert sum(len(t) for t in truth) == len(seq.truth)
    assert set(np.concatenate([t.tracker_id for t in truth]).tolist()) <= {1, 2}
    rows = read_truth_rows(folder)
    assert set(rows[rows[:, 1] == 3][:, 7]) == {3.0}


def test_same_source_level_and_seed_write_identical_files(tmp_path: Path) -> None:
    src = source(tmp_path, walkers())
    a = write_faulted(fault_sequence(src, level_named("medium"), 0), tmp_path / "a")
    b = write_faulted(fault_sequence(src, level_named("medium"), 0), tmp_path / "b")
    for part in ("det/det.txt", "gt/gt.txt", "seqinfo.ini"):
        assert (a / part).read_bytes() == (b / part).read_bytes()


def test_an_empty_sequence_writes_empty_files(tmp_path: Path) -> None:
    seq = corrupt(
        np.zeros((0, 6)),
        name="EMPTY",
        frame_rate=25.0,
        width=100,
        height=100,
        level=level_named("light"),
        seed=0,
        length=5,
    )
    folder = write_faulted(seq, tmp_path)
    assert (folder / "gt" / "gt.txt").read_text(encoding="utf-8") == ""
    assert len(load_sequence(folder).frames) == 5

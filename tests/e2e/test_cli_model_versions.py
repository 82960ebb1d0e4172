"""``argus models``: importing a pack again keeps the version it replaces, runnable by ref."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.e2e.conftest import RunArgus
from tests.factories import Candidate, write_yolo_model, yolo_output

pytestmark = pytest.mark.slow


def _model(tmp: Path, class_id: int) -> Path:
    base = yolo_output("yolov8", [Candidate(32, 32, 20, 20, class_id, 0.9)], 3, rows=10)
    return write_yolo_model(tmp / f"kept-{class_id}.onnx", base, input_size=64)


def test_a_replaced_version_is_kept_and_runs_by_its_ref(argus: RunArgus, tmp_path: Path) -> None:
    names = tmp_path / "names.txt"
    names.write_text("cat\ndog\nbird\n")
    argus("models", "import", "kept-pack", str(_model(tmp_path, 1)), "--names", str(names))
    first = json.loads(argus("models", "info", "kept-pack", "--json").stdout)["version"]
    out = argus("models", "import", "kept-pack", str(_model(tmp_path, 2)), "--names", str(names))
    assert "layout yolov8, 3 classes, size 64" in out.stdout
    second = json.loads(argus("models", "info", "kept-pack", "--json").stdout)["version"]
    assert first != second

    listed = json.loads(argus("models", "versions", "kept-pack", "--json").stdout)
    assert [(v["ref"], v["current"]) for v in listed] == [
        (f"kept-pack@{first}", False),
        (f"kept-pack@{second}", True),
    ]
    text = argus("models", "versions", "kept-pack").stdout
    assert f"kept-pack@{first}" in text
    assert "kept" in text
    assert "current" in text
    assert "kept-pack: OK (1 files)" in argus("models", "verify", "kept-pack").stdout

    image = tmp_path / "white.png"
    cv2.imwrite(str(image), np.full((64, 64, 3), 255, np.uint8))

    def labels(model: str) -> list[tuple[str, str]]:
        found = json.loads(argus("detect", "--model", model, str(image), "--json").stdout)
        return [(d["label"], d["model"]) for d in found["detections"]]

    assert labels("kept-pack") == [("bird", f"kept-pack@{second}")]
    assert labels(f"kept-pack@{first}") == [("dog", f"kept-pack@{first}")]
    missing = argus("detect", "--model", "kept-pack@nope", str(image), check=False)
    assert missing.returncode != 0
    assert "kept-pack@nope" in missing.stderr

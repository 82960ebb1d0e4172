"""OnnxYoloDetector's pre- and post-processing against the recorded torch reference.

``tests/fixtures/yolov7_tiny_reference.npz`` (see ``test_yolov7_conversion``)
holds, per frame and input size, the letterbox the reference used, a SHA-256 of
its input tensor, the raw YOLOv7-tiny output rows above 0.05 and the reference
NMS result. Here the rows are fed through ``postprocess`` (decode, thresholds,
class-aware NMS, un-letterbox) and compared with the reference NMS; with the
evaluation media present, ``preprocess`` must rebuild the very input tensor.
"""

from __future__ import annotations

import hashlib
import json
from functools import cache
from pathlib import Path
from typing import Any

import av
import numpy as np
import numpy.typing as npt
import pytest

from argus.adapters.detectors.onnx_yolo import OnnxYoloDetector
from argus.domain.letterbox import letterbox
from tests.factories import write_yolo_model

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "yolov7_tiny_reference.npz"
EVAL_DIR = Path(__file__).resolve().parents[3] / "shared" / "eval"
COCO80 = tuple(f"class{i}" for i in range(80))
SCORE_ATOL = 1e-4

pytestmark = pytest.mark.skipif(not FIXTURE.exists(), reason=f"{FIXTURE} not found")


@cache
def _reference() -> tuple[dict[str, Any], dict[str, npt.NDArray[Any]]]:
    with np.load(FIXTURE, allow_pickle=False) as data:
        arrays = {key: data[key] for key in data.files}
    return json.loads(str(arrays.pop("meta_json"))), arrays


def _cases() -> list[Any]:
    if not FIXTURE.exists():
        return []
    meta, _ = _reference()
    return [pytest.param(case, id=case["key"]) for case in meta["cases"]]


@cache
def _detector(directory: Path, size: int) -> OnnxYoloDetector:
    """A stand-in model of the real signature; only pre/post-processing is used."""
    meta, _ = _reference()
    model = write_yolo_model(
        directory / f"yolo-{size}.onnx", np.zeros((1, 16, 85), np.float32), input_size=size
    )
    return OnnxYoloDetector(
        model,
        model_ref="yolov7-tiny@reference",
        class_names=COCO80,
        conf_threshold=meta["conf_threshold"],
        iou_threshold=meta["iou_threshold"],
        max_detections=meta["max_detections"],
    )


def _read_bgr(path: Path, index: int) -> npt.NDArray[np.uint8]:
    with av.open(str(path)) as container:
        for i, frame in enumerate(container.decode(video=0)):
            if i == index:
                return np.asarray(frame.to_ndarray(format="bgr24"), dtype=np.uint8)
    raise AssertionError(f"{path} has no frame {index}")


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("reference")


@pytest.mark.parametrize("case", _cases())
def test_postprocess_matches_reference_nms(model_dir: Path, case: dict[str, Any]) -> None:
    meta, arrays = _reference()
    key, size = case["key"], case["size"]
    height, width = case["frame_shape"][:2]
    raw = np.zeros((1, case["n_rows_total"], 85), dtype=np.float32)
    raw[0, arrays[f"{key}.row_index"]] = arrays[f"{key}.rows"]
    geometry = letterbox(width, height, size)
    assert (geometry.new_width, geometry.new_height, geometry.pad_top) == (
        case["letterbox"]["new_w"],
        case["letterbox"]["new_h"],
        case["letterbox"]["pad_top"],
    )

    found = _detector(model_dir, size).postprocess(raw, [geometry])[0]

    expected = arrays[f"{key}.nms"]  # x1 y1 x2 y2 score class, input pixels
    n = min(len(found), len(expected))
    for score in (*found.confidence[n:], *expected[n:, 4]):  # only at the threshold
        assert abs(score - meta["conf_threshold"]) <= SCORE_ATOL
    assert found.class_id[:n].tolist() == expected[:n, 5].astype(int).tolist()
    np.testing.assert_allclose(found.confidence[:n], expected[:n, 4], atol=1e-6)
    np.testing.assert_allclose(found.xyxy[:n], geometry.unmap_boxes(expected[:n, :4]), atol=1e-3)


@pytest.mark.slow
@pytest.mark.eval
@pytest.mark.parametrize("case", _cases())
def test_preprocess_rebuilds_the_reference_input(model_dir: Path, case: dict[str, Any]) -> None:
    source = EVAL_DIR / case["source"]
    if not source.exists():
        pytest.skip(f"evaluation media absent: {source} not found")
    tensor, _ = _detector(model_dir, case["size"]).preprocess(
        [_read_bgr(source, case["frame_index"])]
    )
    assert hashlib.sha256(tensor.tobytes()).hexdigest() == case["input_sha256"]

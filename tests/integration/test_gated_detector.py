"""Motion-gated detection with the real yolov7-tiny pack on real frames of vtest.avi.

Gated detection is compared with full-frame detection of the same frames (recall
at IoU 0.5 as a sanity bound; the benchmark ``motion_gating`` measures it). The
inner detector is wrapped in a counting class (the real detector does the work)
to show that a still scene costs no inference after the first full pass and
that the periodic full pass comes.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
import pytest

from argus.adapters.detectors.gated import GatedDetector
from argus.adapters.motion import MotionDetector
from argus.bootstrap.container import build_container
from argus.bootstrap.models import DetectorOptions
from argus.config import Settings
from argus.domain.detections import Detections
from argus.domain.nms import box_iou
from argus.ports.detector import Detector

pytestmark = [pytest.mark.eval, pytest.mark.slow]

VIDEO = Path(__file__).resolve().parents[3] / "shared" / "eval" / "media" / "vtest.avi"
FRAMES = 60
STEP = 2  # every other frame: about 5 analysed fps of a 10 fps clip

Image = npt.NDArray[np.uint8]


class CountingDetector:
    """The real detector, counting the images it is given."""

    def __init__(self, inner: Detector) -> None:
        self.inner = inner
        self.images = 0
        self.calls = 0

    @property
    def class_names(self) -> tuple[str, ...]:
        return self.inner.class_names

    @property
    def model_ref(self) -> str:
        return self.inner.model_ref

    def detect(self, image: Image) -> Detections:
        self.calls += 1
        self.images += 1
        return self.inner.detect(image)

    def detect_batch(self, images: Sequence[Image]) -> list[Detections]:
        self.calls += 1
        self.images += len(images)
        return self.inner.detect_batch(images)


@pytest.fixture(scope="module")
def frames() -> list[Image]:
    if not VIDEO.is_file():
        pytest.skip(f"{VIDEO} is absent: ../shared/eval is only beside a project checkout")
    capture = cv2.VideoCapture(str(VIDEO))
    out: list[Image] = []
    index = 0
    while len(out) < FRAMES:
        ok, image = capture.read()
        assert ok, "vtest.avi ended early"
        if index % STEP == 0:
            out.append(np.asarray(image, dtype=np.uint8))
        index += 1
    capture.release()
    return out


@pytest.fixture(scope="module")
def yolo(tmp_path_factory: pytest.TempPathFactory) -> Detector:
    container = build_container(Settings(data_dir=tmp_path_factory.mktemp("gated")))
    return container.detector(
        DetectorOptions(
            model="yolov7-tiny",
            input_size=416,
            classes=["person"],
            intra_op_threads=1,
            inter_op_threads=1,
        )
    )


def _recall(reference: Sequence[Detections], found: Sequence[Detections]) -> float:
    hits = total = 0
    for ref, got in zip(reference, found, strict=True):
        total += len(ref)
        if len(ref) and len(got):
            hits += int((box_iou(ref.xyxy, got.xyxy) >= 0.5).any(axis=1).sum())
    return hits / total if total else 1.0


def test_gated_detections_agree_with_full_frame(frames: list[Image], yolo: Detector) -> None:
    full = [yolo.detect(image) for image in frames]
    counting = CountingDetector(yolo)
    gated = GatedDetector(counting, MotionDetector(), full_every=10)
    found = [gated.detect(image) for image in frames]
    assert sum(len(d) for d in full) > 5 * FRAMES  # a busy scene: several people per frame
    assert _recall(full, found) >= 0.9
    stats = gated.stats
    assert stats.frames == FRAMES
    assert stats.full_passes + stats.region_passes + stats.skipped_frames == FRAMES
    assert stats.full_passes >= FRAMES // 10
    assert counting.images == stats.images
    assert 0 < stats.inferred_share <= 1.0


def test_still_scene_costs_nothing_after_the_first_pass(
    frames: list[Image], yolo: Detector
) -> None:
    counting = CountingDetector(yolo)
    gated = GatedDetector(counting, MotionDetector(), full_every=1000)
    still = frames[0]
    first = gated.detect(still)
    assert counting.images == 1
    assert len(first) > 0
    for _ in range(20):
        again = gated.detect(still.copy())
        # Stationary people keep their boxes without being detected again.
        np.testing.assert_array_equal(again.xyxy, first.xyxy)
    assert counting.images == 1
    assert gated.stats.skipped_frames == 20


def test_periodic_full_pass(frames: list[Image], yolo: Detector) -> None:
    counting = CountingDetector(yolo)
    gated = GatedDetector(counting, MotionDetector(), full_every=5)
    for _ in range(16):
        gated.detect(frames[0])
    # Frames 0, 5, 10 and 15 are full passes; the still frames between cost nothing.
    assert counting.images == 4
    assert gated.stats.full_passes == 4
    assert gated.stats.skipped_frames == 12


def test_an_empty_still_scene_returns_nothing_without_inference(yolo: Detector) -> None:
    counting = CountingDetector(yolo)
    gated = GatedDetector(counting, MotionDetector(), full_every=1000)
    wall = np.full((360, 480, 3), 128, np.uint8)
    assert len(gated.detect(wall)) == 0
    for _ in range(5):
        assert len(gated.detect(wall)) == 0
    assert counting.images == 1

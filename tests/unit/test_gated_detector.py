"""GatedDetector's bookkeeping with a fake inner detector that finds white squares.

The fake looks at the pixels it is given (bright blobs become "person" boxes in
that image's pixels), so crops, the mapping back to the frame, carried boxes
and the counters are checked exactly, without a model.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
import numpy.typing as npt
import pytest

from argus.adapters.detectors.gated import GatedDetector, GateStats, gate_detector
from argus.adapters.motion import MotionDetector
from argus.domain.detections import Detections
from argus.domain.errors import ValidationError
from argus.scene import DetectSpec, MotionSpec

Image = npt.NDArray[np.uint8]
H, W = 720, 1280


class WhiteSquares:
    """A fake detector: every bright blob is a person, boxed in the given image's pixels."""

    def __init__(self) -> None:
        self.shapes: list[tuple[int, int]] = []

    @property
    def class_names(self) -> tuple[str, ...]:
        return ("person",)

    @property
    def model_ref(self) -> str:
        return "squares@1"

    def detect(self, image: Image) -> Detections:
        self.shapes.append((image.shape[0], image.shape[1]))
        grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        mask = np.where(grey > 200, 255, 0).astype(np.uint8)
        contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        boxes = []
        for contour in contours:
            x, y, w, h = cv2.boundingRect(contour)
            boxes.append((x, y, x + w, y + h))
        n = len(boxes)
        return Detections(
            xyxy=np.asarray(boxes, dtype=np.float32).reshape(n, 4),
            confidence=np.full(n, 0.9, np.float32),
            class_id=np.zeros(n, np.int64),
            class_names=self.class_names,
            model=self.model_ref,
        )

    def detect_batch(self, images: Sequence[Image]) -> list[Detections]:
        return [self.detect(image) for image in images]


def _frame(*squares: tuple[int, int]) -> Image:
    image = np.full((H, W, 3), 90, np.uint8)
    for x, y in squares:
        cv2.rectangle(image, (x, y), (x + 59, y + 99), (255, 255, 255), -1)
    return image


def _boxes(found: Detections) -> list[tuple[float, ...]]:
    return sorted(tuple(round(v) for v in box) for box in found.xyxy.tolist())


def test_moving_object_is_found_in_a_crop_and_the_still_one_is_carried() -> None:
    fake = WhiteSquares()
    gated = GatedDetector(fake, MotionDetector(), full_every=100)
    first = gated.detect(_frame((100, 100), (900, 500)))
    assert _boxes(first) == [(100, 100, 160, 200), (900, 500, 960, 600)]
    assert fake.shapes == [(H, W)]
    for step in range(1, 4):
        found = gated.detect(_frame((100 + 20 * step, 100), (900, 500)))
        # The moving square is detected again, in a crop; the still one keeps its box.
        assert _boxes(found) == [(100 + 20 * step, 100, 160 + 20 * step, 200), (900, 500, 960, 600)]
    crops = fake.shapes[1:]
    assert len(crops) == 3
    assert all(h < H and w < W for h, w in crops)
    stats = gated.stats
    assert stats == GateStats(
        frames=4,
        full_passes=1,
        region_passes=3,
        skipped_frames=0,
        crops=3,
        inferred_pixels=stats.inferred_pixels,
        frame_pixels=4 * H * W,
    )
    assert stats.inferred_share < 0.5


def test_an_object_that_leaves_is_dropped() -> None:
    fake = WhiteSquares()
    gated = GatedDetector(fake, MotionDetector(), full_every=100)
    gated.detect(_frame((600, 300)))
    assert len(gated.detect(_frame())) == 0  # the crop over where it was finds nothing


def test_two_moving_objects_far_apart_take_a_full_pass_with_one_region() -> None:
    fake = WhiteSquares()
    gated = GatedDetector(fake, MotionDetector(), full_every=100, max_regions=1)
    gated.detect(_frame((100, 100), (1000, 500)))
    gated.detect(_frame((130, 100), (970, 500)))
    assert fake.shapes == [(H, W), (H, W)]
    two = WhiteSquares()
    gated = GatedDetector(two, MotionDetector(), full_every=100, max_regions=2)
    gated.detect(_frame((100, 100), (1000, 500)))
    found = gated.detect(_frame((130, 100), (970, 500)))
    assert len(two.shapes) == 3  # one full pass, then two crops in one batch
    assert _boxes(found) == [(130, 100, 190, 200), (970, 500, 1030, 600)]


def test_lights_switching_take_a_full_pass() -> None:
    fake = WhiteSquares()
    gated = GatedDetector(fake, MotionDetector(), full_every=100)
    gated.detect(_frame((100, 100)))
    gated.detect(_frame((100, 100)))
    bright = np.clip(_frame((100, 100)).astype(np.int16) + 80, 0, 255).astype(np.uint8)
    gated.detect(bright)
    assert fake.shapes == [(H, W), (H, W)]
    assert gated.stats.full_passes == 2
    assert gated.stats.skipped_frames == 1


def test_bad_period_is_refused() -> None:
    with pytest.raises(ValidationError, match="full_every"):
        GatedDetector(WhiteSquares(), MotionDetector(), full_every=0)


@pytest.mark.parametrize(
    ("motion", "gated"),
    [(None, False), (MotionSpec(enabled=False), False), (MotionSpec(), True)],
    ids=["omitted", "disabled", "enabled"],
)
def test_gate_detector_follows_the_detect_spec(motion: MotionSpec | None, gated: bool) -> None:
    inner = WhiteSquares()
    wrapped = gate_detector(inner, DetectSpec(motion=motion))
    assert isinstance(wrapped, GatedDetector) is gated
    assert wrapped.class_names == inner.class_names
    assert wrapped.model_ref == inner.model_ref


def test_each_camera_run_gets_its_own_gate() -> None:
    inner = WhiteSquares()
    spec = DetectSpec(motion=MotionSpec(full_frame_every=10))
    assert gate_detector(inner, spec) is not gate_detector(inner, spec)


@pytest.mark.parametrize(
    "ignore",
    [(((0.0, 0.0), (1.0, 0.0)),), (((0.0, 0.0), (1.5, 0.0), (1.0, 1.0)),)],
    ids=["two-points", "outside-0-1"],
)
def test_motion_spec_refuses_bad_polygons(
    ignore: tuple[tuple[tuple[float, float], ...], ...],
) -> None:
    with pytest.raises(ValueError, match="polygon"):
        MotionSpec(ignore=ignore)

"""Motion-gated detection: a ``Detector`` that runs its inner detector only where needed.

Per frame, the ``MotionDetector`` says what moved. The regions to look at are
the moving boxes plus the boxes of the previous frame's detections that touch
them, padded, merged and fitted to the detector's square input
(``argus.domain.regions``). The crops go through the inner detector in one
``detect_batch`` call; their detections are moved back to frame pixels and
de-duplicated with NMS. Previous detections that no region saw whole are
carried over unchanged: a parked car or a standing person keeps its box
without being detected again, so the tracker keeps its track.

A full-frame pass runs on the first frame, after a global change (lighting),
when the plan would cost as much as one (too many regions or too much of the
frame), and every ``full_every`` frames so that nothing still is missed
forever. A frame with no motion costs no inference at all: it returns the
carried detections (none in an empty scene).

State (background, previous detections, counters) belongs to one camera, so
build one ``GatedDetector`` per camera and call it from that camera's thread
only: it is thread-confined, not thread-safe. The inner detector may be shared.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from argus.adapters.motion.detector import MotionDetector, MotionSettings
from argus.domain.detections import Detections
from argus.domain.errors import ValidationError
from argus.domain.nms import box_iou, nms
from argus.domain.regions import (
    Region,
    RegionPlan,
    carry_mask,
    map_from_region,
    pad_boxes,
    plan_regions,
)
from argus.ports.detector import Detector
from argus.scene import DetectSpec

__all__ = ["GateStats", "GatedDetector", "gate_detector"]

Image = npt.NDArray[np.uint8]


@dataclass(frozen=True, slots=True)
class GateStats:
    """What gating did so far (since construction).

    Attributes:
        frames: Frames detected on.
        full_passes: Frames detected on the whole frame.
        region_passes: Frames detected on crops only.
        skipped_frames: Frames with no inference at all.
        crops: Crops run through the inner detector.
        inferred_pixels: Frame pixels handed to the inner detector.
        frame_pixels: Pixels of every frame seen.
    """

    frames: int = 0
    full_passes: int = 0
    region_passes: int = 0
    skipped_frames: int = 0
    crops: int = 0
    inferred_pixels: int = 0
    frame_pixels: int = 0

    @property
    def inferred_share(self) -> float:
        """Share of the frames' pixels the detector saw (1.0 without gating)."""
        return self.inferred_pixels / self.frame_pixels if self.frame_pixels else 0.0

    @property
    def images(self) -> int:
        """Images the inner detector ran on (full frames plus crops)."""
        return self.full_passes + self.crops


class GatedDetector:
    """A ``Detector`` for one camera that detects only around motion and live detections.

    Args:
        inner: The detector that does the work (may be shared between cameras).
        motion: This camera's motion detector.
        full_every: Frames between full-frame passes (1 turns gating off).
        pad: Padding per side of each moving box, as a fraction of its larger side.
        pad_px: Padding per side in pixels, on top of ``pad``.
        min_side: Smallest crop side in pixels (a crop is upscaled to the
            detector's input, so small crops see small objects better).
        max_regions: Most crops per frame; more run one full-frame pass instead.
        max_share: Crops covering more than this share of the frame run one
            full-frame pass instead.
        iou: IoU above which two detections of one class are one object.
        edge: Crop detections this close (pixels) to a cut crop side are
            dropped as truncated; negative keeps them.
    """

    def __init__(
        self,
        inner: Detector,
        motion: MotionDetector,
        *,
        full_every: int = 25,
        pad: float = 0.25,
        pad_px: float = 8.0,
        min_side: int = 320,
        max_regions: int = 1,
        max_share: float = 0.6,
        iou: float = 0.45,
        edge: float = 2.0,
    ) -> None:
        if full_every < 1:
            raise ValidationError(f"full_every must be >= 1, got {full_every}")
        self._inner = inner
        self._motion = motion
        self._full_every = full_every
        self._pad = pad
        self._pad_px = pad_px
        self._min_side = min_side
        self._max_regions = max_regions
        self._max_share = max_share
        self._iou = iou
        self._edge = edge
        self._previous = Detections.empty(inner.class_names, inner.model_ref)
        self._since_full = 0
        self._started = False
        self._stats = GateStats()

    @property
    def class_names(self) -> tuple[str, ...]:
        """Names indexed by class id (the inner detector's)."""
        return self._inner.class_names

    @property
    def model_ref(self) -> str:
        """``name@version`` of the inner detector's model."""
        return self._inner.model_ref

    @property
    def stats(self) -> GateStats:
        """Counters since construction."""
        return self._stats

    def detect_batch(self, images: Sequence[Image]) -> list[Detections]:
        """Detect in consecutive frames of this camera, in order."""
        return [self.detect(image) for image in images]

    def detect(self, image: Image) -> Detections:
        """Detect in the next frame of this camera."""
        height, width = image.shape[:2]
        motion = self._motion.update(image)
        full = not self._started or motion.global_change or self._since_full + 1 >= self._full_every
        # Regions are planned only for a frame no rule has already sent to a full pass.
        plan = RegionPlan() if full else self._plan(motion.boxes, width, height)
        full = full or plan.full_frame
        self._started = True
        if full:
            self._since_full = 0
            found = self._inner.detect(image)
            self._count(width * height, full=True, crops=(), inferred=width * height)
        else:
            self._since_full += 1
            found = self._detect_regions(image, plan.regions)
        self._previous = found
        return found

    def _plan(self, moving: npt.NDArray[np.float32], width: int, height: int) -> RegionPlan:
        if len(moving) == 0:
            return RegionPlan()
        seeds = moving
        previous = self._previous.xyxy
        if len(previous):
            # Live detections touching motion are looked at whole, so they are found again.
            touching = _touching(previous, moving)
            seeds = np.vstack([moving, previous[touching]])
        padded = pad_boxes(seeds, width, height, fraction=self._pad, pixels=self._pad_px)
        return plan_regions(
            padded,
            width,
            height,
            min_side=self._min_side,
            max_regions=self._max_regions,
            max_share=self._max_share,
        )

    def _detect_regions(self, image: Image, regions: tuple[Region, ...]) -> Detections:
        height, width = image.shape[:2]
        previous = self._previous
        carried = previous.select(carry_mask(previous.xyxy, regions))
        if not regions:
            self._count(width * height, full=False, crops=(), inferred=0)
            return carried
        crops = [image[r.y1 : r.y2, r.x1 : r.x2] for r in regions]
        found = self._inner.detect_batch(crops)
        mapped = [
            map_from_region(d, r, width, height, edge=self._edge)
            for d, r in zip(found, regions, strict=True)
        ]
        fresh = _concat(mapped, previous)
        if len(regions) > 1 and len(fresh):
            fresh = fresh.select(nms(fresh.xyxy, fresh.confidence, self._iou, fresh.class_id))
        if len(carried) and len(fresh):
            # A fresh detection of the same object replaces the carried one.
            same = box_iou(carried.xyxy, fresh.xyxy) > self._iou
            same &= carried.class_id[:, None] == fresh.class_id[None, :]
            carried = carried.select(np.asarray(~same.any(axis=1), dtype=np.bool_))
        self._count(
            width * height, full=False, crops=regions, inferred=sum(r.area for r in regions)
        )
        return _concat([fresh, carried], previous)

    def _count(self, pixels: int, *, full: bool, crops: tuple[Region, ...], inferred: int) -> None:
        s = self._stats
        self._stats = GateStats(
            frames=s.frames + 1,
            full_passes=s.full_passes + int(full),
            region_passes=s.region_passes + int(bool(crops)),
            skipped_frames=s.skipped_frames + int(not full and not crops),
            crops=s.crops + len(crops),
            inferred_pixels=s.inferred_pixels + inferred,
            frame_pixels=s.frame_pixels + pixels,
        )


def _touching(
    boxes: npt.NDArray[np.float32], others: npt.NDArray[np.float32]
) -> npt.NDArray[np.bool_]:
    """Which ``boxes`` overlap at least one of ``others``."""
    overlap = (
        (boxes[:, None, 0] < others[None, :, 2])
        & (others[None, :, 0] < boxes[:, None, 2])
        & (boxes[:, None, 1] < others[None, :, 3])
        & (others[None, :, 1] < boxes[:, None, 3])
    )
    return np.asarray(overlap.any(axis=1), dtype=np.bool_)


def _concat(parts: Sequence[Detections], like: Detections) -> Detections:
    if not parts:
        return Detections.empty(like.class_names, like.model)
    return Detections(
        xyxy=np.concatenate([p.xyxy for p in parts]).reshape(-1, 4),
        confidence=np.concatenate([p.confidence for p in parts]),
        class_id=np.concatenate([p.class_id for p in parts]),
        tracker_id=np.concatenate([p.tracker_id for p in parts]),
        class_names=like.class_names,
        model=like.model,
    )


def gate_detector(detector: Detector, spec: DetectSpec) -> Detector:
    """Wrap a (shared) detector for one camera run when ``spec.motion`` asks for gating.

    Call it once per camera run: the wrapper keeps that camera's state.
    """
    gating = spec.motion
    if gating is None or not gating.enabled:
        return detector
    motion = MotionDetector(MotionSettings(sensitivity=gating.sensitivity), ignore=gating.ignore)
    return GatedDetector(
        detector,
        motion,
        full_every=gating.full_frame_every,
        pad=gating.pad,
        max_regions=gating.max_regions,
        iou=spec.iou,
    )

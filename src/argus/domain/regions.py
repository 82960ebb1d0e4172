"""Region planning for motion-gated detection: which crops of a frame to run the detector on.

Boxes are ``(N, 4)`` arrays of ``(x1, y1, x2, y2)`` corners in frame pixels.
A plan starts from the boxes where something moved (and the boxes of live
detections touching them), pads them, merges those that overlap or nearly
touch, and fits each merged box to the detector's square input: grown to a
minimum side, made square where the frame allows, shifted to stay inside the
frame. Fitted regions that overlap are merged and fitted again. When the plan
would cost as much as a full-frame pass (more regions than allowed, or a union
covering too much of the frame) it asks for the full frame instead.

A detection found in a crop is mapped back by the crop's offset. Previous
detections are carried over unchanged when no region saw them whole: an
object that did not move keeps its box without being detected again.

Pure numpy; the crops themselves are cut in an adapter.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

import numpy as np
import numpy.typing as npt

from argus.domain.detections import Detections
from argus.domain.errors import ValidationError

__all__ = [
    "Region",
    "RegionPlan",
    "carry_mask",
    "fit_region",
    "map_from_region",
    "merge_boxes",
    "pad_boxes",
    "plan_regions",
]

FloatArray = npt.NDArray[np.float32]


@dataclass(frozen=True, slots=True)
class Region:
    """A crop of a frame, in whole pixels, ``x1 <= x < x2`` and ``y1 <= y < y2``.

    Attributes:
        x1: Left column.
        y1: Top row.
        x2: One past the right column.
        y2: One past the bottom row.
    """

    x1: int
    y1: int
    x2: int
    y2: int

    def __post_init__(self) -> None:
        if self.x2 <= self.x1 or self.y2 <= self.y1 or self.x1 < 0 or self.y1 < 0:
            raise ValidationError(f"region must be non-empty and non-negative, got {self}")

    @property
    def width(self) -> int:
        """Width in pixels."""
        return self.x2 - self.x1

    @property
    def height(self) -> int:
        """Height in pixels."""
        return self.y2 - self.y1

    @property
    def area(self) -> int:
        """Area in pixels."""
        return self.width * self.height

    def as_box(self) -> tuple[float, float, float, float]:
        """The region as an ``(x1, y1, x2, y2)`` box."""
        return (float(self.x1), float(self.y1), float(self.x2), float(self.y2))


@dataclass(frozen=True, slots=True)
class RegionPlan:
    """Where to run the detector on one frame.

    Attributes:
        regions: Crops to detect in (empty when ``full_frame`` or nothing moved).
        full_frame: Detect on the whole frame instead of crops.
    """

    regions: tuple[Region, ...] = ()
    full_frame: bool = False


def _boxes(values: npt.ArrayLike) -> npt.NDArray[np.float64]:
    boxes = np.asarray(values, dtype=np.float64)
    if boxes.ndim == 1 and boxes.size == 0:
        boxes = boxes.reshape(0, 4)
    if boxes.ndim != 2 or boxes.shape[1] != 4:
        raise ValidationError(f"boxes must have shape (N, 4), got {boxes.shape}")
    return boxes


def _check_frame(width: int, height: int) -> None:
    if width <= 0 or height <= 0:
        raise ValidationError(f"frame size must be positive, got {width}x{height}")


def pad_boxes(
    boxes: npt.ArrayLike,
    width: int,
    height: int,
    *,
    fraction: float = 0.0,
    pixels: float = 0.0,
) -> FloatArray:
    """Grow each box on every side and clip it to the frame.

    Args:
        boxes: Boxes ``(N, 4)``.
        width: Frame width in pixels.
        height: Frame height in pixels.
        fraction: Padding per side as a fraction of the box's larger side.
        pixels: Padding per side in pixels, added to the fractional part.

    Returns:
        Padded boxes ``(N, 4)``, float32, inside ``[0, width] x [0, height]``.

    Raises:
        ValidationError: Bad shapes, a negative padding or an empty frame.
    """
    _check_frame(width, height)
    if fraction < 0 or pixels < 0:
        raise ValidationError(f"padding must be >= 0, got fraction={fraction}, pixels={pixels}")
    b = _boxes(boxes)
    side = np.maximum(b[:, 2] - b[:, 0], b[:, 3] - b[:, 1])
    grow = (side * fraction + pixels)[:, None]
    out = b + np.hstack([-grow, -grow, grow, grow])
    out[:, [0, 2]] = np.clip(out[:, [0, 2]], 0, width)
    out[:, [1, 3]] = np.clip(out[:, [1, 3]], 0, height)
    return out.astype(np.float32)


def merge_boxes(boxes: npt.ArrayLike, gap: float = 0.0) -> FloatArray:
    """Replace every group of boxes that overlap (or lie within ``gap``) by their union.

    Merging repeats until no two boxes are within ``gap`` of each other, so a
    union that grows into a third box takes it in too.

    Args:
        boxes: Boxes ``(N, 4)``.
        gap: Boxes this many pixels apart (or closer) are merged; ``0`` merges
            boxes that overlap or touch.

    Returns:
        Disjoint unions ``(M, 4)``, float32, ``M <= N``, sorted by ``(y1, x1)``.
    """
    if gap < 0:
        raise ValidationError(f"gap must be >= 0, got {gap}")
    merged = [list(map(float, row)) for row in _boxes(boxes)]
    changed = True
    while changed:
        changed = False
        out: list[list[float]] = []
        for box in merged:
            for kept in out:
                if (
                    box[0] <= kept[2] + gap
                    and kept[0] <= box[2] + gap
                    and box[1] <= kept[3] + gap
                    and kept[1] <= box[3] + gap
                ):
                    kept[0], kept[1] = min(kept[0], box[0]), min(kept[1], box[1])
                    kept[2], kept[3] = max(kept[2], box[2]), max(kept[3], box[3])
                    changed = True
                    break
            else:
                out.append(box)
        merged = out
    merged.sort(key=lambda b: (b[1], b[0]))
    return np.asarray(merged, dtype=np.float32).reshape(-1, 4)


def _fit_span(lo: float, hi: float, side: int, limit: int) -> tuple[int, int]:
    """A span of ``side`` pixels (at most ``limit``) around ``[lo, hi]``, inside ``[0, limit]``."""
    side = min(limit, max(side, int(np.ceil(hi)) - int(np.floor(lo))))
    start = int(np.floor((lo + hi) / 2 - side / 2))
    start = min(max(start, 0), limit - side)
    return start, start + side


def fit_region(box: npt.ArrayLike, width: int, height: int, min_side: int) -> Region:
    """Fit one box to a square crop of at least ``min_side`` pixels, inside the frame.

    The crop is centred on the box and shifted (never shrunk) to stay in the
    frame; a side longer than the frame allows is cut to the frame.

    Args:
        box: One ``(x1, y1, x2, y2)`` box.
        width: Frame width in pixels.
        height: Frame height in pixels.
        min_side: Smallest side of the crop in pixels (e.g. the detector's input).

    Returns:
        The crop, containing the box (clipped to the frame).
    """
    _check_frame(width, height)
    if min_side < 1:
        raise ValidationError(f"min_side must be >= 1, got {min_side}")
    b = _boxes(np.asarray(box, dtype=np.float64).reshape(1, 4))[0]
    x1, y1 = max(0.0, min(b[0], width - 1.0)), max(0.0, min(b[1], height - 1.0))
    x2, y2 = min(float(width), max(b[2], x1 + 1)), min(float(height), max(b[3], y1 + 1))
    side = max(min_side, int(np.ceil(max(x2 - x1, y2 - y1))))
    left, right = _fit_span(x1, x2, side, width)
    top, bottom = _fit_span(y1, y2, side, height)
    return Region(left, top, right, bottom)


def _overlap(a: Region, b: Region) -> bool:
    return a.x1 < b.x2 and b.x1 < a.x2 and a.y1 < b.y2 and b.y1 < a.y2


def plan_regions(
    boxes: npt.ArrayLike,
    width: int,
    height: int,
    *,
    min_side: int,
    max_regions: int,
    max_share: float = 0.6,
    gap: float = 0.0,
) -> RegionPlan:
    """Plan the crops covering ``boxes`` (already padded), or ask for the full frame.

    Boxes are merged, each union is fitted (``fit_region``), and fitted crops
    that overlap are merged and fitted again until none do.

    Args:
        boxes: Padded boxes ``(N, 4)`` in frame pixels; none gives an empty plan.
        width: Frame width in pixels.
        height: Frame height in pixels.
        min_side: Smallest crop side in pixels.
        max_regions: More crops than this cost more than one full-frame pass.
        max_share: Crops covering more than this share of the frame (in sum)
            are replaced by the full frame.
        gap: Boxes this close are merged before fitting.

    Returns:
        The crops, or ``full_frame`` when they would cost too much.
    """
    _check_frame(width, height)
    if max_regions < 1 or not 0 < max_share <= 1:
        raise ValidationError(f"bad plan limits: max_regions={max_regions}, max_share={max_share}")
    seeds = [tuple(map(float, box)) for box in merge_boxes(boxes, gap)]
    if not seeds:
        return RegionPlan()
    fitted = [fit_region(box, width, height, min_side) for box in seeds]
    merged = True
    while merged:
        merged = False
        for i, j in combinations(range(len(fitted)), 2):
            if _overlap(fitted[i], fitted[j]):
                # Overlapping crops are cheaper as one: merge their seeds and fit again.
                a, b = seeds[i], seeds[j]
                union = (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))
                seeds = [s for k, s in enumerate(seeds) if k not in (i, j)] + [union]
                fitted = [f for k, f in enumerate(fitted) if k not in (i, j)]
                fitted.append(fit_region(union, width, height, min_side))
                merged = True
                break
    fitted.sort(key=lambda r: (r.y1, r.x1))
    covered = sum(r.area for r in fitted)
    if len(fitted) > max_regions or covered > max_share * width * height:
        return RegionPlan(full_frame=True)
    return RegionPlan(regions=tuple(fitted))


def map_from_region(
    detections: Detections, region: Region, width: int, height: int, *, edge: float = 0.0
) -> Detections:
    """Move detections found in a crop into frame pixels.

    Args:
        detections: Boxes in the crop's pixels.
        region: The crop they were found in.
        width: Frame width in pixels.
        height: Frame height in pixels.
        edge: Detections whose box comes this close (in pixels) to a crop side
            that is not a frame side are dropped, as the crop may have cut them;
            a negative value keeps every detection.

    Returns:
        The detections in frame pixels (the input is untouched).
    """
    offset = np.asarray([region.x1, region.y1, region.x1, region.y1], dtype=np.float32)
    xyxy = detections.xyxy + offset
    keep = np.ones(len(detections), dtype=bool)
    if edge >= 0 and len(detections):
        if region.x1 > 0:
            keep &= xyxy[:, 0] > region.x1 + edge
        if region.y1 > 0:
            keep &= xyxy[:, 1] > region.y1 + edge
        if region.x2 < width:
            keep &= xyxy[:, 2] < region.x2 - edge
        if region.y2 < height:
            keep &= xyxy[:, 3] < region.y2 - edge
    return Detections(
        xyxy=xyxy[keep],
        confidence=detections.confidence[keep],
        class_id=detections.class_id[keep],
        tracker_id=detections.tracker_id[keep],
        class_names=detections.class_names,
        model=detections.model,
    )


def carry_mask(boxes: npt.ArrayLike, regions: tuple[Region, ...]) -> npt.NDArray[np.bool_]:
    """Which previous boxes to carry over: those no region contains whole.

    A box inside a crop was looked at again (found again, or gone); any other
    box belongs to an object nothing was looked for, kept as it was.

    Args:
        boxes: Previous boxes ``(N, 4)`` in frame pixels.
        regions: This frame's crops.

    Returns:
        Boolean mask ``(N,)``; ``True`` carries the box.
    """
    b = _boxes(boxes)
    carry = np.ones(b.shape[0], dtype=bool)
    for r in regions:
        inside = (b[:, 0] >= r.x1) & (b[:, 1] >= r.y1) & (b[:, 2] <= r.x2) & (b[:, 3] <= r.y2)
        carry &= ~inside
    return carry

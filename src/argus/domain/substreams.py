"""Sub-streams: boxes found on a camera's low-resolution stream, mapped to its main stream.

A camera may send the same picture twice: a main stream (full resolution,
for evidence, snapshots and recording) and a detect stream ("sub-stream",
a few hundred pixels wide) that detection runs on because it costs a
fraction to decode and to resize. Everything users draw (lines, zones,
exclusion areas) is in main-stream pixels, since they draw on snapshots; so
every box found on the detect stream is mapped to main-stream pixels before
tracking and analytics see it.

Two layouts are understood:

* **stretched** (the default, what IP cameras send): the detect picture
  covers the same field of view as the main one, scaled independently
  along x and y; a 640x480 sub-stream of a 16:9 camera is squeezed, not
  cropped;
* **letterboxed**: the main picture was fitted whole into the detect frame
  at one scale and centred, with bars on two sides.

Pure arithmetic on ``(N, 4)`` arrays of ``(x1, y1, x2, y2)`` corners; the
frames themselves are decoded in an adapter.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from argus.domain.detections import Detections
from argus.domain.errors import ValidationError

__all__ = ["BoxMapping", "Size", "aspect_mismatch"]

Size = tuple[int, int]
"""A frame size in pixels, ``(width, height)``."""

FloatArray = npt.NDArray[np.float32]


def _size(value: Size, name: str) -> Size:
    if (
        not isinstance(value, tuple)
        or len(value) != 2
        or not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in value)
    ):
        raise ValidationError(
            f"{name} must be a (width, height) pair of positive ints, got {value!r}"
        )
    return value


def aspect_mismatch(detect: Size, main: Size) -> float:
    """Relative difference of the two frames' aspect ratios (0 when they match).

    A stretched sub-stream of another shape (640x480 for a 16:9 camera) is
    normal; the value is for logs, so an operator can tell a squeezed
    sub-stream from a cropped one, which no mapping can repair.

    Raises:
        ValidationError: A size is not a pair of positive ints.
    """
    dw, dh = _size(detect, "detect size")
    mw, mh = _size(main, "main size")
    return abs(math.log((dw / dh) / (mw / mh)))


@dataclass(frozen=True, slots=True)
class BoxMapping:
    """Maps boxes from detect-stream pixels to main-stream pixels.

    ``main = (detect - offset) * scale`` on each axis, then clipped to the main
    frame. Build one with ``between``.

    Attributes:
        detect: Size of the detect frames, ``(width, height)``.
        main: Size of the main frames, ``(width, height)``.
        scale_x: Main pixels per detect pixel along x.
        scale_y: Main pixels per detect pixel along y.
        offset_x: Detect pixels left of the picture (a letterbox bar), else 0.
        offset_y: Detect pixels above the picture (a letterbox bar), else 0.
    """

    detect: Size
    main: Size
    scale_x: float
    scale_y: float
    offset_x: float = 0.0
    offset_y: float = 0.0

    def __post_init__(self) -> None:
        _size(self.detect, "detect size")
        _size(self.main, "main size")
        for name in ("scale_x", "scale_y"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise ValidationError(f"{name} must be finite and > 0, got {value}")
        for name in ("offset_x", "offset_y"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0):
                raise ValidationError(f"{name} must be finite and >= 0, got {value}")

    @classmethod
    def between(cls, detect: Size, main: Size, *, letterboxed: bool = False) -> BoxMapping:
        """The mapping from ``detect``-sized frames to ``main``-sized frames.

        Args:
            detect: Size of the detect frames, ``(width, height)``.
            main: Size of the main frames, ``(width, height)``.
            letterboxed: The main picture was fitted whole into the detect
                frame at one scale and centred (bars on two sides); otherwise
                each axis is scaled on its own.

        Returns:
            The mapping.

        Raises:
            ValidationError: A size is not a pair of positive ints.
        """
        dw, dh = _size(detect, "detect size")
        mw, mh = _size(main, "main size")
        if not letterboxed:
            return cls(detect, main, mw / dw, mh / dh)
        fit = min(dw / mw, dh / mh)  # detect pixels per main pixel
        return cls(
            detect,
            main,
            1.0 / fit,
            1.0 / fit,
            offset_x=(dw - mw * fit) / 2.0,
            offset_y=(dh - mh * fit) / 2.0,
        )

    @property
    def identity(self) -> bool:
        """Whether boxes come out as they went in (same size, no bars)."""
        return (
            self.detect == self.main
            and self.scale_x == self.scale_y == 1.0
            and self.offset_x == self.offset_y == 0.0
        )

    def map_boxes(self, xyxy: npt.ArrayLike) -> FloatArray:
        """Map boxes to main-stream pixels, clipped to the main frame.

        Args:
            xyxy: Boxes in detect-stream pixels, shape ``(N, 4)``.

        Returns:
            A new ``(N, 4)`` float32 array in main-stream pixels; a box that lay
            wholly on a letterbox bar comes out with no width or no height.

        Raises:
            ValidationError: ``xyxy`` is not ``(N, 4)``.
        """
        boxes = np.asarray(xyxy, dtype=np.float64)
        if boxes.size == 0:
            boxes = boxes.reshape(0, 4)
        if boxes.ndim != 2 or boxes.shape[1] != 4:
            raise ValidationError(f"boxes must have shape (N, 4), got {boxes.shape}")
        offset = np.array([self.offset_x, self.offset_y, self.offset_x, self.offset_y])
        scale = np.array([self.scale_x, self.scale_y, self.scale_x, self.scale_y])
        mapped = (boxes - offset) * scale
        width, height = self.main
        mapped[:, 0::2] = np.clip(mapped[:, 0::2], 0.0, float(width))
        mapped[:, 1::2] = np.clip(mapped[:, 1::2], 0.0, float(height))
        out: FloatArray = mapped.astype(np.float32)
        return out

    def map(self, detections: Detections) -> Detections:
        """Return ``detections`` with their boxes in main-stream pixels.

        Boxes left with no area (found wholly on a letterbox bar) are dropped;
        scores, classes and tracker ids are kept. The input is not changed.
        """
        if self.identity or len(detections) == 0:
            return detections
        boxes = self.map_boxes(detections.xyxy)
        keep = (boxes[:, 2] > boxes[:, 0]) & (boxes[:, 3] > boxes[:, 1])
        return Detections(
            xyxy=boxes[keep],
            confidence=detections.confidence[keep],
            class_id=detections.class_id[keep],
            tracker_id=detections.tracker_id[keep],
            class_names=detections.class_names,
            model=detections.model,
        )

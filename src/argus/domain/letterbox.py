"""Letterbox geometry: fit an image into a square network input and back.

A letterbox scales the source image by one factor so that it fits inside an
``S x S`` square without distortion, then pads the short side evenly (the odd
pixel goes to the bottom/right, as in the YOLO reference code). This module only
computes the numbers; the resize itself happens in an adapter (OpenCV), so the
domain stays free of image libraries.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from argus.domain.errors import ValidationError

__all__ = ["Letterbox", "letterbox"]

FloatArray = npt.NDArray[np.float32]


@dataclass(frozen=True, slots=True)
class Letterbox:
    """How one source image was placed in a square network input.

    Attributes:
        src_width: Source image width in pixels.
        src_height: Source image height in pixels.
        size: Side of the square input in pixels.
        scale: Factor from source pixels to input pixels.
        new_width: Width of the resized image inside the square.
        new_height: Height of the resized image inside the square.
        pad_left: Columns of padding left of the resized image.
        pad_top: Rows of padding above the resized image.
    """

    src_width: int
    src_height: int
    size: int
    scale: float
    new_width: int
    new_height: int
    pad_left: int
    pad_top: int

    def map_boxes(self, xyxy: npt.ArrayLike) -> FloatArray:
        """Map boxes from source pixels to network-input pixels.

        Args:
            xyxy: Boxes ``(N, 4)`` as ``(x1, y1, x2, y2)`` in source pixels.

        Returns:
            Boxes ``(N, 4)`` float32 in input pixels.
        """
        boxes = _as_boxes(xyxy)
        offset = np.array([self.pad_left, self.pad_top] * 2, dtype=np.float64)
        return (boxes * self.scale + offset).astype(np.float32)

    def unmap_boxes(self, xyxy: npt.ArrayLike, clip: bool = True) -> FloatArray:
        """Map boxes from network-input pixels back to source pixels.

        Args:
            xyxy: Boxes ``(N, 4)`` as ``(x1, y1, x2, y2)`` in input pixels.
            clip: Clip the result to the source image, ``[0, W] x [0, H]``.

        Returns:
            Boxes ``(N, 4)`` float32 in source pixels.
        """
        boxes = _as_boxes(xyxy)
        offset = np.array([self.pad_left, self.pad_top] * 2, dtype=np.float64)
        out = (boxes - offset) / self.scale
        if clip:
            limits = np.array([self.src_width, self.src_height] * 2, dtype=np.float64)
            out = np.clip(out, 0.0, limits)
        return out.astype(np.float32)


def _as_boxes(values: npt.ArrayLike) -> npt.NDArray[np.float64]:
    boxes = np.asarray(values, dtype=np.float64)
    if boxes.ndim == 1 and boxes.size == 0:
        boxes = boxes.reshape(0, 4)
    if boxes.ndim != 2 or boxes.shape[1] != 4:
        raise ValidationError(f"boxes must have shape (N, 4), got {boxes.shape}")
    return boxes


def letterbox(src_width: int, src_height: int, size: int) -> Letterbox:
    """Compute how a ``src_width x src_height`` image fits a ``size`` square.

    Args:
        src_width: Source width in pixels, > 0.
        src_height: Source height in pixels, > 0.
        size: Side of the square network input in pixels, > 0.

    Returns:
        The geometry: scale, resized extent and padding.

    Raises:
        ValidationError: A dimension is not positive.
    """
    if src_width <= 0 or src_height <= 0 or size <= 0:
        raise ValidationError(
            f"letterbox needs positive sizes, got {src_width}x{src_height} into {size}"
        )
    scale = min(size / src_width, size / src_height)
    new_width = min(size, max(1, round(src_width * scale)))
    new_height = min(size, max(1, round(src_height * scale)))
    return Letterbox(
        src_width=src_width,
        src_height=src_height,
        size=size,
        scale=scale,
        new_width=new_width,
        new_height=new_height,
        pad_left=(size - new_width) // 2,
        pad_top=(size - new_height) // 2,
    )

"""A cheap appearance cue: colour histograms of the upper and lower half of each box.

People are told apart most cheaply by the colours of their clothes, and a top
and trousers of different colours are more telling together than mixed into
one histogram. Each box is narrowed to its central part (the background shows
at the sides), split into an upper and a lower half, and each half gives a
hue-saturation histogram plus a brightness histogram, the latter for the
black, grey and white clothes whose hue means nothing. Each histogram is
normalised to sum one and square-rooted, so the dot product of two vectors is
the Bhattacharyya coefficient of the distributions (Hellinger's kernel); the
concatenation is L2-normalised.

Large boxes are sampled with a stride so that a box costs about the same at
any resolution: a few tens of microseconds.
"""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

from argus.domain.detections import Detections
from argus.domain.errors import ValidationError

__all__ = ["ColourHistogramAppearance"]

Image = npt.NDArray[np.uint8]

_HUE_RANGE = 180  # OpenCV's 8-bit hue runs over [0, 180)
_SAMPLE_ROWS, _SAMPLE_COLS = 64, 32  # most pixels read per box, before halving


class ColourHistogramAppearance:
    """Embeds each detection as colour histograms of its upper and lower half.

    Implements ``argus.ports.tracker.AppearanceModel``.

    Args:
        hue_bins: Hue bins of the hue-saturation histogram.
        saturation_bins: Saturation bins of the hue-saturation histogram.
        value_bins: Bins of the brightness histogram.
        inset: Share of the box width dropped on each side (background).

    Raises:
        ValidationError: A parameter out of range.
    """

    def __init__(
        self,
        *,
        hue_bins: int = 8,
        saturation_bins: int = 3,
        value_bins: int = 4,
        inset: float = 0.15,
    ) -> None:
        if min(hue_bins, saturation_bins, value_bins) < 1:
            raise ValidationError("histograms need at least one bin each")
        if not 0 <= inset < 0.5:
            raise ValidationError(f"inset must be in [0, 0.5), got {inset}")
        self._bins = (hue_bins, saturation_bins, value_bins)
        self._inset = inset
        self._part = hue_bins * saturation_bins + value_bins

    @property
    def dimensions(self) -> int:
        """Length of each embedding: two halves of hue-saturation plus brightness bins."""
        return 2 * self._part

    def embed(self, image: Image, detections: Detections) -> npt.NDArray[np.float32]:
        """Return unit embeddings of shape ``(N, D)`` for the boxes of ``detections``.

        Args:
            image: The frame, BGR of shape ``(H, W, 3)``, uint8.
            detections: Boxes in the frame's pixels.

        Returns:
            One row per detection; a box with no pixels in the image (or a
            one-pixel sliver) gets a zero row, which the tracker reads as
            neutral.

        Raises:
            ValidationError: The image is not BGR.
        """
        if image.ndim != 3 or image.shape[2] != 3:
            raise ValidationError(f"image must be BGR (H, W, 3), got {image.shape}")
        n = len(detections.xyxy)
        out = np.zeros((n, self.dimensions), dtype=np.float32)
        if not n:
            return out
        height, width = image.shape[:2]
        boxes = detections.xyxy
        inset = (boxes[:, 2] - boxes[:, 0]) * self._inset
        x1 = np.clip(np.floor(boxes[:, 0] + inset), 0, width).astype(np.int64)
        x2 = np.clip(np.ceil(boxes[:, 2] - inset), 0, width).astype(np.int64)
        y1 = np.clip(np.floor(boxes[:, 1]), 0, height).astype(np.int64)
        y2 = np.clip(np.ceil(boxes[:, 3]), 0, height).astype(np.int64)
        for i in range(n):
            if x2[i] - x1[i] < 2 or y2[i] - y1[i] < 2:
                continue
            out[i] = self._describe(image[y1[i] : y2[i], x1[i] : x2[i]])
        return out

    def _describe(self, crop: Image) -> npt.NDArray[np.float32]:
        rows, cols = crop.shape[:2]
        step_y = max(1, rows // _SAMPLE_ROWS)
        step_x = max(1, cols // _SAMPLE_COLS)
        if step_y > 1 or step_x > 1:
            crop = np.ascontiguousarray(crop[::step_y, ::step_x])
        hsv = np.asarray(cv2.cvtColor(crop, cv2.COLOR_BGR2HSV), dtype=np.uint8)
        middle = hsv.shape[0] // 2
        parts = [self._histogram(hsv[:middle]), self._histogram(hsv[middle:])]
        vector = np.concatenate(parts)
        norm = float(np.linalg.norm(vector))
        return vector / norm if norm > 0 else vector

    def _histogram(self, hsv: Image) -> npt.NDArray[np.float32]:
        hue_bins, saturation_bins, value_bins = self._bins
        hs = cv2.calcHist(
            [hsv], [0, 1], None, [hue_bins, saturation_bins], [0, _HUE_RANGE, 0, 256]
        ).reshape(-1)
        v = cv2.calcHist([hsv], [2], None, [value_bins], [0, 256]).reshape(-1)
        parts = []
        for hist in (hs, v):
            total = float(hist.sum())
            parts.append(np.sqrt(hist / total) if total > 0 else hist)
        return np.concatenate(parts).astype(np.float32)

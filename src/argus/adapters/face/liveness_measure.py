"""The OpenCV side of the liveness cues that need no motion of the medium.

Each function measures one frame (or one frame pair) around the user's face; the
maths that turns the measurements into a window's cue is in
:mod:`argus.domain.liveness_signs`, the fusion in
:func:`argus.domain.liveness.liveness_score`. Costs are kept small by working on
a copy of the face's surround scaled so the face is at most 64-96 px high.

* :func:`straight_segments`: Canny edges and a probabilistic Hough transform over
  the face's surround (5x the face box): the long straight edges a bezel or a
  sheet's border leaves.
* :func:`row_change`: the log change of mean brightness per row between two
  frames (a rolling refresh band is periodic in it).
* :func:`colour_levels`: the face's 2nd percentile luma (black level) and 95th
  percentile saturation (a screen's or a print's limited gamut).
* :func:`veil`: a smooth map of local minimum brightness over the face's
  surround; the pixelwise minimum of several frames' veils keeps only a bright
  veil that stays where it is (glare on a screen's glass), not one that moves
  with the face (a specular highlight on skin).
"""

from __future__ import annotations

from typing import cast

import cv2
import numpy as np
import numpy.typing as npt

from argus.domain.detections import Detections
from argus.domain.faces import Face
from argus.domain.liveness_signs import DEVICE_LABELS

__all__ = ["colour_levels", "device_boxes", "row_change", "straight_segments", "veil"]

Image = npt.NDArray[np.uint8]
FloatArray = npt.NDArray[np.float32]


def _region(
    frame: Image, face: Face, factor: float, face_px: float
) -> tuple[Image, tuple[int, int], float] | None:
    """The face box grown ``factor`` times, clipped, scaled so the face is ``face_px`` high."""
    h, w = frame.shape[:2]
    x1, y1, x2, y2 = face.xyxy
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
    hw, hh = face.width * factor / 2, face.height * factor / 2
    rx1, ry1 = max(0, int(cx - hw)), max(0, int(cy - hh))
    rx2, ry2 = min(w, int(np.ceil(cx + hw))), min(h, int(np.ceil(cy + hh)))
    if rx2 - rx1 < 16 or ry2 - ry1 < 16 or face.height < 8:
        return None
    scale = min(1.0, face_px / face.height)
    crop = frame[ry1:ry2, rx1:rx2]
    grey = crop if crop.ndim == 2 else cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY)
    if scale < 1.0:
        size = (max(8, round((rx2 - rx1) * scale)), max(8, round((ry2 - ry1) * scale)))
        grey = cv2.resize(grey, size, interpolation=cv2.INTER_AREA)
    return np.asarray(grey, np.uint8), (rx1, ry1), scale


def device_boxes(objects: Detections | None) -> npt.NDArray[np.float32] | None:
    """The boxes of screens, laptops and phones (``None`` when the detector did not run)."""
    if objects is None:
        return None
    keep = [
        i
        for i, cid in enumerate(objects.class_id)
        if int(cid) < len(objects.class_names) and objects.class_names[int(cid)] in DEVICE_LABELS
    ]
    return np.asarray(objects.xyxy[keep], np.float32).reshape(-1, 4)


def straight_segments(frame: Image, face: Face) -> npt.NDArray[np.float64]:
    """Long straight edges around the face, ``(N, 4)`` in the frame's pixels."""
    found = _region(frame, face, 5.0, 64.0)
    if found is None:
        return np.zeros((0, 4), np.float64)
    grey, (x0, y0), scale = found
    edges = cv2.Canny(cv2.GaussianBlur(grey, (3, 3), 0), 40, 120)
    face_px = face.height * scale
    lines = cast(
        "npt.NDArray[np.int32] | None",
        cv2.HoughLinesP(
            edges,
            1,
            np.pi / 180,
            threshold=max(12, int(face_px * 0.5)),
            minLineLength=face_px * 0.8,
            maxLineGap=max(2.0, face_px * 0.06),
        ),
    )
    if lines is None:
        return np.zeros((0, 4), np.float64)
    segments = lines.reshape(-1, 4).astype(np.float64) / scale
    return segments + np.array([x0, y0, x0, y0], np.float64)


def row_change(a: Image, b: Image) -> npt.NDArray[np.float64]:
    """Log change of each row's mean brightness from frame ``a`` to frame ``b``."""
    means = []
    for frame in (a, b):
        grey = frame if frame.ndim == 2 else cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
        rows = cv2.reduce(np.asarray(grey, np.float32), 1, cv2.REDUCE_AVG)
        means.append(np.log(np.asarray(rows, np.float64).ravel() + 1.0))
    return np.asarray(means[1] - means[0], np.float64)


def colour_levels(frame: Image, face: Face) -> tuple[float, float] | None:
    """The face box's 2nd percentile luma and 95th percentile HSV saturation."""
    h, w = frame.shape[:2]
    x1, y1, x2, y2 = face.xyxy
    x1, y1 = max(0, int(x1)), max(0, int(y1))
    x2, y2 = min(w, int(x2)), min(h, int(y2))
    if x2 - x1 < 8 or y2 - y1 < 8 or frame.ndim != 3:
        return None
    crop = frame[y1:y2, x1:x2]
    step = max(1, (y2 - y1) // 64)
    crop = crop[::step, ::step]
    luma = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY)
    saturation = cv2.cvtColor(crop, cv2.COLOR_BGR2HSV)[:, :, 1]
    return float(np.percentile(luma, 2)), float(np.percentile(saturation, 95))


VEIL_FACE_PX = 48.0
"""Face height the veil map is computed at."""


def veil(frame: Image, face: Face) -> tuple[FloatArray, tuple[int, int], float] | None:
    """Smooth local-minimum brightness around the face (2.5x box) at a 48 px face height.

    Returns the map, the region's origin in the frame and its scale (so several
    frames' maps can be aligned in frame coordinates), or ``None`` near-empty.
    """
    found = _region(frame, face, 2.5, VEIL_FACE_PX)
    if found is None:
        return None
    grey, origin, scale = found
    k = max(3, int(face.height * scale / 6) | 1)
    low = cv2.erode(grey, np.ones((k, k), np.uint8))
    smooth = cv2.GaussianBlur(low.astype(np.float32), (0, 0), k)
    return np.asarray(smooth, np.float32), origin, scale

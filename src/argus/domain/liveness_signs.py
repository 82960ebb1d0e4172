"""Signs of a presented medium that do not need the medium to move: the pure maths.

The OpenCV side that measures the inputs (line segments, row profiles, veil maps,
colour percentiles) is ``argus.adapters.face.liveness_measure``; the fusion is
:func:`argus.domain.liveness.liveness_score`. Each function here returns one
number per window (or ``None`` when it cannot say anything):

* :func:`device_containment`: share of the window's frames whose face lies inside
  a detected screen, laptop or phone. Catches a replay whose device the object
  detector recognises; cannot catch a screen filling the whole frame (no
  detector box around it) or a print.
* :func:`enclosing_sides`: how many sides of a rectangle around the face are
  backed by a long straight edge (a bezel, a sheet's border). Catches a medium
  whose border is in view; cannot catch a screen or sheet larger than the frame
  or a cut-out print, and a door frame or a window behind a live user is a
  straight edge too.
* :func:`periodic_prominence`: how far the strongest periodic component of a 1-d
  profile stands out; on the frame-to-frame change of row brightness it finds a
  screen's rolling refresh band (and also, honestly, mains-flicker banding of
  fluorescent light on a rolling-shutter webcam).
* :func:`landmark_parallax`: how far the nose moves off the affine motion of the
  eyes and mouth corners between frames (a flat medium has no parallax). Needs the
  head to turn; CenterFace's landmark jitter sets its floor.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from argus.domain.errors import ValidationError

__all__ = [
    "DEVICE_LABELS",
    "device_containment",
    "enclosing_sides",
    "landmark_parallax",
    "periodic_prominence",
]

DEVICE_LABELS = frozenset({"tv", "laptop", "cell phone"})
"""COCO class names of the devices a replay is shown on."""

Box = tuple[float, float, float, float]


def _inside_share(face: Box, box: npt.NDArray[np.float64]) -> float:
    fx1, fy1, fx2, fy2 = face
    ix = max(0.0, min(fx2, float(box[2])) - max(fx1, float(box[0])))
    iy = max(0.0, min(fy2, float(box[3])) - max(fy1, float(box[1])))
    area = max(1e-9, (fx2 - fx1) * (fy2 - fy1))
    return ix * iy / area


def device_containment(
    faces: Sequence[Box], devices: Sequence[npt.ArrayLike | None], min_inside: float = 0.8
) -> float | None:
    """Share of frames whose face box lies (``min_inside`` of its area) in a device box.

    Args:
        faces: The face box ``(x1, y1, x2, y2)`` of each frame.
        devices: The device boxes ``(N, 4)`` of each frame, or ``None`` where the
            object detector did not run (the last known boxes then stand in).
        min_inside: Share of the face's area that must lie inside one device box
            that is larger than the face.

    Returns:
        The share in ``[0, 1]``, or ``None`` when no frame of the window (and none
        before it) had detections.
    """
    if len(faces) != len(devices):
        raise ValidationError(f"{len(faces)} faces but {len(devices)} device lists")
    known: npt.NDArray[np.float64] | None = None
    inside = counted = 0
    for face, found in zip(faces, devices, strict=True):
        if found is not None:
            known = np.asarray(found, np.float64).reshape(-1, 4)
        if known is None:
            continue
        counted += 1
        area = (face[2] - face[0]) * (face[3] - face[1])
        larger = [b for b in known if (b[2] - b[0]) * (b[3] - b[1]) > 1.2 * area]
        if any(_inside_share(face, b) >= min_inside for b in larger):
            inside += 1
    return inside / counted if counted else None


def enclosing_sides(
    segments: npt.ArrayLike, face: Box, *, max_angle: float = 0.35, reach: float = 3.0
) -> int:
    """How many sides (left, right, top, bottom) of the face are closed by a long straight edge.

    A side counts when a segment roughly parallel to it (within ``max_angle``
    radians) lies beyond the face box on that side (by at least a tenth of the
    face, at most ``reach`` face sizes away), is at least as long as the face, and
    spans the face's centre line: the border of a screen or sheet around the face.

    Args:
        segments: ``(N, 4)`` segments ``x1, y1, x2, y2`` in the frame's pixels.
        face: The face box in the same pixels.
    """
    lines = np.asarray(segments, np.float64).reshape(-1, 4)
    fx1, fy1, fx2, fy2 = face
    fw, fh = fx2 - fx1, fy2 - fy1
    if fw <= 0 or fh <= 0:
        raise ValidationError(f"empty face box {face}")
    cx, cy = (fx1 + fx2) / 2, (fy1 + fy2) / 2
    dx, dy = lines[:, 2] - lines[:, 0], lines[:, 3] - lines[:, 1]
    length = np.hypot(dx, dy)
    vertical = np.abs(np.arctan2(np.abs(dx), np.abs(dy) + 1e-9)) <= max_angle
    horizontal = np.abs(np.arctan2(np.abs(dy), np.abs(dx) + 1e-9)) <= max_angle
    mx, my = (lines[:, 0] + lines[:, 2]) / 2, (lines[:, 1] + lines[:, 3]) / 2
    lo_y, hi_y = np.minimum(lines[:, 1], lines[:, 3]), np.maximum(lines[:, 1], lines[:, 3])
    lo_x, hi_x = np.minimum(lines[:, 0], lines[:, 2]), np.maximum(lines[:, 0], lines[:, 2])
    spans_cy = (lo_y <= cy) & (hi_y >= cy) & (length >= fh)
    spans_cx = (lo_x <= cx) & (hi_x >= cx) & (length >= fw)
    sides = [
        vertical & spans_cy & (mx <= fx1 - 0.1 * fw) & (mx >= fx1 - reach * fw),
        vertical & spans_cy & (mx >= fx2 + 0.1 * fw) & (mx <= fx2 + reach * fw),
        horizontal & spans_cx & (my <= fy1 - 0.1 * fh) & (my >= fy1 - reach * fh),
        horizontal & spans_cx & (my >= fy2 + 0.1 * fh) & (my <= fy2 + reach * fh),
    ]
    return sum(bool(side.any()) for side in sides)


def periodic_prominence(profile: npt.ArrayLike, min_period: float, max_period: float) -> float:
    """Strongest spectral peak of a 1-d profile over the median, periods in a band.

    The profile is detrended (straight-line fit removed) and Hann-windowed; the
    result is the log ratio of the largest amplitude with a period in
    ``[min_period, max_period]`` samples to the median amplitude of that band.
    Near 1-1.5 for noise and smooth content; a sinusoid stands out by far more.
    """
    values = np.asarray(profile, np.float64).ravel()
    n = values.size
    if n < 16 or not 2 <= min_period < max_period:
        raise ValidationError(f"need >= 16 samples and 2 <= min < max period, got {n}")
    x = np.arange(n, dtype=np.float64)
    values = values - np.polyval(np.polyfit(x, values, 1), x)
    amplitude = np.abs(np.fft.rfft(values * np.hanning(n)))
    freq = np.fft.rfftfreq(n)
    band = (freq >= 1 / max_period) & (freq <= 1 / min_period)
    if band.sum() < 3:
        return 0.0
    inside = amplitude[band]
    return float(np.log((inside.max() + 1e-12) / (np.median(inside) + 1e-12)))


def landmark_parallax(landmarks: npt.ArrayLike) -> float:
    """Median distance of the nose from where the eyes' and mouth's affine motion puts it.

    For every frame after the first, the affine map taking the first frame's eyes
    and mouth corners to this frame's is fitted (least squares, four points); the
    nose predicted by it is compared with the detected nose. A flat medium moves
    under one homography (near-affine at webcam distance), so the nose stays on
    its prediction; a turning head shifts the nose off it (it stands out of the
    face's plane). Divided by the eye distance.

    Args:
        landmarks: ``(T, 5, 2)`` points (eyes, nose, mouth corners), ``T >= 2``.
    """
    points = np.asarray(landmarks, np.float64)
    if points.ndim != 3 or points.shape[1:] != (5, 2) or points.shape[0] < 2:
        raise ValidationError(f"landmarks must have shape (T>=2, 5, 2), got {points.shape}")
    rim = [0, 1, 3, 4]
    first = points[0]
    eyes = float(np.linalg.norm(first[1] - first[0]))
    if eyes <= 1e-6:
        return 0.0
    design = np.hstack([first[rim], np.ones((4, 1))])
    nose = np.append(first[2], 1.0)
    errors = []
    for cur in points[1:]:
        affine, *_ = np.linalg.lstsq(design, cur[rim], rcond=None)
        errors.append(float(np.linalg.norm(nose @ affine - cur[2])) / eyes)
    return float(np.median(errors))

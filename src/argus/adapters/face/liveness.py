"""Multi-frame liveness cues with OpenCV: motion, texture, and the signs of a still medium.

For every consecutive pair of frames in the window, corners are tracked with
pyramidal Lucas-Kanade (forward-backward checked) inside the face box and in a
ring around it (the box grown 2.5x, minus the box grown 1.3x). A homography is
fitted to the face's tracks with RANSAC; then

* **coupling** is the share of ring tracks that this face homography also
  explains (within 1 px at a face height of 112 px). A photo or a screen is one
  plane: the face and whatever surrounds it on the sheet move together. A live
  head moves against a still background, so the background does not follow it.
  Only pairs where the face moved against the ring by at least
  ``min_relative_motion`` count (a still face proves nothing either way).
* **residual** is the median error of the face's own tracks under that
  homography: the non-planar, non-rigid part of the face's motion (parallax of the
  nose against the cheeks, talking, blinking).

Texture is read from the face box at its native resolution (never resampled:
resampling would erase the cue): the spectral peak prominence of
:func:`argus.domain.liveness.spectral_peak_prominence`, the median over the window.

The cues that need no motion of the medium (device box, bezel, refresh banding,
limited gamut, static glare) are measured on three frames of the window (first,
middle, last) and the landmark parallax on all of its faces, with
:mod:`argus.adapters.face.liveness_measure` and :mod:`argus.domain.liveness_signs`.
The frozen-face cue cuts the same frame region (every face box of the window,
grown) out of all frames, reduced so the face is at most 64 px high, and
:func:`argus.domain.liveness_stillness.face_change` compares its change with the
frames' own noise. :func:`argus.domain.liveness.liveness_score` fuses everything.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from functools import partial
from typing import TypeVar, cast

import cv2
import numpy as np
import numpy.typing as npt

from argus.adapters.face.liveness_measure import (
    colour_levels,
    device_boxes,
    row_change,
    straight_segments,
    veil,
)
from argus.adapters.face.liveness_memo import FrameMemo
from argus.domain.detections import Detections
from argus.domain.errors import ValidationError
from argus.domain.faces import Face
from argus.domain.liveness import (
    LivenessCues,
    LivenessModel,
    LivenessScore,
    landmark_deformation,
    liveness_score,
    spectral_peak_prominence,
)
from argus.domain.liveness_signs import (
    device_containment,
    enclosing_sides,
    landmark_parallax,
    periodic_prominence,
)
from argus.domain.liveness_stillness import face_change

__all__ = ["MotionTextureLiveness"]

FACE_PX = 112.0
"""Face height the motion cues are measured at (the crop is scaled to it)."""

STILL_FACE_PX = 64.0
"""Largest face height the frozen-face cue is measured at (larger crops are reduced)."""

Image = npt.NDArray[np.uint8]
Points = npt.NDArray[np.float32]

_LK = {
    "winSize": (15, 15),
    "maxLevel": 3,
    "criteria": (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 20, 0.03),
}


def _grown(face: Face, factor: float) -> tuple[float, float, float, float]:
    x1, y1, x2, y2 = face.xyxy
    cx, cy, hw, hh = (x1 + x2) / 2, (y1 + y2) / 2, face.width * factor / 2, face.height * factor / 2
    return cx - hw, cy - hh, cx + hw, cy + hh


def _track(a: Image, b: Image, points: Points) -> tuple[Points, Points]:
    """Track ``points`` from ``a`` to ``b``; keep those that come back within 0.5 px."""
    if len(points) == 0:
        return points, points
    forward, ok1, _ = cv2.calcOpticalFlowPyrLK(a, b, points, None, **_LK)  # type: ignore[call-overload]
    back, ok2, _ = cv2.calcOpticalFlowPyrLK(b, a, forward, None, **_LK)  # type: ignore[call-overload]
    error = np.linalg.norm((back - points).reshape(-1, 2), axis=1)
    keep = (ok1.ravel() == 1) & (ok2.ravel() == 1) & (error < 0.5)
    return points.reshape(-1, 2)[keep], forward.reshape(-1, 2)[keep]


class MotionTextureLiveness:
    """A :class:`argus.ports.faces.LivenessChecker` from motion, texture and landmark cues.

    Args:
        model: Cue weights and the decision threshold.
        window: How many recent frames one assessment uses.
        memo: Measure each frame (pair) of a sliding window once and reuse it in
            the next windows (:class:`argus.adapters.face.liveness_memo.FrameMemo`;
            same results, about a fifth of the work at 8 frames).
    """

    def __init__(
        self, model: LivenessModel | None = None, *, window: int = 8, memo: bool = True
    ) -> None:
        if window < 2:
            raise ValidationError(f"a liveness window needs at least 2 frames, got {window}")
        self._model = model if model is not None else LivenessModel()
        self._window = window
        self._memo = FrameMemo() if memo else None

    @property
    def window(self) -> int:
        """How many recent frames one assessment uses."""
        return self._window

    @property
    def model(self) -> LivenessModel:
        """Cue thresholds and the decision threshold."""
        return self._model

    def assess(
        self,
        frames: Sequence[Image],
        faces: Sequence[Face],
        objects: Sequence[Detections | None] | None = None,
    ) -> LivenessScore:
        """Score the last ``window`` frames and their faces (one face per frame).

        ``objects`` are the object detector's detections of the same frames (one
        per frame, ``None`` where it did not run); without them the device cue is
        unmeasured.
        """
        return liveness_score(self.cues(frames, faces, objects), self._model)

    def cues(
        self,
        frames: Sequence[Image],
        faces: Sequence[Face],
        objects: Sequence[Detections | None] | None = None,
    ) -> LivenessCues:
        """Measure the cues of the last ``window`` frames (BGR), faces and detections."""
        if len(frames) != len(faces):
            raise ValidationError(f"{len(frames)} frames but {len(faces)} faces")
        if objects is not None and len(objects) != len(frames):
            raise ValidationError(f"{len(frames)} frames but {len(objects)} detection sets")
        n = min(len(frames), self._window)
        frames, faces = list(frames)[-n:], list(faces)[-n:]
        found = None if objects is None else list(objects)[-n:]
        couplings: list[float] = []
        residuals: list[float] = []
        for i in range(1, len(frames)):
            a, b, face = frames[i - 1], frames[i], faces[i - 1]
            pair = _memo(self._memo, "pair", (a, b), face.xyxy, partial(self._pair, a, b, face))
            if pair is not None:
                couplings.append(pair[0])
                residuals.append(pair[1])
        textures = [
            _memo(self._memo, "texture", (f,), face.xyxy, partial(self._texture, f, face))
            for f, face in zip(frames, faces, strict=True)
        ]
        peaks = [p for p in textures if p is not None]
        landmarks = np.stack([face.landmark_array() for face in faces]) if faces else None
        still = _still_cues(frames, faces, self._memo)
        crops = _fixed_crops(frames, faces)
        return LivenessCues(
            frames=len(frames),
            moving_pairs=len(couplings),
            coupling=float(np.median(couplings)) if couplings else None,
            residual=float(np.median(residuals)) if residuals else None,
            peak_prominence=float(np.median(peaks)) if peaks else None,
            deformation=landmark_deformation(landmarks)
            if landmarks is not None and len(faces) >= 2
            else None,
            device=None
            if found is None
            else device_containment([f.xyxy for f in faces], [device_boxes(o) for o in found]),
            parallax=landmark_parallax(landmarks)
            if landmarks is not None and len(faces) >= 2
            else None,
            face_change=None if crops is None else face_change(crops),
            **still,
        )

    def _pair(self, a: Image, b: Image, face: Face) -> tuple[float, float] | None:
        """``(coupling, residual)`` for one frame pair, or ``None`` when uninformative."""
        tracks = _face_and_ring_tracks(a, b, face)
        if tracks is None:
            return None
        fa, fb, ra, rb = tracks
        face_motion = np.median(fb - fa, axis=0)
        ring_motion = np.median(rb - ra, axis=0)
        if float(np.linalg.norm(face_motion - ring_motion)) < self._model.min_relative_motion:
            return None
        # OpenCV returns None when RANSAC finds no model (its stubs do not say so).
        found = cast(
            "npt.NDArray[np.float64] | None", cv2.findHomography(fa, fb, cv2.RANSAC, 1.0)[0]
        )
        if found is None:
            return None
        face_err = _transfer_error(found, fa, fb)
        ring_err = _transfer_error(found, ra, rb)
        return float(np.mean(ring_err < 1.0)), float(np.median(face_err))

    @staticmethod
    def _texture(frame: Image, face: Face) -> float | None:
        x1, y1, x2, y2 = _grown(face, 0.7)
        h, w = frame.shape[:2]
        x1, y1 = max(0, int(x1)), max(0, int(y1))
        x2, y2 = min(w, int(x2)), min(h, int(y2))
        if x2 - x1 < 24 or y2 - y1 < 24:
            return None
        grey = cv2.cvtColor(frame[y1:y2, x1:x2], cv2.COLOR_BGR2GRAY)
        return spectral_peak_prominence(np.asarray(grey, np.float32))


def _median(values: Sequence[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return float(np.median(known)) if known else None


T = TypeVar("T")


def _memo(
    memo: FrameMemo | None,
    kind: str,
    frames: tuple[Image, ...],
    extra: Hashable,
    compute: Callable[[], T],
) -> T:
    return compute() if memo is None else memo.get(kind, frames, extra, compute)


def _sides(frame: Image, face: Face) -> float:
    return enclosing_sides(straight_segments(frame, face), face.xyxy) / 4


def _banding(a: Image, b: Image) -> float | None:
    if a.shape != b.shape or a.shape[0] < 32:
        return None
    return periodic_prominence(row_change(a, b), 12, a.shape[0] / 3)


def _still_cues(
    frames: Sequence[Image], faces: Sequence[Face], memo: FrameMemo | None = None
) -> dict[str, float | None]:
    """Bezel, banding, gamut and glare from the first, middle and last frames."""
    if not frames:
        return {}
    n = len(frames)
    picks = sorted({0, n // 2, n - 1})
    bezel = [
        _memo(memo, "bezel", (frames[i],), faces[i].xyxy, partial(_sides, frames[i], faces[i]))
        for i in picks
    ]
    levels = [
        _memo(
            memo, "gamut", (frames[i],), faces[i].xyxy, partial(colour_levels, frames[i], faces[i])
        )
        for i in picks
    ]
    banding = [
        _memo(
            memo,
            "banding",
            (frames[i - 1], frames[i]),
            None,
            partial(_banding, frames[i - 1], frames[i]),
        )
        for i in picks
        if i >= 1
    ]
    veils = [veil(frames[i], faces[-1]) for i in picks]
    maps = [v[0] for v in veils if v is not None]
    glare = None
    if maps and all(m.shape == maps[0].shape for m in maps):
        static = np.min(np.stack(maps), axis=0)
        glare = float(static.max() - np.median(static))
    return {
        "bezel": float(np.mean(bezel)),
        "banding": _median(banding),
        "black_level": _median([None if lv is None else lv[0] for lv in levels]),
        "saturation": _median([None if lv is None else lv[1] for lv in levels]),
        "glare": glare,
    }


def _fixed_crops(frames: Sequence[Image], faces: Sequence[Face]) -> npt.NDArray[np.float32] | None:
    """The same frame region (every face box of the window, grown 1.2x) from each frame, grey.

    Fixed frame coordinates, so the face detector's jitter is no change; scaled
    (area averaging) so the median face is at most :data:`STILL_FACE_PX` high.
    ``None`` with fewer than 3 frames, frames of different sizes or a tiny region.
    """
    if len(frames) < 3 or any(f.shape != frames[0].shape for f in frames):
        return None
    h, w = frames[0].shape[:2]
    boxes = np.array([_grown(face, 1.2) for face in faces], np.float64)
    x1, y1 = max(0, int(boxes[:, 0].min())), max(0, int(boxes[:, 1].min()))
    x2, y2 = min(w, int(np.ceil(boxes[:, 2].max()))), min(h, int(np.ceil(boxes[:, 3].max())))
    if x2 - x1 < 8 or y2 - y1 < 8:
        return None
    scale = min(1.0, STILL_FACE_PX / max(1.0, float(np.median([f.height for f in faces]))))
    size = (max(8, round((x2 - x1) * scale)), max(8, round((y2 - y1) * scale)))
    crops = []
    for frame in frames:
        crop = frame[y1:y2, x1:x2]
        grey = crop if crop.ndim == 2 else cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY)
        if scale < 1.0:
            grey = cv2.resize(grey, size, interpolation=cv2.INTER_AREA)
        crops.append(np.asarray(grey, np.float32))
    return np.stack(crops)


def _box_in_crop(
    face: Face, factor: float, origin: tuple[int, int], scale: float
) -> tuple[int, int, int, int]:
    bx1, by1, bx2, by2 = _grown(face, factor)
    x0, y0 = origin
    return (
        max(0, int((bx1 - x0) * scale)),
        max(0, int((by1 - y0) * scale)),
        int((bx2 - x0) * scale),
        int((by2 - y0) * scale),
    )


def _face_and_ring_tracks(
    a: Image, b: Image, face: Face
) -> tuple[Points, Points, Points, Points] | None:
    """Tracks inside the face and in the ring around it, at a 112 px face height."""
    if face.height < 16:
        return None
    scale = FACE_PX / face.height
    h, w = a.shape[:2]
    x1, y1, x2, y2 = _grown(face, 2.5)
    x1, y1 = max(0, int(x1)), max(0, int(y1))
    x2, y2 = min(w, int(np.ceil(x2))), min(h, int(np.ceil(y2)))
    if x2 - x1 < 16 or y2 - y1 < 16:
        return None
    size = (max(1, round((x2 - x1) * scale)), max(1, round((y2 - y1) * scale)))
    grey = [
        np.asarray(
            cv2.resize(
                cv2.cvtColor(f[y1:y2, x1:x2], cv2.COLOR_BGR2GRAY),
                size,
                interpolation=cv2.INTER_AREA,
            ),
            np.uint8,
        )
        for f in (a, b)
    ]
    inner = np.zeros(grey[0].shape, np.uint8)
    fx1, fy1, fx2, fy2 = _box_in_crop(face, 0.85, (x1, y1), scale)
    inner[fy1:fy2, fx1:fx2] = 255
    ring = np.full(grey[0].shape, 255, np.uint8)
    rx1, ry1, rx2, ry2 = _box_in_crop(face, 1.3, (x1, y1), scale)
    ring[ry1:ry2, rx1:rx2] = 0
    face_pts = cast("Points | None", cv2.goodFeaturesToTrack(grey[0], 80, 0.01, 4, mask=inner))
    ring_pts = cast("Points | None", cv2.goodFeaturesToTrack(grey[0], 120, 0.01, 6, mask=ring))
    if face_pts is None or ring_pts is None:
        return None
    fa, fb = _track(grey[0], grey[1], np.asarray(face_pts, np.float32))
    ra, rb = _track(grey[0], grey[1], np.asarray(ring_pts, np.float32))
    if len(fa) < 8 or len(ra) < 8:
        return None
    return fa, fb, ra, rb


def _transfer_error(
    homography: npt.NDArray[np.float64], src: Points, dst: Points
) -> npt.NDArray[np.float64]:
    mapped = cv2.perspectiveTransform(src.reshape(-1, 1, 2).astype(np.float64), homography)
    return np.asarray(np.linalg.norm(mapped.reshape(-1, 2) - dst, axis=1), np.float64)

"""Multi-frame liveness cues with OpenCV: face-versus-surround motion and screen/print texture.

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

The landmark deformation of :func:`argus.domain.liveness.landmark_deformation`
completes the cues; :func:`argus.domain.liveness.liveness_score` combines them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

import cv2
import numpy as np
import numpy.typing as npt

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

__all__ = ["MotionTextureLiveness"]

FACE_PX = 112.0
"""Face height the motion cues are measured at (the crop is scaled to it)."""

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
        model: Cue thresholds and the decision threshold.
        window: How many recent frames one assessment uses.
    """

    def __init__(self, model: LivenessModel | None = None, *, window: int = 8) -> None:
        if window < 2:
            raise ValidationError(f"a liveness window needs at least 2 frames, got {window}")
        self._model = model if model is not None else LivenessModel()
        self._window = window

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
        objects: Sequence[Detections | None] | None = None,  # noqa: ARG002 (issue 22: device cue)
    ) -> LivenessScore:
        """Score the last ``window`` frames and their faces (one face per frame)."""
        return liveness_score(self.cues(frames, faces), self._model)

    def cues(self, frames: Sequence[Image], faces: Sequence[Face]) -> LivenessCues:
        """Measure the cues of the last ``window`` frames (BGR) and faces."""
        if len(frames) != len(faces):
            raise ValidationError(f"{len(frames)} frames but {len(faces)} faces")
        frames, faces = list(frames)[-self._window :], list(faces)[-self._window :]
        couplings: list[float] = []
        residuals: list[float] = []
        for i in range(1, len(frames)):
            pair = self._pair(frames[i - 1], frames[i], faces[i - 1])
            if pair is not None:
                couplings.append(pair[0])
                residuals.append(pair[1])
        peaks = [
            p
            for p in (self._texture(f, face) for f, face in zip(frames, faces, strict=True))
            if p is not None
        ]
        landmarks = np.stack([face.landmark_array() for face in faces]) if faces else None
        return LivenessCues(
            frames=len(frames),
            moving_pairs=len(couplings),
            coupling=float(np.median(couplings)) if couplings else None,
            residual=float(np.median(residuals)) if residuals else None,
            peak_prominence=float(np.median(peaks)) if peaks else None,
            deformation=landmark_deformation(landmarks)
            if landmarks is not None and len(faces) >= 2
            else None,
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

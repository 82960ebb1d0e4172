"""Face alignment geometry: where five landmarks go in a face chip, and the transform there.

dlib's face descriptor network was trained on chips made by
``get_face_chip_details(shape, 150, 0.25)``: a similarity transform (rotation,
uniform scale, translation) that puts dlib's five shape-predictor points (eye
corners and the base of the nose) on a fixed template inside a ``size`` square
with ``padding`` (a fraction of the face width) on every side.

Argus detects faces with CenterFace, whose five landmarks are different points
(eye centres, nose tip, mouth corners), so :data:`MEAN_FACE_5` says where *those*
points fall in dlib's chips. It was measured, not guessed: for 26 faces of the
``face_recognition`` example photos, dlib's own chip (HOG detector, 5-point
predictor, ``get_face_chip``) was computed and CenterFace's landmarks were mapped
into it; the template is their mean (spread 2-5 px at 150 px). Taking the points
of dlib's 68-point mean face instead (eye centres, point 30, points 48 and 54)
gave chips about 10 % too small and descriptors 0.13-0.22 away from dlib's own.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from argus.domain.errors import ValidationError

__all__ = ["MEAN_FACE_5", "chip_landmarks", "chip_transform", "similarity_transform"]

FloatArray = npt.NDArray[np.float64]

MEAN_FACE_5: tuple[tuple[float, float], ...] = (
    (0.2080, 0.2071),  # eye on the image's left (centre)
    (0.7934, 0.1985),  # other eye
    (0.4965, 0.5325),  # nose tip
    (0.2489, 0.8035),  # mouth corner on the image's left
    (0.7488, 0.7945),  # other mouth corner
)
"""CenterFace's five landmarks in dlib's face chips, unit square without padding (x, y)."""


def chip_landmarks(size: int = 150, padding: float = 0.25) -> FloatArray:
    """Where the five landmarks go in a ``size`` chip with ``padding``, ``(5, 2)`` pixels."""
    if size <= 0 or padding < 0:
        raise ValidationError(f"chip size must be positive and padding >= 0, got {size}, {padding}")
    unit = np.asarray(MEAN_FACE_5, dtype=np.float64)
    return (unit + padding) / (2 * padding + 1) * size


def similarity_transform(src: npt.ArrayLike, dst: npt.ArrayLike) -> FloatArray:
    """Least-squares similarity transform taking ``src`` points to ``dst`` (Umeyama 1991).

    Args:
        src: Points ``(N, 2)``, ``N >= 2``.
        dst: Points ``(N, 2)``.

    Returns:
        A ``(2, 3)`` matrix ``[s*R | t]`` with ``dst ~= src @ (s*R).T + t``.

    Raises:
        ValidationError: Shapes disagree, too few points, or all ``src`` points coincide.
    """
    a = np.asarray(src, dtype=np.float64)
    b = np.asarray(dst, dtype=np.float64)
    if a.ndim != 2 or a.shape[1] != 2 or a.shape != b.shape or a.shape[0] < 2:
        raise ValidationError(f"need matching (N>=2, 2) point sets, got {a.shape} and {b.shape}")
    mean_a, mean_b = a.mean(0), b.mean(0)
    da, db = a - mean_a, b - mean_b
    var_a = float((da**2).sum()) / len(a)
    if var_a <= 1e-12:
        raise ValidationError("source points coincide")
    cov = db.T @ da / len(a)
    u, d, vt = np.linalg.svd(cov)
    sign = np.eye(2)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        sign[1, 1] = -1.0
    rotation = u @ sign @ vt
    scale = float(np.trace(np.diag(d) @ sign)) / var_a
    matrix = np.empty((2, 3), dtype=np.float64)
    matrix[:, :2] = scale * rotation
    matrix[:, 2] = mean_b - scale * rotation @ mean_a
    return matrix


def chip_transform(landmarks: npt.ArrayLike, size: int = 150, padding: float = 0.25) -> FloatArray:
    """The ``(2, 3)`` image-to-chip transform for a face's five ``(x, y)`` landmarks."""
    points = np.asarray(landmarks, dtype=np.float64)
    if points.shape != (5, 2):
        raise ValidationError(f"landmarks must have shape (5, 2), got {points.shape}")
    return similarity_transform(points, chip_landmarks(size, padding))

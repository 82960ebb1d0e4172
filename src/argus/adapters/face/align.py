"""Cut an aligned face chip out of an image (the pixel side of :mod:`argus.domain.face_align`).

Like dlib's ``extract_image_chip``, a chip much smaller than the face is not sampled
straight from the full-resolution pixels (bilinear sampling at a large step aliases
like nearest neighbour): the face's region is first halved with a Gaussian pyramid
(``cv2.pyrDown``) once per factor of two of downscaling, then warped bilinearly.
Pixels outside the image are black, as in dlib.
"""

from __future__ import annotations

import math

import cv2
import numpy as np
import numpy.typing as npt

from argus.domain.errors import ValidationError
from argus.domain.face_align import chip_transform

__all__ = ["extract_chip"]


def _pyramid_levels(matrix: npt.NDArray[np.float64]) -> int:
    """How many halvings bring the image scale to within 2x of the chip's."""
    scale = math.sqrt(abs(float(np.linalg.det(matrix[:, :2]))))  # chip px per image px
    return max(0, math.floor(math.log2(1.0 / scale))) if scale > 0 else 0


def extract_chip(
    image: npt.NDArray[np.uint8],
    landmarks: npt.ArrayLike,
    size: int = 150,
    padding: float = 0.25,
    *,
    bgr: bool = True,
) -> npt.NDArray[np.uint8]:
    """Return the aligned ``(size, size, 3)`` RGB uint8 chip of the face with ``landmarks``.

    Args:
        image: ``(H, W, 3)`` uint8, BGR (or RGB with ``bgr=False``).
        landmarks: The face's five ``(x, y)`` points in image pixels, ``(5, 2)``.
        size: Chip side in pixels.
        padding: Margin around the mean face, as a fraction of its width.
        bgr: Whether ``image`` is BGR (Argus's frame order) rather than RGB.

    Raises:
        ValidationError: Not a 3-channel uint8 image, or bad landmarks.
    """
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise ValidationError(f"expected an (H, W, 3) uint8 image, got {image.dtype} {image.shape}")
    matrix = chip_transform(landmarks, size, padding)
    levels = _pyramid_levels(matrix)
    source: npt.NDArray[np.uint8] = image
    if levels:
        inverse = cv2.invertAffineTransform(matrix)
        corners = np.array([[0, 0, 1], [size, 0, 1], [0, size, 1], [size, size, 1]], np.float64)
        box = corners @ inverse.T
        margin = 4 << levels
        h, w = image.shape[:2]
        x0 = int(max(0, math.floor(box[:, 0].min()) - margin))
        y0 = int(max(0, math.floor(box[:, 1].min()) - margin))
        x1 = int(min(w, math.ceil(box[:, 0].max()) + margin))
        y1 = int(min(h, math.ceil(box[:, 1].max()) + margin))
        if x1 > x0 and y1 > y0:
            source = image[y0:y1, x0:x1]
            for _ in range(levels):
                source = np.asarray(cv2.pyrDown(source), dtype=np.uint8)
            shift = np.array([[1, 0, x0], [0, 1, y0], [0, 0, 1]], np.float64)
            halve = np.diag([2.0**levels, 2.0**levels, 1.0])
            matrix = (np.vstack([matrix, [0, 0, 1]]) @ shift @ halve)[:2]
    chip = cv2.warpAffine(
        source,
        matrix,
        (size, size),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=(0, 0, 0),
    )
    if bgr:
        chip = cv2.cvtColor(chip, cv2.COLOR_BGR2RGB)
    return np.ascontiguousarray(chip, dtype=np.uint8)

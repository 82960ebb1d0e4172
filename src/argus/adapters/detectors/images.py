"""Input checks and the letterbox resize shared by the detector adapters."""

from __future__ import annotations

import re
from collections.abc import Sequence

import cv2
import numpy as np
import numpy.typing as npt

from argus.domain.errors import ConfigError, ValidationError
from argus.domain.letterbox import Letterbox, letterbox

__all__ = ["PAD_VALUE", "check_image", "check_images", "check_model_ref", "letterbox_into"]

PAD_VALUE = 114
"""Grey of the letterbox padding, as in the YOLO reference pre-processing."""

_MODEL_REF = re.compile(r"^[^@\s]+@[^@\s]+$")


def check_model_ref(model_ref: str) -> str:
    """Return ``model_ref`` if it reads ``name@version``.

    Raises:
        ConfigError: It does not.
    """
    if not _MODEL_REF.match(model_ref):
        raise ConfigError(f"model_ref must read 'name@version', got {model_ref!r}")
    return model_ref


def check_image(image: npt.NDArray[np.uint8], index: int = 0) -> None:
    """Check that ``image`` is a non-empty BGR uint8 array of shape ``(H, W, 3)``.

    Raises:
        ValidationError: It is not.
    """
    if (
        not isinstance(image, np.ndarray)
        or image.dtype != np.uint8
        or image.ndim != 3
        or image.shape[2] != 3
        or image.shape[0] == 0
        or image.shape[1] == 0
    ):
        what = f"{image.shape} {image.dtype}" if isinstance(image, np.ndarray) else type(image)
        raise ValidationError(f"image {index} must be (H, W, 3) uint8 BGR, got {what}")


def letterbox_into(
    image: npt.NDArray[np.uint8], size: int, out: npt.NDArray[np.uint8] | None = None
) -> tuple[npt.NDArray[np.uint8], Letterbox]:
    """Resize ``image`` into a ``size x size`` canvas padded with grey 114.

    Args:
        image: BGR uint8 ``(H, W, 3)``.
        size: Side of the square canvas.
        out: A ``(size, size, 3)`` uint8 buffer to fill, or ``None`` for a new one.

    Returns:
        The canvas (still BGR) and the geometry to map boxes back.
    """
    height, width = image.shape[:2]
    geometry = letterbox(width, height, size)
    canvas = np.empty((size, size, 3), dtype=np.uint8) if out is None else out
    canvas.fill(PAD_VALUE)
    resized: npt.NDArray[np.uint8] = image
    if (geometry.new_width, geometry.new_height) != (width, height):
        size_wh = (geometry.new_width, geometry.new_height)
        resized = np.asarray(
            cv2.resize(image, size_wh, interpolation=cv2.INTER_LINEAR), dtype=np.uint8
        )
    top, left = geometry.pad_top, geometry.pad_left
    canvas[top : top + geometry.new_height, left : left + geometry.new_width] = resized
    return canvas, geometry


def check_images(images: Sequence[npt.NDArray[np.uint8]]) -> None:
    """Check every image of a batch (see ``check_image``)."""
    for index, image in enumerate(images):
        check_image(image, index)

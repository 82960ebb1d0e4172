"""Still-image decoding (JPEG, PNG) with OpenCV, for HTTP and directory sources."""

from __future__ import annotations

import cv2
import numpy as np

from argus.adapters.video._base import Image

__all__ = ["decode_image"]


def decode_image(data: bytes) -> Image | None:
    """Decode an encoded still image to BGR pixels.

    Args:
        data: The bytes of a JPEG, PNG or other format OpenCV reads.

    Returns:
        BGR pixels, shape ``(H, W, 3)`` uint8 (grey and alpha images are
        converted, 16-bit ones scaled to 8 bits), or ``None`` when the bytes are
        not a readable image.
    """
    if not data:
        return None
    buffer = np.frombuffer(data, dtype=np.uint8)
    try:
        decoded = cv2.imdecode(buffer, cv2.IMREAD_COLOR)
    except cv2.error:
        return None
    if decoded is None:
        return None
    image = np.asarray(decoded)
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        return None
    return np.ascontiguousarray(image, dtype=np.uint8)

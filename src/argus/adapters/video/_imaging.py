"""Still-image decoding (JPEG, PNG) with OpenCV, for HTTP and directory sources, and
JPEG encoding of frames."""

from __future__ import annotations

import cv2
import numpy as np

from argus.adapters.video._base import Image
from argus.domain.errors import SourceDecodeError

__all__ = ["decode_image", "encode_jpeg"]


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


def encode_jpeg(image: Image, quality: int = 85) -> bytes:
    """Encode BGR pixels, shape ``(H, W, 3)`` uint8, as JPEG.

    Raises:
        SourceDecodeError: OpenCV could not encode the image.
    """
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise SourceDecodeError(f"could not encode a {image.shape} image as JPEG")
    return bytes(data.tobytes())

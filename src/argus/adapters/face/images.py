"""Decoding untrusted uploaded and streamed images (JPEG, PNG) into BGR pixels.

The header is read first (Pillow, without decoding pixels), so an image whose
declared size is over the limit is refused before any memory is spent on it (a
"decompression bomb": a few kilobytes of JPEG that decode to gigabytes).
"""

from __future__ import annotations

import io
import warnings

import cv2
import numpy as np
import numpy.typing as npt
from PIL import Image, UnidentifiedImageError

from argus.domain.errors import ValidationError

__all__ = ["DEFAULT_MAX_PIXELS", "decode_image"]

DEFAULT_MAX_PIXELS = 4096 * 4096
"""Largest image (width x height) accepted."""

_FORMATS = frozenset({"JPEG", "PNG"})


def decode_image(data: bytes, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> npt.NDArray[np.uint8]:
    """Decode a JPEG or PNG into a BGR ``(H, W, 3)`` uint8 array.

    Raises:
        ValidationError: Not a JPEG or PNG, corrupt, or over ``max_pixels``.
    """
    if not data:
        raise ValidationError("the image is empty")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Pillow warns about large images; we check below
            with Image.open(io.BytesIO(data)) as header:
                kind, (width, height) = header.format, header.size
    except Image.DecompressionBombError as exc:
        # Pillow refuses a header over twice its own limit before we see the size.
        raise ValidationError(
            f"the image declares more than {max_pixels} pixels; at most {max_pixels} are taken"
        ) from exc
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise ValidationError("not an image: expected JPEG or PNG bytes") from exc
    if kind not in _FORMATS:
        raise ValidationError(f"{kind} images are not taken: send JPEG or PNG")
    if width * height > max_pixels or min(width, height) < 1:
        raise ValidationError(
            f"the image is {width}x{height} pixels; at most {max_pixels} pixels are taken"
        )
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        raise ValidationError(f"the {kind} image is corrupt or truncated")
    return np.asarray(image, dtype=np.uint8)

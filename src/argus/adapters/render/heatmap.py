"""Drawing a heatmap over a frame, and encoding or writing images as PNG."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from argus.domain.errors import ValidationError
from argus.domain.event_stats import HeatmapGrid

__all__ = ["encode_png", "heatmap_png", "render_heatmap", "write_png"]

_BACKGROUND = 48
"""Grey level of the canvas a heatmap is drawn on when there is no frame."""

Image = npt.NDArray[np.uint8]


def render_heatmap(
    frame_bgr: Image,
    values: npt.NDArray[np.floating],
    alpha: float = 0.6,
    *,
    colormap: int = cv2.COLORMAP_JET,
    floor: float = 0.0,
) -> Image:
    """Blend a heatmap over a frame.

    Each pixel is mixed with the colour-mapped heat in proportion to
    ``alpha * heat``, so cold areas show the frame unchanged and the hottest
    ones are ``alpha`` heat colour.

    Args:
        frame_bgr: The frame, shape ``(H, W, 3)`` uint8 (not modified).
        values: Heat in ``[0, 1]`` (values outside are clipped; NaN is 0), any
            2-D shape; resized to the frame with bilinear interpolation if needed,
            e.g. ``Heatmap.values()`` or the coarser ``Heatmap.grid()``.
        alpha: Opacity of the hottest pixels, in ``[0, 1]``.
        colormap: An OpenCV colour map (``cv2.COLORMAP_*``).
        floor: Opacity of the faintest heat above zero, in ``[0, alpha]``:
            with a floor any heat stays visible (``floor + (alpha - floor) * heat``).

    Returns:
        A new BGR uint8 image, shape ``(H, W, 3)``.

    Raises:
        ValidationError: the frame or the values have the wrong shape, or
            ``alpha`` is outside ``[0, 1]``.
    """
    frame = np.asarray(frame_bgr)
    if frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8:
        raise ValidationError(f"frame must be (H, W, 3) uint8, got {frame.shape} {frame.dtype}")
    heat = np.asarray(values, dtype=np.float32)
    if heat.ndim != 2 or heat.size == 0:
        raise ValidationError(f"heat values must be a non-empty 2-D array, got {heat.shape}")
    if not 0.0 <= alpha <= 1.0:
        raise ValidationError("alpha must lie in [0, 1]")
    if not 0.0 <= floor <= alpha:
        raise ValidationError("floor must lie in [0, alpha]")
    height, width = frame.shape[:2]
    heat = np.clip(np.nan_to_num(heat, nan=0.0, posinf=1.0, neginf=0.0), 0.0, 1.0).astype(
        np.float32, copy=False
    )
    if heat.shape != (height, width):
        heat = np.asarray(
            cv2.resize(heat, (width, height), interpolation=cv2.INTER_LINEAR), dtype=np.float32
        )
    coloured = cv2.applyColorMap(np.rint(heat * 255).astype(np.uint8), colormap)
    opacity = (
        alpha * heat if floor <= 0 else np.where(heat > 0, floor + (alpha - floor) * heat, 0.0)
    )
    weight = opacity.astype(np.float32)[:, :, None]
    blended = frame.astype(np.float32) * (1.0 - weight) + coloured.astype(np.float32) * weight
    out: Image = np.clip(np.rint(blended), 0, 255).astype(np.uint8)
    return out


def write_png(path: Path | str, image: npt.NDArray[np.uint8]) -> Path:
    """Encode an image as PNG and write it, creating parent folders.

    Args:
        path: Destination file.
        image: BGR ``(H, W, 3)`` or grey ``(H, W)`` uint8 pixels.

    Returns:
        The path written.

    Raises:
        ValidationError: the image cannot be encoded as PNG.
        OSError: the file cannot be written.
    """
    target = Path(path)
    encoded = encode_png(image)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(encoded)
    return target


def encode_png(image: npt.NDArray[np.uint8]) -> bytes:
    """Encode BGR ``(H, W, 3)`` or grey ``(H, W)`` uint8 pixels as PNG.

    Raises:
        ValidationError: the image cannot be encoded as PNG.
    """
    pixels = np.asarray(image)
    if pixels.dtype != np.uint8 or pixels.ndim not in (2, 3) or pixels.size == 0:
        raise ValidationError(f"image must be uint8 (H, W[, 3]), got {pixels.shape} {pixels.dtype}")
    try:
        ok, encoded = cv2.imencode(".png", pixels)
    except cv2.error as exc:
        raise ValidationError(f"cannot encode image of shape {pixels.shape} as PNG") from exc
    if not ok:
        raise ValidationError(f"cannot encode image of shape {pixels.shape} as PNG")
    return bytes(encoded.tobytes())


def heatmap_png(grid: HeatmapGrid, background_jpeg: bytes | None = None) -> bytes:
    """Draw a summed heatmap over a frame of its camera, or a grey canvas, as PNG.

    Args:
        grid: The counts per cell; drawn normalised to the busiest cell.
        background_jpeg: A JPEG frame of the camera (its latest snapshot);
            the heatmap is drawn at the frame's size. ``None``, or a JPEG that
            does not decode, draws on a grey canvas of ``grid``'s frame size.

    Returns:
        The PNG bytes.
    """
    frame: Image = np.full((grid.frame_height, grid.frame_width, 3), _BACKGROUND, np.uint8)
    if background_jpeg:
        decoded = cv2.imdecode(np.frombuffer(background_jpeg, dtype=np.uint8), cv2.IMREAD_COLOR)
        if isinstance(decoded, np.ndarray) and decoded.size:
            frame = np.asarray(decoded, dtype=np.uint8)
    # Nearest cells, not blurred: each cell's square shows its own count (on the grid's
    # logarithmic scale); every visited cell shows, however little it was visited.
    size = (frame.shape[1], frame.shape[0])
    values = np.asarray(
        cv2.resize(grid.normalised(), size, interpolation=cv2.INTER_NEAREST), dtype=np.float32
    )
    return encode_png(render_heatmap(frame, values, alpha=0.7, floor=0.3))

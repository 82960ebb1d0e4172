"""The nine anchor points of a box, the points that trigger lines and zones."""

from __future__ import annotations

import enum
from collections.abc import Iterable

import numpy as np
import numpy.typing as npt

from argus.domain.errors import ConfigError

__all__ = ["Anchor", "anchor_points", "parse_anchors"]


class Anchor(enum.StrEnum):
    """A point of a box ``(x1, y1, x2, y2)`` in image pixels (y grows downwards)."""

    TOP_LEFT = "TOP_LEFT"
    TOP_CENTER = "TOP_CENTER"
    TOP_RIGHT = "TOP_RIGHT"
    CENTER_LEFT = "CENTER_LEFT"
    CENTER = "CENTER"
    CENTER_RIGHT = "CENTER_RIGHT"
    BOTTOM_LEFT = "BOTTOM_LEFT"
    BOTTOM_CENTER = "BOTTOM_CENTER"
    BOTTOM_RIGHT = "BOTTOM_RIGHT"


# (weight of x1, weight of y1) per anchor: x = x1 + wx * (x2 - x1), y = y1 + wy * (y2 - y1)
_WEIGHTS: dict[Anchor, tuple[float, float]] = {
    Anchor.TOP_LEFT: (0.0, 0.0),
    Anchor.TOP_CENTER: (0.5, 0.0),
    Anchor.TOP_RIGHT: (1.0, 0.0),
    Anchor.CENTER_LEFT: (0.0, 0.5),
    Anchor.CENTER: (0.5, 0.5),
    Anchor.CENTER_RIGHT: (1.0, 0.5),
    Anchor.BOTTOM_LEFT: (0.0, 1.0),
    Anchor.BOTTOM_CENTER: (0.5, 1.0),
    Anchor.BOTTOM_RIGHT: (1.0, 1.0),
}


def _axis(
    low: npt.NDArray[np.float64], high: npt.NDArray[np.float64], w: float
) -> npt.NDArray[np.float64]:
    if w == 0.0:
        return low
    if w == 1.0:
        return high
    return (low + high) / 2


def anchor_points(
    xyxy: npt.NDArray[np.float32] | npt.NDArray[np.float64], anchors: Iterable[Anchor]
) -> npt.NDArray[np.float64]:
    """Return the anchor points of every box.

    Args:
        xyxy: Boxes, shape ``(N, 4)``.
        anchors: The anchors to compute, ``A`` of them.

    Returns:
        Points, shape ``(A, N, 2)`` float64 (a new array; ``xyxy`` is not touched).
    """
    boxes = np.asarray(xyxy, dtype=np.float64).reshape(-1, 4)
    chosen = tuple(anchors)
    out = np.empty((len(chosen), boxes.shape[0], 2), dtype=np.float64)
    for i, anchor in enumerate(chosen):
        wx, wy = _WEIGHTS[anchor]
        out[i, :, 0] = _axis(boxes[:, 0], boxes[:, 2], wx)
        out[i, :, 1] = _axis(boxes[:, 1], boxes[:, 3], wy)
    return out


def parse_anchors(anchors: Anchor | str | Iterable[Anchor | str]) -> tuple[Anchor, ...]:
    """Return anchors from names (``"bottom_center"`` or ``"BOTTOM_CENTER"``) or members.

    Raises:
        ConfigError: a name is unknown, or there are none.
    """
    items: Iterable[Anchor | str] = (anchors,) if isinstance(anchors, str) else anchors
    parsed: list[Anchor] = []
    for item in items:
        try:
            anchor = Anchor(item.upper()) if isinstance(item, str) else Anchor(item)
        except ValueError as exc:
            choices = ", ".join(a.value for a in Anchor)
            raise ConfigError(f"unknown anchor {item!r}; choose from {choices}") from exc
        if anchor not in parsed:
            parsed.append(anchor)
    if not parsed:
        raise ConfigError("at least one triggering anchor is required")
    return tuple(parsed)

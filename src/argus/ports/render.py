"""Drawing analysis results onto frames and writing them out (presentation port).

The overlay values describe what to draw in plain numbers, so analytics never
draw and renderers never reach into analytics state.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

from argus.domain.detections import Detections

__all__ = ["Annotator", "LineOverlay", "Overlay", "VideoWriter", "ZoneOverlay"]


@dataclass(frozen=True, slots=True)
class LineOverlay:
    """A counting line and its counts.

    Attributes:
        name: Line name.
        start: Segment start ``(x, y)``.
        end: Segment end ``(x, y)``.
        in_label: Name of the ``in`` direction.
        out_label: Name of the ``out`` direction.
        in_count: Crossings in so far.
        out_count: Crossings out so far.
    """

    name: str
    start: tuple[float, float]
    end: tuple[float, float]
    in_label: str
    out_label: str
    in_count: int
    out_count: int


@dataclass(frozen=True, slots=True)
class ZoneOverlay:
    """A zone and how many objects are in it now.

    Attributes:
        name: Zone name.
        polygon: Vertices ``(x, y)``.
        occupancy: Objects inside now.
        alert: Whether something notable is happening (loitering, crowding).
    """

    name: str
    polygon: tuple[tuple[float, float], ...]
    occupancy: int
    alert: bool = False


@dataclass(frozen=True, slots=True)
class Overlay:
    """Everything drawn over one frame.

    Attributes:
        detections: Tracked detections (boxes, classes, ids).
        lines: Counting lines with counts.
        zones: Zones with occupancy.
        caption: One line of text for the top-left corner.
    """

    detections: Detections
    lines: tuple[LineOverlay, ...] = ()
    zones: tuple[ZoneOverlay, ...] = ()
    caption: str = ""


class Annotator(Protocol):
    """Draws an overlay on a copy of a frame."""

    def draw(self, image: npt.NDArray[np.uint8], overlay: Overlay) -> npt.NDArray[np.uint8]:
        """Return a new BGR image with ``overlay`` drawn on ``image`` (left untouched)."""
        ...


class VideoWriter(Protocol):
    """Encodes BGR frames into a video file."""

    def write(self, image: npt.NDArray[np.uint8]) -> None:
        """Append one frame."""
        ...

    def close(self) -> None:
        """Flush and finish the file; idempotent."""
        ...

"""A coarse occupancy grid: how often tracks stood in each cell, for persistent heatmaps."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from argus.domain.analytics.anchors import Anchor, anchor_points, parse_anchors
from argus.domain.detections import Detections
from argus.domain.errors import ConfigError
from argus.domain.events import HeatmapMinute

__all__ = ["OccupancyGrid"]


class OccupancyGrid:
    """Counts track anchors per cell of a coarse grid, frame after frame.

    The frame is cut into ``columns`` columns and as many rows as keep the
    cells roughly square (at least one). Each ``add`` counts one frame and adds
    one to the cell of every detection's anchor; anchors on or beyond the
    frame's border count in the nearest edge cell. ``take`` hands the counts
    out as a ``HeatmapMinute`` and starts over, so the state is one small
    integer array whatever the number of frames or tracks. Unlike the decaying
    ``Heatmap`` the counts are exact, so grids of consecutive periods add up.
    """

    def __init__(
        self,
        width: int,
        height: int,
        *,
        columns: int = 64,
        anchor: Anchor | str = Anchor.BOTTOM_CENTER,
    ) -> None:
        """Create an empty grid for frames of ``width`` x ``height`` pixels.

        Raises:
            ConfigError: a size is below 1 or ``columns`` is above 256.
        """
        if width < 1 or height < 1:
            raise ConfigError("occupancy grid: frame width and height must be >= 1")
        if not 1 <= columns <= 256:
            raise ConfigError("occupancy grid: columns must lie in [1, 256]")
        self.frame_width = width
        self.frame_height = height
        self.grid_width = columns
        self.grid_height = min(256, max(1, round(columns * height / width)))
        self.anchor = parse_anchors(anchor)[0]
        self._counts: npt.NDArray[np.int64] = np.zeros(
            self.grid_width * self.grid_height, dtype=np.int64
        )
        self._frames = 0

    @property
    def frames(self) -> int:
        """Frames added since the last ``take``."""
        return self._frames

    def add(self, detections: Detections) -> None:
        """Count one frame and the anchor of each of its detections (not modified)."""
        self._frames += 1
        if len(detections) == 0:
            return
        points = anchor_points(detections.xyxy, (self.anchor,))[0]
        cols = np.clip(
            np.floor(points[:, 0] * self.grid_width / self.frame_width), 0, self.grid_width - 1
        ).astype(np.intp)
        rows = np.clip(
            np.floor(points[:, 1] * self.grid_height / self.frame_height), 0, self.grid_height - 1
        ).astype(np.intp)
        np.add.at(self._counts, rows * self.grid_width + cols, 1)

    def take(self) -> HeatmapMinute | None:
        """Return the counts so far as an event and start over; ``None`` after no frame."""
        if self._frames == 0:
            return None
        nonzero = np.flatnonzero(self._counts)
        cells = tuple(
            (int(i), int(c))
            for i, c in zip(nonzero.tolist(), self._counts[nonzero].tolist(), strict=True)
        )
        event = HeatmapMinute(
            grid_width=self.grid_width,
            grid_height=self.grid_height,
            frame_width=self.frame_width,
            frame_height=self.frame_height,
            frames=self._frames,
            cells=cells,
        )
        self._counts[:] = 0
        self._frames = 0
        return event

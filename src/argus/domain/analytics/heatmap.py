"""A decaying presence heatmap of one camera, accumulated on a coarse grid."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from argus.domain.analytics.anchors import Anchor, anchor_points, parse_anchors
from argus.domain.detections import Detections
from argus.domain.errors import ConfigError

__all__ = ["Heatmap"]

FloatGrid = npt.NDArray[np.float32]


def _linear_taps(
    size: int, cells: int, cell_size: int
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp], npt.NDArray[np.float32]]:
    """Source cells and weights to interpolate ``cells`` cell centres onto ``size`` pixels."""
    position = (np.arange(size, dtype=np.float64) + 0.5) / cell_size - 0.5
    position = np.clip(position, 0.0, cells - 1)
    low = np.floor(position).astype(np.intp)
    high = np.minimum(low + 1, cells - 1)
    return low, high, (position - low).astype(np.float32)


class Heatmap:
    """Where detections have been, with older presence fading away.

    Each ``add`` first decays the accumulated heat by the time elapsed since
    the previous one, then splats a Gaussian of ``radius`` pixels (weight 1 at
    its centre) at every detection's anchor. The heat lives on a grid of
    ``cell`` pixel cells, so the cost is independent of the frame size;
    ``values()`` interpolates it back to full resolution. Everything is pure
    numpy; drawing lives in the render adapter.

    Decay is set by ``half_life_s`` (seconds for the heat to halve) or by
    ``decay_per_second`` (the fraction lost each second); with neither the
    map accumulates for ever.
    """

    def __init__(
        self,
        width: int,
        height: int,
        *,
        cell: int = 8,
        radius: float = 24.0,
        half_life_s: float | None = None,
        decay_per_second: float | None = None,
        anchor: Anchor | str = Anchor.BOTTOM_CENTER,
    ) -> None:
        """Create an empty heatmap.

        Args:
            width: Frame width in pixels.
            height: Frame height in pixels.
            cell: Side of a grid cell in pixels (>= 1).
            radius: Radius of each detection's splat in pixels (> 0); the
                Gaussian's sigma is half of it and it is cut off at the radius.
            half_life_s: Seconds for the heat to halve (> 0), or ``None``.
            decay_per_second: Fraction of the heat lost per second, in
                ``[0, 1)``, or ``None``. At most one of the two may be set.
            anchor: The box point that marks where a detection is.

        Raises:
            ConfigError: an argument is out of range, or both decays are set.
        """
        if width < 1 or height < 1:
            raise ConfigError("heatmap width and height must be >= 1")
        if cell < 1:
            raise ConfigError("heatmap cell must be >= 1")
        if not (math.isfinite(radius) and radius > 0):
            raise ConfigError("heatmap radius must be a finite number > 0")
        if half_life_s is not None and decay_per_second is not None:
            raise ConfigError("set half_life_s or decay_per_second, not both")
        if half_life_s is not None and not (math.isfinite(half_life_s) and half_life_s > 0):
            raise ConfigError("heatmap half_life_s must be a finite number > 0")
        if decay_per_second is not None and not 0 <= decay_per_second < 1:
            raise ConfigError("heatmap decay_per_second must lie in [0, 1)")
        self.width = width
        self.height = height
        self.cell = cell
        self.radius = radius
        self.half_life_s = half_life_s
        self.decay_per_second = decay_per_second
        self.anchor = parse_anchors(anchor)[0]
        self._rate = self._decay_rate()
        self._grid = np.zeros((math.ceil(height / cell), math.ceil(width / cell)), dtype=np.float32)
        reach = math.ceil(radius / cell) + 1
        self._offsets = np.arange(-reach, reach + 1, dtype=np.intp)
        self._last_time: float | None = None

    def _decay_rate(self) -> float:
        """Return ``k`` of ``heat *= exp(-k * seconds)``."""
        if self.half_life_s is not None:
            return math.log(2.0) / self.half_life_s
        if self.decay_per_second is not None:
            return -math.log1p(-self.decay_per_second)
        return 0.0

    @property
    def grid_shape(self) -> tuple[int, int]:
        """Rows and columns of the accumulation grid."""
        rows, cols = self._grid.shape
        return int(rows), int(cols)

    @property
    def peak(self) -> float:
        """Largest accumulated heat (0 when empty); ``values()`` is divided by it."""
        return float(self._grid.max()) if self._grid.size else 0.0

    def add(self, detections: Detections, timestamp: float) -> None:
        """Decay to ``timestamp``, then add every detection of a frame.

        Args:
            detections: The frame's detections (tracked or not); anchors off
                the frame only heat the cells their splat reaches.
            timestamp: Seconds of the stream; an earlier time than the last
                one decays nothing.
        """
        if self._last_time is not None and self._rate > 0:
            elapsed = max(0.0, timestamp - self._last_time)
            if elapsed > 0:
                self._grid *= np.float32(math.exp(-self._rate * elapsed))
        self._last_time = timestamp if self._last_time is None else max(self._last_time, timestamp)
        if len(detections) == 0:
            return
        points = anchor_points(detections.xyxy, (self.anchor,))[0] / self.cell - 0.5
        rows, cols = self._grid.shape
        base = np.rint(points).astype(np.intp)  # nearest cell centre, (N, 2) as (col, row)
        col = base[:, 0, None, None] + self._offsets[None, None, :]
        row = base[:, 1, None, None] + self._offsets[None, :, None]
        sigma = self.radius / 2 / self.cell
        dist_sq = (col - points[:, 0, None, None]) ** 2 + (row - points[:, 1, None, None]) ** 2
        weight = np.exp(-dist_sq / (2 * sigma * sigma))
        reach_sq = max(self.radius / self.cell, 0.75) ** 2  # always the nearest cell
        keep = (dist_sq <= reach_sq) & (col >= 0) & (col < cols) & (row >= 0) & (row < rows)
        col, row = np.broadcast_arrays(col, row)
        np.add.at(self._grid, (row[keep], col[keep]), weight[keep].astype(np.float32))

    def grid(self) -> FloatGrid:
        """Return the heat on the grid, normalised to ``[0, 1]`` (a new array).

        Shape ``grid_shape``; all zeros when nothing has been added.
        """
        peak = self.peak
        if peak <= 0:
            return np.zeros_like(self._grid)
        normalised: FloatGrid = np.clip(self._grid / np.float32(peak), 0.0, 1.0)
        return normalised.astype(np.float32, copy=False)

    def values(self) -> FloatGrid:
        """Return the heat at every pixel, normalised to ``[0, 1]``.

        Returns:
            Shape ``(height, width)`` float32, bilinearly interpolated between
            cell centres; a new array.
        """
        grid = self.grid()
        rows, cols = grid.shape
        r0, r1, wr = _linear_taps(self.height, rows, self.cell)
        c0, c1, wc = _linear_taps(self.width, cols, self.cell)
        by_row = grid[r0] * (1 - wr)[:, None] + grid[r1] * wr[:, None]
        full = by_row[:, c0] * (1 - wc)[None, :] + by_row[:, c1] * wc[None, :]
        return np.clip(full, 0.0, 1.0).astype(np.float32, copy=False)

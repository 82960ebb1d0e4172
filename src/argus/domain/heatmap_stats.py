"""Heatmap statistics: ``heatmap.minute`` events of one camera summed into one grid.

Payloads come from edge nodes and are checked here, not trusted: an event
whose grid, frame size or cells are malformed is skipped and counted.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from argus.domain.codec import lenient_int

__all__ = ["HEATMAP_TYPE", "MAX_HEATMAP_CELLS", "HeatmapGrid", "HeatmapTally"]

HEATMAP_TYPE = "heatmap.minute"
"""The event type ``HeatmapTally`` sums."""
MAX_HEATMAP_CELLS = 256 * 256
"""Largest grid a heatmap payload may declare; larger ones are ignored."""
_MAX_COUNT = 2**31 - 1
"""Largest per-minute count (of frames or of one cell) taken as plausible."""


@dataclass(frozen=True, eq=False)
class HeatmapGrid:
    """Where tracks were over a period: ``heatmap.minute`` events summed.

    Attributes:
        grid_width: Columns of the grid.
        grid_height: Rows of the grid.
        frame_width: Frame width in pixels the grid covers.
        frame_height: Frame height in pixels.
        frames: Frames analysed over the period.
        minutes: ``heatmap.minute`` events summed.
        skipped: Events left out because their grid or frame size differed
            from the newest one (the camera's resolution changed) or their
            payload was malformed.
        counts: Track-frames per cell, shape ``(grid_height, grid_width)``
            int64, read-only.
        minute_frames: Frames of the fullest minute summed: about 60 times
            the camera's analysed frame rate once a run lasted a whole minute.
    """

    grid_width: int
    grid_height: int
    frame_width: int
    frame_height: int
    frames: int
    minutes: int
    skipped: int
    counts: npt.NDArray[np.int64]
    minute_frames: int = 0

    @property
    def peak(self) -> int:
        """The largest count of one cell (0 when empty)."""
        return int(self.counts.max()) if self.counts.size else 0

    @property
    def seconds_per_frame(self) -> float | None:
        """Seconds one count stands for (one track seen in one frame), or ``None``.

        Estimated from the fullest minute (``60 / minute_frames``); ``None``
        when no minute had a frame. A period whose runs all lasted less than a
        minute overstates it (fewer frames in its fullest minute).
        """
        return 60.0 / self.minute_frames if self.minute_frames > 0 else None

    def normalised(self) -> npt.NDArray[np.float32]:
        """The counts on a logarithmic scale in ``[0, 1]``: ``log(1 + c) / log(1 + peak)``.

        Logarithmic because presence is very uneven: a cell where someone stood
        for minutes holds thousands of counts, one a walker crossed holds one
        or two, and on a linear scale to the busiest cell every walked cell
        rounds to nothing (the empty vtest heatmap of issue 23). Any visited
        cell gets a value above zero; all zeros when empty.
        """
        peak = self.peak
        if peak <= 0:
            return np.zeros(self.counts.shape, dtype=np.float32)
        scaled = np.log1p(self.counts.astype(np.float64)) / np.log1p(float(peak))
        out: npt.NDArray[np.float32] = np.clip(scaled, 0.0, 1.0).astype(np.float32)
        return out


_Geometry = tuple[int, int, int, int]


def _geometry(payload: Mapping[str, object]) -> _Geometry | None:
    values = [
        lenient_int(payload.get(key))
        for key in ("grid_width", "grid_height", "frame_width", "frame_height")
    ]
    if any(v is None or v < 1 for v in values):
        return None
    gw, gh, fw, fh = (int(v or 0) for v in values)
    return (gw, gh, fw, fh) if gw * gh <= MAX_HEATMAP_CELLS else None


def _cells(payload: Mapping[str, object], size: int) -> tuple[list[int], list[int]] | None:
    cells = payload.get("cells")
    if not isinstance(cells, list | tuple):
        return None
    indices, counts = [], []
    for cell in cells:
        if not isinstance(cell, list | tuple) or len(cell) != 2:
            return None
        index, count = lenient_int(cell[0]), lenient_int(cell[1])
        if index is None or count is None or not 0 <= index < size or not 0 <= count <= _MAX_COUNT:
            return None
        indices.append(index)
        counts.append(count)
    return indices, counts


class HeatmapTally:
    """Sums ``heatmap.minute`` payloads of one camera.

    Feed the newest event first: its grid and frame size are the ones summed,
    and older events with another geometry are skipped.
    """

    def __init__(self) -> None:
        """Start empty."""
        self._geometry: _Geometry | None = None
        self._flat: npt.NDArray[np.int64] = np.zeros(0, dtype=np.int64)
        self._frames = 0
        self._minutes = 0
        self._skipped = 0
        self._minute_frames = 0

    def add(self, payload: Mapping[str, object]) -> None:
        """Add one ``heatmap.minute`` payload."""
        geometry = _geometry(payload)
        frames = lenient_int(payload.get("frames"))
        if geometry is None or frames is None or not 0 <= frames <= _MAX_COUNT:
            self._skipped += 1
            return
        if self._geometry is None:
            self._geometry = geometry
            self._flat = np.zeros(geometry[0] * geometry[1], dtype=np.int64)
        if geometry != self._geometry:
            self._skipped += 1
            return
        cells = _cells(payload, self._flat.size)
        if cells is None:
            self._skipped += 1
            return
        np.add.at(self._flat, np.asarray(cells[0], dtype=np.intp), np.asarray(cells[1]))
        self._frames += frames
        self._minutes += 1
        self._minute_frames = max(self._minute_frames, frames)

    def result(self) -> HeatmapGrid | None:
        """The summed grid, or ``None`` when no usable event was added."""
        if self._geometry is None:
            return None
        gw, gh, fw, fh = self._geometry
        counts = self._flat.reshape(gh, gw).copy()
        counts.setflags(write=False)
        return HeatmapGrid(
            gw, gh, fw, fh, self._frames, self._minutes, self._skipped, counts, self._minute_frames
        )

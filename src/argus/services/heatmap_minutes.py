"""``heatmap.minute`` events: where tracks stood, per coarse cell and wall-clock minute.

The analysis service raises every other event of a camera (``Analyzer``);
this is the producer of the one event counted per minute rather than per
frame. A pipeline feeds it each frame's tracked detections and publishes the
envelope it hands back when a minute (or the frame size) changes, and the
last, partial minute when its run ends. The event store sums these into the
heatmap of any period, on any control-plane replica.

Only the scene's heatmap classes are counted (people by default). Counting
every class hid the people of vtest.avi: the parked van and car of that view
are detected in every frame, so their two cells held hundreds of counts a
minute while a walker leaves one or two per cell, and a heatmap scaled to its
busiest cell showed nothing else (issue 23).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import numpy as np
import numpy.typing as npt

from argus.domain.analytics.occupancy import OccupancyGrid
from argus.domain.detections import Detections
from argus.domain.events import Envelope, EventSource, new_event_id
from argus.domain.frames import Frame
from argus.scene import Scene

__all__ = ["MinuteHeatmap"]


class MinuteHeatmap:
    """The occupancy grid of one run, handed out as an envelope per wall-clock minute.

    Args:
        scene: The camera (the events' source), its heatmap anchor and the
            classes it counts (``scene.heatmap.classes``; ``None``: all).
        clock: Wall-clock UTC time, which dates the minutes.
    """

    def __init__(self, scene: Scene, clock: Callable[[], datetime]) -> None:
        self._source = EventSource(scene.camera.edge_node_id, scene.camera.id)
        self._anchor = scene.heatmap.anchor
        self._classes = scene.heatmap.classes
        self._clock = clock
        self._grid: OccupancyGrid | None = None
        self._minute: datetime | None = None
        self._class_ids: dict[tuple[str, ...], npt.NDArray[np.int64]] = {}

    def _counted(self, detections: Detections) -> Detections:
        """The detections of the counted classes (by name, whatever the model's class ids)."""
        if self._classes is None or len(detections) == 0:
            return detections
        names = detections.class_names
        if not names:
            return detections  # a model without class names: nothing to tell apart
        ids = self._class_ids.get(names)
        if ids is None:
            wanted = [i for i, name in enumerate(names) if name in self._classes]
            ids = self._class_ids[names] = np.asarray(wanted, dtype=np.int64)
        return detections.select(np.isin(detections.class_id, ids))

    def add(self, frame: Frame, detections: Detections) -> Envelope | None:
        """Count a frame; return the previous minute's envelope when this frame starts a new one.

        A new frame size also closes the minute, so one event covers one size.
        """
        minute = self._clock().astimezone(UTC).replace(second=0, microsecond=0)
        grid = self._grid
        done = None
        if grid is not None and (
            minute != self._minute
            or (grid.frame_width, grid.frame_height) != (frame.width, frame.height)
        ):
            done = self.flush()
        if self._grid is None:
            self._grid = OccupancyGrid(frame.width, frame.height, anchor=self._anchor)
            self._minute = minute
        self._grid.add(self._counted(detections))
        return done

    def flush(self) -> Envelope | None:
        """Return the counts so far as an envelope dated at their minute, and start over."""
        grid, minute = self._grid, self._minute
        self._grid = self._minute = None
        event = grid.take() if grid is not None else None
        if event is None or minute is None:
            return None
        return Envelope.wrap(event, self._source, minute, new_event_id(minute))

"""A camera's live frame: its confirmed tracks and counts after one analysed frame.

The edge worker builds one ``LiveFrame`` per analysed frame (``live_frame``),
the pipeline supervisor hands it to live subscribers, and the API turns it into
the ``tracks`` and ``counts`` messages of ``/ws``. Values are rounded once,
here, to what a dashboard draws (milliseconds, tenths of a pixel).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from argus.domain.detections import Detections

__all__ = ["Counts", "LiveFrame", "LiveTrack", "live_frame"]

Counts = Mapping[str, Mapping[str, object]]
"""Per line: counts per direction (and per class); per zone: occupancy, maximum and
visits (``SceneAnalytics.summary()``), JSON-ready."""


@dataclass(frozen=True, slots=True)
class LiveTrack:
    """One confirmed track in a live frame.

    Attributes:
        id: The track id.
        class_name: The class the model gave it.
        confidence: Detection score, rounded to 3 decimals.
        box: ``(x1, y1, x2, y2)`` in pixels, rounded to 1 decimal.
    """

    id: int
    class_name: str
    confidence: float
    box: tuple[float, float, float, float]


@dataclass(frozen=True, slots=True)
class LiveFrame:
    """A camera's tracks and counts after one analysed frame.

    Attributes:
        camera_id: The camera.
        frame_index: Index of the frame in its source.
        timestamp: Seconds of the stream, rounded to 3 decimals.
        width: Frame width in pixels.
        height: Frame height in pixels.
        tracks: Confirmed tracks in that frame.
        counts: The camera's line and zone counts so far.
        since: When ``counts`` started (UTC): the start of the pipeline run that
            counts them; they reset when the pipeline restarts, and the stored
            events of ``[since, now)`` add up to them. ``None`` when unknown.
    """

    camera_id: str
    frame_index: int
    timestamp: float
    width: int
    height: int
    tracks: tuple[LiveTrack, ...]
    counts: Counts
    since: datetime | None = None


def live_frame(
    camera_id: str,
    *,
    frame_index: int,
    timestamp: float,
    width: int,
    height: int,
    detections: Detections,
    counts: Counts,
    since: datetime | None = None,
) -> LiveFrame:
    """The live frame of ``detections`` (tracked) on one frame of ``camera_id``."""
    names = detections.class_names
    tracks = tuple(
        LiveTrack(
            id=int(track),
            class_name=names[int(cls)] if 0 <= int(cls) < len(names) else str(int(cls)),
            confidence=round(float(score), 3),
            box=(
                round(float(box[0]), 1),
                round(float(box[1]), 1),
                round(float(box[2]), 1),
                round(float(box[3]), 1),
            ),
        )
        for box, score, cls, track in zip(
            detections.xyxy,
            detections.confidence,
            detections.class_id,
            detections.tracker_id,
            strict=True,
        )
    )
    return LiveFrame(
        camera_id=camera_id,
        frame_index=frame_index,
        timestamp=round(timestamp, 3),
        width=width,
        height=height,
        tracks=tracks,
        counts=counts,
        since=since,
    )

"""What an alert's snapshot and clip show: the object's box and path, the rule's line or zone.

Events carry no box, but the pipeline's trajectory log does: every
``tracks.minute`` event (``argus.domain.event_payloads.TracksMinute``) holds,
per track and at up to 5 Hz, the box's bottom-centre ``(x, y)`` and its
height, in pixels of the analysed frame, and the frame's size. ``track_path``
reads the samples of the alert's track around the event's moment back from
those payloads; ``box_at`` turns the path into the box at that moment.

The log keeps no box width. The box drawn has the measured foot point and
height and a width from the class's usual aspect ratio (``ASPECT``); it says
so (``BoxEstimate.width_estimated``). An event without a track (crowding, a
health event) has no box; a line crossing's box is where the object was when
the crossing was confirmed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from argus.domain.cameras import Point

__all__ = [
    "ASPECT",
    "DEFAULT_ASPECT",
    "PATH_SPAN",
    "AlertOverlay",
    "BoxEstimate",
    "OverlayShape",
    "PathSample",
    "TrackPath",
    "box_at",
    "track_path",
]

ASPECT: Mapping[str, float] = {
    "person": 0.41,
    "bicycle": 0.9,
    "motorcycle": 0.9,
    "car": 1.6,
    "bus": 1.8,
    "truck": 1.6,
}
"""Usual width / height of a box of each class (0.41: the pedestrian benchmarks' ratio)."""

DEFAULT_ASPECT = 0.6
"""Width / height of a box of a class ``ASPECT`` does not name."""

PATH_SPAN = timedelta(seconds=10)
"""How far before and after the event the drawn path reaches."""

_NEAREST = timedelta(seconds=2)
"""A track whose nearest sample is further from the event is not the event's object."""

_TICKS = 10  # the log's tenths of a second


@dataclass(frozen=True, slots=True)
class PathSample:
    """Where a track's box stood at one moment: bottom-centre and height, in frame pixels."""

    at: datetime
    x: float
    y: float
    height: float


@dataclass(frozen=True, slots=True)
class TrackPath:
    """A track's samples around an event, oldest first, and the frame they are measured on."""

    frame_width: int
    frame_height: int
    class_name: str
    samples: tuple[PathSample, ...]


@dataclass(frozen=True, slots=True)
class BoxEstimate:
    """The object's box at the event's moment, ``(x1, y1, x2, y2)`` in frame pixels.

    Attributes:
        xyxy: The box.
        width_estimated: The width comes from the class's aspect ratio, not a measurement.
    """

    xyxy: tuple[float, float, float, float]
    width_estimated: bool = True


@dataclass(frozen=True, slots=True)
class OverlayShape:
    """The rule's line or zone as drawn: its name and vertices in frame pixels.

    Attributes:
        kind: ``line`` (two points, start to end) or ``zone`` (a polygon).
        name: The line's or zone's name.
        points: Vertices ``(x, y)``.
        in_label: For a line, the name of its ``in`` side (left of start to end).
    """

    kind: Literal["line", "zone"]
    name: str
    points: tuple[Point, ...]
    in_label: str | None = None


@dataclass(frozen=True, slots=True)
class AlertOverlay:
    """Everything drawn over an alert's media.

    Attributes:
        alert_id: The alert.
        frame_width: Width of the analysed frame (``None``: unknown, use the media's).
        frame_height: Height of the analysed frame.
        shapes: The event's (else the rule's) line or zone; none when it names neither.
        box: The object's box at the event's moment; ``None`` when not known.
        path: The object's path around the event (bottom-centre points, oldest first).
        note: Why something is missing (shown to the operator), empty when nothing is.
    """

    alert_id: str
    frame_width: int | None
    frame_height: int | None
    shapes: tuple[OverlayShape, ...]
    box: BoxEstimate | None
    path: tuple[PathSample, ...]
    note: str = ""


def _rows(payload: Mapping[str, object]) -> Iterable[tuple[int, str, list[int]]]:
    """``(track_id, class name, samples)`` of a ``tracks.minute`` payload; bad rows skipped."""
    classes, rows = payload.get("classes"), payload.get("tracks")
    if not isinstance(classes, list | tuple) or not isinstance(rows, list | tuple):
        return
    for row in rows:
        if not isinstance(row, list | tuple) or len(row) < 6 or (len(row) - 2) % 4:
            continue
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in row):
            continue
        index = row[1]
        name = str(classes[index]) if 0 <= index < len(classes) else str(index)
        yield row[0], name, list(row[2:])


def track_path(
    minutes: Iterable[tuple[datetime, Mapping[str, object]]],
    track_id: int,
    at: datetime,
    *,
    span: timedelta = PATH_SPAN,
) -> TrackPath | None:
    """The samples of track ``track_id`` within ``span`` of ``at``, from ``tracks.minute`` events.

    Track ids restart with every tracker run, so of the runs that logged the id
    the one whose sample lies nearest ``at`` is taken; none when its nearest
    sample is more than two seconds away (the log is not that object's).

    Args:
        minutes: ``(event timestamp, payload)`` of the camera's ``tracks.minute``
            events around ``at`` (the timestamp is the minute the samples count from).
        track_id: The alert's track.
        at: The event's moment (UTC).
        span: How far before and after ``at`` samples are kept.
    """
    runs: dict[object, TrackPath] = {}
    for minute, payload in minutes:
        width, height, run = (
            payload.get("frame_width"),
            payload.get("frame_height"),
            payload.get("run"),
        )
        if not (isinstance(width, int) and isinstance(height, int) and width > 0 and height > 0):
            continue
        for row_track, name, flat in _rows(payload):
            if row_track != track_id:
                continue
            found = tuple(
                PathSample(
                    minute + timedelta(seconds=flat[i] / _TICKS),
                    float(flat[i + 1]),
                    float(flat[i + 2]),
                    float(flat[i + 3]),
                )
                for i in range(0, len(flat), 4)
            )
            known = runs.get(run)
            samples = (*known.samples, *found) if known is not None else found
            runs[run] = TrackPath(width, height, name, samples)
    best: TrackPath | None = None
    best_gap = _NEAREST
    for path in runs.values():
        gap = min(abs(s.at - at) for s in path.samples)
        if gap <= best_gap:
            best, best_gap = path, gap
    if best is None:
        return None
    kept = sorted((s for s in best.samples if abs(s.at - at) <= span), key=lambda s: s.at)
    return TrackPath(best.frame_width, best.frame_height, best.class_name, tuple(kept))


def box_at(path: TrackPath, at: datetime) -> BoxEstimate | None:
    """The box at ``at``: foot point and height interpolated between the samples around it."""
    samples = path.samples
    if not samples:
        return None
    before = [s for s in samples if s.at <= at]
    after = [s for s in samples if s.at >= at]
    if before and after:
        a, b = before[-1], after[0]
        span = (b.at - a.at).total_seconds()
        f = (at - a.at).total_seconds() / span if span > 0 else 0.0
    else:
        a = b = before[-1] if before else after[0]
        f = 0.0
    x, y, h = (p + f * (q - p) for p, q in ((a.x, b.x), (a.y, b.y), (a.height, b.height)))
    half = h * ASPECT.get(path.class_name, DEFAULT_ASPECT) / 2
    clip = (path.frame_width, path.frame_height)
    x1, x2 = max(0.0, x - half), min(float(clip[0]), x + half)
    y1 = max(0.0, y - h)
    return BoxEstimate((round(x1, 1), round(y1, 1), round(x2, 1), round(y, 1)))

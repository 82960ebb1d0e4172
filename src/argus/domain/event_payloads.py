"""The analytics' domain events: small frozen facts in stream seconds, with their payloads.

Analytics objects (lines, zones, behaviour) emit these; they know nothing
about cameras or wall clocks. ``Envelope.wrap`` (``argus.domain.events``)
carries one to the platform.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, ClassVar, Literal, cast

__all__ = [
    "Crowding",
    "Direction",
    "DomainEvent",
    "ExitReason",
    "HeatmapMinute",
    "LineCrossed",
    "Loitering",
    "Running",
    "TracksMinute",
    "WrongWay",
    "ZoneEntered",
    "ZoneExited",
]

Direction = Literal["in", "out"]
ExitReason = Literal["left", "lost"]


def _round(value: float) -> float:
    return round(float(value), 3)


def _plain(value: object, annotation: object) -> object:
    """A field's JSON-ready value: floats rounded, tuples as lists."""
    if annotation == "float":
        return _round(cast(float, value))
    if isinstance(value, tuple):
        return [_plain(item, None) for item in value]
    return value


class _Payload:
    """``payload()`` for event dataclasses: every field in declaration order.

    Fields annotated ``float`` are rounded to three decimals, so payloads stay
    short and compare equal across a JSON round trip; tuples become lists.
    """

    __slots__ = ()

    def payload(self) -> dict[str, object]:
        """Return the JSON-ready payload."""
        # Only dataclasses derive from this base (fields() needs one).
        event: Any = self
        return {f.name: _plain(getattr(self, f.name), f.type) for f in fields(event)}


@dataclass(frozen=True, slots=True)
class LineCrossed(_Payload):
    """A track crossed a line.

    Attributes:
        line: Name of the line.
        track_id: Tracker id of the object.
        class_id: Class index of the object in the crossing frame.
        class_name: Class name of the object.
        direction: ``"in"`` or ``"out"`` (see ``LineZone`` for which is which).
        timestamp: Seconds of the stream at the frame that confirmed the crossing.
        confidence: Detection score of the object in that frame.
    """

    type: ClassVar[str] = "line.crossed"

    line: str
    track_id: int
    class_id: int
    class_name: str
    direction: Direction
    timestamp: float
    confidence: float = field(kw_only=True)


@dataclass(frozen=True, slots=True)
class WrongWay(_Payload):
    """A track crossed a line against its expected direction.

    Attributes:
        line: Name of the line.
        track_id: Tracker id of the object.
        class_id: Class index of the object.
        class_name: Class name of the object.
        direction: The direction it crossed in.
        expected_direction: The direction the line allows.
        timestamp: Seconds of the stream at the frame that confirmed the crossing.
        confidence: Detection score of the object in that frame.
    """

    type: ClassVar[str] = "line.wrong_way"

    line: str
    track_id: int
    class_id: int
    class_name: str
    direction: Direction
    expected_direction: Direction
    timestamp: float
    confidence: float = field(kw_only=True)


@dataclass(frozen=True, slots=True)
class ZoneEntered(_Payload):
    """A track entered a zone (or appeared inside it).

    Attributes:
        zone: Name of the zone.
        track_id: Tracker id of the object.
        class_id: Class index of the object.
        class_name: Class name of the object.
        timestamp: Seconds of the stream at the frame that confirmed the entry.
        confidence: Detection score of the object in that frame.
    """

    type: ClassVar[str] = "zone.entered"

    zone: str
    track_id: int
    class_id: int
    class_name: str
    timestamp: float
    confidence: float = field(kw_only=True)


@dataclass(frozen=True, slots=True)
class ZoneExited(_Payload):
    """A track left a zone, or was lost while inside it.

    Attributes:
        zone: Name of the zone.
        track_id: Tracker id of the object.
        class_id: Class index of the object.
        class_name: Class name of the object.
        timestamp: Seconds of the stream at the frame that confirmed the exit.
        dwell_seconds: Time spent inside, from the entry to the exit (or to
            the last frame it was seen in, when lost).
        reason: ``"left"`` when it was seen outside, ``"lost"`` when it was not
            seen for too long.
        confidence: Detection score of the object in the last frame it was
            seen in.
    """

    type: ClassVar[str] = "zone.exited"

    zone: str
    track_id: int
    class_id: int
    class_name: str
    timestamp: float
    dwell_seconds: float
    reason: ExitReason = "left"
    confidence: float = field(kw_only=True)


@dataclass(frozen=True, slots=True)
class Loitering(_Payload):
    """A track stayed in a zone for at least the loitering threshold (once per visit).

    Attributes:
        zone: Name of the zone.
        track_id: Tracker id of the object.
        class_id: Class index of the object.
        class_name: Class name of the object.
        timestamp: Seconds of the stream when the threshold was reached.
        dwell_seconds: Time inside so far.
        threshold_seconds: The zone's loitering threshold.
        confidence: Detection score of the object in that frame.
    """

    type: ClassVar[str] = "zone.loitering"

    zone: str
    track_id: int
    class_id: int
    class_name: str
    timestamp: float
    dwell_seconds: float
    threshold_seconds: float
    confidence: float = field(kw_only=True)


@dataclass(frozen=True, slots=True)
class Crowding(_Payload):
    """The occupancy of a zone reached its crowding threshold.

    Attributes:
        zone: Name of the zone.
        timestamp: Seconds of the stream of the frame that reached it.
        occupancy: Detections inside the zone in that frame.
        threshold: The zone's crowding threshold.
    """

    type: ClassVar[str] = "zone.crowding"

    zone: str
    timestamp: float
    occupancy: int
    threshold: int


@dataclass(frozen=True, slots=True)
class Running(_Payload):
    """A track moved faster than the running threshold (once per episode).

    Attributes:
        track_id: Tracker id of the object.
        class_id: Class index of the object.
        class_name: Class name of the object.
        timestamp: Seconds of the stream when the threshold was passed.
        speed: Smoothed speed at that moment, in ``unit``.
        unit: ``"px/s"`` or ``"m/s"``.
        threshold: The threshold, in ``unit``.
        confidence: Detection score of the object in that frame.
    """

    type: ClassVar[str] = "behaviour.running"

    track_id: int
    class_id: int
    class_name: str
    timestamp: float
    speed: float
    unit: str
    threshold: float
    confidence: float = field(kw_only=True)


@dataclass(frozen=True, slots=True)
class HeatmapMinute(_Payload):
    """Where tracks were during (part of) one wall-clock minute of a camera.

    The frame is divided into ``grid_width`` x ``grid_height`` cells; every
    analysed frame adds one to the cell of each track's anchor. Cells are
    numbered row by row (``index = row * grid_width + column``) and only
    non-zero ones are listed, so counts of several events of one camera with
    the same grid add up to the heatmap of a longer period.

    Attributes:
        grid_width: Columns of the grid.
        grid_height: Rows of the grid.
        frame_width: Width in pixels of the frames the grid covers.
        frame_height: Height in pixels of the frames.
        frames: Frames analysed in the period.
        cells: ``(index, count)`` of every non-zero cell, by index.
    """

    type: ClassVar[str] = "heatmap.minute"

    grid_width: int
    grid_height: int
    frame_width: int
    frame_height: int
    frames: int
    cells: tuple[tuple[int, int], ...]


@dataclass(frozen=True, slots=True)
class TracksMinute(_Payload):
    """Where each track was during (part of) one minute of a camera: the trajectory log.

    The offline re-count (``argus.domain.analytics.recount``) reads these.
    Each row of ``tracks`` is one track: ``[track_id, class_index, t, x, y, h,
    t, x, y, h, ...]`` where ``class_index`` points into ``classes``, ``t`` is
    tenths of a second since the event's minute, ``x``/``y`` the box's
    bottom-centre and ``h`` its height, in whole pixels of the analysed frame.
    Samples are at most 5 per second per track; ``argus.services.track_log``
    states the bounds and what it drops.

    Attributes:
        frame_width: Width in pixels of the analysed frames.
        frame_height: Height in pixels of the analysed frames.
        run: The tracker run (its first frame, in ms since the epoch): track
            ids restart with every run, so ``(run, track_id)`` names a track.
        part: Index of this event among the minute's events (a busy minute
            takes several, so each stays under the ingest's payload limit).
        dropped: Samples the bounds dropped in the minute (on part 0 only).
        classes: Class names the rows' ``class_index`` points into.
        tracks: One row per track (see above).
    """

    type: ClassVar[str] = "tracks.minute"

    frame_width: int
    frame_height: int
    run: int
    part: int
    dropped: int
    classes: tuple[str, ...]
    tracks: tuple[tuple[int, ...], ...]


DomainEvent = LineCrossed | WrongWay | ZoneEntered | ZoneExited | Loitering | Crowding | Running

"""Domain events of the analytics and the envelope that carries them.

Analytics objects (lines, zones, behaviour) emit small frozen events that know
nothing about cameras or wall clocks: their ``timestamp`` is seconds of the
stream. The pipeline wraps each one in an ``Envelope`` that adds what the
platform needs (ARCHITECTURE.md, "Event envelope"): a unique, time-sortable
``event_id``, the event ``type``, a UTC ``timestamp`` and the ``source`` (edge
node and camera). Consumers are idempotent on ``event_id``.

Event ids are ULIDs: 26 characters of Crockford base32 holding a 48-bit Unix
time in milliseconds followed by 80 random bits, so they sort
lexicographically by time; ids made in the same millisecond by one process
increase monotonically.
"""

from __future__ import annotations

import math
import re
import secrets
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any, ClassVar, Literal, cast

from argus.domain.errors import ValidationError

__all__ = [
    "Crowding",
    "Direction",
    "DomainEvent",
    "Envelope",
    "EventSource",
    "ExitReason",
    "HeatmapMinute",
    "LineCrossed",
    "Loitering",
    "Running",
    "WrongWay",
    "ZoneEntered",
    "ZoneExited",
    "event_id_time",
    "new_event_id",
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


DomainEvent = LineCrossed | WrongWay | ZoneEntered | ZoneExited | Loitering | Crowding | Running

# --- event ids (ULID) ---------------------------------------------------------------------

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_DECODE = {c: i for i, c in enumerate(_CROCKFORD)}
_EVENT_ID = re.compile(r"^[0-7][0-9A-HJKMNP-TV-Z]{25}$")
_RANDOM_BITS = 80
_MAX_TIME_MS = (1 << 48) - 1


class _UlidState:
    """Last id issued by this process, so ids of one millisecond stay increasing."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.last_ms = -1
        self.last_random = 0


_STATE = _UlidState()


def _encode(value: int) -> str:
    chars = []
    for _ in range(26):
        chars.append(_CROCKFORD[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def new_event_id(now: datetime | None = None) -> str:
    """Return a new unique event id (a ULID) for the time ``now``.

    Args:
        now: The time the id stands for, timezone-aware; the current UTC time
            when ``None``.

    Returns:
        26 characters of Crockford base32 (upper case) that sort
        lexicographically by time. Two ids for the same millisecond made by
        this process sort in the order they were made.

    Raises:
        ValidationError: ``now`` is naive or outside the 48-bit millisecond range.
    """
    moment = datetime.now(UTC) if now is None else now
    if moment.tzinfo is None:
        raise ValidationError("new_event_id needs a timezone-aware datetime")
    ms = math.floor(moment.timestamp() * 1000)
    if not 0 <= ms <= _MAX_TIME_MS:
        raise ValidationError(f"time {moment.isoformat()} cannot be encoded in an event id")
    with _STATE.lock:
        if ms == _STATE.last_ms:
            random_part = _STATE.last_random + 1
            if random_part >> _RANDOM_BITS:
                # 2**80 ids in one millisecond cannot happen; carry into the time to stay sorted.
                ms, random_part = ms + 1, secrets.randbits(_RANDOM_BITS - 1)
        else:
            # One spare top bit leaves room to increment without overflowing.
            random_part = secrets.randbits(_RANDOM_BITS - 1)
        _STATE.last_ms, _STATE.last_random = ms, random_part
    return _encode((ms << _RANDOM_BITS) | random_part)


def event_id_time(event_id: str) -> datetime:
    """Return the UTC time (millisecond precision) encoded in an event id.

    Raises:
        ValidationError: ``event_id`` is not a valid event id.
    """
    _check_event_id(event_id)
    value = 0
    for char in event_id:
        value = (value << 5) | _DECODE[char]
    ms = value >> _RANDOM_BITS
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def _check_event_id(event_id: object) -> str:
    if not isinstance(event_id, str) or not _EVENT_ID.match(event_id):
        raise ValidationError(f"event_id must be a 26-character ULID, got {event_id!r}")
    return event_id


# --- envelope -------------------------------------------------------------------------------


def _require_str(data: Mapping[str, object], key: str, where: str) -> str:
    value = data[key]
    if not isinstance(value, str) or not value:
        raise ValidationError(f"{where}.{key} must be a non-empty string, got {value!r}")
    return value


def _require_keys(data: object, keys: frozenset[str], where: str) -> Mapping[str, object]:
    if not isinstance(data, Mapping):
        raise ValidationError(f"{where} must be a mapping, got {type(data).__name__}")
    present = set(data)
    if present != keys:
        missing = sorted(keys - present)
        extra = sorted(str(k) for k in present - keys)
        raise ValidationError(f"{where}: missing keys {missing}, unexpected keys {extra}")
    return data


_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
"""NUL and lone surrogates: JSON can carry them escaped, but no database text column can."""


def _check_text(value: str, where: str) -> None:
    """Reject a string holding NUL or a lone surrogate (PostgreSQL refuses both)."""
    if _UNSTORABLE.search(value) is not None:
        raise ValidationError(f"{where} holds a NUL character or a lone surrogate")


def _check_json(value: object, where: str) -> None:
    """Reject anything a strict JSON encoder would not round-trip or a database not store."""
    if isinstance(value, str):
        _check_text(value, where)
        return
    if value is None or isinstance(value, bool | int):
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValidationError(f"{where} is not a finite number")
        return
    if isinstance(value, list | tuple):
        for i, item in enumerate(value):
            _check_json(item, f"{where}[{i}]")
        return
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                raise ValidationError(f"{where} has a non-string key {key!r}")
            _check_text(key, f"{where} key")
            _check_json(item, f"{where}.{key}")
        return
    raise ValidationError(f"{where} holds a {type(value).__name__}, which is not JSON")


def _utc(moment: datetime, where: str) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValidationError(f"{where} must be timezone-aware")
    return moment.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class EventSource:
    """Where an event was produced.

    Attributes:
        edge_node_id: The edge node (or embedded worker) that ran the pipeline.
        camera_id: The camera the pipeline watched.
    """

    edge_node_id: str
    camera_id: str

    _KEYS: ClassVar[frozenset[str]] = frozenset({"edge_node_id", "camera_id"})

    def __post_init__(self) -> None:
        for key in ("edge_node_id", "camera_id"):
            value = getattr(self, key)
            if not isinstance(value, str) or not value:
                raise ValidationError(f"source.{key} must be a non-empty string, got {value!r}")
            _check_text(value, f"source.{key}")

    def to_dict(self) -> dict[str, object]:
        """Return the JSON-ready form."""
        return {"edge_node_id": self.edge_node_id, "camera_id": self.camera_id}

    @classmethod
    def from_dict(cls, data: object) -> EventSource:
        """Parse the form ``to_dict`` makes; exact keys, non-empty strings.

        Raises:
            ValidationError: ``data`` does not have exactly that form.
        """
        checked = _require_keys(data, cls._KEYS, "source")
        return cls(
            edge_node_id=_require_str(checked, "edge_node_id", "source"),
            camera_id=_require_str(checked, "camera_id", "source"),
        )


@dataclass(frozen=True, slots=True)
class Envelope:
    """One event as the platform stores and transports it.

    Attributes:
        event_id: Unique, time-sortable id (see ``new_event_id``).
        type: The event type, e.g. ``"line.crossed"``.
        timestamp: When the event happened, timezone-aware, normalised to UTC.
        source: The edge node and camera that produced it.
        payload: The typed event's JSON-ready fields (read-only).
    """

    event_id: str
    type: str
    timestamp: datetime
    source: EventSource
    payload: Mapping[str, object] = field(default_factory=dict)

    _KEYS: ClassVar[frozenset[str]] = frozenset(
        {"event_id", "type", "timestamp", "source", "payload"}
    )

    def __post_init__(self) -> None:
        _check_event_id(self.event_id)
        if not isinstance(self.type, str) or not self.type:
            raise ValidationError(f"type must be a non-empty string, got {self.type!r}")
        _check_text(self.type, "type")
        if not isinstance(self.timestamp, datetime):
            raise ValidationError("timestamp must be a datetime")
        if not isinstance(self.source, EventSource):
            raise ValidationError("source must be an EventSource")
        if not isinstance(self.payload, Mapping):
            raise ValidationError("payload must be a mapping")
        _check_json(self.payload, "payload")
        object.__setattr__(self, "timestamp", _utc(self.timestamp, "timestamp"))
        object.__setattr__(self, "payload", MappingProxyType(dict(self.payload)))

    @classmethod
    def wrap(
        cls,
        event: DomainEvent | HeatmapMinute,
        source: EventSource,
        timestamp: datetime,
        event_id: str | None = None,
    ) -> Envelope:
        """Envelope a domain event.

        Args:
            event: The analytics event.
            source: Edge node and camera.
            timestamp: Wall-clock UTC time of the event (the pipeline maps the
                event's stream seconds onto the clock).
            event_id: A given id (replays); a new one for ``timestamp`` when ``None``.
        """
        return cls(
            event_id=event_id if event_id is not None else new_event_id(timestamp),
            type=event.type,
            timestamp=timestamp,
            source=source,
            payload=event.payload(),
        )

    def to_dict(self) -> dict[str, object]:
        """Return the JSON-ready form; the timestamp is ISO 8601 with ``Z``."""
        stamp = self.timestamp.isoformat(timespec="microseconds").replace("+00:00", "Z")
        return {
            "event_id": self.event_id,
            "type": self.type,
            "timestamp": stamp,
            "source": self.source.to_dict(),
            "payload": dict(self.payload),
        }

    @classmethod
    def from_dict(cls, data: object) -> Envelope:
        """Parse the form ``to_dict`` makes, strictly.

        Exactly the five keys, a valid event id, a non-empty type, an ISO 8601
        timestamp with a UTC offset, a valid source and a JSON-ready mapping
        payload.

        Raises:
            ValidationError: anything else.
        """
        checked = _require_keys(data, cls._KEYS, "envelope")
        raw_time = _require_str(checked, "timestamp", "envelope")
        try:
            moment = datetime.fromisoformat(raw_time)
        except ValueError as exc:
            raise ValidationError(f"envelope.timestamp is not ISO 8601: {raw_time!r}") from exc
        payload = checked["payload"]
        if not isinstance(payload, Mapping):
            raise ValidationError("envelope.payload must be a mapping")
        return cls(
            event_id=_check_event_id(checked["event_id"]),
            type=_require_str(checked, "type", "envelope"),
            timestamp=_utc(moment, "envelope.timestamp"),
            source=EventSource.from_dict(checked["source"]),
            payload=payload,
        )

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
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import MappingProxyType
from typing import ClassVar

from argus.domain.codec import iso_z, require_keys, require_str
from argus.domain.errors import ValidationError
from argus.domain.event_ids import check_event_id, event_id_time, new_event_id
from argus.domain.event_payloads import (
    Crowding,
    Direction,
    DomainEvent,
    ExitReason,
    HeatmapMinute,
    LineCrossed,
    Loitering,
    Running,
    TracksMinute,
    WrongWay,
    ZoneEntered,
    ZoneExited,
)

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
    "TracksMinute",
    "WrongWay",
    "ZoneEntered",
    "ZoneExited",
    "event_id_time",
    "new_event_id",
]

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
        checked = require_keys(data, cls._KEYS, "source")
        return cls(
            edge_node_id=require_str(checked, "edge_node_id", "source"),
            camera_id=require_str(checked, "camera_id", "source"),
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
        check_event_id(self.event_id)
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
        event: DomainEvent | HeatmapMinute | TracksMinute,
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
        return {
            "event_id": self.event_id,
            "type": self.type,
            "timestamp": iso_z(self.timestamp),
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
        checked = require_keys(data, cls._KEYS, "envelope")
        raw_time = require_str(checked, "timestamp", "envelope")
        try:
            moment = datetime.fromisoformat(raw_time)
        except ValueError as exc:
            raise ValidationError(f"envelope.timestamp is not ISO 8601: {raw_time!r}") from exc
        payload = checked["payload"]
        if not isinstance(payload, Mapping):
            raise ValidationError("envelope.payload must be a mapping")
        return cls(
            event_id=check_event_id(checked["event_id"]),
            type=require_str(checked, "type", "envelope"),
            timestamp=_utc(moment, "envelope.timestamp"),
            source=EventSource.from_dict(checked["source"]),
            payload=payload,
        )

"""What the in-memory and SQL stores share: the event cursor and indexed event fields."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from argus.domain.errors import ValidationError
from argus.domain.events import Envelope
from argus.ports.repositories import EventFilter, InsertResult

__all__ = [
    "batch_result",
    "decode_cursor",
    "encode_cursor",
    "event_class_name",
    "event_track_id",
    "only_types",
    "unique_batch",
]


def encode_cursor(timestamp: datetime, event_id: str) -> str:
    """Opaque cursor after the event ``(timestamp, event_id)`` in newest-first order."""
    raw = json.dumps([timestamp.isoformat(), event_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    """Parse ``encode_cursor``'s output.

    Raises:
        ValidationError: The cursor is malformed.
    """
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        stamp, event_id = json.loads(raw)
        moment = datetime.fromisoformat(stamp)
        if not isinstance(event_id, str) or moment.tzinfo is None:
            raise ValueError("bad cursor fields")
    except (ValueError, TypeError, binascii.Error) as exc:
        raise ValidationError(f"invalid cursor {cursor!r}") from exc
    return moment, event_id


def event_class_name(envelope: Envelope) -> str | None:
    """The object class an event is about (``payload.class_name``), if it names one."""
    value = envelope.payload.get("class_name")
    return value if isinstance(value, str) and value else None


def event_track_id(envelope: Envelope) -> int | None:
    """The track an event is about (``payload.track_id``), if it names one."""
    value = envelope.payload.get("track_id")
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def unique_batch(envelopes: Sequence[Envelope]) -> tuple[list[Envelope], list[str]]:
    """Split a batch into first occurrences and ids repeated within the batch."""
    seen: set[str] = set()
    first: list[Envelope] = []
    repeated: list[str] = []
    for envelope in envelopes:
        if envelope.event_id in seen:
            repeated.append(envelope.event_id)
        else:
            seen.add(envelope.event_id)
            first.append(envelope)
    return first, repeated


def batch_result(envelopes: Sequence[Envelope], stored: set[str]) -> InsertResult:
    """Report a batch insert in input order: first occurrences stored now are inserted."""
    inserted: list[str] = []
    duplicates: list[str] = []
    seen: set[str] = set()
    for envelope in envelopes:
        event_id = envelope.event_id
        if event_id in stored and event_id not in seen:
            inserted.append(event_id)
        else:
            duplicates.append(event_id)
        seen.add(event_id)
    return InsertResult(tuple(inserted), tuple(duplicates))


def only_types(where: EventFilter, types: Sequence[str]) -> EventFilter | None:
    """``where`` narrowed to those of ``types`` it allows; ``None`` when it allows none."""
    wanted = tuple(t for t in types if where.types is None or t in where.types)
    return replace(where, types=wanted) if wanted else None

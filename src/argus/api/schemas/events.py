"""Event schemas: the envelope as stored, and batches of envelopes from edge nodes."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, BeforeValidator, Field, JsonValue, field_validator

from argus.api.schemas.common import StrictModel
from argus.domain.events import Envelope, EventSource

__all__ = [
    "MAX_BATCH",
    "EventBatchCreate",
    "EventBatchResult",
    "EventCreate",
    "EventList",
    "EventPublic",
    "EventSourceCreate",
    "EventSourcePublic",
]

MAX_BATCH = 1000
"""Most events one ingest request may carry."""

_MAX_PAYLOAD_DEPTH = 32

ULID_PATTERN = r"^[0-7][0-9A-HJKMNP-TV-Z]{25}$"
"""An event id: a ULID in upper-case Crockford base32."""

EVENT_TYPE_PATTERN = r"^[a-z_]+(\.[a-z_]+)+$"
"""Event types are dotted names (line.crossed, zone.entered, behaviour.running)."""

# Printable ids: no control characters (PostgreSQL cannot store NUL).
_SOURCE_ID = Field(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f]+$")


def _iso_8601(value: object) -> object:
    # Pydantic also takes a number of seconds; the envelope's form is an ISO 8601 string.
    if not isinstance(value, str):
        raise ValueError("must be an ISO 8601 date-time string with a UTC offset")
    return value


class EventSourcePublic(BaseModel):
    """Where an event was produced."""

    edge_node_id: str
    camera_id: str


class EventPublic(BaseModel):
    """One stored event."""

    event_id: str = Field(description="Unique, time-sortable id (a ULID).")
    type: str = Field(description="Event type, e.g. line.crossed.")
    timestamp: datetime = Field(description="When it happened (UTC).")
    source: EventSourcePublic
    payload: dict[str, Any] = Field(description="The typed event's fields.")

    @classmethod
    def of(cls, envelope: Envelope) -> EventPublic:
        """The public view of an event."""
        return cls(
            event_id=envelope.event_id,
            type=envelope.type,
            timestamp=envelope.timestamp,
            source=EventSourcePublic(
                edge_node_id=envelope.source.edge_node_id, camera_id=envelope.source.camera_id
            ),
            payload=dict(envelope.payload),
        )


class EventList(BaseModel):
    """One page of events, newest first."""

    items: list[EventPublic]
    total: int = Field(description="Events matching the filters, over all pages.")
    next_cursor: str | None = Field(
        description="Pass as cursor for the next page; null at the end."
    )


class EventSourceCreate(StrictModel):
    """The edge node and camera that produced an event."""

    edge_node_id: Annotated[str, _SOURCE_ID] = Field(description="The edge node's id.")
    camera_id: Annotated[str, _SOURCE_ID] = Field(description="The camera's id.")


def _check_payload(value: object, where: str, depth: int = 0) -> None:
    """Reject what the store cannot keep: NaN and infinities, NUL characters, deep nesting."""
    if depth > _MAX_PAYLOAD_DEPTH:
        raise ValueError(f"{where} is nested deeper than {_MAX_PAYLOAD_DEPTH} levels")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"{where} is not a finite number")
    if isinstance(value, str) and "\x00" in value:
        raise ValueError(f"{where} contains a NUL character")
    if isinstance(value, list):
        for i, item in enumerate(value):
            _check_payload(item, f"{where}[{i}]", depth + 1)
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_payload(key, f"{where} key {key!r}", depth + 1)
            _check_payload(item, f"{where}.{key}", depth + 1)


class EventCreate(StrictModel):
    """One event envelope in the form ``Envelope.to_dict`` writes."""

    event_id: str = Field(
        min_length=26,
        max_length=26,
        pattern=ULID_PATTERN,
        description="Unique, time-sortable id (a ULID) made by the producer; a second "
        "event with the same id is a duplicate and is not stored again.",
    )
    type: str = Field(
        min_length=3,
        max_length=64,
        pattern=EVENT_TYPE_PATTERN,
        description="Event type, e.g. line.crossed.",
    )
    timestamp: Annotated[AwareDatetime, BeforeValidator(_iso_8601)] = Field(
        strict=False, description="When it happened: ISO 8601 with a UTC offset."
    )
    source: EventSourceCreate
    payload: dict[str, JsonValue] = Field(description="The typed event's fields (JSON).")

    @field_validator("timestamp")
    @classmethod
    def _in_range(cls, value: datetime) -> datetime:
        try:
            return value.astimezone(UTC)
        except OverflowError as exc:  # 0001-01-01 at +01:00 has no UTC equivalent
            raise ValueError("is out of range once converted to UTC") from exc

    @field_validator("payload")
    @classmethod
    def _storable(cls, value: dict[str, JsonValue]) -> dict[str, JsonValue]:
        _check_payload(value, "payload")
        return value

    def to_envelope(self) -> Envelope:
        """The domain envelope.

        Raises:
            ValidationError: A domain invariant the schema does not state.
        """
        return Envelope(
            event_id=self.event_id,
            type=self.type,
            timestamp=self.timestamp,
            source=EventSource(
                edge_node_id=self.source.edge_node_id, camera_id=self.source.camera_id
            ),
            payload=self.payload,
        )


class EventBatchCreate(StrictModel):
    """A batch of events from an edge node, stored in one transaction."""

    events: list[EventCreate] = Field(
        min_length=1, max_length=MAX_BATCH, description=f"1 to {MAX_BATCH} envelopes."
    )


class EventBatchResult(BaseModel):
    """What an ingest request stored; every listed id is committed."""

    inserted: list[str] = Field(description="Ids stored by this request, in request order.")
    duplicates: list[str] = Field(
        description="Ids already stored (or repeated in the batch), in request order: a "
        "retried batch lists its events here."
    )

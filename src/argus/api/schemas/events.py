"""Event schemas: the envelope as stored."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from argus.domain.events import Envelope

__all__ = ["EventList", "EventPublic", "EventSourcePublic"]


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

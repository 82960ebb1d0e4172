"""``/api/v1/events``: the event store, newest first, cursor-paginated; ingest from edge nodes.

``POST`` takes a batch of envelopes from an edge node that cannot reach the
bus (or prefers HTTP): the batch is stored in one transaction, idempotently
on ``event_id``, and the answer comes only after the commit, so a 2xx means
every event of the batch is durable and the producer may drop its copies.
Retrying a batch whose answer was lost is safe: its events come back as
duplicates. A camera-scoped key may post events of its cameras only: one
envelope of another camera refuses the whole batch (403, nothing stored).
Each key (or user) has a token bucket of events (``ingest_events_per_s``,
``ingest_events_burst``): a batch needing more tokens than are left is
refused whole with 429 and ``Retry-After``, so a producer keeps it and
retries; nothing of a refused batch is stored or dropped silently.

Stored events are then published on the event subject (best effort): see
``argus.services.intake``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from fastapi.exceptions import RequestValidationError
from pydantic import StringConstraints

from argus.api.deps import EventsDep, RuntimeDep
from argus.api.schemas.common import AUTH_RESPONSES, ERROR_RESPONSES, Moment
from argus.api.schemas.events import (
    EventBatchCreate,
    EventBatchResult,
    EventList,
    EventPublic,
)
from argus.api.security import Caller
from argus.domain.errors import NotFoundError, ValidationError
from argus.domain.events import Envelope
from argus.ports.paging import MAX_PAGE
from argus.ports.repositories import EventFilter
from argus.services.intake import EventIntake

__all__ = ["router"]

router = APIRouter(
    prefix="/events", tags=["events"], responses={**ERROR_RESPONSES, **AUTH_RESPONSES}
)


def get_intake(runtime: RuntimeDep) -> EventIntake:
    """The app's event intake."""
    return runtime.intake


IntakeDep = Annotated[EventIntake, Depends(get_intake)]


# Event types are dotted names (line.crossed, zone.entered, behaviour.running).
EventType = Annotated[
    str, StringConstraints(min_length=3, max_length=64, pattern=r"^[a-z_]+(\.[a-z_]+)+$")
]


@router.get("", summary="Query events")
async def list_events(
    events: EventsDep,
    who: Caller,
    camera_id: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    type: Annotated[
        list[EventType] | None,
        Query(description="Event types such as line.crossed (repeat for several)."),
    ] = None,
    class_name: Annotated[
        str | None, Query(min_length=1, max_length=200, description="Object class.")
    ] = None,
    since: Annotated[Moment | None, Query(description="At or after (with offset).")] = None,
    until: Annotated[Moment | None, Query(description="Strictly before (with offset).")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
    cursor: Annotated[
        str | None, Query(max_length=512, description="next_cursor of the previous page.")
    ] = None,
) -> EventList:
    """Events matching every given filter, newest first."""
    where = EventFilter(
        camera_ids=who.camera_filter(camera_id),
        types=tuple(type) if type else None,
        class_name=class_name,
        since=since,
        until=until,
    )
    page = await events.query(where, limit=limit, cursor=cursor)
    items = [EventPublic.of(e) for e in page.items]
    return EventList(items=items, total=page.total, next_cursor=page.next_cursor)


@router.get("/{event_id}", summary="Get an event")
async def get_event(
    event_id: Annotated[str, Path(min_length=1, max_length=64)], events: EventsDep, who: Caller
) -> EventPublic:
    """One event by id."""
    event = await events.get(event_id)
    if not who.sees_camera(event.source.camera_id):
        raise NotFoundError(f"no event {event_id}")
    return EventPublic.of(event)


def _envelopes(batch: EventBatchCreate) -> list[Envelope]:
    """The batch as domain envelopes; a broken invariant is a 422 naming the event."""
    envelopes: list[Envelope] = []
    errors: list[dict[str, object]] = []
    for i, item in enumerate(batch.events):
        try:
            envelopes.append(item.to_envelope())
        except ValidationError as exc:
            errors.append({"type": "value_error", "loc": ("body", "events", i), "msg": str(exc)})
    if errors:
        raise RequestValidationError(errors)
    return envelopes


@router.post("", summary="Ingest a batch of events")
async def ingest_events(
    batch: EventBatchCreate, intake: IntakeDep, who: Caller
) -> EventBatchResult:
    """Store 1 to 1000 envelopes in one transaction, idempotently on ``event_id``.

    The answer comes after the commit: every id it lists is stored. Events
    already stored (a retried batch) are listed as duplicates, not stored again.
    A camera-scoped key may only post events of its cameras (403 for the whole
    batch otherwise); past the key's event rate the whole batch gets 429 with
    ``Retry-After``.
    """
    envelopes = _envelopes(batch)
    result = await intake.accept(envelopes, sender=who)
    return EventBatchResult(inserted=list(result.inserted), duplicates=list(result.duplicates))

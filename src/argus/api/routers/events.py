"""``/api/v1/events``: the event store, newest first, cursor-paginated."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query
from pydantic import BeforeValidator, StringConstraints

from argus.api.deps import EventsDep
from argus.api.schemas.common import ERROR_RESPONSES
from argus.api.schemas.events import EventList, EventPublic
from argus.ports.repositories import MAX_PAGE, EventFilter

__all__ = ["router"]

router = APIRouter(prefix="/events", tags=["events"], responses=ERROR_RESPONSES)

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")


def _iso_8601(value: object) -> object:
    # Pydantic also takes a number of seconds; the document promises a date-time string.
    if isinstance(value, str) and not _ISO_DATE.match(value):
        raise ValueError("must be an ISO 8601 date-time with a UTC offset")
    return value


Moment = Annotated[datetime, BeforeValidator(_iso_8601)]
# Event types are dotted names (line.crossed, zone.entered, behaviour.running).
EventType = Annotated[
    str, StringConstraints(min_length=3, max_length=64, pattern=r"^[a-z_]+(\.[a-z_]+)+$")
]


@router.get("", summary="Query events")
async def list_events(  # noqa: PLR0917 - one parameter per query filter
    events: EventsDep,
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
        camera_id=camera_id,
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
    event_id: Annotated[str, Path(min_length=1, max_length=64)], events: EventsDep
) -> EventPublic:
    """One event by id."""
    return EventPublic.of(await events.get(event_id))

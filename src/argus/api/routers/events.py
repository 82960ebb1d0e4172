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

Stored events are then published on the event subject (best effort) so that
alerting and live clients see them as they see the embedded worker's; the
event store's own bus consumer skips them as duplicates.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
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
from argus.domain.errors import BusError, NotFoundError, ValidationError
from argus.domain.events import Envelope
from argus.domain.identity import Principal
from argus.ports.bus import EventBus
from argus.ports.repositories import MAX_PAGE, EventFilter, EventRepository, InsertResult
from argus.services.ratelimit import RateLimiter

__all__ = ["EventIntake", "router"]

log = logging.getLogger(__name__)

router = APIRouter(
    prefix="/events", tags=["events"], responses={**ERROR_RESPONSES, **AUTH_RESPONSES}
)


class EventIntake:
    """Stores batches of envelopes from edge nodes, then announces them on the bus.

    Args:
        events: The event store.
        bus: The event bus.
        subject: The subject the pipelines publish events on.
        limit: Events per second per sender; ``None`` = unlimited.
    """

    def __init__(
        self,
        events: EventRepository,
        bus: EventBus,
        subject: str,
        *,
        limit: RateLimiter | None = None,
    ) -> None:
        self._events = events
        self._bus = bus
        self._subject = subject
        self._limit = limit

    async def accept(
        self, envelopes: Sequence[Envelope], *, sender: Principal | None = None
    ) -> InsertResult:
        """Store a batch in one transaction; return once it is committed.

        ``sender`` (when given) must see every envelope's camera, and pays one
        token of its bucket per envelope, before anything is stored.

        Every distinct event of the batch is then published, duplicates too:
        a producer retries a batch when the answer was lost, possibly after
        the commit but before the publish, and consumers are idempotent on
        ``event_id``. A failed publish is logged; the events stay stored.

        Raises:
            PermissionDeniedError: An envelope's camera is outside the sender's scope.
            RateLimitedError: The sender's bucket holds too few events for the batch.
            ValidationError: The batch is larger than the bucket could ever hold.
            StorageError: The batch was not stored (nothing of it was).
        """
        if sender is not None:
            for envelope in envelopes:
                sender.require_camera(envelope.source.camera_id)
            self._pay(sender, len(envelopes))
        result = await self._events.add_many(envelopes)
        published: set[str] = set()
        try:
            for envelope in envelopes:
                if envelope.event_id not in published:
                    published.add(envelope.event_id)
                    await self._bus.publish(self._subject, envelope)
        except BusError as exc:
            log.warning("ingested events are stored but were not published: %s", exc)
        return result

    def _pay(self, sender: Principal, events: int) -> None:
        if self._limit is None or not events:
            return
        if events > self._limit.burst:
            raise ValidationError(
                f"the batch holds {events} events, more than the {self._limit.burst} one key "
                "may post at once (ingest_events_burst); split it into smaller batches"
            )
        self._limit.hit(sender.actor, events)


def get_intake(runtime: RuntimeDep) -> EventIntake:
    """The intake over the app's store and bus."""
    services = runtime.services
    return EventIntake(
        services.database.events,
        services.bus,
        services.events_subject,
        limit=runtime.ingest_limit,
    )


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

"""``EventIntake``: batches of envelopes posted by edge nodes, stored, then announced.

An edge node that cannot reach the bus (or prefers HTTP) posts its events in
batches. A batch is stored in one transaction, idempotently on ``event_id``,
and ``accept`` returns only after the commit, so the producer may drop its
copies once answered. Stored events are then published on the event subject
(best effort) so that alerting and live clients see them as they see the
embedded worker's; the event store's own bus consumer skips them as duplicates.

Only pipeline event types are taken: the catalogue's ``node`` and ``health``
types (``camera.tamper``, ``node.online``...) raise and clear edge alerts, so
they come only from edge nodes through ``/api/v1/edge/sync`` (which checks the
camera's node) and from the control plane itself; a batch holding one is
refused whole (422).

Ingest hygiene: every event's payload must fit the size limit
(``ARGUS_EVENT_PAYLOAD_MAX_BYTES``) and the schema of its catalogue type
(``argus.domain.event_types.check_event``; ``custom.*`` types take any
object), and every camera a batch names must be registered: an event of an
unknown camera would show in analytics and raise alerts for a camera no one
can see or configure. Any of these refuses the whole batch (422), with a
message naming the event and the camera or field; nothing of it is stored.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from argus.domain.errors import BusError, NotFoundError, ValidationError
from argus.domain.event_types import EVENT_TYPES, check_event
from argus.domain.events import Envelope
from argus.domain.identity import Principal
from argus.domain.payload_schema import DEFAULT_PAYLOAD_MAX_BYTES
from argus.ports.bus import EventBus
from argus.ports.repositories import CameraRepository, EventRepository, InsertResult
from argus.services.ratelimit import RateLimiter

__all__ = ["EventIntake", "publish_stored"]

log = logging.getLogger(__name__)


async def publish_stored(
    events: EventRepository, bus: EventBus, subject: str, envelopes: Sequence[Envelope]
) -> InsertResult:
    """Store ``envelopes`` in one transaction, then publish each distinct one (best effort).

    Duplicates are published too: a producer retries a batch when the answer
    was lost, possibly after the commit but before the publish, and consumers
    are idempotent on ``event_id``. A failed publish is logged; the events stay
    stored.

    Raises:
        StorageError: The batch was not stored (nothing of it was).
    """
    result = await events.add_many(envelopes)
    published: set[str] = set()
    try:
        for envelope in envelopes:
            if envelope.event_id not in published:
                published.add(envelope.event_id)
                await bus.publish(subject, envelope)
    except BusError as exc:
        log.warning("events are stored but were not published: %s", exc)
    return result


class EventIntake:
    """Stores batches of envelopes from edge nodes, then announces them on the bus.

    Args:
        events: The event store.
        bus: The event bus.
        subject: The subject the pipelines publish events on.
        cameras: The camera registry: events of cameras it does not hold are refused.
        limit: Events per second per sender; ``None`` = unlimited.
        payload_max_bytes: The largest payload of one event (compact JSON bytes).
    """

    def __init__(
        self,
        events: EventRepository,
        bus: EventBus,
        subject: str,
        *,
        cameras: CameraRepository,
        limit: RateLimiter | None = None,
        payload_max_bytes: int = DEFAULT_PAYLOAD_MAX_BYTES,
    ) -> None:
        self._events = events
        self._bus = bus
        self._subject = subject
        self._cameras = cameras
        self._limit = limit
        self._max_bytes = payload_max_bytes

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
            ValidationError: The batch is larger than the bucket could ever hold,
                holds a node or health event type, an unknown type, a payload that
                is too large or breaks its type's schema, or names a camera that is
                not registered (see the module docstring).
            StorageError: The batch was not stored (nothing of it was).
        """
        for index, envelope in enumerate(envelopes):
            known = EVENT_TYPES.get(envelope.type)
            if known is not None and known.origin != "pipeline":
                raise ValidationError(
                    f"{envelope.type} events come only through /api/v1/edge/sync "
                    "or from the control plane"
                )
            check_event(
                envelope.type,
                envelope.payload,
                max_bytes=self._max_bytes,
                where=f"events[{index}].payload",
            )
        if sender is not None:
            for envelope in envelopes:
                sender.require_camera(envelope.source.camera_id)
            self._pay(sender, len(envelopes))
        await self._require_cameras(envelopes)
        return await publish_stored(self._events, self._bus, self._subject, envelopes)

    async def _require_cameras(self, envelopes: Sequence[Envelope]) -> None:
        """Refuse the batch when it names cameras the registry does not hold."""
        unknown: list[str] = []
        for camera_id in dict.fromkeys(e.source.camera_id for e in envelopes):
            try:
                await self._cameras.get(camera_id)
            except NotFoundError:
                unknown.append(camera_id)
        if unknown:
            shown = ", ".join(repr(c) for c in unknown[:10])
            more = f" and {len(unknown) - 10} more" if len(unknown) > 10 else ""
            raise ValidationError(
                f"unknown camera {shown}{more}: events are accepted only for registered "
                "cameras; create the camera first (POST /api/v1/cameras) or send its events "
                "from the edge node it is assigned to"
            )

    def _pay(self, sender: Principal, events: int) -> None:
        if self._limit is None or not events:
            return
        if events > self._limit.burst:
            raise ValidationError(
                f"the batch holds {events} events, more than the {self._limit.burst} one key "
                "may post at once (ingest_events_burst); split it into smaller batches"
            )
        self._limit.hit(sender.actor, events)

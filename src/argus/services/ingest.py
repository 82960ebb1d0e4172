"""The event store's consumer: bus deliveries into ``database.events``, each exactly once.

A durable subscription survives restarts (on brokers that keep state). One
task reads deliveries into a bounded queue; another writes whatever has
queued up as one batch (``add_many``: one transaction, a few round trips),
which is what makes ingest fast (per-event transactions on SQLite manage a
few hundred events/s, batches thousands).

Exactly once follows ``argus.services.consumers``'s order of effects: replays
of recently seen ids are dropped from memory (``SeenIds``), the store inserts
idempotently on ``event_id`` (the durable check, which also covers replays
from before a restart), and deliveries are acknowledged only after the batch
is committed.

A storage outage loses nothing. A batch the store refuses (``StorageError``:
the database is locked, unreachable or refuses writes) stays in hand,
unacknowledged, and is written again after a backoff that doubles up to
``retry_max_delay`` until the store takes it. Meanwhile the reader stops
once its bounded queue is full, so the rest waits on the bus (a broker's
durable stream; the in-process bus refuses new messages once its log is
full of unacknowledged ones, and the producer keeps them). Retrying in place
rather than giving the batch back keeps events in order and the consumer
subscribed; ``check`` reports the outage for ``/health/ready`` until a write
succeeds again. Other errors (a batch the store can never take) end the
subscription as before, and it is reopened with backoff.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence

from argus.domain.backoff import Backoff, BackoffPolicy
from argus.domain.errors import StorageError
from argus.domain.events import Envelope
from argus.ports.bus import Delivery, EventBus, Subscription
from argus.ports.repositories import EventRepository, InsertResult
from argus.services.background import TaskGroup
from argus.services.consumers import ConsumerState, SeenIds, consume_resubscribing

__all__ = ["BATCH_SIZE", "DURABLE_NAME", "EventIngest"]

log = logging.getLogger(__name__)

DURABLE_NAME = "argus-event-store"
"""Durable consumer name shared by every control-plane replica (they split the work)."""

BATCH_SIZE = 500
"""Most events written in one transaction (and deliveries queued ahead)."""

_MAX_BACKOFF = 30.0

RETRY_MAX_DELAY = 5.0
"""Longest wait, in seconds, between two writes of a batch the store refused."""


def _ignore(_: int) -> None:
    return None


class EventIngest:
    """A background task storing events from the bus in batches.

    Args:
        bus: The event bus.
        events: The event store.
        subject: Subject the pipelines publish events on.
        on_stored: Called with how many new events a batch stored (metrics).
        on_duplicate: Called with how many redeliveries a batch skipped (metrics).
        batch_size: Most events per transaction.
        retry_max_delay: Longest wait between two writes of a batch the store refused.
    """

    def __init__(
        self,
        bus: EventBus,
        events: EventRepository,
        subject: str,
        *,
        on_stored: Callable[[int], None] = _ignore,
        on_duplicate: Callable[[int], None] = _ignore,
        batch_size: int = BATCH_SIZE,
        retry_max_delay: float = RETRY_MAX_DELAY,
    ) -> None:
        self._bus = bus
        self._events = events
        self._subject = subject
        self._on_stored = on_stored
        self._on_duplicate = on_duplicate
        self._batch_size = max(1, batch_size)
        self.seen = SeenIds()
        self._tasks = TaskGroup()
        self._queue: asyncio.Queue[Delivery] | None = None
        self.state = ConsumerState()
        self._retry = Backoff(
            BackoffPolicy(initial=min(0.2, retry_max_delay), max_delay=retry_max_delay)
        )
        self.store_error: str | None = None
        """Why the store refused the batch in hand; ``None`` once a write succeeds."""
        self.held = 0
        """Events of the batch in hand that the store has refused so far."""
        self.retries = 0
        """Writes repeated because the store refused them (all time)."""

    def start(self) -> None:
        """Start consuming in the background (once)."""
        self._tasks.start(("argus-event-ingest", self._run))

    async def _run(self) -> None:
        await consume_resubscribing(
            lambda: self._bus.subscribe(self._subject, durable=DURABLE_NAME),
            self._consume,
            self.state,
            what="event ingest",
            max_backoff=_MAX_BACKOFF,
        )

    async def _consume(self, subscription: Subscription) -> None:
        """Write batches until the subscription ends; raise what the reader or a write raised."""
        queue: asyncio.Queue[Delivery] = asyncio.Queue(maxsize=self._batch_size)
        self._queue = queue

        async def read() -> None:
            async for delivery in subscription:
                await queue.put(delivery)

        reader = asyncio.create_task(read(), name="argus-event-ingest-reader")
        try:
            while True:
                getter = asyncio.create_task(queue.get())
                try:
                    done, _ = await asyncio.wait(
                        {getter, reader}, return_when=asyncio.FIRST_COMPLETED
                    )
                finally:
                    if not getter.done():  # stopped while waiting: leave no task pending
                        getter.cancel()
                if getter not in done:
                    getter.cancel()
                    reader.result()  # the reader's error, if any
                    return
                batch = [getter.result()]
                while len(batch) < self._batch_size and not queue.empty():
                    batch.append(queue.get_nowait())
                await self._write(batch)
        finally:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader

    async def _write(self, batch: Sequence[Delivery]) -> None:
        fresh: dict[str, Delivery] = {}
        for delivery in batch:
            event_id = delivery.envelope.event_id
            if event_id not in self.seen and event_id not in fresh:
                fresh[event_id] = delivery
        stored = 0
        if fresh:
            result = await self._store([d.envelope for d in fresh.values()])
            stored = len(result.inserted)
        for delivery in batch:
            self.seen.add(delivery.envelope.event_id)
            await delivery.ack()
        if stored:
            self._on_stored(stored)
        if len(batch) > stored:
            self._on_duplicate(len(batch) - stored)

    async def _store(self, envelopes: Sequence[Envelope]) -> InsertResult:
        """Write the batch, again and again with backoff while the store refuses it."""
        while True:
            try:
                result = await self._events.add_many(envelopes)
            except StorageError as exc:
                self.store_error, self.held = str(exc) or type(exc).__name__, len(envelopes)
                self.retries += 1
                delay = self._retry.next_delay()
                log.warning(
                    "the event store refused %d event(s) (%s); they stay unacknowledged, "
                    "retrying in %.2f s",
                    len(envelopes),
                    self.store_error,
                    delay,
                )
                await asyncio.sleep(delay)
                continue
            if self.store_error is not None:
                log.info("the event store took the %d held event(s); ingest resumes", self.held)
            self._retry.reset()
            self.store_error, self.held = None, 0
            return result

    @property
    def depth(self) -> int:
        """Deliveries read from the bus and waiting for the next batch write."""
        queue = self._queue
        return queue.qsize() if queue is not None else 0

    def check(self) -> tuple[bool, str]:
        """Whether the ingest is consuming, and a one-line reason."""
        if not self._tasks.started:
            return False, "event ingest not started"
        if self._tasks.finished:
            return False, f"event ingest stopped: {self.state.last_error or 'finished'}"
        if not self.state.subscribed:
            error = self.state.last_error or "starting"
            return False, f"not subscribed to {self._subject!r}: {error}"
        return True, f"consuming {self._subject!r}"

    def check_store(self) -> tuple[bool, str]:
        """Whether the event store takes the ingest's writes, and a one-line reason."""
        if self.store_error is not None:
            return False, (
                f"the event store refuses writes ({self.store_error}); "
                f"{self.held} event(s) held unacknowledged, retrying"
            )
        return True, "the event store takes writes"

    async def stop(self) -> None:
        """Cancel the task and wait for it."""
        await self._tasks.stop()

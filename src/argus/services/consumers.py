"""Idempotent consumption of at-least-once deliveries.

The bus may deliver an event more than once (a consumer crashed before its
ack, an ack was lost, a producer re-published after a timeout). Handlers that
count or alert must not see a replay twice, so every consumer goes through
``IdempotentConsumer``: a bounded in-memory set of recent event ids answers
the common case (a redelivery seconds later) without I/O, and a durable check
(the event store, which inserts idempotently on ``event_id``) answers for
events older than the set or seen before a restart.

The order of effects is what makes it safe: the handler commits its durable
effect first, then the id is remembered, then the delivery is acknowledged. A
crash between the commit and the ack only causes a redelivery, which the
durable check turns into a no-op.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import TypeVar

from argus.domain.backoff import Backoff, BackoffPolicy
from argus.domain.errors import StorageError, ValidationError
from argus.domain.events import Envelope
from argus.ports.bus import Delivery, Subscription

__all__ = [
    "ConsumerState",
    "IdempotentConsumer",
    "SeenIds",
    "StoreRetry",
    "consume_resubscribing",
]

log = logging.getLogger(__name__)

Handler = Callable[[Envelope], Awaitable[None]]
"""Does the work for one new event; must commit durably before returning."""

DurableCheck = Callable[[str], Awaitable[bool]]
"""Whether an event id was already processed (e.g. ``EventRepository.exists``)."""


class SeenIds:
    """A bounded set of recently seen event ids; the oldest are forgotten first.

    Args:
        capacity: Most ids remembered.
    """

    def __init__(self, capacity: int = 10_000) -> None:
        if capacity < 1:
            raise ValidationError(f"capacity must be at least 1, got {capacity}")
        self.capacity = capacity
        self._ids: OrderedDict[str, None] = OrderedDict()

    def __contains__(self, event_id: object) -> bool:
        return event_id in self._ids

    def __len__(self) -> int:
        return len(self._ids)

    def add(self, event_id: str) -> None:
        """Remember ``event_id``, forgetting the oldest id when full."""
        self._ids[event_id] = None
        self._ids.move_to_end(event_id)
        if len(self._ids) > self.capacity:
            self._ids.popitem(last=False)


class IdempotentConsumer:
    """Hands each event to ``handler`` once, however often it is delivered.

    Args:
        handler: Work for a new event; an exception leaves the delivery
            unacknowledged so the bus delivers it again.
        already_processed: Durable check for ids not in the in-memory set;
            ``None`` relies on the set alone (duplicates older than
            ``capacity`` ids, or across restarts, then get through).
        capacity: Size of the in-memory set of recent ids.
    """

    def __init__(
        self,
        handler: Handler,
        *,
        already_processed: DurableCheck | None = None,
        capacity: int = 10_000,
    ) -> None:
        self._handler = handler
        self._already_processed = already_processed
        self.seen = SeenIds(capacity)
        self.handled = 0
        """Events handed to the handler."""
        self.duplicates = 0
        """Deliveries skipped as replays."""

    async def process(self, delivery: Delivery) -> bool:
        """Handle a delivery unless it is a replay, then acknowledge it.

        Returns:
            ``True`` when the handler ran, ``False`` for a replay.

        Raises:
            Exception: Whatever the handler raised; the delivery is not acknowledged.
        """
        event_id = delivery.envelope.event_id
        duplicate = event_id in self.seen
        if not duplicate and self._already_processed is not None:
            duplicate = await self._already_processed(event_id)
        if duplicate:
            self.duplicates += 1
        else:
            await self._handler(delivery.envelope)
            self.handled += 1
        self.seen.add(event_id)
        await delivery.ack()
        return not duplicate


class ConsumerState:
    """Whether a background consumer is subscribed, and its latest error (for health checks)."""

    def __init__(self) -> None:
        self.subscribed = False
        self.last_error: str | None = None


async def consume_resubscribing(
    subscribe: Callable[[], Awaitable[Subscription]],
    consume: Callable[[Subscription], Awaitable[None]],
    state: ConsumerState,
    *,
    what: str,
    max_backoff: float = 30.0,
) -> None:
    """Run ``consume`` on a subscription; resubscribe with backoff whenever it fails.

    The top of a background task's loop: any error is logged with its
    traceback and recorded in ``state``, then the subscription is reopened
    after a backoff that doubles up to ``max_backoff`` (and resets once a
    subscription is open). Returns when ``consume`` returns (the subscription
    was closed).
    """
    backoff = 0.5
    while True:
        try:
            subscription = await subscribe()
            async with subscription:
                state.subscribed, state.last_error, backoff = True, None, 0.5
                await consume(subscription)
            state.subscribed, state.last_error = False, "the subscription was closed"
            return
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # top of a task loop: log, back off, resubscribe
            state.subscribed, state.last_error = False, str(exc) or type(exc).__name__
            log.exception("%s failed; resubscribing in %.1f s", what, backoff)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, max_backoff)


_T = TypeVar("_T")


class StoreRetry:
    """Tries a consumer's store write again, with backoff, while the store refuses it.

    A bounded number of tries, then the ``StorageError`` goes up (the delivery
    stays unacknowledged for the bus to deliver again). ``error`` says why the
    latest try failed, for the consumer's ``check``; ``None`` once one succeeds.

    Args:
        attempts: Tries before giving up (at least 1).
        max_delay: Longest wait between two tries, in seconds.
        what: What is stored, for the log (``"the alerts of event"``).
    """

    def __init__(self, attempts: int, max_delay: float, what: str) -> None:
        if attempts < 1:
            raise ValidationError(f"retry_attempts must be at least 1, got {attempts}")
        self._attempts = attempts
        self._backoff = Backoff(BackoffPolicy(initial=min(0.2, max_delay), max_delay=max_delay))
        self._what = what
        self.error: str | None = None

    async def run(self, work: Callable[[], Awaitable[_T]], subject: str) -> _T:
        """``work()``, tried again while it raises ``StorageError``.

        Raises:
            StorageError: Every try was refused.
        """
        tries = 0
        while True:
            try:
                result = await work()
            except StorageError as exc:
                self.error = str(exc) or type(exc).__name__
                tries += 1
                if tries >= self._attempts:
                    raise
                delay = self._backoff.next_delay()
                log.warning(
                    "storing %s %s failed (%s); retrying in %.2f s",
                    self._what,
                    subject,
                    self.error,
                    delay,
                )
                await asyncio.sleep(delay)
                continue
            self._backoff.reset()
            self.error = None
            return result

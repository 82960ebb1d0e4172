"""``AlertWorker``: raises alerts from the event subject and escalates due alerts.

Two background loops over an ``AlertService``: a durable bus consumer on the
event subject (shared by every server, which split the work) that calls
``on_event`` for each event, and a timer that calls ``escalate_due``. An event
whose alerts the store refuses is tried again with backoff, a bounded number of
times, then left unacknowledged for the bus to deliver again; ``check``
reports the outage until an alert is stored. A clearing event (``node.online``
...) then clears the alerts of the condition it ends (``alert_clearing``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from argus.domain.alerts import Alert
from argus.domain.events import Envelope
from argus.ports.bus import EventBus, Subscription
from argus.services.alerts import ALERT_DURABLE_NAME, AlertService
from argus.services.background import TaskGroup
from argus.services.consumers import (
    ConsumerState,
    IdempotentConsumer,
    StoreRetry,
    consume_resubscribing,
)

__all__ = ["AlertWorker"]

log = logging.getLogger(__name__)


class AlertWorker:
    """Raises alerts from the event subject and escalates due alerts, in the background.

    Args:
        service: The alert service.
        bus: The event bus.
        subject: The subject pipelines publish events on.
        escalation_tick: Seconds between escalation sweeps.
        on_alert: Called with each raised alert (metrics: latency from the event).
        on_raised: Awaited with each raised alert, on the one server that raised it
            (edge evidence received before the alert is attached here); it must not raise.
        retry_attempts: Tries of an event whose alerts the store refuses before it
            is left unacknowledged for the bus to deliver again.
        retry_max_delay: Longest wait between two tries, in seconds.
    """

    def __init__(
        self,
        service: AlertService,
        bus: EventBus,
        subject: str,
        *,
        escalation_tick: float = 1.0,
        on_alert: Callable[[Alert], None] | None = None,
        on_raised: Callable[[Alert], Awaitable[object]] | None = None,
        retry_attempts: int = 30,
        retry_max_delay: float = 5.0,
    ) -> None:
        self._service = service
        self._bus = bus
        self._subject = subject
        self._tick = escalation_tick
        self._on_alert = on_alert
        self._on_raised = on_raised
        self._tasks = TaskGroup()
        self._consumer = IdempotentConsumer(self._raise_alerts)
        self._retry = StoreRetry(retry_attempts, retry_max_delay, "the alerts of event")
        self.state = ConsumerState()

    def start(self) -> None:
        """Start both loops (once)."""
        self._tasks.start(
            ("argus-alerting", self._consume_forever),
            ("argus-escalation", self._escalate_forever),
        )

    async def _consume_forever(self) -> None:
        await consume_resubscribing(
            lambda: self._bus.subscribe(self._subject, durable=ALERT_DURABLE_NAME),
            self._consume,
            self.state,
            what="alerting consumer",
        )

    async def _consume(self, subscription: Subscription) -> None:
        # Replays the in-memory set misses are no-ops too: alerts are unique per rule and event.
        async for delivery in subscription:
            await self._consumer.process(delivery)

    async def _raise_alerts(self, envelope: Envelope) -> None:
        alerts = await self._raise_retrying(envelope)
        for alert in alerts:
            if self._on_alert is not None:
                self._on_alert(alert)
            if self._on_raised is not None:
                await self._on_raised(alert)
        # After raising: a failure leaves the delivery unacknowledged, and raising is
        # idempotent per rule and event, so the redelivery only clears.
        await self._service.clear_by(envelope)

    async def _raise_retrying(self, envelope: Envelope) -> list[Alert]:
        """``on_event``, tried again with backoff while the store refuses the alerts.

        Raises:
            StorageError: The store refused every try; the delivery stays
                unacknowledged and the service remembers the event's matches.
        """
        return await self._retry.run(lambda: self._service.on_event(envelope), envelope.event_id)

    @property
    def store_error(self) -> str | None:
        """Why the store refused the latest alert; ``None`` once one is stored again."""
        return self._retry.error

    async def _escalate_forever(self) -> None:
        while True:
            try:
                await self._service.escalate_due()
            except asyncio.CancelledError:
                raise
            except Exception:  # top of a task loop: log and try again next tick
                log.exception("escalation sweep failed")
            await asyncio.sleep(self._tick)

    def check(self) -> tuple[bool, str]:
        """Whether alerting is consuming, and a one-line reason."""
        if not self._tasks.started:
            return False, "alerting not started"
        if self._tasks.finished:
            return False, f"alerting stopped: {self.state.last_error or 'finished'}"
        if self.store_error is not None:
            waiting = self._service.unfinished
            return False, (
                f"alerts cannot be stored ({self.store_error}); "
                f"{waiting} event(s) waiting, retrying"
            )
        if not self.state.subscribed:
            return False, f"alerting not subscribed: {self.state.last_error or 'starting'}"
        return True, f"alerting on {self._subject!r}"

    async def stop(self) -> None:
        """Cancel both loops and wait for them."""
        await self._tasks.stop()

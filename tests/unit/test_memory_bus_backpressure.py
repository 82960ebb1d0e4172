"""The in-process bus never drops a message a durable consumer still needs (issue 15, #3).

Its log is bounded. Before the fix a full log dropped its oldest message even
when the event store's consumer had not stored it yet (the store was down),
though ``publish`` had acknowledged it to the producer. Now ``publish``
refuses with ``BusError`` instead, so the producer keeps the event and
retries; a subject nobody consumes durably still drops the oldest.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from argus.adapters.bus.memory import MemoryEventBus
from argus.domain.errors import BusError
from argus.domain.events import Envelope, EventSource, new_event_id

pytestmark = pytest.mark.anyio


def _envelope(n: int) -> Envelope:
    return Envelope(
        event_id=new_event_id(),
        type="test.ping",
        timestamp=datetime(2026, 3, 1, 12, 0, n, tzinfo=UTC),
        source=EventSource("edge-1", "cam-a"),
        payload={"n": n},
    )


async def test_a_full_log_refuses_instead_of_dropping_what_a_consumer_needs() -> None:
    bus = MemoryEventBus(max_len=3)
    try:
        subscription = await bus.subscribe("events", durable="store")
        sent = [_envelope(n) for n in range(3)]
        for envelope in sent:
            await bus.publish("events", envelope)
        with pytest.raises(BusError, match="not acknowledged"):
            await bus.publish("events", _envelope(3))

        # Read but not acknowledged (the store refused it): still needed.
        first = await anext(subscription)
        assert first.envelope.event_id == sent[0].event_id
        with pytest.raises(BusError):
            await bus.publish("events", _envelope(3))

        # Acknowledged: its room may be taken, and nothing needed was dropped.
        await first.ack()
        late = _envelope(3)
        await bus.publish("events", late)
        received = []
        for _ in range(3):
            delivery = await anext(subscription)
            received.append(delivery.envelope.event_id)
            await delivery.ack()
        assert received == [e.event_id for e in (*sent[1:], late)]
    finally:
        await bus.close()


async def test_a_subject_without_durable_consumers_keeps_dropping_the_oldest() -> None:
    bus = MemoryEventBus(max_len=2)
    try:
        live = await bus.fan_out("alerts")
        for n in range(5):
            await bus.publish("alerts", _envelope(n))
        await live.close()
    finally:
        await bus.close()

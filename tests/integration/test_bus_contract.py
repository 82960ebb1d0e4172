"""One contract for every ``EventBus``: in-process, NATS JetStream and Redis Streams.

The broker cases run against the real local servers (``scripts/services.sh``
starts them; ``ARGUS_TEST_NATS_URL`` / ``ARGUS_TEST_REDIS_URL`` point
elsewhere). Every test uses its own stream and subject prefix and removes them
afterwards, so runs never see each other's messages. Ack waits are short so
redelivery shows within a second or two.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import anyio
import nats
import pytest
import redis.asyncio as redis_asyncio

from argus.adapters.bus.memory import MemoryEventBus
from argus.adapters.bus.nats import NatsEventBus
from argus.adapters.bus.redis_streams import RedisStreamsEventBus
from argus.domain.errors import BusError
from argus.domain.events import Envelope, EventSource, new_event_id
from argus.ports.bus import Delivery, EventBus, Subscription
from argus.services.consumers import IdempotentConsumer, SeenIds

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

NATS_URL = os.environ.get("ARGUS_TEST_NATS_URL", "nats://127.0.0.1:4222")
REDIS_URL = os.environ.get("ARGUS_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
WAIT = 20.0
"""Seconds to wait for a delivery that must come (generous for a loaded machine)."""
ACK_WAIT = 1.0
"""Ack wait of the buses under test, in seconds."""
QUIET = 2 * ACK_WAIT
"""How long nothing must arrive for a test to conclude that nothing more will."""


@dataclass
class BusKit:
    """Opens buses of one kind on one private namespace (stream, prefix) of its broker.

    ``open()`` twice gives two connections, as two processes would have; for
    the in-process bus both are the same object.
    """

    kind: str
    opener: Callable[[], Awaitable[EventBus]]
    opened: list[EventBus] = field(default_factory=list)

    @property
    def is_broker(self) -> bool:
        return self.kind != "memory"

    async def open(self) -> EventBus:
        bus = await self.opener()
        self.opened.append(bus)
        return bus


def _envelope(n: int = 0, camera: str = "cam-1") -> Envelope:
    return Envelope(
        event_id=new_event_id(),
        type="line.crossed",
        timestamp=datetime(2026, 1, 2, 3, 4, 5, n, tzinfo=UTC),
        source=EventSource(edge_node_id="edge-1", camera_id=camera),
        payload={"n": n, "line": "gate", "track_id": n, "class_name": "person"},
    )


async def _next(subscription: Subscription, timeout: float = WAIT) -> Delivery:
    with anyio.fail_after(timeout):
        return await subscription.__anext__()


async def _ack(delivery: Delivery) -> object:
    await delivery.ack()
    return None


async def _drain(
    subscription: Subscription,
    quiet: float = QUIET,
    handle: Callable[[Delivery], Awaitable[object]] = _ack,
) -> list[Delivery]:
    """Handle (by default: acknowledge) deliveries until none comes for ``quiet`` seconds.

    Handling inside the loop matters: an unacknowledged delivery would come back
    every ack wait, and the quiet period would never arrive.
    """
    got: list[Delivery] = []
    while True:
        with anyio.move_on_after(quiet):
            delivery = await subscription.__anext__()
            got.append(delivery)
            await handle(delivery)
            continue
        return got


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _memory_kit() -> AsyncIterator[BusKit]:
    bus = MemoryEventBus(ack_wait=ACK_WAIT)

    async def opener() -> EventBus:
        return bus

    yield BusKit("memory", opener)


async def _nats_kit() -> AsyncIterator[BusKit]:
    stream = f"TEST_{uuid.uuid4().hex[:12]}"
    prefix = f"t{uuid.uuid4().hex[:12]}"

    async def opener() -> EventBus:
        return await NatsEventBus.connect(
            NATS_URL, stream=stream, prefix=prefix, ack_wait=ACK_WAIT, poll_interval=0.2
        )

    yield BusKit("nats", opener)
    client = await nats.connect(NATS_URL)
    try:
        await client.jetstream().delete_stream(stream)
    finally:
        await client.close()


async def _redis_kit() -> AsyncIterator[BusKit]:
    prefix = f"t{uuid.uuid4().hex[:12]}"

    async def opener() -> EventBus:
        return await RedisStreamsEventBus.connect(
            REDIS_URL, prefix=prefix, ack_wait=ACK_WAIT, poll_interval=0.2
        )

    yield BusKit("redis", opener)
    client = redis_asyncio.Redis.from_url(REDIS_URL)
    try:
        keys = [key async for key in client.scan_iter(match=f"{prefix}:*")]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()


_KITS = {"memory": _memory_kit, "nats": _nats_kit, "redis": _redis_kit}


@pytest.fixture(params=sorted(_KITS))
async def kit(request: pytest.FixtureRequest) -> AsyncIterator[BusKit]:
    """A kit per bus kind; every bus it opened is closed, and broker state removed."""
    maker = _KITS[request.param]()
    try:
        made = await maker.__anext__()
    except BusError as exc:
        pytest.fail(f"{request.param} is not reachable ({exc}); run scripts/services.sh")
    try:
        yield made
    finally:
        for bus in made.opened:
            await bus.close()
        with pytest.raises(StopAsyncIteration):
            await maker.__anext__()


async def test_durable_consumer_gets_each_subject_in_publish_order(kit: BusKit) -> None:
    bus = await kit.open()
    sent = {"a": [_envelope(i) for i in range(12)], "b": [_envelope(100 + i) for i in range(5)]}
    for i in range(12):
        await bus.publish("cam.a", sent["a"][i])
        if i < 5:
            await bus.publish("cam.b", sent["b"][i])
    for name in ("a", "b"):
        async with await bus.subscribe(f"cam.{name}", durable="orders") as sub:
            got = [await _next(sub) for _ in sent[name]]
            for delivery in got:
                await delivery.ack()
        assert [d.envelope for d in got] == sent[name]
        assert {d.subject for d in got} == {f"cam.{name}"}
        assert not any(d.redelivered for d in got)


async def test_envelope_survives_the_wire_unchanged(kit: BusKit) -> None:
    bus = await kit.open()
    envelope = Envelope(
        event_id=new_event_id(),
        type="zone.exited",
        timestamp=datetime(2026, 5, 6, 7, 8, 9, 123456, tzinfo=UTC),
        source=EventSource(edge_node_id="edge-ü", camera_id="cam/1"),
        payload={"nested": {"xs": [1, 2.5, None, True]}, "text": "ünïcode ✓"},
    )
    await bus.publish("wire", envelope)
    async with await bus.subscribe("wire", durable="wire") as sub:
        delivery = await _next(sub)
        await delivery.ack()
    assert delivery.envelope == envelope
    assert delivery.envelope.to_dict() == envelope.to_dict()


async def test_unacknowledged_delivery_is_redelivered_after_ack_wait(kit: BusKit) -> None:
    bus = await kit.open()
    first, second = _envelope(1), _envelope(2)
    await bus.publish("redeliver", first)
    await bus.publish("redeliver", second)
    async with await bus.subscribe("redeliver", durable="worker") as sub:
        dropped = await _next(sub)  # handed out, never acknowledged: a crashed handler
        assert dropped.envelope == first
        assert not dropped.redelivered
        kept = await _next(sub)
        assert kept.envelope == second
        await kept.ack()
        again = await _next(sub)
        assert again.envelope == first
        assert again.redelivered
        await again.ack()
        await again.ack()  # a second ack is harmless
        assert await _drain(sub) == []


async def test_durable_consumer_resumes_after_close(kit: BusKit) -> None:
    bus = await kit.open()
    before, meanwhile = [_envelope(i) for i in range(3)], [_envelope(10 + i) for i in range(3)]
    for envelope in before:
        await bus.publish("resume", envelope)
    async with await bus.subscribe("resume", durable="svc") as sub:
        for envelope in before:
            delivery = await _next(sub)
            assert delivery.envelope == envelope
            await delivery.ack()
    for envelope in meanwhile:
        await bus.publish("resume", envelope)
    async with await bus.subscribe("resume", durable="svc") as sub:
        got = [await _next(sub) for _ in meanwhile]
        for delivery in got:
            await delivery.ack()
        assert [d.envelope for d in got] == meanwhile
        assert await _drain(sub) == []


async def test_durable_consumer_resumes_on_a_new_connection(kit: BusKit) -> None:
    if not kit.is_broker:
        pytest.skip("the in-process bus keeps consumer state in the process; nothing to reconnect")
    first = await kit.open()
    await first.publish("restart", _envelope(1))
    async with await first.subscribe("restart", durable="svc") as sub:
        await (await _next(sub)).ack()
    await first.close()
    meanwhile = _envelope(2)
    second = await kit.open()
    await second.publish("restart", meanwhile)
    async with await second.subscribe("restart", durable="svc") as sub:
        delivery = await _next(sub)
        await delivery.ack()
        assert delivery.envelope == meanwhile
        assert await _drain(sub) == []


async def test_a_new_durable_consumer_starts_at_the_oldest_message(kit: BusKit) -> None:
    bus = await kit.open()
    sent = [_envelope(i) for i in range(3)]
    for envelope in sent:
        await bus.publish("history", envelope)
    async with await bus.subscribe("history", durable="late") as sub:
        got = [await _next(sub) for _ in sent]
        for delivery in got:
            await delivery.ack()
    assert [d.envelope for d in got] == sent


async def test_idempotent_consumer_never_double_counts_a_replay(kit: BusKit) -> None:
    bus = await kit.open()
    events = [_envelope(i) for i in range(3)]
    for envelope in events:
        await bus.publish("ingest", envelope)
    store: set[str] = set()
    counts: dict[str, int] = {}

    async def handle(envelope: Envelope) -> None:
        counts[envelope.event_id] = counts.get(envelope.event_id, 0) + 1
        store.add(envelope.event_id)  # the durable effect, committed before the ack

    async def in_store(event_id: str) -> bool:
        return event_id in store

    # A consumer commits the first event and crashes before acknowledging it.
    async with await bus.subscribe("ingest", durable="counter") as sub:
        await handle((await _next(sub)).envelope)
    # The producer re-publishes an event it already sent (its ack was lost).
    await bus.publish("ingest", events[1])
    # After a restart (empty in-memory set), the durable check catches the redelivery.
    consumer = IdempotentConsumer(handle, already_processed=in_store)
    async with await bus.subscribe("ingest", durable="counter") as sub:
        await _drain(sub, handle=consumer.process)
    assert counts == {envelope.event_id: 1 for envelope in events}
    assert consumer.handled == 2
    assert consumer.duplicates >= 1  # the redelivery; NATS drops the re-publish itself


async def test_idempotent_consumer_in_memory_set_alone_skips_a_redelivery(kit: BusKit) -> None:
    bus = await kit.open()
    envelope = _envelope(7)
    seen: list[str] = []

    async def handle(event: Envelope) -> None:
        seen.append(event.event_id)

    consumer = IdempotentConsumer(handle)
    await bus.publish("again", envelope)
    async with await bus.subscribe("again", durable="once") as sub:
        first = await _next(sub)
        await handle(first.envelope)
        consumer.seen.add(first.envelope.event_id)  # handled, but the ack was lost
        redelivered = await _next(sub)
        assert redelivered.redelivered
        assert await consumer.process(redelivered) is False
        assert await _drain(sub) == []
    assert seen == [envelope.event_id]


async def test_a_failing_handler_leaves_the_event_for_redelivery(kit: BusKit) -> None:
    bus = await kit.open()
    envelope = _envelope(5)
    attempts: list[bool] = []

    async def flaky(event: Envelope) -> None:
        attempts.append(True)
        if len(attempts) == 1:
            raise RuntimeError("database down")

    consumer = IdempotentConsumer(flaky)
    await bus.publish("flaky", envelope)
    async with await bus.subscribe("flaky", durable="flaky") as sub:
        with pytest.raises(RuntimeError, match="database down"):
            await consumer.process(await _next(sub))
        retried = await _next(sub)
        assert retried.redelivered
        assert await consumer.process(retried) is True
        assert await _drain(sub) == []
    assert (len(attempts), consumer.handled, consumer.duplicates) == (2, 1, 0)


async def test_competing_subscriptions_of_one_durable_name_share_the_messages(
    kit: BusKit,
) -> None:
    bus = await kit.open()
    sent = [_envelope(i) for i in range(10)]
    for envelope in sent:
        await bus.publish("work", envelope)
    got: list[str] = []

    async def work(sub: Subscription) -> None:
        async with sub:
            got.extend(d.envelope.event_id for d in await _drain(sub, quiet=1.0))

    first = await bus.subscribe("work", durable="pool")
    second = await bus.subscribe("work", durable="pool")
    async with anyio.create_task_group() as tasks:
        tasks.start_soon(work, first)
        tasks.start_soon(work, second)
    assert sorted(got) == sorted(e.event_id for e in sent)


async def test_fan_out_gives_every_subscriber_every_later_message(kit: BusKit) -> None:
    producer = await kit.open()
    await producer.publish("live", _envelope(0))  # before anyone listens: not delivered
    first = await (await kit.open()).fan_out("live")
    second = await (await kit.open()).fan_out("live")
    sent = [_envelope(1 + i) for i in range(5)]
    for envelope in sent:
        await producer.publish("live", envelope)
    for sub in (first, second):
        got = [await _next(sub) for _ in sent]
        for delivery in got:
            await delivery.ack()  # a no-op for fan-out
        assert [d.envelope for d in got] == sent
        assert await _drain(sub, quiet=1.0) == []
        await sub.close()


async def test_a_fan_out_reader_whose_waits_keep_timing_out_loses_nothing(kit: BusKit) -> None:
    # A live reader (the /ws relay) may wait with short timeouts; a cancelled wait must not
    # take a message with it (NATS's next_msg waits through asyncio.wait_for, which on
    # Python 3.11 can lose the result it was handed as its timeout fires).
    producer = await kit.open()
    sub = await (await kit.open()).fan_out("restless")
    sent = [_envelope(i) for i in range(60)]
    got: list[Envelope] = []

    async def publish() -> None:
        for envelope in sent:
            await producer.publish("restless", envelope)
            await anyio.sleep(0.002)

    async with anyio.create_task_group() as tasks:
        tasks.start_soon(publish)
        with anyio.fail_after(WAIT):
            while len(got) < len(sent):
                with anyio.move_on_after(0.001):
                    got.append((await sub.__anext__()).envelope)
    assert got == sent
    await sub.close()


async def test_fan_out_and_durable_consumers_both_see_a_message(kit: BusKit) -> None:
    bus = await kit.open()
    live = await bus.fan_out("both")
    envelope = _envelope(3)
    await bus.publish("both", envelope)
    assert (await _next(live)).envelope == envelope
    async with await bus.subscribe("both", durable="store") as sub:
        delivery = await _next(sub)
        await delivery.ack()
    assert delivery.envelope == envelope
    await live.close()


async def test_closing_a_subscription_ends_its_iteration(kit: BusKit) -> None:
    bus = await kit.open()
    sub = await bus.subscribe("ending", durable="reader")
    result: list[Delivery] = []

    async def read() -> None:
        result.extend([delivery async for delivery in sub])

    async with anyio.create_task_group() as tasks:
        tasks.start_soon(read)
        await anyio.sleep(0.3)
        await sub.close()
    assert result == []
    await sub.close()  # idempotent


async def test_closed_bus_refuses_to_publish(kit: BusKit) -> None:
    bus = await kit.open()
    await bus.close()
    with pytest.raises(BusError, match="closed"):
        await bus.publish("closed", _envelope())
    await bus.close()  # idempotent


@pytest.mark.parametrize(
    "subject", ["", "a..b", "with space", "wild.*", "tail.>", ".lead"], ids=repr
)
async def test_invalid_subject_is_a_bus_error(kit: BusKit, subject: str) -> None:
    bus = await kit.open()
    with pytest.raises(BusError, match="invalid subject"):
        await bus.publish(subject, _envelope())


async def test_invalid_durable_name_is_a_bus_error(kit: BusKit) -> None:
    bus = await kit.open()
    with pytest.raises(BusError, match="invalid durable name"):
        await bus.subscribe("names", durable="has.dot")


@pytest.mark.parametrize("kind", ["nats", "redis"])
async def test_unreachable_broker_is_a_clear_bus_error(kind: str) -> None:
    port = _free_port()

    async def connect() -> EventBus:
        if kind == "nats":
            return await NatsEventBus.connect(f"nats://127.0.0.1:{port}", connect_attempts=1)
        return await RedisStreamsEventBus.connect(f"redis://127.0.0.1:{port}/0")

    with anyio.fail_after(WAIT), pytest.raises(BusError, match="cannot connect") as info:
        await connect()
    assert str(port) in str(info.value)


@pytest.mark.parametrize(
    ("capacity", "added", "kept", "forgotten"),
    [
        (3, ["a", "b", "c"], ["a", "b", "c"], []),
        (3, ["a", "b", "c", "d"], ["b", "c", "d"], ["a"]),
        (2, ["a", "b", "a", "c"], ["a", "c"], ["b"]),
        (1, ["a", "a"], ["a"], []),
    ],
    ids=["fits", "oldest-dropped", "re-seen-is-refreshed", "one"],
)
def test_seen_ids_is_bounded(
    capacity: int, added: list[str], kept: list[str], forgotten: list[str]
) -> None:
    seen = SeenIds(capacity)
    for event_id in added:
        seen.add(event_id)
    assert len(seen) == len(kept)
    assert all(event_id in seen for event_id in kept)
    assert not any(event_id in seen for event_id in forgotten)

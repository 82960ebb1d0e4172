"""The dispatcher's decisions on the in-memory outbox, with fake senders and clocks moved by hand.

The real senders and servers are exercised in ``test_notify_delivery`` and
``test_notify_outages``; here a ``Sender`` fake (a port, not a server) fails
or succeeds on command so that every rule is checked exactly: attempts not
spent while a breaker is open, one probe per cool-down, backoff due times
within the jitter bound, dead letters, template errors on the attempt,
deleted channels and unknown kinds, disabled channels, per-channel isolation,
and the health line.
"""

from __future__ import annotations

import dataclasses
import random
from datetime import UTC, datetime, timedelta

import pytest

from argus.adapters.db.memory import MemoryDatabase
from argus.adapters.notify.templates import render
from argus.domain.backoff import BackoffPolicy
from argus.domain.notify import (
    Channel,
    ChannelKind,
    DeliveryAttempt,
    DeliveryError,
    EmailSettings,
    Message,
    MqttChannelSettings,
    Templates,
    WebhookSettings,
)
from argus.domain.notify.breaker import BreakerPolicy
from argus.domain.notify.delivery import DispatchPolicy
from argus.services.notify_dispatch import NotificationDispatcher
from tests.integration.notify_support import channel, notification

pytestmark = pytest.mark.anyio

POLICY = DispatchPolicy(
    max_attempts=4,
    backoff=BackoffPolicy(10.0, 100.0),
    breaker=BreakerPolicy(threshold=2, cooldown_s=60.0, max_cooldown_s=120.0),
    lease_s=30.0,
    poll_s=1.0,
    batch=10,
    channel_concurrency=10,
)


class Clocks:
    """A wall clock and a monotonic clock that move together, by hand."""

    def __init__(self) -> None:
        self.wall = datetime.now(UTC) + timedelta(seconds=5)  # after the items made below
        self.mono = 0.0

    def now(self) -> datetime:
        return self.wall

    def monotonic(self) -> float:
        return self.mono

    def advance(self, seconds: float) -> None:
        self.wall += timedelta(seconds=seconds)
        self.mono += seconds


class FakeSender:
    """Records messages; raises ``error`` while it is set."""

    def __init__(self, kind: ChannelKind = "webhook") -> None:
        self.kind = kind
        self.sent: list[Message] = []
        self.tries = 0
        self.error: DeliveryError | None = None

    async def send(self, channel: Channel, message: Message) -> None:
        self.tries += 1
        if self.error is not None:
            raise self.error
        self.sent.append(message)


def _rig(
    senders: dict[ChannelKind, FakeSender] | None = None, policy: DispatchPolicy = POLICY
) -> tuple[MemoryDatabase, NotificationDispatcher, Clocks, list[DeliveryAttempt]]:
    db, clocks, seen = MemoryDatabase(), Clocks(), []
    worker = NotificationDispatcher(
        db.notify.outbox,
        db.notify.channels,
        senders if senders is not None else {"webhook": FakeSender()},
        render=render,
        clock=clocks.now,
        owner="t",
        policy=policy,
        monotonic=clocks.monotonic,
        rng=random.Random(3),
        on_attempt=lambda attempt, _: seen.append(attempt),
    )
    return db, worker, clocks, seen


def _hook(**changes: object) -> Channel:
    return channel("webhook", WebhookSettings(url="https://hooks.example.org/x"), **changes)


async def test_an_open_breaker_spends_no_attempts_and_probes_once_per_cooldown() -> None:
    sender = FakeSender()
    db, worker, clocks, seen = _rig({"webhook": sender})
    hook = _hook()
    await db.notify.channels.add(hook)
    items = [notification(hook, n) for n in range(5)]
    await db.notify.outbox.enqueue(items)
    sender.error = DeliveryError("connection refused")
    assert await worker.run_once() == 5  # all five tried at once; two failures open it
    assert worker.breaker_states() == {hook.id: "open"}
    assert worker.check() == (False, "notification dispatch not started")
    for _ in range(2):
        clocks.advance(25.0)  # within the cool-down: the due retries wait, untried
        assert await worker.run_once() == 0
    clocks.advance(10.0)
    assert await worker.run_once() == 1  # one probe
    assert await worker.run_once() == 0  # and no second while it failed
    assert seen[-1].breaker == "half_open"
    sender.error = None
    clocks.advance(120.0)  # the doubled cool-down
    assert await worker.run_once() == 1  # the probe succeeds and closes it
    assert worker.breaker_states() == {hook.id: "closed"}
    clocks.advance(200.0)
    assert await worker.run_once() == 4
    assert sender.tries == 5 + 1 + 1 + 4
    states = [(await db.notify.outbox.get(i.id)).state for i in items]
    assert states == ["delivered"] * 5


async def test_retries_are_due_within_the_backoff_ceiling_and_die_after_max_attempts() -> None:
    sender = FakeSender()
    never_opens = dataclasses.replace(POLICY, breaker=BreakerPolicy(threshold=100))
    db, worker, clocks, seen = _rig({"webhook": sender}, never_opens)
    hook = _hook()
    await db.notify.channels.add(hook)
    (item,) = [notification(hook)]
    await db.notify.outbox.enqueue([item])
    sender.error = DeliveryError("HTTP 503")
    for number, ceiling in [(1, 10.0), (2, 20.0), (3, 40.0)]:
        assert await worker.run_once() == 1
        stored = await db.notify.outbox.get(item.id)
        assert (stored.state, stored.attempts) == ("pending", number)
        wait = (stored.next_attempt_at - clocks.now()).total_seconds()
        assert 0.0 <= wait <= ceiling
        clocks.advance(ceiling)
    assert await worker.run_once() == 1
    stored = await db.notify.outbox.get(item.id)
    assert (stored.state, stored.attempts, stored.last_error) == ("dead", 4, "HTTP 503")
    assert [a.number for a in seen] == [1, 2, 3, 4]


async def test_a_permanent_error_dead_letters_at_once_and_keeps_the_breaker_closed() -> None:
    sender = FakeSender()
    db, worker, _, _ = _rig({"webhook": sender})
    hook = _hook()
    await db.notify.channels.add(hook)
    items = [notification(hook, n) for n in range(3)]
    await db.notify.outbox.enqueue(items)
    sender.error = DeliveryError("HTTP 410: gone", permanent=True)
    assert await worker.run_once() == 3
    assert worker.breaker_states() == {hook.id: "closed"}
    assert [(await db.notify.outbox.get(i.id)).state for i in items] == ["dead"] * 3


async def test_one_failing_channel_does_not_hold_the_others() -> None:
    bad, good = FakeSender("email"), FakeSender("webhook")
    db, worker, _, _ = _rig({"email": bad, "webhook": good})
    mail = channel("email", EmailSettings(host="smtp.example.org"))
    hook = _hook()
    await db.notify.channels.add(mail)
    await db.notify.channels.add(hook)
    bad.error = DeliveryError("timed out")
    await db.notify.outbox.enqueue([notification(mail, n) for n in range(4)])
    hooks = [notification(hook, n) for n in range(4)]
    await db.notify.outbox.enqueue(hooks)
    await worker.run_once()
    assert len(good.sent) == 4
    assert worker.breaker_states() == {mail.id: "open", hook.id: "closed"}


async def test_a_bad_template_is_recorded_on_a_successful_attempt() -> None:
    sender = FakeSender()
    db, worker, _, seen = _rig({"webhook": sender})
    hook = _hook(templates=Templates(body="{{ nope }}"))
    await db.notify.channels.add(hook)
    await db.notify.outbox.enqueue([notification(hook)])
    assert await worker.run_once() == 1
    (attempt,) = seen
    assert attempt.ok
    assert attempt.error is not None
    assert attempt.error.startswith("built-in template used: body template:")
    assert '"type":"alert.created"' in sender.sent[0].body


async def test_items_of_a_deleted_channel_or_a_kind_without_sender_are_dead() -> None:
    db, worker, _, _ = _rig({"webhook": FakeSender()})
    hook = _hook()
    broker = channel("mqtt", MqttChannelSettings(host="broker.example.org"))
    await db.notify.channels.add(hook)
    await db.notify.channels.add(broker)
    orphan, unsendable = notification(hook), notification(broker)
    await db.notify.outbox.enqueue([orphan, unsendable])
    await db.notify.channels.delete(hook.id)
    await worker.run_once()
    gone = await db.notify.outbox.get(orphan.id)
    assert (gone.state, gone.last_error) == ("dead", f"channel {hook.id} no longer exists")
    stuck = await db.notify.outbox.get(unsendable.id)
    assert stuck.state == "dead"
    assert "no sender for mqtt" in (stuck.last_error or "")


async def test_disabled_channels_keep_their_items_pending() -> None:
    sender = FakeSender()
    db, worker, _, _ = _rig({"webhook": sender})
    hook = _hook(enabled=False)
    await db.notify.channels.add(hook)
    (item,) = [notification(hook)]
    await db.notify.outbox.enqueue([item])
    assert await worker.run_once() == 0
    assert (await db.notify.outbox.get(item.id)).state == "pending"


async def test_check_names_open_breakers() -> None:
    sender = FakeSender()
    db, worker, _, _ = _rig({"webhook": sender})
    hook = _hook()
    await db.notify.channels.add(hook)
    await db.notify.outbox.enqueue([notification(hook, n) for n in range(2)])
    sender.error = DeliveryError("refused")
    worker.start()
    try:
        assert worker.check() == (True, "delivering notifications")
        await worker.run_once()
        assert worker.check() == (True, f"delivering; breaker open on channel(s) {hook.id}")
    finally:
        await worker.stop()
    assert not worker.check()[0]

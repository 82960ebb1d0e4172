"""Notification delivery through outages: a server SIGKILLed mid-run, a stalled one, a restart.

The SMTP server (aiosmtpd) and the webhook receiver run as their own
processes (``tests/servers``); the outbox is SQLite. For each of the two:

* killed between deliveries while alerts keep coming: its channel's breaker
  opens and its notifications wait (none dead), the other channel keeps
  delivering, and once the server is back on its port every notification
  arrives exactly once (counted by ``Message-ID`` / ``X-Argus-Delivery``);
* killed while it holds a delivery (it took the request and never answered):
  the other channel is not held up, and the held notification is delivered
  once after the restart.

And a dispatcher that stops while holding leases (as a crashed server would)
is succeeded by a new one over the same SQLite file, which delivers what the
first one held once the leases run out.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from argus.adapters.db.sql import SqlDatabase
from argus.domain.notify import (
    Channel,
    DeliveryAttempt,
    EmailSettings,
    Notification,
    WebhookSettings,
)
from tests.integration.conftest import ServerProcess
from tests.integration.notify_support import (
    FAST,
    all_in,
    channel,
    dispatcher,
    mails,
    notification,
    requests,
    smtp_sink,
    wait_for,
    webhook_sink,
)

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

SECRET = b"test-secret-key-0123456789abcdef"


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[SqlDatabase]:
    """A migrated SQLite store in a temporary file."""
    database = await SqlDatabase.open(f"sqlite:///{tmp_path / 'argus.db'}", secret_key=SECRET)
    try:
        yield database
    finally:
        await database.close()


class Pair:
    """An SMTP sink and a webhook receiver, their channels, and what each received."""

    def __init__(self, tmp_path: Path, smtp_extra: tuple[str, ...], hook_extra: tuple[str, ...]):
        self.mail_out = tmp_path / "mail"
        self.hook_out = tmp_path / "hooks.jsonl"
        self.smtp = smtp_sink(self.mail_out, *smtp_extra)
        self.hook = webhook_sink(self.hook_out, *hook_extra)
        smtp_port, hook_port = self.smtp.start(0), self.hook.start(0)
        self.mail = channel(
            "email",
            EmailSettings(host="127.0.0.1", port=smtp_port, security="none", timeout_s=60.0),
            rate_per_minute=10_000,
        )
        self.webhook = channel(
            "webhook",
            WebhookSettings(url=f"http://127.0.0.1:{hook_port}/hook", timeout_s=60.0),
            rate_per_minute=10_000,
        )

    def server(self, victim: str) -> ServerProcess:
        return self.smtp if victim == "smtp" else self.hook

    def channels(self, victim: str) -> tuple[Channel, Channel]:
        """The victim's channel, then the other one."""
        return (self.mail, self.webhook) if victim == "smtp" else (self.webhook, self.mail)

    def received(self, target: Channel) -> list[str]:
        """Notification ids that reached ``target``'s server, one entry per arrival."""
        if target is self.mail:
            return [
                str(m["Message-ID"]).strip("<>").removesuffix("@argus")
                for m in mails(self.mail_out)
            ]
        return [r["headers"]["x-argus-delivery"] for r in requests(self.hook_out)]

    def stop(self) -> None:
        self.smtp.stop()
        self.hook.stop()


async def _enqueue(db: SqlDatabase, items: list[Notification]) -> list[str]:
    assert await db.notify.outbox.enqueue(items) == len(items)
    return [item.id for item in items]


@pytest.mark.parametrize("victim", ["smtp", "webhook"])
async def test_a_server_killed_mid_run_gets_everything_once_when_it_returns(
    db: SqlDatabase, tmp_path: Path, victim: str
) -> None:
    pair = Pair(tmp_path, (), ())
    dead, alive = pair.channels(victim)
    for item in (dead, alive):
        await db.notify.channels.add(item)
    worker = dispatcher(db.notify)
    worker.start()
    try:
        first = await _enqueue(db, [notification(c, n) for c in (dead, alive) for n in range(5)])
        worker.wake()
        await wait_for("the first batch", lambda: all_in(db.notify, first, "delivered"))
        pair.server(victim).kill()  # nothing in flight: every delivery so far is recorded

        stuck = await _enqueue(db, [notification(dead, n) for n in range(10)])
        flowing = await _enqueue(db, [notification(alive, n) for n in range(10)])
        worker.wake()
        await wait_for("the other channel", lambda: all_in(db.notify, flowing, "delivered"))

        async def breaker_opened() -> bool:
            return worker.breaker_states().get(dead.id) in ("open", "half_open")

        await wait_for("the breaker to open", breaker_opened)
        assert await all_in(db.notify, stuck, "pending")  # waiting, none dead
        pair.server(victim).start()  # the same port
        await wait_for("the backlog", lambda: all_in(db.notify, stuck, "delivered"))
    finally:
        await worker.stop()
        pair.stop()
    assert sorted(pair.received(dead)) == sorted(first[:5] + stuck)  # none lost, none twice
    assert sorted(pair.received(alive)) == sorted(first[5:] + flowing)
    attempts = {item: await _attempts(db, item) for item in stuck}
    for tries in attempts.values():
        assert [a.ok for a in tries] == [False] * (len(tries) - 1) + [True]
    probes = [a for tries in attempts.values() for a in tries if a.breaker == "half_open"]
    assert probes  # the breaker let probes through while the server was away


async def _attempts(db: SqlDatabase, notification_id: str) -> list[DeliveryAttempt]:
    item = await db.notify.outbox.get(notification_id)
    found = await db.notify.outbox.deliveries(item.alert_id or "")
    ((_, attempts),) = [pair for pair in found if pair[0].id == item.id]
    return list(attempts)


@pytest.mark.parametrize("victim", ["smtp", "webhook"])
async def test_a_server_killed_while_holding_a_delivery_does_not_hold_up_the_others(
    db: SqlDatabase, tmp_path: Path, victim: str
) -> None:
    hang = ("--hang-first", "1")
    pair = Pair(tmp_path, hang if victim == "smtp" else (), hang if victim == "webhook" else ())
    held, alive = pair.channels(victim)
    for item in (held, alive):
        await db.notify.channels.add(item)
    server = pair.server(victim)
    marker_dir = pair.mail_out if victim == "smtp" else tmp_path
    worker = dispatcher(db.notify)
    worker.start()
    try:
        (held_id,) = await _enqueue(db, [notification(held)])
        worker.wake()

        async def hung() -> bool:
            return any(marker_dir.glob("*hung-*"))

        await wait_for("the server to hold the delivery", hung)
        others = await _enqueue(db, [notification(alive, n) for n in range(5)])
        worker.wake()
        await wait_for("the other channel", lambda: all_in(db.notify, others, "delivered"))
        assert await all_in(db.notify, [held_id], "pending")
        server.kill()
        for flag in hang:
            server.argv.remove(flag)
        server.start()
        await wait_for("the held delivery", lambda: all_in(db.notify, [held_id], "delivered"))
    finally:
        await worker.stop()
        pair.stop()
    assert pair.received(held) == [held_id]
    assert sorted(pair.received(alive)) == sorted(others)


async def test_a_new_dispatcher_resumes_what_a_stopped_one_held(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'argus.db'}"
    out = tmp_path / "hooks.jsonl"
    sink = webhook_sink(out, "--hang-first", "3")
    port = sink.start(0)
    policy = dataclasses.replace(FAST, lease_s=5.0)
    hook = channel("webhook", WebhookSettings(url=f"http://127.0.0.1:{port}/", timeout_s=60.0))
    try:
        first = await SqlDatabase.open(url, secret_key=SECRET)
        try:
            await first.notify.channels.add(hook)
            ids = await _enqueue(first, [notification(hook, n) for n in range(3)])
            crashed = dispatcher(first.notify, policy=policy)
            crashed.start()

            async def all_held() -> bool:
                return len(list(tmp_path.glob("hooks.jsonl.hung-*"))) == 3

            await wait_for("the receiver to hold three deliveries", all_held)
            await crashed.stop()  # gone without recording: its leases stay until they expire
        finally:
            await first.close()
        sink.kill()
        sink.argv[-2:] = []  # no more hanging
        sink.start()

        second = await SqlDatabase.open(url, secret_key=SECRET)
        successor = dispatcher(second.notify, policy=policy)
        successor.start()
        try:
            await wait_for("the successor", lambda: all_in(second.notify, ids, "delivered"))
        finally:
            await successor.stop()
            await second.close()
    finally:
        sink.stop()
    assert sorted(r["headers"]["x-argus-delivery"] for r in requests(out)) == sorted(ids)

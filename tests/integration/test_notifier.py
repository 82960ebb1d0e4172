"""The notifier: alert changes on the bus become outbox items, once each.

The in-memory bus and the in-memory and SQLite stores (a temporary file,
reopened to stand for a restart). Alerts are published the way
``AlertService`` publishes them (``Alert.to_dict`` in an ``alert.created`` or
``alert.escalated`` envelope); what the notifier stored is read back from the
outbox. Waiting for the background consumer polls with a bounded deadline.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from argus.adapters.bus.memory import MemoryEventBus
from argus.adapters.db.memory import MemoryDatabase
from argus.adapters.db.sql import SqlDatabase
from argus.domain.alerts import Alert, Risk, Severity
from argus.domain.events import Envelope, EventSource, new_event_id
from argus.domain.notify import (
    RECIPIENT_GROUPS_KEY,
    Channel,
    EmailSettings,
    Notification,
    Route,
    Schedule,
    Target,
    WebhookSettings,
)
from argus.domain.site import Site
from argus.ports.repositories import Database
from argus.services.alerts import ALERTS_SUBJECT
from argus.services.notifier import Notifier

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

SECRET = b"test-secret-key-0123456789abcdef"
T0 = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
"""Monday 12:00 UTC, 13:00 in Berlin."""
NIGHT = datetime(2026, 12, 7, 22, 30, tzinfo=UTC)
"""Monday 23:30 in Berlin."""
DEADLINE_S = 10.0


@dataclass
class Clock:
    now: datetime = T0

    def __call__(self) -> datetime:
        return self.now


@dataclass
class World:
    db: Database
    path: Path | None
    reopen: Callable[[], Awaitable[Database]]


@pytest.fixture(params=["memory", "sqlite"])
async def world(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[World]:
    opened: list[Database] = []
    if request.param == "memory":
        memory = MemoryDatabase()

        async def same() -> Database:
            return memory

        made = World(memory, None, same)
    else:
        url = f"sqlite:///{tmp_path / 'argus.db'}"

        async def reopen() -> Database:
            db = await SqlDatabase.open(url, secret_key=SECRET)
            opened.append(db)
            return db

        made = World(await reopen(), tmp_path / "argus.db", reopen)
    await seed(made.db)
    try:
        yield made
    finally:
        for db in {id(d): d for d in [made.db, *opened]}.values():
            await db.close()


async def seed(db: Database) -> None:
    """An e-mail and a webhook channel, recipient groups and a route with an escalation ladder."""
    mail = EmailSettings(host="mail.example.org", to=("ops@example.org",))
    hook = WebhookSettings(url="https://hooks.example.org/argus", secret="s3cret")
    await db.notify.channels.add(Channel("mail", "Mail", "email", mail, T0, T0))
    await db.notify.channels.add(Channel("hook", "Hook", "webhook", hook, T0, T0))
    await db.settings.put(
        RECIPIENT_GROUPS_KEY, {"groups": {"supervisors": ["boss@example.org"]}}, T0
    )
    await db.notify.routes.add(
        route(
            "ladder",
            Target("mail", 0),
            Target("hook", 0),
            Target("mail", 1, ("group:supervisors", "deputy@example.org")),
        )
    )


def route(route_id: str, *targets: Target, **changes: Any) -> Route:
    return Route(route_id, f"route {route_id}", T0, T0, targets, **changes)


def alert_dict(
    alert_id: str = "alert-1", severity: Severity = "high", level: int = 0, **extra: object
) -> dict[str, object]:
    score = {"low": 0.1, "medium": 0.5, "high": 0.9}[severity]
    alert = Alert(
        id=alert_id,
        rule_id="rule-1",
        rule_name="Fence",
        camera_id="cam-1",
        event_id=new_event_id(),
        event_type="line.crossed",
        event_time=T0,
        risk=Risk(score, ()),
        created_at=T0,
        updated_at=T0,
        state="escalated" if level else "notified",
        escalation_level=level,
    )
    return {**alert.to_dict(), "repeat": False, "suppressed": None, **extra}


def envelope(kind: str, alert: dict[str, object]) -> Envelope:
    return Envelope(new_event_id(), kind, T0, EventSource("argus", str(alert["camera_id"])), alert)


async def items(db: Database) -> list[Notification]:
    page = await db.notify.outbox.list(limit=100)
    return sorted(page.items, key=lambda n: n.dedupe_key)


async def eventually(check: Callable[[], Awaitable[bool]]) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError("not reached within the deadline")
        await asyncio.sleep(0.01)


async def test_a_raised_alert_is_enqueued_per_level_zero_target(world: World) -> None:
    notifier = Notifier(world.db, MemoryEventBus(), clock=Clock(), base_url="https://argus.example")
    assert await notifier.handle(envelope("alert.created", alert_dict())) == 2
    mail, hook = sorted(await items(world.db), key=lambda n: n.channel_id != "mail")
    assert mail.channel_id == "mail"
    assert mail.recipients == ("ops@example.org",)  # the channel's default recipients
    assert hook.channel_id == "hook"
    assert hook.recipients == ()
    for item in (mail, hook):
        assert item.kind == "alert.created"
        assert item.alert_id == "alert-1"
        assert item.level == 0
        assert item.state == "pending"
        assert item.next_attempt_at == T0
        assert item.dedupe_key == f"alert.created:alert-1:0:ladder:{item.channel_id}"
        payload = item.payload
        assert payload["camera"] == {"id": "cam-1", "name": "cam-1"}
        assert payload["links"] == {"alert": "https://argus.example/#/alerts/alert-1"}
        assert payload["route"] == {"id": "ladder", "name": "route ladder"}
        assert isinstance(payload["alert"], dict)
        assert payload["alert"]["severity"] == "high"


async def test_redelivery_and_restart_never_duplicate(world: World) -> None:
    alert = alert_dict()
    first = Notifier(world.db, MemoryEventBus(), clock=Clock())
    assert await first.handle(envelope("alert.created", alert)) == 2
    assert await first.handle(envelope("alert.created", alert)) == 0  # re-published
    restarted = Notifier(await world.reopen(), MemoryEventBus(), clock=Clock())
    assert await restarted.handle(envelope("alert.created", alert)) == 0
    assert len(await items(await world.reopen())) == 2


async def test_the_bus_consumer_enqueues_once_however_often_it_is_delivered(
    world: World,
) -> None:
    bus = MemoryEventBus()
    notifier = Notifier(world.db, bus, clock=Clock())
    assert notifier.check() == (False, "notifier not started")
    notifier.start()
    try:
        created = envelope("alert.created", alert_dict())
        await bus.publish(ALERTS_SUBJECT, created)
        await bus.publish(ALERTS_SUBJECT, created)  # the same envelope twice
        await bus.publish(ALERTS_SUBJECT, envelope("alert.created", alert_dict()))  # a new copy
        await bus.publish(ALERTS_SUBJECT, envelope("alert.escalated", alert_dict(level=1)))
        await eventually(lambda: _count(world.db, 3))
        ok, reason = notifier.check()
        assert ok, reason
        await eventually(lambda: _consumed(notifier, 4))
        assert len(await items(world.db)) == 3
        assert notifier.enqueued == 3
    finally:
        await notifier.stop()
        await bus.close()


async def _count(db: Database, expected: int) -> bool:
    return len(await items(db)) >= expected


async def _consumed(notifier: Notifier, handled: int) -> bool:
    return notifier.consumed >= handled


async def test_escalations_reach_the_greatest_level_up_to_theirs(world: World) -> None:
    notifier = Notifier(world.db, MemoryEventBus(), clock=Clock())
    assert await notifier.handle(envelope("alert.escalated", alert_dict(level=1))) == 1
    assert await notifier.handle(envelope("alert.escalated", alert_dict(level=2))) == 1
    escalations = [n for n in await items(world.db) if n.kind == "alert.escalated"]
    assert [n.level for n in escalations] == [1, 2]
    for item in escalations:
        assert item.channel_id == "mail"
        assert item.recipients == ("boss@example.org", "deputy@example.org")


@pytest.mark.parametrize(
    ("kind", "extra"),
    [
        ("alert.created", {"repeat": True}),
        ("alert.created", {"suppressed": "snoozed: rule Fence until 13:00"}),
        ("alert.escalated", {"suppressed": "maintenance: night works", "escalation_level": 1}),
        ("alert.updated", {}),
        ("alert_group.updated", {}),
    ],
    ids=["repeat", "snoozed", "maintenance", "updated", "group"],
)
async def test_repeats_suppressed_alerts_and_other_changes_notify_nobody(
    world: World, kind: str, extra: dict[str, object]
) -> None:
    notifier = Notifier(world.db, MemoryEventBus(), clock=Clock())
    assert await notifier.handle(envelope(kind, {**alert_dict(), **extra})) == 0
    assert await items(world.db) == []


async def test_quiet_hours_are_judged_in_the_site_time_zone(world: World) -> None:
    await world.db.notify.routes.delete("ladder")
    await world.db.notify.routes.add(
        route(
            "quiet",
            Target("hook"),
            quiet_hours=Schedule(start="22:00", end="07:00"),
            quiet_min_severity="high",
        )
    )

    async def berlin() -> Site:
        return Site("Europe/Berlin")

    clock = Clock(datetime(2026, 12, 7, 21, 30, tzinfo=UTC))  # 22:30 in Berlin, 21:30 UTC
    in_berlin = Notifier(world.db, MemoryEventBus(), clock=clock, site=berlin)
    assert await in_berlin.handle(envelope("alert.created", alert_dict("a", "medium"))) == 0
    assert await in_berlin.handle(envelope("alert.created", alert_dict("b", "high"))) == 1
    in_utc = Notifier(world.db, MemoryEventBus(), clock=clock)  # no site stored: UTC
    assert await in_utc.handle(envelope("alert.created", alert_dict("c", "medium"))) == 1


async def test_gone_and_disabled_channels_and_empty_recipients_are_skipped(
    world: World,
) -> None:
    await world.db.notify.routes.delete("ladder")
    bare = EmailSettings(host="mail.example.org")  # no default recipients
    await world.db.notify.channels.add(Channel("bare", "Bare", "email", bare, T0, T0))
    hook = await world.db.notify.channels.get("hook")
    await world.db.notify.channels.update(replace(hook, enabled=False, version=hook.version + 1))
    await world.db.notify.routes.add(
        route(
            "mixed",
            Target("gone"),
            Target("hook"),
            Target("bare"),
            Target("bare", 0, ("group:nobody",)),
            Target("mail", 0, ("group:supervisors",)),
        )
    )
    notifier = Notifier(world.db, MemoryEventBus(), clock=Clock())
    assert await notifier.handle(envelope("alert.created", alert_dict())) == 1
    (only,) = await items(world.db)
    assert (only.channel_id, only.recipients) == ("mail", ("boss@example.org",))


def _lock_wait_short(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA busy_timeout = 200")
    cursor.close()


async def test_a_store_outage_delays_notifications_and_loses_none(tmp_path: Path) -> None:
    """SQLite's write lock held by another connection (as another process would hold it)."""
    path = tmp_path / "argus.db"
    db = await SqlDatabase.open(f"sqlite:///{path}", secret_key=SECRET)
    sa.event.listen(db.engine.sync_engine, "connect", _lock_wait_short)
    await db.engine.dispose()  # reconnect with the short lock wait
    bus = MemoryEventBus()
    await seed(db)
    notifier = Notifier(db, bus, clock=Clock(), retry_attempts=10_000, retry_max_delay=0.05)
    holder = await asyncio.to_thread(_take_write_lock, path)
    notifier.start()
    try:
        await bus.publish(ALERTS_SUBJECT, envelope("alert.created", alert_dict()))

        async def refused() -> bool:
            return "cannot be stored" in notifier.check()[1]

        await eventually(refused)
        await asyncio.to_thread(_release, holder)
        await eventually(lambda: _count(db, 2))
        await eventually(lambda: _consumed(notifier, 1))
        ok, reason = notifier.check()
        assert ok, reason
        assert len(await items(db)) == 2
    finally:
        await notifier.stop()
        await bus.close()
        await db.close()


def _take_write_lock(path: Path) -> sqlite3.Connection:
    holder = sqlite3.connect(path, timeout=60, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN EXCLUSIVE")
    return holder


def _release(holder: sqlite3.Connection) -> None:
    holder.execute("COMMIT")
    holder.close()

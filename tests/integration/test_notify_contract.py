"""The notification store's contract: channels, routes, the outbox and its attempts.

The same cases run against the in-memory store, SQLite (a temporary file) and
PostgreSQL (a fresh schema per test), through the ``store`` fixture of the
repository contract (``test_repositories_contract``). Channel secrets must
never reach the database in clear; the outbox must survive reopening the
database (a restart) and never lease one item to two dispatchers.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from argus.domain.errors import ConflictError, NotFoundError, StorageError, ValidationError
from argus.domain.events import new_event_id
from argus.domain.notify import (
    Channel,
    DeliveryAttempt,
    EmailSettings,
    MqttChannelSettings,
    Notification,
    NotificationState,
    Route,
    Schedule,
    Target,
    Templates,
    WebhookSettings,
    dedupe_key,
)
from argus.ports.notify import ChannelRepository, NotificationOutbox, NotifyStore, RouteRepository
from tests.integration import test_repositories_contract as contract
from tests.integration.test_repositories_contract import T0, Store

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

store = contract.store

SMTP_PASSWORD = "smtp-pa55-that-must-never-hit-the-disk"
HOOK_SECRET = "hook-secret-that-must-never-hit-the-disk"


def _email(n: int = 0, **changes: Any) -> Channel:
    channel = Channel(
        id=f"ch-mail-{n}",
        name=f"Mail {n}",
        kind="email",
        settings=EmailSettings(
            host="smtp.example.org",
            port=465,
            security="tls",
            username="argus",
            password=SMTP_PASSWORD,
            sender="argus@example.org",
            to=("ops@example.org", "night@example.org"),
            snapshot="attach",
        ),
        created_at=T0 + timedelta(seconds=n),
        updated_at=T0 + timedelta(seconds=n),
        templates=Templates(subject="{{ alert.severity }}", body="Alert {{ alert.id }}"),
        rate_per_minute=12,
    )
    return replace(channel, **changes)


def _webhook(n: int = 0) -> Channel:
    return Channel(
        id=f"ch-hook-{n}",
        name=f"Hook {n}",
        kind="webhook",
        settings=WebhookSettings(
            url="https://hooks.example.org/argus",
            secret=HOOK_SECRET,
            format="slack",
            headers={"Authorization": "Bearer x"},
        ),
        created_at=T0 + timedelta(seconds=n),
        updated_at=T0 + timedelta(seconds=n),
    )


def _mqtt(n: int = 0) -> Channel:
    return Channel(
        id=f"ch-mqtt-{n}",
        name=f"Broker {n}",
        kind="mqtt",
        settings=MqttChannelSettings(host="127.0.0.1", topic="argus/alerts", qos=2),
        created_at=T0 + timedelta(seconds=n),
        updated_at=T0 + timedelta(seconds=n),
        enabled=False,
    )


def _route(n: int = 0, **changes: Any) -> Route:
    route = Route(
        id=f"rt-{n}",
        name=f"Night shift {n}",
        created_at=T0 + timedelta(seconds=n),
        updated_at=T0 + timedelta(seconds=n),
        targets=(
            Target("ch-mail-0", 0, ("group:night-shift",)),
            Target("ch-mail-0", 1, ("boss@example.org",)),
            Target("ch-hook-0"),
        ),
        rule_ids=("rule-1",),
        camera_ids=("cam-1", "cam-2"),
        min_severity="medium",
        schedule=Schedule(days=(0, 1, 2, 3, 4), start="18:00", end="06:00"),
        quiet_hours=Schedule(start="23:00", end="05:00"),
        quiet_min_severity="high",
        timezone="Europe/Berlin",
    )
    return replace(route, **changes)


def _item(
    n: int = 0,
    *,
    channel: str = "ch-mail-0",
    alert: str = "alert-1",
    due: datetime = T0,
    created: datetime | None = None,
    level: int = 0,
    **changes: Any,
) -> Notification:
    created = created if created is not None else T0 + timedelta(seconds=n)
    item = Notification(
        id=new_event_id(created),
        dedupe_key=dedupe_key(alert, "alert.created", level, channel, f"route-{n}"),
        channel_id=channel,
        kind="alert.created",
        created_at=created,
        next_attempt_at=due,
        payload={"alert": {"id": alert, "severity": "high"}, "level": level},
        recipients=("ops@example.org",) if channel.startswith("ch-mail") else (),
        alert_id=alert,
        level=level,
    )
    return replace(item, **changes)


def _attempt(item: Notification, number: int, at: datetime, *, ok: bool) -> DeliveryAttempt:
    return DeliveryAttempt(
        notification_id=item.id,
        number=number,
        at=at,
        ok=ok,
        latency_ms=12.5,
        error=None if ok else "connection refused",
        breaker="closed",
    )


# --- channels ---------------------------------------------------------------------------------


async def test_channels_round_trip_with_their_secrets(store: Store) -> None:
    notify: NotifyStore = store.db.notify
    assert isinstance(notify, NotifyStore)
    channels: ChannelRepository = notify.channels
    assert isinstance(channels, ChannelRepository)
    for channel in (_webhook(1), _email(0), _mqtt(2)):
        await channels.add(channel)
    assert await channels.get("ch-mail-0") == _email(0)
    assert await channels.get("ch-hook-1") == _webhook(1)
    page = await channels.list()
    assert [c.id for c in page.items] == ["ch-mail-0", "ch-hook-1", "ch-mqtt-2"]
    assert page.total == 3
    second = await channels.list(limit=1, offset=1)
    assert [c.id for c in second.items] == ["ch-hook-1"]
    assert second.total == 3
    with pytest.raises(NotFoundError):
        await channels.get("nope")


async def test_channel_ids_and_names_are_unique(store: Store) -> None:
    channels = store.db.notify.channels
    await channels.add(_email(0))
    with pytest.raises(ConflictError):
        await channels.add(_email(0, name="Another"))
    with pytest.raises(ConflictError):
        await channels.add(_email(1, name="Mail 0"))
    await channels.add(_email(1))
    with pytest.raises(ConflictError):
        await channels.update(replace(_email(1), name="Mail 0", version=2))
    assert (await channels.get("ch-mail-1")).name == "Mail 1"


async def test_channel_updates_are_optimistic(store: Store) -> None:
    channels = store.db.notify.channels
    await channels.add(_email(0))
    changed = _email(0).with_secrets({"password": None})
    changed = replace(changed, name="Renamed", enabled=False, version=2)
    await channels.update(changed)
    assert await channels.get("ch-mail-0") == changed
    with pytest.raises(ConflictError, match="version 2"):
        await channels.update(replace(changed, name="Stale", version=2))
    with pytest.raises(NotFoundError):
        await channels.update(replace(_email(9), version=2))
    await channels.delete("ch-mail-0")
    with pytest.raises(NotFoundError):
        await channels.delete("ch-mail-0")
    assert (await channels.list()).total == 0


async def test_channel_secrets_are_never_stored_in_plaintext(store: Store) -> None:
    db = store.sql
    await db.notify.channels.add(_email(0))
    await db.notify.channels.add(_webhook(0))
    async with db.engine.connect() as connection:
        rows = (await connection.execute(sa.text("SELECT * FROM notify_channels"))).all()
    for row in rows:
        flat = repr(tuple(row)).encode()
        assert SMTP_PASSWORD.encode() not in flat
        assert HOOK_SECRET.encode() not in flat
        assert row.secrets is not None
    assert (await db.notify.channels.get("ch-hook-0")).settings == _webhook(0).settings
    other = await store.reopen(secret=b"a-different-secret-key-entirely!")
    try:
        with pytest.raises(StorageError, match="not decrypt"):
            await other.notify.channels.get("ch-mail-0")
    finally:
        await other.close()
    if store.path is not None:  # the SQLite file and its write-ahead log, byte by byte
        await db.close()
        for path in store.path.parent.glob(f"{store.path.name}*"):
            data = path.read_bytes()
            assert SMTP_PASSWORD.encode() not in data, path.name
            assert HOOK_SECRET.encode() not in data, path.name


# --- routes -----------------------------------------------------------------------------------


async def test_routes_round_trip_and_update_optimistically(store: Store) -> None:
    routes: RouteRepository = store.db.notify.routes
    assert isinstance(routes, RouteRepository)
    await routes.add(_route(1))
    await routes.add(_route(0, schedule=None, quiet_hours=None, timezone=None))
    with pytest.raises(ConflictError):
        await routes.add(_route(1))
    assert await routes.get("rt-1") == _route(1)
    assert [r.id for r in (await routes.list()).items] == ["rt-0", "rt-1"]
    changed = replace(_route(1), targets=(Target("ch-x", 2),), version=2)
    await routes.update(changed)
    assert await routes.get("rt-1") == changed
    with pytest.raises(ConflictError):
        await routes.update(changed)
    await routes.delete("rt-1")
    with pytest.raises(NotFoundError):
        await routes.get("rt-1")


# --- the outbox -------------------------------------------------------------------------------


async def test_enqueue_is_idempotent_on_the_dedupe_key(store: Store) -> None:
    outbox: NotificationOutbox = store.db.notify.outbox
    assert isinstance(outbox, NotificationOutbox)
    first, second = _item(0), _item(1)
    again = replace(_item(0), id=new_event_id(T0 + timedelta(minutes=5)))
    assert await outbox.enqueue([first, second, again]) == 2
    assert await outbox.enqueue([first, again]) == 0
    assert await outbox.enqueue([]) == 0
    assert await outbox.get(first.id) == first
    assert await outbox.counts() == {"pending": 2, "delivered": 0, "dead": 0}
    with pytest.raises(NotFoundError):
        await outbox.get(again.id)


async def test_claims_lease_due_items_oldest_first(store: Store) -> None:
    outbox = store.db.notify.outbox
    late = _item(0, due=T0 + timedelta(seconds=30))
    early = _item(1, due=T0 - timedelta(seconds=10))
    hook = _item(2, channel="ch-hook-0", due=T0 - timedelta(seconds=5))
    future = _item(3, due=T0 + timedelta(hours=1))
    await outbox.enqueue([late, early, hook, future])
    now = T0 + timedelta(seconds=30)
    claimed = await outbox.claim_due(now, owner="a", lease_s=60, limit=10)
    assert [i.id for i in claimed] == [early.id, hook.id, late.id]
    assert {(i.lease_owner, i.leased_until) for i in claimed} == {
        ("a", now + timedelta(seconds=60))
    }
    assert await outbox.claim_due(now, owner="b", lease_s=60, limit=10) == []
    expired = now + timedelta(seconds=61)
    retaken = await outbox.claim_due(expired, owner="b", lease_s=5, limit=2)
    assert [i.id for i in retaken] == [early.id, hook.id]
    assert all(i.lease_owner == "b" for i in retaken)
    later = expired + timedelta(seconds=6)
    only_mail = await outbox.claim_due(
        later, owner="c", lease_s=5, limit=10, exclude_channels={"ch-hook-0"}
    )
    assert [i.id for i in only_mail] == [early.id, late.id]
    with pytest.raises(ValidationError):
        await outbox.claim_due(later, owner="c", lease_s=0, limit=10)
    with pytest.raises(ValidationError):
        await outbox.claim_due(later.replace(tzinfo=None), owner="c", lease_s=5, limit=10)


async def test_concurrent_claims_never_share_an_item(store: Store) -> None:
    items = [_item(n, alert=f"alert-{n}") for n in range(40)]
    await store.db.notify.outbox.enqueue(items)
    second = await store.reopen() if store.kind != "memory" else None
    outboxes = [store.db.notify.outbox, (second or store.db).notify.outbox]
    try:
        batches = await asyncio.gather(
            *(
                outboxes[n % 2].claim_due(
                    T0 + timedelta(minutes=1), owner=f"d{n}", lease_s=60, limit=7
                )
                for n in range(8)
            )
        )
    finally:
        if second is not None:
            await second.close()
    claimed = [item.id for batch in batches for item in batch]
    assert len(claimed) == len(set(claimed)) == 40


async def test_record_moves_an_item_on_and_keeps_every_attempt(store: Store) -> None:
    outbox = store.db.notify.outbox
    item = _item(0)
    await outbox.enqueue([item])
    (claimed,) = await outbox.claim_due(T0, owner="a", lease_s=30, limit=5)
    failed = _attempt(item, 1, T0 + timedelta(seconds=1), ok=False)
    retry_at = T0 + timedelta(seconds=4)
    after = await outbox.record(failed, state="pending", next_attempt_at=retry_at, error="refused")
    assert (after.state, after.attempts, after.next_attempt_at) == ("pending", 1, retry_at)
    assert (after.last_error, after.leased_until, after.lease_owner) == ("refused", None, None)
    assert await outbox.get(item.id) == after
    with pytest.raises(ConflictError):
        await outbox.record(failed, state="pending", next_attempt_at=None, error="again")
    assert await outbox.claim_due(T0 + timedelta(seconds=3), owner="a", lease_s=5, limit=5) == []
    await outbox.claim_due(retry_at, owner="a", lease_s=5, limit=5)
    ok = _attempt(item, 2, T0 + timedelta(seconds=5), ok=True)
    done = await outbox.record(ok, state="delivered", next_attempt_at=None, error=None)
    assert (done.state, done.attempts, done.delivered_at, done.last_error) == (
        "delivered",
        2,
        ok.at,
        None,
    )
    assert done.next_attempt_at == retry_at
    assert await outbox.claim_due(T0 + timedelta(hours=1), owner="a", lease_s=5, limit=5) == []
    assert await outbox.deliveries("alert-1") == [(done, (failed, ok))]
    assert await outbox.deliveries("alert-unknown") == []
    with pytest.raises(NotFoundError):
        await outbox.record(
            replace(ok, notification_id="nope"), state="dead", next_attempt_at=None, error="x"
        )
    assert claimed.id == item.id


async def test_dead_items_can_be_retried_with_their_attempts_kept(store: Store) -> None:
    outbox = store.db.notify.outbox
    item = _item(0)
    await outbox.enqueue([item])
    with pytest.raises(ConflictError, match="pending"):
        await outbox.retry(item.id, T0)
    dead = await outbox.record(
        _attempt(item, 1, T0, ok=False),
        state="dead",
        next_attempt_at=None,
        error="550 no such user",
    )
    assert dead.state == "dead"
    assert await outbox.counts() == {"pending": 0, "delivered": 0, "dead": 1}
    now = T0 + timedelta(hours=2)
    again = await outbox.retry(item.id, now)
    assert (again.state, again.attempts, again.next_attempt_at) == ("pending", 1, now)
    assert [i.id for i in await outbox.claim_due(now, owner="a", lease_s=5, limit=5)] == [item.id]
    with pytest.raises(NotFoundError):
        await outbox.retry("nope", now)


async def test_the_list_pages_newest_first_by_cursor(store: Store) -> None:
    outbox = store.db.notify.outbox
    items = [
        _item(n, channel="ch-hook-0" if n % 3 == 0 else "ch-mail-0", alert=f"a-{n}")
        for n in range(7)
    ]
    await outbox.enqueue(items)
    await outbox.record(
        _attempt(items[1], 1, T0, ok=True), state="delivered", next_attempt_at=None, error=None
    )
    seen: list[str] = []
    cursor: str | None = None
    while True:
        page = await outbox.list(limit=3, cursor=cursor)
        assert page.total == 7
        seen += [i.id for i in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == [i.id for i in reversed(items)]
    hooks = await outbox.list(channel_id="ch-hook-0")
    assert [i.id for i in hooks.items] == [items[6].id, items[3].id, items[0].id]
    assert (hooks.total, hooks.next_cursor) == (3, None)
    delivered = await outbox.list(state="delivered")
    assert [i.id for i in delivered.items] == [items[1].id]
    with pytest.raises(ValidationError):
        await outbox.list(cursor="not-a-cursor")
    with pytest.raises(ValidationError):
        await outbox.list(state="lost")  # type: ignore[arg-type]


async def test_prune_deletes_old_finished_items_with_their_attempts(store: Store) -> None:
    outbox = store.db.notify.outbox
    items = [_item(n, alert=f"a-{n}", created=T0 + timedelta(days=n)) for n in range(5)]
    await outbox.enqueue(items)
    finished: tuple[tuple[int, NotificationState], ...] = (
        (0, "delivered"),
        (1, "dead"),
        (2, "delivered"),
        (4, "delivered"),
    )
    for n, state in finished:
        attempt = _attempt(items[n], 1, T0, ok=state == "delivered")
        await outbox.record(attempt, state=state, next_attempt_at=None, error=None)
    cutoff = T0 + timedelta(days=3, hours=1)
    assert await outbox.prune_before(cutoff, limit=2) == 2
    assert await outbox.prune_before(cutoff, limit=2) == 1
    assert await outbox.prune_before(cutoff, limit=2) == 0
    left = await outbox.list()
    assert [i.id for i in left.items] == [items[4].id, items[3].id]
    assert await outbox.deliveries("a-0") == []
    assert await outbox.enqueue([replace(items[0], id=new_event_id(T0))]) == 1


async def test_the_outbox_survives_reopening_the_database(store: Store) -> None:
    db = store.sql
    item = _item(0)
    await db.notify.outbox.enqueue([item])
    await db.notify.outbox.claim_due(T0, owner="dead-process", lease_s=30, limit=5)
    reopened = await store.reopen()
    try:
        later = T0 + timedelta(seconds=31)
        claimed = await reopened.notify.outbox.claim_due(later, owner="new", lease_s=30, limit=5)
        assert [(i.id, i.lease_owner) for i in claimed] == [(item.id, "new")]
    finally:
        await reopened.close()


# --- units of work ----------------------------------------------------------------------------


async def test_units_of_work_commit_or_roll_back_notify_writes(store: Store) -> None:
    db = store.db
    async with db.unit_of_work() as unit:
        await unit.notify.channels.add(_email(0))
        await unit.notify.routes.add(_route(0))

    async def fail() -> None:
        async with db.unit_of_work() as unit:
            await unit.notify.channels.add(_webhook(1))
            await unit.notify.channels.delete("ch-mail-0")
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        await fail()
    assert [c.id for c in (await db.notify.channels.list()).items] == ["ch-mail-0"]
    assert (await db.notify.channels.get("ch-mail-0")).settings == _email(0).settings
    assert (await db.notify.routes.list()).total == 1

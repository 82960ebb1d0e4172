"""A storage outage loses no event and no alert (issue 15, finding 3).

The attack, as the chaos test ran it: the database stops taking writes while
the pipelines keep publishing events on the default in-process bus and rules
keep firing. Before the fix the event store's consumer gave its batch back to
the bus and the alerting consumer gave its event back; the rule engine had
already put the event's track in cooldown, so the redelivery raised nothing
and the alert was lost, and readiness stayed 200 throughout.

The outages are real, not mocks:

* SQLite: a second connection, as another process would hold it, takes the
  write lock with ``BEGIN EXCLUSIVE`` (the tests run as root, so a read-only
  file would not stop them). The app's connections wait 0.2 s for a lock
  instead of 10 s, only so that the test is quick; a write still fails with
  SQLite's own "database is locked".
* PostgreSQL: the owner revokes its own ``INSERT`` and ``UPDATE`` on the
  ``events`` and ``alerts`` tables, so every write fails with "permission
  denied" while reads go on.

During the outage events keep coming and readiness must answer 503 naming the
failing parts; afterwards it answers 200, and every event and every alert is
stored exactly once. Waits are explicit and bounded; nothing is timed.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from argus.adapters.bus.memory import MemoryEventBus
from argus.adapters.db.sql import SqlDatabase, async_url
from argus.adapters.pipelines_memory import MemoryPipelines
from argus.api.testing import running
from argus.bootstrap.adapters import Adapters
from argus.bootstrap.app import build_app
from argus.config import Settings
from argus.domain.actor import SYSTEM_ACTOR
from argus.domain.errors import StorageError
from argus.domain.events import Envelope, EventSource, LineCrossed
from argus.services.alert_rules import NewRule
from argus.services.alerting import AlertWorker
from argus.services.alerts import AlertService
from tests.auth_support import admin_token, bearer, settings_for
from tests.integration.ingest_support import register_cameras

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

POSTGRES_URL = os.environ.get(
    "ARGUS_TEST_POSTGRES_URL", "postgresql://argus:argus@127.0.0.1:5432/argus_test"
)
SECRET = b"outage-test-secret-0123456789abc"
WAIT = 120.0
"""Seconds a test waits for a state; generous, since retries back off up to a few seconds."""
RULE: dict[str, Any] = {
    "name": "Anyone at the door",
    "event_types": ["line.crossed"],
    "line": "door",
    # Each event fires once per track; a redelivered event is inside its own cooldown.
    "cooldown_seconds": 600,
    "cooldown_scope": "track",
}


class Outage(Protocol):
    """Makes the real database refuse writes, and lets it take them again."""

    async def begin(self) -> None:
        """Start refusing writes."""
        ...

    async def end(self) -> None:
        """Take writes again."""
        ...


class SqliteWriteLock:
    """Another connection holding SQLite's write lock (``BEGIN EXCLUSIVE``)."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._holder: sqlite3.Connection | None = None

    async def begin(self) -> None:
        def take() -> sqlite3.Connection:
            holder = sqlite3.connect(
                self._path, timeout=60, isolation_level=None, check_same_thread=False
            )
            holder.execute("BEGIN EXCLUSIVE")
            return holder

        self._holder = await asyncio.to_thread(take)

    async def end(self) -> None:
        holder, self._holder = self._holder, None
        if holder is not None:

            def release() -> None:
                holder.execute("COMMIT")
                holder.close()

            await asyncio.to_thread(release)


class PostgresRevoke:
    """The tables' owner revoking its own write privileges (on ``events`` and ``alerts``)."""

    def __init__(
        self,
        schema: str,
        *,
        privileges: str = "INSERT, UPDATE",
        tables: tuple[str, ...] = ("events", "alerts"),
    ) -> None:
        self.schema = schema
        self._privileges = privileges
        self._tables = ", ".join(f'"{schema}".{table}' for table in tables)

    async def _run(self, statement: str) -> None:
        engine = create_async_engine(async_url(POSTGRES_URL))
        try:
            async with engine.begin() as connection:
                await connection.execute(sa.text(statement))
        finally:
            await engine.dispose()

    async def begin(self) -> None:
        await self._run(f"REVOKE {self._privileges} ON {self._tables} FROM CURRENT_USER")

    async def end(self) -> None:
        await self._run(f"GRANT {self._privileges} ON {self._tables} TO CURRENT_USER")


def _lock_wait_short(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA busy_timeout = 200")
    cursor.close()


@dataclass
class Running:
    client: httpx.AsyncClient
    bus: MemoryEventBus
    subject: str
    database: SqlDatabase
    outage: Outage


@asynccontextmanager
async def _store(kind: str, directory: Path) -> AsyncIterator[tuple[SqlDatabase, Outage]]:
    if kind == "sqlite":
        path = directory / "argus.db"
        database = await SqlDatabase.open(f"sqlite:///{path}", secret_key=SECRET)
        sa.event.listen(database.engine.sync_engine, "connect", _lock_wait_short)
        await database.engine.dispose()  # reconnect with the short lock wait
        try:
            yield database, SqliteWriteLock(path)
        finally:
            await database.close()
        return
    schema = f"t_{uuid.uuid4().hex[:12]}"
    try:
        database = await SqlDatabase.open(POSTGRES_URL, secret_key=SECRET, schema=schema)
    except StorageError as exc:
        pytest.fail(f"PostgreSQL is not reachable ({exc}); run scripts/services.sh")
    outage = PostgresRevoke(schema)
    try:
        yield database, outage
    finally:
        await outage.end()
        await database.close()
        engine = create_async_engine(async_url(POSTGRES_URL))
        try:
            async with engine.begin() as connection:
                await connection.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        finally:
            await engine.dispose()


@asynccontextmanager
async def _serving(
    database: SqlDatabase, outage: Outage, directory: Path, *, journal: Path | None = None
) -> AsyncIterator[Running]:
    """The app over ``database`` and an in-process bus (journaled at ``journal`` if given)."""
    plane = Adapters(
        database=database,
        bus=MemoryEventBus(ack_wait=0.5, journal=journal),
        pipelines=MemoryPipelines(),
    )

    async def opener(_: Settings) -> Adapters:
        return plane

    asgi_app = build_app(settings_for(directory), open_adapters=opener)
    async with (
        running(asgi_app) as asgi,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=asgi, raise_app_exceptions=False),
            base_url="http://argus",
        ) as client,
    ):
        client.headers.update(bearer(await admin_token(client)))
        assert isinstance(plane.bus, MemoryEventBus)
        yield Running(client, plane.bus, plane.events_subject, database, outage)


@pytest.fixture(params=["sqlite", "postgresql"])
async def app(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Running]:
    async with (
        _store(request.param, tmp_path) as (database, outage),
        _serving(database, outage, tmp_path) as running_app,
    ):
        yield running_app


def _crossing(track_id: int) -> Envelope:
    event = LineCrossed(
        line="door",
        track_id=track_id,
        class_id=0,
        class_name="person",
        direction="in",
        timestamp=float(track_id),
        confidence=0.9,
    )
    # Recent (not a fixed date): the server's retention sweep keeps events of the past 90 days.
    moment = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=track_id % 60)
    return Envelope.wrap(event, EventSource("edge-1", "cam-a"), moment)


async def _until(check: Callable[[], Awaitable[bool]], what: str) -> None:
    """Poll ``check`` until it holds, for at most ``WAIT`` seconds (never a fixed sleep)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT
    while not await check():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


class Producer:
    """Publishes crossings of new tracks and remembers their ids."""

    def __init__(self, app: Running) -> None:
        self._app = app
        self.ids: list[str] = []

    async def publish(self, count: int) -> None:
        for _ in range(count):
            envelope = _crossing(len(self.ids) + 1)
            await self._app.bus.publish(self._app.subject, envelope)
            self.ids.append(envelope.event_id)


async def _stored_event_ids(app: Running) -> list[str]:
    page = await app.database.events.query(limit=1000)
    return [e.event_id for e in page.items]


async def _alerts(app: Running) -> list[dict[str, Any]]:
    answer = await app.client.get("/api/v1/alerts", params={"limit": 1000})
    assert answer.status_code == 200, answer.text
    items: list[dict[str, Any]] = answer.json()["items"]
    return items


async def _readiness(app: Running) -> tuple[int, dict[str, Any]]:
    answer = await app.client.get("/health/ready")
    checks: dict[str, Any] = answer.json()["checks"]
    return answer.status_code, checks


async def _all_stored(app: Running, ids: list[str]) -> None:
    async def events_stored() -> bool:
        return len(await _stored_event_ids(app)) >= len(ids)

    async def alerts_stored() -> bool:
        return len(await _alerts(app)) >= len(ids)

    await _until(events_stored, f"{len(ids)} stored events")
    await _until(alerts_stored, f"{len(ids)} stored alerts")


async def test_an_outage_loses_no_event_and_no_alert(app: Running) -> None:
    made = await app.client.post("/api/v1/rules", json=RULE)
    assert made.status_code == 201, made.text
    producer = Producer(app)
    await producer.publish(3)
    await _all_stored(app, producer.ids)

    await app.outage.begin()
    try:
        await producer.publish(5)

        async def outage_reported() -> bool:
            status, checks = await _readiness(app)
            return (
                status == 503
                and checks["event_store"]["ok"] is False
                and checks["alerting"]["ok"] is False
            )

        await _until(outage_reported, "readiness to report the outage")
        # Events keep coming while the store is down; none of them may be lost.
        await producer.publish(5)
        status, checks = await _readiness(app)
        assert status == 503, checks
    finally:
        await app.outage.end()

    async def recovered() -> bool:
        status, _ = await _readiness(app)
        return status == 200

    await producer.publish(3)
    await _all_stored(app, producer.ids)
    await _until(recovered, "readiness to recover")

    stored = await _stored_event_ids(app)
    assert sorted(stored) == sorted(producer.ids)  # every event, once
    alerts = await _alerts(app)
    assert sorted(a["event_id"] for a in alerts) == sorted(producer.ids)  # one alert each
    assert {a["state"] for a in alerts} == {"notified"}
    status, checks = await _readiness(app)
    assert status == 200, checks
    assert checks["event_store"]["ok"] is True
    assert checks["alerting"]["ok"] is True


async def test_ingest_over_http_answers_503_with_retry_after_while_the_store_is_down(
    app: Running,
) -> None:
    envelopes = [_crossing(n) for n in range(1, 4)]
    batch = {"events": [e.to_dict() for e in envelopes]}
    await register_cameras(app.database, "cam-a")  # ingest takes registered cameras only
    await app.outage.begin()
    try:
        refused = await app.client.post("/api/v1/events", json=batch)
    finally:
        await app.outage.end()
    assert refused.status_code == 503, refused.text
    assert int(refused.headers["Retry-After"]) >= 1
    assert await _stored_event_ids(app) == []
    # The edge node kept its batch and sends it again once the store is back.
    accepted = await app.client.post("/api/v1/events", json=batch)
    assert accepted.status_code == 200, accepted.text
    assert sorted(accepted.json()["inserted"]) == sorted(e.event_id for e in envelopes)


@pytest.mark.parametrize("app", ["postgresql"], indirect=True)
async def test_an_alert_stored_but_not_notified_is_finished_not_raised_again(
    app: Running,
) -> None:
    """The alert's insert commits, the update to ``notified`` is refused: the retry finishes it."""
    assert isinstance(app.outage, PostgresRevoke)
    made = await app.client.post("/api/v1/rules", json=RULE)
    assert made.status_code == 201, made.text
    updates_refused = PostgresRevoke(app.outage.schema, privileges="UPDATE", tables=("alerts",))
    await updates_refused.begin()
    try:
        producer = Producer(app)
        await producer.publish(1)

        async def stuck_new() -> bool:
            alerts = await _alerts(app)
            status, checks = await _readiness(app)
            return (
                [a["state"] for a in alerts] == ["new"]
                and status == 503
                and checks["alerting"]["ok"] is False
            )

        await _until(stuck_new, "an alert stored as new while its update is refused")
    finally:
        await updates_refused.end()

    async def notified() -> bool:
        return [a["state"] for a in await _alerts(app)] == ["notified"]

    await _until(notified, "the stored alert to be notified")
    [alert] = await _alerts(app)
    assert alert["event_id"] == producer.ids[0]


async def test_an_event_given_back_to_the_bus_raises_its_alerts_once(tmp_path: Path) -> None:
    """Out of tries, an event goes back unacknowledged; its redelivery raises the same alerts.

    Each try is its only one here (``retry_attempts=1``), so a refused event
    is delivered again while its track's cooldown is on: the remembered
    matches, not a new evaluation, decide what is raised.
    """
    async with _store("sqlite", tmp_path) as (database, outage):
        bus = MemoryEventBus(ack_wait=0.2)

        async def publish(subject: str, envelope: Envelope) -> None:
            await bus.publish(subject, envelope)

        service = AlertService(database, publish)
        worker = AlertWorker(service, bus, "events", retry_attempts=1, retry_max_delay=0.2)
        rule = {**RULE, "event_types": tuple(RULE["event_types"])}
        await service.rules.create(SYSTEM_ACTOR, NewRule(**rule))
        worker.start()
        ids: list[str] = []
        try:
            await outage.begin()
            try:
                for track in range(1, 6):
                    envelope = _crossing(track)
                    await bus.publish("events", envelope)
                    ids.append(envelope.event_id)

                async def given_back() -> bool:
                    # The consumer failed (the delivery went back) and the matches wait.
                    return service.unfinished >= 1 and worker.state.last_error is not None

                await _until(given_back, "a refused event to go back to the bus")
            finally:
                await outage.end()

            async def all_raised() -> bool:
                page = await database.alerts.list(limit=100)
                return page.total >= len(ids) and worker.check()[0]

            await _until(all_raised, "an alert per event after the outage")
            page = await database.alerts.list(limit=100)
            assert sorted(a.event_id for a in page.items) == sorted(ids)
            assert {a.state for a in page.items} == {"notified"}
            assert service.unfinished == 0
        finally:
            await worker.stop()
            await bus.close()


async def test_events_held_in_an_outage_survive_a_restart(tmp_path: Path) -> None:
    """The server stops while the store is down; the next one stores and alerts on everything.

    The in-process bus keeps its journal in a file (as ``argus serve`` does in
    its data directory): what the consumers had not stored when the first
    server stopped is delivered to the second.
    """
    journal = tmp_path / "bus.db"
    producer: Producer
    async with _store("sqlite", tmp_path) as (database, outage):
        async with _serving(database, outage, tmp_path, journal=journal) as first:
            made = await first.client.post("/api/v1/rules", json=RULE)
            assert made.status_code == 201, made.text
            producer = Producer(first)
            await producer.publish(2)
            await _all_stored(first, producer.ids)
            await outage.begin()
            await producer.publish(5)

            async def outage_reported() -> bool:
                status, checks = await _readiness(first)
                return status == 503 and checks["event_store"]["ok"] is False

            await _until(outage_reported, "readiness to report the outage")
        await outage.end()  # the first server is gone; the database is writable again

    reopened = await SqlDatabase.open(f"sqlite:///{tmp_path / 'argus.db'}", secret_key=SECRET)
    try:
        async with _serving(reopened, outage, tmp_path, journal=journal) as second:
            await _all_stored(second, producer.ids)
            assert sorted(await _stored_event_ids(second)) == sorted(producer.ids)
            alerts = await _alerts(second)
            assert sorted(a["event_id"] for a in alerts) == sorted(producer.ids)
    finally:
        await reopened.close()

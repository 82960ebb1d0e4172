"""Count rollups on SQLite and PostgreSQL: the same answers as a scan of every event, for less.

* Randomised events (malformed payloads, other types, replays, DST changes)
  and randomised queries (intervals, time zones with whole-, half- and
  quarter-hour offsets, filters, periods with microseconds): the rollup answer
  equals a scan of the SQL store's events and the in-memory store's tally.
* The attack of issue 15 (finding 9): a year-long count query. The rows the
  database returns for it are counted (every SELECT it sent is run again and
  its rows counted), and stay bounded by the buckets, not by the events.
* Replays count once; a batch that fails leaves no count; the migration
  backfills the rollups of events stored before it.
"""

from __future__ import annotations

import os
import random
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from argus.adapters.db import migrate
from argus.adapters.db.memory import MemoryDatabase
from argus.adapters.db.sql import SqlDatabase, async_url
from argus.adapters.db.tables import event_rollups, events
from argus.domain.errors import ValidationError
from argus.domain.event_stats import CountBucket, Interval
from argus.domain.events import Envelope, EventSource, new_event_id
from argus.domain.rollups import plan_counts
from argus.ports.repositories import EventFilter
from argus.services.analytics import MAX_SPAN

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

POSTGRES_URL = os.environ.get(
    "ARGUS_TEST_POSTGRES_URL", "postgresql://argus:argus@127.0.0.1:5432/argus_test"
)
SECRET = b"rollup-test-secret-0123456789abc"
START = datetime(2025, 1, 1, tzinfo=UTC)
ZONES = (
    "UTC",
    "Europe/Berlin",
    "America/New_York",
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "America/St_Johns",
    "Australia/Lord_Howe",
    "Pacific/Chatham",
)
"""Whole-hour offsets with DST, +05:30, +05:45, -03:30 with DST, a 30-minute DST shift, +12:45."""
DST_CHANGES = (
    datetime(2025, 3, 30, 1, 0, tzinfo=UTC),  # Europe: 02:00 -> 03:00
    datetime(2025, 11, 2, 6, 0, tzinfo=UTC),  # New York: 02:00 -> 01:00
    datetime(2025, 4, 5, 15, 0, tzinfo=UTC),  # Lord Howe: 02:00 -> 01:30
)


@dataclass
class Sql:
    """A migrated SQL store and how to reach it again."""

    kind: str
    db: SqlDatabase
    url: str
    schema: str | None


async def _drop_schema(schema: str) -> None:
    engine = create_async_engine(async_url(POSTGRES_URL))
    try:
        async with engine.begin() as connection:
            await connection.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    finally:
        await engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
async def sql(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Sql]:
    """A fresh SQLite file or PostgreSQL schema, migrated; dropped afterwards."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'argus.db'}"
        made = Sql("sqlite", await SqlDatabase.open(url, secret_key=SECRET), url, None)
    else:
        schema = f"t_{uuid.uuid4().hex[:12]}"
        db = await SqlDatabase.open(POSTGRES_URL, secret_key=SECRET, schema=schema)
        made = Sql("postgresql", db, POSTGRES_URL, schema)
    try:
        yield made
    finally:
        await made.db.close()
        if made.schema is not None:
            await _drop_schema(made.schema)


# --- randomised data -------------------------------------------------------------------------


def _payload(rng: random.Random, type_: str) -> dict[str, object]:
    payload: dict[str, object] = {"track_id": rng.randrange(100)}
    classes: list[object] = ["person", "person", "car", "", 7, None]
    if (name := rng.choice(classes)) is not None:
        payload["class_name"] = name
    if type_ == "line.crossed":
        payload["line"] = rng.choice(["door", "door", "gate", "x" * 300, 3])
        direction = rng.choice(["in", "out", "in", "sideways", None])
        if direction is not None:
            payload["direction"] = direction
    else:
        payload["zone"] = rng.choice(["till", "queue", ""])
    if rng.random() < 0.02:
        payload["class_name"] = "c" * 250  # longer than events.class_name (stored as NULL)
    return payload


def _moment(rng: random.Random) -> datetime:
    if rng.random() < 0.4:
        around = rng.choice(DST_CHANGES)
        return around + timedelta(seconds=rng.uniform(-2 * 86400, 2 * 86400))
    return START + timedelta(seconds=rng.uniform(0, 400 * 86400))


def _events(rng: random.Random, count: int) -> list[Envelope]:
    made = []
    for _ in range(count):
        when = _moment(rng).replace(microsecond=rng.randrange(1_000_000))
        type_ = rng.choices(
            ["line.crossed", "zone.entered", "zone.exited", "crowding"], [6, 3, 1, 1]
        )[0]
        made.append(
            Envelope(
                event_id=new_event_id(when),
                type=type_,
                timestamp=when,
                source=EventSource("edge-1", rng.choice(["cam-1", "cam-2"])),
                payload=_payload(rng, type_),
            )
        )
    return made


def _query(rng: random.Random) -> tuple[EventFilter, Interval, tzinfo]:
    interval: Interval = rng.choice(["minute", "hour", "day"])
    tz = ZoneInfo(rng.choice(ZONES))
    longest = MAX_SPAN[interval]
    length = timedelta(seconds=rng.uniform(1, longest.total_seconds()))
    if interval == "minute" or rng.random() < 0.3:
        since = rng.choice(DST_CHANGES) - length / 2
    else:
        since = START + timedelta(seconds=rng.uniform(-86400, 400 * 86400))
    since = since.replace(microsecond=rng.choice([0, rng.randrange(1_000_000)]))
    if rng.random() < 0.3:  # whole minutes, hours or days, as a dashboard asks
        since = since.replace(second=0, microsecond=0, minute=rng.choice([0, since.minute]))
    where = EventFilter(
        camera_id=rng.choice([None, None, "cam-1"]),
        camera_ids=rng.choice([None, None, ("cam-2",), ("cam-1", "cam-2")]),
        class_name=rng.choice([None, None, "car", "person"]),
        types=rng.choice([None, ("line.crossed", "zone.entered"), ("zone.entered",)]),
        since=since,
        until=since + length,
    )
    return where, interval, tz


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_rollup_counts_equal_a_scan_of_every_event(sql: Sql, seed: int) -> None:
    rng = random.Random(seed)
    reference = MemoryDatabase()
    stored = _events(rng, 2500)
    for start in range(0, len(stored), 700):
        batch = stored[start : start + 700]
        # Replays: ids of this and earlier batches again, within and across batches.
        batch += rng.sample(stored[: start + len(batch)], 40)
        assert await sql.db.events.add_many(batch) == await reference.events.add_many(batch)
    for number in range(30):
        where, interval, tz = _query(rng)
        expected = await reference.events.counts(where, interval=interval, tz=tz)
        scanned = await sql.db.events.rollups.counts_from_events(where, interval=interval, tz=tz)
        rolled = await sql.db.events.counts(where, interval=interval, tz=tz)
        what = f"query {number}: {where} per {interval} in {tz}"
        assert scanned == expected, what
        assert rolled == expected, what


async def test_every_interval_and_zone_over_the_whole_data(sql: Sql) -> None:
    """Each interval in each zone over its longest period, ending in the busiest DST change."""
    rng = random.Random(7)
    reference = MemoryDatabase()
    batch = _events(rng, 3000)
    await sql.db.events.add_many(batch)
    await reference.events.add_many(batch)
    for interval in ("minute", "hour", "day"):
        for name in ZONES:
            until = DST_CHANGES[0] + timedelta(days=1, seconds=17, microseconds=5)
            where = EventFilter(since=until - MAX_SPAN[interval], until=until)
            tz = ZoneInfo(name)
            expected = await reference.events.counts(where, interval=interval, tz=tz)
            assert await sql.db.events.counts(where, interval=interval, tz=tz) == expected, (
                interval,
                name,
            )


# --- the attack: a year-long query -----------------------------------------------------------


async def _rows_read(db: SqlDatabase, run: Callable[[], Awaitable[object]]) -> int:
    """Rows the database returned to ``run``: each SELECT it sent, run again and counted."""
    sent: list[tuple[str, Any]] = []

    def log(*args: Any) -> None:
        statement, parameters = args[2], args[3]
        if statement.lstrip().upper().startswith("SELECT"):
            sent.append((statement, parameters))

    sa.event.listen(db.engine.sync_engine, "before_cursor_execute", log)
    try:
        await run()
    finally:
        sa.event.remove(db.engine.sync_engine, "before_cursor_execute", log)
    rows = 0
    async with db.engine.connect() as connection:
        for statement, parameters in sent:
            rows += len((await connection.exec_driver_sql(statement, parameters)).all())
    return rows


def _year_of_crossings(count: int) -> list[Envelope]:
    rng = random.Random(count)
    made = []
    for _ in range(count):
        when = START + timedelta(seconds=rng.uniform(0, 365 * 86400))
        made.append(
            Envelope(
                event_id=new_event_id(when),
                type="line.crossed",
                timestamp=when,
                source=EventSource("edge-1", "cam-1"),
                payload={"line": "door", "direction": rng.choice(["in", "out"]), "class_name": "p"},
            )
        )
    return made


YEAR_ROWS = {
    # 364 whole UTC days, then one run of hours, quarters and minutes at each end.
    "UTC": 364 + 2 * 3,
    # Berlin days summed from UTC hours by the database (DST days of 23 or 25 hours too):
    # one row per local day, and quarters and minutes at each end.
    "Europe/Berlin": 366 + 2 * 2,
}
"""Most rows one group may return for a year-long query per day, by time zone."""


async def test_a_year_query_reads_rows_per_bucket_not_per_event(sql: Sql) -> None:
    """Rows returned: one per group and local day (plus edges), whatever the number of events.

    The database itself reads one index entry per group and rollup unit (a
    Berlin year: 24 hours a day), also independent of the events.
    """
    stored = _year_of_crossings(30_000)
    for start in range(0, len(stored), 5000):
        await sql.db.events.add_many(stored[start : start + 5000])
    groups = 2  # door in, door out
    since = START + timedelta(hours=10, minutes=17, seconds=3)
    until = since + timedelta(days=365)
    where = EventFilter(since=since, until=until)
    in_year = sum(1 for e in stored if since <= e.timestamp < until)
    scanned = await _rows_read(
        sql.db, lambda: sql.db.events.rollups.counts_from_events(where, interval="day")
    )
    assert scanned >= in_year  # the scan rollups replace reads every event of the year
    read: dict[str, int] = {}
    for zone, per_group in YEAR_ROWS.items():
        tz = ZoneInfo(zone)
        plan = plan_counts(since, until, "day", tz)
        edge = sum(1 for e in stored for a, b in plan.raw if a <= e.timestamp < b)
        answer: list[tuple[CountBucket, ...]] = []

        async def year(tz: tzinfo = tz, answer: list[tuple[CountBucket, ...]] = answer) -> None:
            answer.append(await sql.db.events.counts(where, interval="day", tz=tz))

        read[zone] = await _rows_read(sql.db, year)
        assert sum(b.count for b in answer[0]) == in_year
        assert read[zone] <= groups * per_group + edge + 1, zone  # + the pool's ping
    assert max(read.values()) * 20 < in_year  # a few hundred rows per group, not 30 000 events


# --- idempotency, failure, backfill ----------------------------------------------------------


async def _rollup_totals(db: SqlDatabase) -> dict[str, int]:
    async with db.engine.connect() as connection:
        rows = await connection.execute(
            sa.select(event_rollups.c.grain, sa.func.sum(event_rollups.c.total)).group_by(
                event_rollups.c.grain
            )
        )
        return {grain: int(total) for grain, total in rows}


async def test_a_replayed_event_is_counted_once(sql: Sql) -> None:
    batch = _year_of_crossings(50)
    await sql.db.events.add_many(batch)
    await sql.db.events.add_many(batch)  # the edge node retries the whole batch
    await sql.db.events.add(batch[0])
    await sql.db.events.add_many([batch[1], batch[1]])
    assert await _rollup_totals(sql.db) == {"day": 50, "hour": 50, "quarter": 50, "minute": 50}


async def test_a_failed_batch_leaves_no_count(sql: Sql) -> None:
    good = _year_of_crossings(10)
    bad = Envelope(
        event_id=new_event_id(START),
        type="line.crossed",
        timestamp=START,
        source=EventSource("e" * 300, "cam-1"),  # over the column's limit: the batch fails
        payload={"line": "door", "direction": "in", "class_name": "p"},
    )
    with pytest.raises(ValidationError):
        await sql.db.events.add_many([*good, bad])
    assert await _rollup_totals(sql.db) == {}
    await sql.db.events.add_many(good)
    assert await _rollup_totals(sql.db) == {"day": 10, "hour": 10, "quarter": 10, "minute": 10}


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
async def test_the_migration_counts_events_stored_before_it(tmp_path: Path, kind: str) -> None:
    schema = f"t_{uuid.uuid4().hex[:12]}" if kind == "postgresql" else None
    url = POSTGRES_URL if schema else f"sqlite:///{tmp_path / 'old.db'}"
    old = await SqlDatabase.open(url, secret_key=SECRET, schema=schema, run_migrations=False)
    rng = random.Random(11)
    stored = _events(rng, 1500)
    try:
        await migrate.upgrade(old.engine, "0006")
        async with old.engine.begin() as connection:
            await connection.execute(
                sa.insert(events),
                [
                    {
                        "event_id": e.event_id,
                        "type": e.type,
                        "timestamp": e.timestamp,
                        "camera_id": e.source.camera_id,
                        "edge_node_id": e.source.edge_node_id,
                        "class_name": None,
                        "track_id": None,
                        "payload": dict(e.payload),
                        "received_at": e.timestamp,
                    }
                    for e in stored
                ],
            )
        await old.migrate()
        reference = MemoryDatabase()
        await reference.events.add_many(stored)
        where = EventFilter(since=START, until=START + timedelta(days=366))
        for name in ("UTC", "Asia/Kathmandu"):
            tz = ZoneInfo(name)
            expected = await reference.events.counts(where, interval="day", tz=tz)
            assert await old.events.counts(where, interval="day", tz=tz) == expected
    finally:
        await old.close()
        if schema is not None:
            await _drop_schema(schema)

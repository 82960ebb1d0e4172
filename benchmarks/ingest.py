"""Event ingest: events/s into SQLite and PostgreSQL, one per transaction vs batched.

The real store (``SqlDatabase``, migrated by its own migrations) takes
line-crossing envelopes built as the pipelines build them
(``Envelope.wrap``) four ways, in the same run on the same database:

- ``events.add``, one event per transaction: the reference;
- ``events.add_many`` in batches of 100 and of 500 (one transaction each);
- the control plane's full path: ``MemoryEventBus.publish`` of every event,
  then the control plane's ``EventIngest`` consumer draining them into the store in its
  own batches (JSON codec, de-duplication and acknowledgement included). The
  time runs from the first publish to the last event stored.

Every measurement inserts fresh events (ids never repeat), the modes rotate
their order on every repetition, and the median events/s is reported. SQLite
is a temporary file with the store's own settings (WAL, ``synchronous =
NORMAL``). PostgreSQL is the local server (``ARGUS_BENCH_POSTGRES_URL``, else
``ARGUS_TEST_POSTGRES_URL``, else ``argus:argus@127.0.0.1/argus_test``) in a
throwaway schema that is dropped afterwards; when it cannot be reached the
section says why and measures SQLite only. The PostgreSQL server runs on the
same cores, so its CPU time is counted among "other processes"; the section
reports it separately.

    python -m benchmarks.ingest [--quick]
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from benchmarks._common import (
    Section,
    fmt_ratio,
    markdown_table,
    median,
    progress,
    ratio,
    run_main,
)

if TYPE_CHECKING:
    from argus.adapters.db.sql import SqlDatabase
    from argus.domain.events import Envelope

__all__ = [
    "MODES",
    "REFERENCE",
    "BackendResult",
    "IngestRun",
    "main",
    "postgres_url",
    "render",
    "run",
]

REFERENCE = "add, 1 event per transaction"
MODES = (REFERENCE, "add_many, batches of 100", "add_many, batches of 500", "bus + EventIngest")
"""Every way of storing events, the reference first."""

SECRET = b"benchmark-secret-0123456789abcdef"
SUBJECT = "argus.bench.events"
CAMERAS = ("cam-1", "cam-2", "cam-3")
T0 = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
DEFAULT_POSTGRES_URL = "postgresql://argus:argus@127.0.0.1:5432/argus_test"
CONNECT_TIMEOUT = 10.0

FULL = {"single": 2_000, "batched": 20_000, "repeats": 5}
QUICK = {"single": 200, "batched": 2_000, "repeats": 1}


@dataclass(frozen=True, slots=True)
class IngestRun:
    """One measurement: ``events`` stored in ``seconds`` over ``transactions`` commits.

    Attributes:
        mode: One of ``MODES``.
        events: Events stored (all new).
        seconds: Wall time from the first call to the last event committed.
        transactions: Commits it took (``EventIngest``'s batches for the bus path).
        publishing: Of ``seconds``, the time spent publishing (bus path only).
    """

    mode: str
    events: int
    seconds: float
    transactions: int
    publishing: float = 0.0

    @property
    def rate(self) -> float:
        """Events stored per second."""
        return self.events / self.seconds if self.seconds > 0 else 0.0


@dataclass(slots=True)
class BackendResult:
    """The runs on one database, or why it was skipped.

    Attributes:
        backend: ``SQLite`` or ``PostgreSQL``.
        setup: One line on the database's version and durability settings.
        runs: Every measurement, in the order taken.
        skipped: Why the backend was not measured (``None`` when it was).
        server_cpu: CPU seconds the database server's processes used meanwhile
            (PostgreSQL only; ``None`` when unknown).
        wall: Seconds the whole backend took.
    """

    backend: str
    setup: str = ""
    runs: list[IngestRun] = field(default_factory=list)
    skipped: str | None = None
    server_cpu: float | None = None
    wall: float = 0.0

    def rates(self, mode: str) -> list[float]:
        """Events/s of every run of ``mode``."""
        return [r.rate for r in self.runs if r.mode == mode]


def postgres_url() -> str:
    """The PostgreSQL server to measure (see the module docstring)."""
    return (
        os.environ.get("ARGUS_BENCH_POSTGRES_URL")
        or os.environ.get("ARGUS_TEST_POSTGRES_URL")
        or DEFAULT_POSTGRES_URL
    )


def _envelopes(count: int, start: int) -> list[Envelope]:
    """``count`` line crossings from three cameras, 0.1 s apart, numbered from ``start``."""
    from argus.domain.events import Envelope, EventSource, LineCrossed

    made = []
    for n in range(start, start + count):
        event = LineCrossed(
            line="gate",
            track_id=n % 97,
            class_id=0,
            class_name="person",
            direction="in" if n % 2 else "out",
            timestamp=n / 10,
            confidence=0.875,
        )
        source = EventSource("edge-1", CAMERAS[n % len(CAMERAS)])
        made.append(Envelope.wrap(event, source, T0 + timedelta(seconds=n / 10)))
    return made


async def _one_by_one(database: SqlDatabase, envelopes: Sequence[Envelope]) -> int:
    for envelope in envelopes:
        await database.events.add(envelope)
    return len(envelopes)


def _batches(size: int) -> Callable[[SqlDatabase, Sequence[Envelope]], Awaitable[int]]:
    async def store(database: SqlDatabase, envelopes: Sequence[Envelope]) -> int:
        for start in range(0, len(envelopes), size):
            await database.events.add_many(envelopes[start : start + size])
        return -(-len(envelopes) // size)

    return store


async def _through_bus(database: SqlDatabase, envelopes: Sequence[Envelope]) -> IngestRun:
    """Publish every envelope on an in-process bus and time ``EventIngest`` storing them."""
    from argus.adapters.bus.memory import MemoryEventBus
    from argus.services.ingest import EventIngest

    bus = MemoryEventBus(max_len=max(100_000, len(envelopes)))
    stored, batches, done = 0, 0, asyncio.Event()

    def on_stored(count: int) -> None:
        nonlocal stored, batches
        stored, batches = stored + count, batches + 1
        if stored >= len(envelopes):
            done.set()

    ingest = EventIngest(bus, database.events, SUBJECT, on_stored=on_stored)
    ingest.start()
    try:
        while not ingest.check()[0]:  # subscribed before the clock starts
            await asyncio.sleep(0.001)
        started = time.perf_counter()
        for envelope in envelopes:
            await bus.publish(SUBJECT, envelope)
        publishing = time.perf_counter() - started
        await asyncio.wait_for(done.wait(), timeout=600)
        seconds = time.perf_counter() - started
    finally:
        await ingest.stop()
        await bus.close()
    return IngestRun(MODES[3], stored, seconds, batches, publishing)


async def _measure(database: SqlDatabase, backend: str, quick: bool) -> list[IngestRun]:
    """Rotate the modes over the repetitions on one open store."""
    sizes = QUICK if quick else FULL
    direct = {
        MODES[0]: _one_by_one,
        MODES[1]: _batches(100),
        MODES[2]: _batches(500),
    }
    await _batches(100)(database, _envelopes(200, 0))  # warm-up: pool, statement cache
    next_n = 1_000_000
    runs: list[IngestRun] = []
    for repeat in range(sizes["repeats"]):
        order = MODES[repeat % len(MODES) :] + MODES[: repeat % len(MODES)]
        for mode in order:
            count = sizes["single"] if mode == REFERENCE else sizes["batched"]
            envelopes = _envelopes(count, next_n)
            next_n += count
            progress(f"ingest {backend}: {mode}, {count} events ({repeat + 1}/{sizes['repeats']})")
            if mode == MODES[3]:
                runs.append(await _through_bus(database, envelopes))
                continue
            started = time.perf_counter()
            transactions = await direct[mode](database, envelopes)
            runs.append(IngestRun(mode, count, time.perf_counter() - started, transactions))
    return runs


def _process_cpu_seconds(command: str) -> float | None:
    """CPU seconds used so far by every live process named ``command`` (``/proc``)."""
    proc = Path("/proc")
    if not proc.is_dir():
        return None
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for stat in proc.glob("[0-9]*/stat"):
        try:
            text = stat.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        name = text[text.find("(") + 1 : text.rfind(")")]
        if name == command:
            fields = text[text.rfind(")") + 2 :].split()
            total += (int(fields[11]) + int(fields[12])) / tick  # utime, stime
    return total


async def _sqlite(quick: bool) -> BackendResult:
    from argus.adapters.db.sql import SqlDatabase

    result = BackendResult(
        "SQLite",
        f"SQLite {sqlite3.sqlite_version}, temporary file, WAL, synchronous = NORMAL",
    )
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="argus-bench-ingest-") as tmp:
        database = await SqlDatabase.open(f"sqlite:///{Path(tmp) / 'argus.db'}", secret_key=SECRET)
        try:
            result.runs = await _measure(database, "SQLite", quick)
        finally:
            await database.close()
    result.wall = time.perf_counter() - started
    return result


async def _drop_schema(url: str, schema: str) -> None:
    import sqlalchemy as sa
    from sqlalchemy.ext.asyncio import create_async_engine

    from argus.adapters.db.sql import async_url

    engine = create_async_engine(async_url(url))
    try:
        async with engine.begin() as connection:
            await connection.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    finally:
        await engine.dispose()


async def _postgres_setup(database: SqlDatabase) -> str:
    import sqlalchemy as sa

    async with database.engine.connect() as connection:
        shown = {}
        for setting in ("server_version", "fsync", "synchronous_commit"):
            shown[setting] = await connection.scalar(sa.text(f"SHOW {setting}"))
    return (
        f"PostgreSQL {str(shown['server_version']).split()[0]} on this machine (asyncpg), "
        f"fsync = {shown['fsync']}, synchronous_commit = {shown['synchronous_commit']}"
    )


async def _postgres(quick: bool) -> BackendResult:
    from argus.adapters.db.sql import SqlDatabase
    from argus.domain.errors import ArgusError

    url = postgres_url()
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    result = BackendResult("PostgreSQL")
    try:
        database = await asyncio.wait_for(
            SqlDatabase.open(url, secret_key=SECRET, schema=schema), CONNECT_TIMEOUT
        )
    except (ArgusError, TimeoutError) as exc:
        where = url.rsplit("@", 1)[-1]
        result.skipped = f"PostgreSQL at {where} is not reachable ({exc or 'timed out'})"
        return result
    started = time.perf_counter()
    cpu_before = _process_cpu_seconds("postgres")
    try:
        result.setup = await _postgres_setup(database) + f", throwaway schema {schema}"
        result.runs = await _measure(database, "PostgreSQL", quick)
    finally:
        cpu_after = _process_cpu_seconds("postgres")
        await database.close()
        await _drop_schema(url, schema)
    if cpu_before is not None and cpu_after is not None:
        result.server_cpu = max(0.0, cpu_after - cpu_before)
    result.wall = time.perf_counter() - started
    return result


def _backend_table(result: BackendResult) -> str:
    reference = median(result.rates(REFERENCE))
    rows: list[list[object]] = []
    for mode in MODES:
        runs = [r for r in result.runs if r.mode == mode]
        rates = [r.rate for r in runs]
        rate = median(rates)
        events = sum(r.events for r in runs)
        transactions = sum(r.transactions for r in runs)
        rows.append(
            [
                mode + (" (reference)" if mode == REFERENCE else ""),
                f"{runs[0].events}" if runs else "-",
                f"{events / transactions:.0f}" if transactions else "-",
                f"{rate:.0f}",
                f"{min(rates):.0f}-{max(rates):.0f}" if rates else "-",
                f"{1e6 / rate:.0f}" if rate > 0 else "-",
                fmt_ratio(ratio(rate, reference)),
            ]
        )
    return markdown_table(
        [
            "mode",
            "events per run",
            "events per commit",
            "median events/s",
            "events/s min-max",
            "µs/event",
            "vs 1 per transaction",
        ],
        rows,
    )


def render(results: Sequence[BackendResult], repeats: int) -> Section:
    """Format the backends' runs as a markdown section with ratios to the reference."""
    parts = [
        "Line-crossing envelopes (`Envelope.wrap`, three cameras) into the migrated store; "
        f"median of {repeats} run(s) per mode, modes in rotating order. "
        "`bus + EventIngest` times `MemoryEventBus.publish` of every event plus the API's "
        "consumer storing them (its batches are at most 500).",
        "",
    ]
    headline: list[str] = []
    for result in results:
        parts += [f"#### {result.backend}", ""]
        if result.skipped is not None:
            progress(f"ingest: skipped {result.backend}: {result.skipped}")
            parts += [f"skipped: {result.skipped}.", ""]
            headline.append(f"ingest {result.backend}: skipped ({result.skipped})")
            continue
        parts += [result.setup + ".", "", _backend_table(result), ""]
        if result.server_cpu is not None:
            parts += [
                f"The PostgreSQL server's processes used {result.server_cpu:.1f} CPU-seconds "
                f"during these {result.wall:.0f} s (counted below among other processes).",
                "",
            ]
        reference = median(result.rates(REFERENCE))
        batched = median(result.rates(MODES[2]))
        bus = median(result.rates(MODES[3]))
        bus_runs = [r for r in result.runs if r.mode == MODES[3]]
        share = median([r.publishing / r.seconds for r in bus_runs if r.seconds > 0])
        parts += [
            f"On the bus path, publishing (JSON encoding into the in-process log) took "
            f"{share:.0%} of the time; the events were all queued before the consumer ran, "
            "so the events per commit above are the batches it made when it has a backlog.",
            "",
        ]
        headline.append(
            f"ingest {result.backend}: add_many(500) {batched:.0f} events/s = "
            f"{fmt_ratio(ratio(batched, reference))}, bus + EventIngest {bus:.0f} events/s = "
            f"{fmt_ratio(ratio(bus, reference))} of one event per transaction "
            f"({reference:.0f} events/s)"
        )
    return Section("Event ingest (SQLite, PostgreSQL)", "\n".join(parts), headline)


async def _run(quick: bool) -> list[BackendResult]:
    return [await _sqlite(quick), await _postgres(quick)]


def run(quick: bool) -> Section:
    """Run the ingest benchmark and return its section."""
    results = asyncio.run(_run(quick))
    return render(results, (QUICK if quick else FULL)["repeats"])


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m benchmarks.ingest``."""
    return run_main("Event ingest events/s into SQLite and PostgreSQL.", run, argv)


if __name__ == "__main__":
    raise SystemExit(main())

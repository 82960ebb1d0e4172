"""A retention sweep of millions of events, and what it costs the event ingest meanwhile.

One SQLite store (a temporary file) is seeded with ``--events`` events (10
million by default) older than every retention, written straight into the
``events`` table in large transactions (seeding is not what is measured).
Then, in the same run:

* **ingest alone**: fresh events stored through ``EventRepository.add_many``
  in batches of 100, as the event ingest stores them (rollups included), for
  a fixed number of events, once before and once after the sweep: the mean
  of both rates is the reference throughput (one short run is at the mercy of
  whatever else the machine does at that moment);
* **ingest during the sweep**: the same ingest loop while the production
  ``RetentionSweeper`` deletes every seeded event in batches of ``--batch``
  rows (one transaction each, yielding between two), on the same event loop
  and the same database file, as a control plane runs them.

Reported: the sweep's wall time and rows deleted per second, the ingest
throughput alone and during the sweep, and their ratio (1.00x: the sweep does
not slow the ingest at all). The store is checked afterwards: every seeded
event is gone and every ingested one is there.

    python -m benchmarks.retention [--quick] [--events N] [--batch N] [--pause S]
"""

from __future__ import annotations

import argparse
import asyncio
import math
import sqlite3
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks._common import (
    Section,
    fmt_ratio,
    machine_info,
    markdown_table,
    progress,
    ratio,
    render_report,
    run_section,
)

__all__ = ["main", "measure", "run", "summarise"]

FULL_EVENTS = 10_000_000
QUICK_EVENTS = 200_000
BATCH = 1000
PAUSE_S = 0.01
"""The pause between two delete batches of the production sweep (``bootstrap.retention``)."""
INGEST_BATCH = 100
INGEST_ALONE = 50_000
OLD = datetime(2020, 1, 1, tzinfo=UTC)
SECRET = b"benchmark-retention-secret-01234"
_PAYLOAD = '{"line":"door","direction":"in","class_name":"person","track_id":7}'


def _seed(path: Path, count: int) -> None:
    """Write ``count`` old ``line.crossed`` events straight into the table (no rollups).

    SQLite generates the rows itself (a recursive CTE), 50 events a second from
    2020-01-01, timestamps in the text form SQLAlchemy stores; a million a transaction.
    """
    statement = (
        "WITH RECURSIVE seq(n) AS (SELECT ? UNION ALL SELECT n + 1 FROM seq WHERE n + 1 < ?) "
        "INSERT INTO events (event_id, type, timestamp, camera_id, edge_node_id, class_name, "
        "track_id, payload, received_at) "
        "SELECT printf('0%025d', n), 'line.crossed', stamp, 'cam-' || (n % 8), 'edge-1', "
        "'person', 7, ?, stamp FROM (SELECT n, datetime('2020-01-01', '+' || (n / 50) || "
        "' seconds') || '.' || printf('%06d', (n % 50) * 20000) AS stamp FROM seq)"
    )
    connection = sqlite3.connect(path)
    try:
        chunk = 1_000_000
        for first in range(0, count, chunk):
            last = min(count, first + chunk)
            with connection:
                connection.execute(statement, (first, last, _PAYLOAD))
            progress(f"retention: seeded {last:,} of {count:,} events")
    finally:
        connection.close()


def _fresh(start: int, count: int) -> list[Any]:
    from argus.domain.events import Envelope, EventSource, new_event_id

    now = datetime.now(UTC)
    payload = {"line": "door", "direction": "in", "class_name": "person", "track_id": 7}
    return [
        Envelope(
            new_event_id(now),
            "line.crossed",
            now - timedelta(microseconds=start + n),
            EventSource("edge-1", f"cam-{n % 8}"),
            payload,
        )
        for n in range(count)
    ]


async def _ingest(db: Any, stop: asyncio.Event | None, limit: int | None) -> tuple[int, float]:
    """Store fresh events in batches until ``stop`` is set (or ``limit`` are stored)."""
    stored, started = 0, time.perf_counter()
    while (stop is None or not stop.is_set()) and (limit is None or stored < limit):
        await db.events.add_many(_fresh(stored, INGEST_BATCH))
        stored += INGEST_BATCH
        await asyncio.sleep(0)
    return stored, time.perf_counter() - started


async def measure(
    directory: Path, events: int, batch: int, pause_s: float = PAUSE_S
) -> dict[str, float]:
    """Seed, then time the ingest alone and during a sweep; the raw numbers."""
    from argus.adapters.db.sql import SqlDatabase
    from argus.adapters.evidence.crypto import Keyring
    from argus.adapters.evidence.fs import FileBlobStore
    from argus.adapters.evidence.signing import Ed25519Signer
    from argus.domain.cameras import utc_now
    from argus.services.evidence import EvidenceService
    from argus.services.legal_hold import LegalHoldService
    from argus.services.retention import RetentionPolicies, RetentionSweeper

    path = directory / "argus.db"
    db = await SqlDatabase.open(f"sqlite:///{path}", secret_key=SECRET)
    await db.close()
    started = time.perf_counter()
    _seed(path, events)
    seed_s = time.perf_counter() - started
    db = await SqlDatabase.open(f"sqlite:///{path}", secret_key=SECRET)
    evidence = EvidenceService(
        db.evidence,
        FileBlobStore(directory / "evidence"),
        Keyring({"k1": bytes(32)}),
        db.audit,
        Ed25519Signer.from_secret(SECRET),
    )
    try:
        progress("retention: ingest alone")
        alone, alone_s = await _ingest(db, None, INGEST_ALONE)
        policies = RetentionPolicies(db, utc_now)
        holds = LegalHoldService(db, evidence, utc_now)
        sweeper = RetentionSweeper(
            db,
            evidence.purge_expired,
            utc_now,
            policies.get,
            holds=holds,
            batch=batch,
            pause_s=pause_s,
        )
        progress(f"retention: sweeping {events} events while ingesting")
        stop = asyncio.Event()
        ingest = asyncio.create_task(_ingest(db, stop, None))
        started = time.perf_counter()
        report = await sweeper.sweep()
        sweep_s = time.perf_counter() - started
        stop.set()
        during, during_s = await ingest
        progress("retention: ingest alone, again")
        after, after_s = await _ingest(db, None, INGEST_ALONE)
        left = (await db.events.query(limit=1)).total
        if report.deleted["events"] != events or left != alone + during + after:
            raise AssertionError(
                f"the sweep deleted {report.deleted['events']} of {events} events and "
                f"{left} remain instead of {alone + during + after}"
            )
    finally:
        await evidence.close()
        await db.close()
    return {
        "events": float(events),
        "batch": float(batch),
        "pause_s": pause_s,
        "seed_s": seed_s,
        "sweep_s": sweep_s,
        "alone_rate": (alone / alone_s + after / after_s) / 2,
        "alone_before": alone / alone_s,
        "alone_after": after / after_s,
        "during_rate": during / during_s if during_s > 0 else float("nan"),
        "during": float(during),
    }


def summarise(got: dict[str, float]) -> Section:
    """The section of measured numbers (separate from ``measure`` so it is testable)."""
    events, sweep_s = int(got["events"]), got["sweep_s"]
    share = ratio(got["during_rate"], got["alone_rate"])
    rows = [
        ["events swept", f"{events:,}"],
        ["rows per delete transaction", f"{int(got['batch']):,}"],
        ["pause between batches", f"{1000 * got.get('pause_s', 0.0):g} ms"],
        ["sweep time", f"{sweep_s:.1f} s"],
        ["rows deleted per second", f"{events / sweep_s:,.0f}" if sweep_s > 0 else "n/a"],
        [
            "ingest alone (events/s, mean of before and after)",
            f"{got['alone_rate']:,.0f} ({got.get('alone_before', math.nan):,.0f} before, "
            f"{got.get('alone_after', math.nan):,.0f} after)",
        ],
        ["ingest during the sweep (events/s)", f"{got['during_rate']:,.0f}"],
        ["events ingested during the sweep", f"{int(got['during']):,}"],
        ["ingest during / alone", fmt_ratio(share)],
    ]
    body = (
        f"SQLite, {events:,} events older than the retention (seeded in "
        f"{got['seed_s']:.0f} s, not measured), swept by the production `RetentionSweeper` "
        f"while events are stored in batches of {INGEST_BATCH} through `add_many` "
        "(rollups included) on the same event loop and database file.\n\n"
        f"{markdown_table(['measure', 'value'], rows)}\n"
    )
    headline = [
        f"Retention sweep of {events:,} events: {sweep_s:.0f} s; ingest kept "
        f"{fmt_ratio(share)} of its throughput meanwhile."
    ]
    return Section("Retention sweep", body, headline)


def run(
    quick: bool, events: int | None = None, batch: int = BATCH, pause_s: float = PAUSE_S
) -> Section:
    """Run the retention benchmark and return its section."""
    count = events if events is not None else (QUICK_EVENTS if quick else FULL_EVENTS)
    with tempfile.TemporaryDirectory(prefix="argus-bench-retention-") as tmp:
        return summarise(asyncio.run(measure(Path(tmp), count, batch, pause_s)))


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m benchmarks.retention``."""
    parser = argparse.ArgumentParser(description="A retention sweep against the event ingest.")
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_EVENTS:,} events")
    parser.add_argument("--events", type=int, default=None, help=f"default {FULL_EVENTS:,}")
    parser.add_argument("--batch", type=int, default=BATCH, help="rows per delete transaction")
    parser.add_argument(
        "--pause", type=float, default=PAUSE_S, help="seconds between two delete batches"
    )
    args = parser.parse_args(argv)
    quick = bool(args.quick)
    section = run_section(lambda q: run(q, args.events, args.batch, args.pause), quick)
    print(render_report([section], machine_info(), quick))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

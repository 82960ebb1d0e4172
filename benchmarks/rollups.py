"""What count rollups save: a year-long ``counts`` query from rollups against a scan of the events.

One SQLite store (a temporary file) gets a year of ``line.crossed`` and
``zone.entered`` events (two cameras, two lines, a zone, two classes), stored
through ``add_many`` so the rollups are kept as in production. Then, in the
same run:

* a year per UTC day and per Berlin day (days assembled from UTC hours), and
  a day per hour, answered by ``EventRepository.counts`` (rollups plus the
  raw events of the edges);
* the same year answered by ``counts_from_events`` (every event streamed
  through the tally, as before rollups): the reference of the ratio.

Both answers are compared; a difference fails the benchmark.

    python -m benchmarks.rollups [--quick]
"""

from __future__ import annotations

import asyncio
import random
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from benchmarks._common import (
    Section,
    fmt_ms,
    fmt_ratio,
    markdown_table,
    median,
    progress,
    quantile,
    ratio,
    run_main,
)

__all__ = ["main", "run"]

QUICK = {"events": 20_000, "repeats": 5, "inserts": 5_000}
FULL = {"events": 200_000, "repeats": 9, "inserts": 20_000}
START = datetime(2025, 1, 1, tzinfo=UTC)
SECRET = b"benchmark-rollups-secret-0123456"


def _events(count: int) -> list[Any]:
    from argus.domain.events import Envelope, EventSource, new_event_id

    rng = random.Random(count)
    made = []
    for _ in range(count):
        when = START + timedelta(seconds=rng.uniform(0, 365 * 86400))
        if rng.random() < 0.7:
            type_ = "line.crossed"
            payload: dict[str, object] = {
                "line": rng.choice(["door", "gate"]),
                "direction": rng.choice(["in", "out"]),
            }
        else:
            type_, payload = "zone.entered", {"zone": "till"}
        payload["class_name"] = rng.choice(["person", "car"])
        payload["track_id"] = rng.randrange(10_000)
        camera = rng.choice(["cam-1", "cam-2"])
        made.append(
            Envelope(new_event_id(when), type_, when, EventSource("edge-1", camera), payload)
        )
    return made


async def _timed(call: Callable[[], Awaitable[Any]], count: int) -> list[float]:
    times: list[float] = []
    for _ in range(count):
        started = time.perf_counter()
        await call()
        times.append(time.perf_counter() - started)
    return times


async def _insert_cost(directory: Path, count: int, *, dense: bool, rollups: bool) -> float:
    """Seconds per event to store ``count`` events in batches of 500, with or without rollups.

    Sparse: a year of events, nearly each in a minute of its own (four rollup
    rows per event, the worst case). Dense: 20 events a second, as a busy
    camera sends them (a batch shares its minute, quarter, hour and day rows).
    """
    from argus.adapters.db.sql import SqlDatabase

    made = _events(count)
    if dense:
        made = [replace(e, timestamp=START + timedelta(seconds=i / 20)) for i, e in enumerate(made)]
    name = f"insert-{dense}-{rollups}.db"
    db = await SqlDatabase.open(f"sqlite:///{directory / name}", secret_key=SECRET)
    try:
        if not rollups:

            async def nothing(*_: object) -> None:
                return None

            # The baseline: the same insert without the rollup upsert (as before rollups).
            db.events.rollups.record = nothing  # type: ignore[method-assign,assignment]
        started = time.perf_counter()
        for first in range(0, len(made), 500):
            await db.events.add_many(made[first : first + 500])
        return (time.perf_counter() - started) / len(made)
    finally:
        await db.close()


async def _measure(directory: Path, sizes: dict[str, int]) -> dict[str, list[float]]:
    from argus.adapters.db.sql import SqlDatabase
    from argus.ports.repositories import EventFilter

    db = await SqlDatabase.open(f"sqlite:///{directory / 'argus.db'}", secret_key=SECRET)
    try:
        stored = _events(sizes["events"])
        progress(f"rollups: storing {len(stored)} events")
        started = time.perf_counter()
        for first in range(0, len(stored), 5000):
            await db.events.add_many(stored[first : first + 5000])
        store_s = time.perf_counter() - started
        since = START + timedelta(hours=10, minutes=17, seconds=3)
        year = EventFilter(since=since, until=since + timedelta(days=365))
        day = EventFilter(since=since, until=since + timedelta(days=1))
        berlin = ZoneInfo("Europe/Berlin")
        events = db.events
        rollup = await events.counts(year, interval="day")
        scan = await events.rollups.counts_from_events(year, interval="day")
        if rollup != scan:
            raise AssertionError("the rollup answer differs from the scan of every event")
        repeats = sizes["repeats"]
        progress("rollups: timing queries")
        inserts = sizes["inserts"]
        return {
            "store": [store_s / len(stored)],
            "insert_sparse": [
                await _insert_cost(directory, inserts, dense=False, rollups=flag)
                for flag in (False, True)
            ],
            "insert_dense": [
                await _insert_cost(directory, inserts, dense=True, rollups=flag)
                for flag in (False, True)
            ],
            "year_utc": await _timed(lambda: events.counts(year, interval="day"), repeats),
            "year_berlin": await _timed(
                lambda: events.counts(year, interval="day", tz=berlin), repeats
            ),
            "day_hours": await _timed(lambda: events.counts(day, interval="hour"), repeats),
            "year_scan": await _timed(
                lambda: events.rollups.counts_from_events(year, interval="day"),
                max(2, repeats // 3),
            ),
        }
    finally:
        await db.close()


def _row(label: str, times: list[float], reference: list[float], note: str) -> list[str]:
    return [
        label,
        fmt_ms(median(times)),
        fmt_ms(quantile(times, 0.95)),
        fmt_ratio(ratio(median(times), median(reference))),
        note,
    ]


def run(quick: bool) -> Section:
    """Run the rollup benchmark and return its section."""
    sizes = QUICK if quick else FULL
    with tempfile.TemporaryDirectory(prefix="argus-bench-rollups-") as tmp:
        got = asyncio.run(_measure(Path(tmp), sizes))
    scan = got["year_scan"]
    rows = [
        _row("year per day, scan of every event (reference)", scan, scan, "before rollups"),
        _row("year per day (UTC), rollups", got["year_utc"], scan, "365 day rows per group"),
        _row(
            "year per day (Europe/Berlin), rollups",
            got["year_berlin"],
            scan,
            "days summed from UTC hours in SQL",
        ),
        _row("day per hour (UTC), rollups", got["day_hours"], scan, "24 hour rows per group"),
    ]
    table = markdown_table(["query", "median ms", "p95 ms", "vs scan", "note"], rows)
    inserts = [
        [
            label,
            f"{1e6 * got[key][0]:.0f}",
            f"{1e6 * got[key][1]:.0f}",
            fmt_ratio(ratio(got[key][1], got[key][0])),
        ]
        for label, key in (
            ("sparse: each event in a minute of its own", "insert_sparse"),
            ("dense: 20 events/s", "insert_dense"),
        )
    ]
    insert_table = markdown_table(
        ["events stored (batches of 500)", "µs/event before", "µs/event with rollups", "cost"],
        inserts,
    )
    events = sizes["events"]
    speedup = ratio(median(scan), median(got["year_utc"]))
    body = (
        f"{events} counted events over 2025 in SQLite (2 cameras, 10 count groups each), "
        f"stored with their rollups at {1e6 * got['store'][0]:.0f} µs per event.\n\n{table}\n\n"
        f"What keeping the rollups costs the event insert ({sizes['inserts']} events, "
        f"same run):\n\n{insert_table}\n"
    )
    headline = [
        f"Year-long counts from rollups: {fmt_ms(median(got['year_utc']))} ms vs "
        f"{fmt_ms(median(scan))} ms scanning {events} events ({speedup:.0f}x less)."
    ]
    return Section("Analytics rollups (a year of counts)", body, headline)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m benchmarks.rollups``."""
    return run_main("A year of counts from rollups against a scan of the events.", run, argv)


if __name__ == "__main__":
    raise SystemExit(main())

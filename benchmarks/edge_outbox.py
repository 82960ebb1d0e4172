"""Edge store-and-forward: what the durable outbox costs, and how fast a backlog drains.

Three measurements, in one run on one machine:

- **Append cost.** Line-crossing envelopes (``Envelope.wrap``, as the
  pipelines build them) appended one per call to ``SqliteOutbox``, as a video
  thread does, against the plain reference: the same JSON inserted into a
  one-table SQLite file (``id TEXT PRIMARY KEY, body BLOB``), one transaction
  per event, with the same journal (WAL) and the same ``synchronous`` setting.
  Both durability settings are measured (``FULL``: an fsync per append, what
  the node uses; ``NORMAL``: durable against a crash but not a power cut). The
  two stores take turns in chunks of 50 events, so a disk other processes use
  slows both alike; the median microseconds per event of the rounds are reported.
- **Memory and disk per buffered event.** A backlog appended to a fresh
  ``SqliteOutbox`` (file size after close, process RSS growth) and to
  ``MemoryOutbox`` (Python heap growth, ``tracemalloc``).
- **Drain rate.** After an outage of 10 000 and 100 000 events, the node's
  ``EdgeSyncer`` sends its outbox (batches of ``sync_batch_items``, the
  default 200) through ``HttpEdgeLink`` to ``POST /api/v1/edge/sync`` of a
  control plane served by uvicorn in a child process on loopback (SQLite
  store, in-process bus: the single-box default), from the first batch to the
  last acknowledgement. The reference is ``events.add_many`` of the same
  events in batches of the same size into a fresh SQLite store of the same
  kind, in this process. The ratio is drain rate over reference rate.

The drain half lives in ``benchmarks._edge_drain``; the control plane there
enrols the node, its cameras and an API key with the ``edge`` permission
through its API first, as an operator would.

    python -m benchmarks.edge_outbox [--quick]
"""

from __future__ import annotations

import json
import sqlite3
import tempfile
import time
import tracemalloc
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from benchmarks._common import (
    Section,
    fmt_ratio,
    markdown_table,
    median,
    progress,
    ratio,
    run_main,
)
from benchmarks._edge_drain import T0, DrainRun, drain, envelopes, items

__all__ = ["AppendRun", "Results", "Sizes", "main", "render", "run"]

Sync = Literal["FULL", "NORMAL"]

CAMERAS = 3


@dataclass(frozen=True, slots=True)
class Sizes:
    """How much one run measures."""

    append: int
    rounds: int
    buffer: int
    drains: tuple[int, ...]


FULL = Sizes(append=2_000, rounds=3, buffer=100_000, drains=(10_000, 100_000))
QUICK = Sizes(append=200, rounds=1, buffer=5_000, drains=(2_000,))


@dataclass(frozen=True, slots=True)
class AppendRun:
    """Microseconds per event of one append round."""

    sync: Sync
    outbox_us: float
    plain_us: float


@dataclass(slots=True)
class Results:
    """Everything measured."""

    appends: list[AppendRun] = field(default_factory=list)
    buffered: int = 0
    item_bytes: float = 0.0
    disk_bytes: float = 0.0
    rss_bytes: float = 0.0
    """Growth of the process's RSS over the whole backlog (not per event)."""
    memory_outbox_bytes: float = 0.0
    drains: list[DrainRun] = field(default_factory=list)
    drain_skipped: str | None = None


# -- append cost -----------------------------------------------------------------------------


CHUNK = 50
"""Appends timed back to back before switching to the other store (they alternate)."""


def _appends(directory: Path, count: int, rounds: int) -> list[AppendRun]:
    """Time both stores in alternating chunks, so a disk that others use slows both alike."""
    from argus.adapters.edge.outbox_sqlite import SqliteOutbox

    cameras = [f"cam-{n}" for n in range(CAMERAS)]
    made: list[AppendRun] = []
    for number in range(rounds):
        for sync in ("FULL", "NORMAL"):
            progress(f"edge_outbox: append round {number + 1}/{rounds}, {sync}, {count} events")
            ours, theirs = items(envelopes(count, cameras)), items(envelopes(count, cameras))
            outbox = SqliteOutbox(directory / f"outbox-{number}-{sync}.db", synchronous=sync)
            plain = sqlite3.connect(directory / f"plain-{number}-{sync}.db", isolation_level=None)
            plain.execute("PRAGMA journal_mode = WAL")
            plain.execute(f"PRAGMA synchronous = {sync}")
            plain.execute("CREATE TABLE events (id TEXT PRIMARY KEY, body BLOB NOT NULL)")
            timed = {"outbox": 0.0, "plain": 0.0}
            for start in range(0, count, CHUNK):
                for which in ("outbox", "plain") if start % (2 * CHUNK) else ("plain", "outbox"):
                    began = time.perf_counter()
                    if which == "outbox":
                        for item in ours[start : start + CHUNK]:
                            outbox.append([item], at=T0)
                    else:
                        for item in theirs[start : start + CHUNK]:
                            body = json.dumps(dict(item.body), separators=(",", ":")).encode()
                            plain.execute("INSERT INTO events VALUES (?, ?)", (item.id, body))
                    timed[which] += time.perf_counter() - began
            outbox.close()
            plain.close()
            made.append(
                AppendRun(sync, timed["outbox"] / count * 1e6, timed["plain"] / count * 1e6)
            )
    return made


# -- memory and disk -------------------------------------------------------------------------


def _rss() -> int:
    for line in Path("/proc/self/status").read_text(encoding="utf-8").splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def _footprint(directory: Path, count: int, results: Results) -> None:
    from argus.adapters.edge.outbox_memory import MemoryOutbox
    from argus.adapters.edge.outbox_sqlite import SqliteOutbox

    progress(f"edge_outbox: {count} events buffered on disk and in memory")
    made = items(envelopes(count, [f"cam-{n}" for n in range(CAMERAS)]))
    path = directory / "backlog.db"
    outbox = SqliteOutbox(path, synchronous="NORMAL")
    before = _rss()
    for start in range(0, count, 500):
        outbox.append(made[start : start + 500], at=T0)
    grown = _rss() - before
    stats = outbox.stats(T0)
    outbox.close()  # the last connection folds the WAL back into the file
    wal = path.with_name(path.name + "-wal")
    disk = path.stat().st_size + (wal.stat().st_size if wal.exists() else 0)
    tracemalloc.start()
    memory = MemoryOutbox()
    baseline = tracemalloc.get_traced_memory()[0]
    for start in range(0, count, 500):
        memory.append(made[start : start + 500], at=T0)
    heap = tracemalloc.get_traced_memory()[0] - baseline
    tracemalloc.stop()
    memory.close()
    results.buffered = count
    results.item_bytes = stats.bytes / count
    results.disk_bytes = disk / count
    results.rss_bytes = float(grown)
    results.memory_outbox_bytes = heap / count


# -- report ----------------------------------------------------------------------------------


def _measure(quick: bool) -> Results:
    sizes = QUICK if quick else FULL
    results = Results()
    with tempfile.TemporaryDirectory(prefix="argus-bench-outbox-") as tmp:
        directory = Path(tmp)
        results.appends = _appends(directory, sizes.append, sizes.rounds)
        _footprint(directory, sizes.buffer, results)
    for count in sizes.drains:
        try:
            results.drains.append(drain(count))
        except Exception as exc:  # noqa: BLE001 - report why, keep the other numbers
            results.drain_skipped = f"{type(exc).__name__}: {exc}"
            progress(f"edge_outbox: drain of {count} failed: {results.drain_skipped}")
            break
    return results


def render(results: Results) -> Section:
    """The section: append cost, footprint, drain rates."""
    rows = []
    headline = []
    for sync in ("FULL", "NORMAL"):
        runs = [r for r in results.appends if r.sync == sync]
        outbox, plain = median([r.outbox_us for r in runs]), median([r.plain_us for r in runs])
        rows.append(
            [
                f"synchronous = {sync}",
                f"{outbox:.0f}",
                f"{plain:.0f}",
                fmt_ratio(ratio(outbox, plain)),
            ]
        )
        if sync == "FULL":
            headline.append(
                f"Edge outbox append (durable, fsync per event): {outbox:.0f} µs/event, "
                f"{fmt_ratio(ratio(outbox, plain))} a plain SQLite insert"
            )
    parts = [
        "### Append cost (one event per append, one transaction each)",
        "",
        markdown_table(["setting", "outbox µs/event", "plain insert µs/event", "ratio"], rows),
        "",
        f"### Footprint of a backlog of {results.buffered} events",
        "",
        markdown_table(
            ["measure", "bytes per event"],
            [
                ["item (compact JSON body)", f"{results.item_bytes:.0f}"],
                ["SQLite outbox on disk", f"{results.disk_bytes:.0f}"],
                [
                    "SQLite outbox, process RSS growth (whole backlog: SQLite's page cache)",
                    f"{results.rss_bytes / 2**20:.1f} MiB in all",
                ],
                ["memory outbox, Python heap", f"{results.memory_outbox_bytes:.0f}"],
            ],
        ),
        "",
        "### Drain after an outage (HTTP sync into a SQLite control plane)",
        "",
    ]
    if results.drains:
        parts.append(
            markdown_table(
                [
                    "backlog",
                    "drain events/s",
                    "add_many events/s",
                    "ratio",
                    "acknowledged",
                    "quarantined",
                ],
                [
                    [
                        f"{d.events}",
                        f"{d.rate:.0f}",
                        f"{d.reference_rate:.0f}",
                        fmt_ratio(ratio(d.rate, d.reference_rate)),
                        f"{d.acknowledged}",
                        f"{d.quarantined}",
                    ]
                    for d in results.drains
                ],
            )
        )
        biggest = results.drains[-1]
        headline.append(
            f"Edge drain of {biggest.events} buffered events: {biggest.rate:.0f} events/s, "
            f"{fmt_ratio(ratio(biggest.rate, biggest.reference_rate))} a batched add_many"
        )
    if results.drain_skipped:
        parts += ["", f"Drain not (fully) measured: {results.drain_skipped}."]
    return Section("Edge outbox and sync", "\n".join(parts) + "\n", headline)


def run(quick: bool) -> Section:
    """Run the edge outbox benchmark and return its section."""
    return render(_measure(quick))


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m benchmarks.edge_outbox``."""
    return run_main("Edge outbox cost and drain rate.", run, argv)


if __name__ == "__main__":
    raise SystemExit(main())

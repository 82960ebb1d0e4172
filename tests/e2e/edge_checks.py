"""What the edge node tests check on the events a control plane stored.

A file camera is deterministic: frames are sampled by their stream time,
analysed one after another (never dropped for lag), and every analytics
event carries the stream time of its frame (``payload.timestamp``). So one
pipeline run of a clip produces the same line and zone events as any other
run of the same clip with the same settings, stream second for stream
second. A node that was killed starts a new run at stream time 0; its events
are split into runs where the stream time falls back, and each run is
compared with an uninterrupted run of the same clip on another node.

Wall-clock driven events (``heatmap.minute``), tamper and health events are
left out of that comparison: their times are not stream times.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from argus.adapters.db.sql import async_url
from argus.adapters.db.tables import events as events_table

__all__ = [
    "Key",
    "analytic_events",
    "compare_with_reference",
    "delivery_order_errors",
    "duplicate_keys",
    "key",
    "line_counts",
    "received_rows",
    "split_runs",
]

ANALYTIC_PREFIXES = ("line.", "zone.")
"""Event types whose times are stream times (deterministic for a file camera)."""

ORDERED_TYPES = ("line.crossed", "zone.entered")
"""Types raised at the frame they are dated with, so production order is time order."""

Key = tuple[str, float, int, str, str, str]
"""(type, stream seconds, track id, line or zone, direction, class name) of an event."""


def key(event: dict[str, Any]) -> Key:
    """What identifies an analytics event within one run (not its id, made at random)."""
    payload = event["payload"]
    return (
        str(event["type"]),
        round(float(payload.get("timestamp", -1.0)), 3),
        int(payload.get("track_id", -1)),
        str(payload.get("line", payload.get("zone", ""))),
        str(payload.get("direction", "")),
        str(payload.get("class_name", "")),
    )


def analytic_events(events: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The line and zone events of ``events``, oldest first (wall time, then id)."""
    chosen = [e for e in events if str(e["type"]).startswith(ANALYTIC_PREFIXES)]
    return sorted(chosen, key=lambda e: (_when(e["timestamp"]), e["event_id"]))


def split_runs(events: Sequence[dict[str, Any]], slack_s: float = 1.0) -> list[list[Key]]:
    """Keys of ``analytic_events`` output per pipeline run (stream time falling back starts one).

    ``slack_s`` tolerates a ``zone.exited`` dated at the last frame its track
    was seen, shortly before events already raised.
    """
    runs: list[list[Key]] = []
    latest = float("inf")
    for event in events:
        k = key(event)
        if k[1] < latest - slack_s or not runs:
            runs.append([])
            latest = k[1]
        runs[-1].append(k)
        latest = max(latest, k[1])
    return [sorted(run, key=lambda k: (k[1], k)) for run in runs]


def compare_with_reference(
    run: Sequence[Key], reference: Sequence[Key], margin_s: float = 5.0
) -> tuple[int, str | None]:
    """Compare a run with the reference run up to the stream time both reached.

    Events of the last ``margin_s`` seconds both covered are left out: a track
    still inside a zone when a run was killed never got its ``zone.exited``.

    Returns:
        The number of events compared, and a description of the first
        difference (``None`` when equal).
    """
    if not run or not reference:
        return 0, None
    horizon = min(run[-1][1], reference[-1][1]) - margin_s
    mine = [k for k in run if k[1] <= horizon]
    theirs = [k for k in reference if k[1] <= horizon]
    if mine == theirs:
        return len(mine), None
    first = next(
        (i for i, (a, b) in enumerate(zip(mine, theirs, strict=False)) if a != b),
        min(len(mine), len(theirs)),
    )
    missing = sorted(set(theirs) - set(mine))[:5]
    extra = sorted(set(mine) - set(theirs))[:5]
    return len(mine), (
        f"up to stream second {horizon:.1f}: {len(mine)} events against {len(theirs)} of the "
        f"uninterrupted run; first difference at #{first}: "
        f"{mine[first] if first < len(mine) else None} vs "
        f"{theirs[first] if first < len(theirs) else None}; missing {missing}; extra {extra}"
    )


def line_counts(run: Sequence[Key], until_s: float) -> Counter[tuple[str, str]]:
    """(line, direction) -> crossings of ``run`` up to stream second ``until_s``."""
    return Counter((k[3], k[4]) for k in run if k[0] == "line.crossed" and k[1] <= until_s)


def duplicate_keys(events: Sequence[dict[str, Any]]) -> list[Key]:
    """Keys stored more than once within one run (a resent event under a new id)."""
    repeated: list[Key] = []
    for run in split_runs(analytic_events(events)):
        repeated += [k for k, n in Counter(run).items() if n > 1]
    return repeated


def received_rows(database_url: str, camera_id: str) -> list[tuple[str, str, datetime, datetime]]:
    """(event_id, type, timestamp, received_at) of the camera's stored events, from the database."""

    async def read() -> list[tuple[str, str, datetime, datetime]]:
        engine = create_async_engine(async_url(database_url))
        try:
            async with engine.connect() as connection:
                table = events_table
                query = sa.select(
                    table.c.event_id, table.c.type, table.c.timestamp, table.c.received_at
                ).where(table.c.camera_id == camera_id)
                rows = (await connection.execute(query)).all()
        finally:
            await engine.dispose()
        return [(str(r[0]), str(r[1]), r[2], r[3]) for r in rows]

    return asyncio.run(read())


def delivery_order_errors(rows: Sequence[tuple[str, str, datetime, datetime]]) -> list[str]:
    """Pairs of events of ``ORDERED_TYPES`` stored in the opposite order of their times.

    Events of one sync batch may share a ``received_at``; only events stored
    strictly later must not be older.
    """
    chosen = sorted((r for r in rows if r[1] in ORDERED_TYPES), key=lambda r: (r[3], r[2]))
    errors: list[str] = []
    newest: tuple[str, str, datetime, datetime] | None = None
    for row in chosen:
        if newest is not None and row[2] < newest[2] and row[3] > newest[3]:
            errors.append(
                f"{row[0]} ({row[2].isoformat()}) stored at {row[3].isoformat()}, after "
                f"{newest[0]} ({newest[2].isoformat()}) stored at {newest[3].isoformat()}"
            )
        if newest is None or row[2] > newest[2]:
            newest = row
    return errors


def _when(value: object) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))

"""Search in words: recall@10 and latency at 10 000 and 1 000 000 events, against keywords.

The history is real: the analyser's events on ``vtest.avi`` and ``bikes.mp4``
(``benchmarks._search_history``), replicated over eight cameras and 28 days.
Every event is described and stored in the SQLite description store as the
server does it (``SearchIndexer.event_items``), the distinct descriptions are
encoded once by all-MiniLM-L6-v2 (ONNX Runtime) into the sqlite-vec index,
and each labelled question of ``benchmarks/search_queries.json`` is asked
through ``EventSearch.search``. Its relevant events are the rule written
beside it, evaluated with numpy over the generated columns, not by the search
code. The reference, measured in the same run on the same store, is a plain
keyword filter: the question's words (stop words dropped) must all appear in
the event's description, newest first.

recall@10 is ``|top 10 ∩ relevant| / min(10, |relevant|)``: most questions have
hundreds of relevant events, and a page of ten is what a person reads.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from benchmarks._common import (
    REPO_ROOT,
    Section,
    fmt_ms,
    markdown_table,
    progress,
    quantile,
    run_main,
)
from benchmarks._search_history import CAMERAS, MEDIA, NOW, SCENES, History, record

if TYPE_CHECKING:
    from argus.services.event_search import EventSearch

__all__ = ["QUERIES", "main", "recall_at", "run"]

QUERIES = REPO_ROOT / "benchmarks" / "search_queries.json"
_BATCH = 2000
_SCENE_NAMES: dict[str, tuple[str, tuple[str, str, str]]] = {
    "vtest": ("square", ("middle", "east", "west")),
    "bikes": ("street", ("kerb", "eastbound", "westbound")),
}


def recall_at(found: Sequence[str], relevant: set[str], k: int = 10) -> float:
    """``|found[:k] ∩ relevant| / min(k, |relevant|)`` (1.0 when both are empty)."""
    if not relevant:
        return 1.0 if not found else 0.0
    return len(set(found[:k]) & relevant) / min(k, len(relevant))


@dataclass
class Measured:
    """One size's results."""

    size: int
    descriptions: int
    index_seconds: float
    encode_seconds: float
    recall: dict[str, list[float]]
    latency: dict[str, list[float]]
    asked: int


async def _site(db: Any) -> None:
    from argus.domain.cameras import Camera, Line, Zone

    for n, (camera_id, (name, scene)) in enumerate(CAMERAS.items()):
        await db.cameras.add(Camera(id=camera_id, name=name, stream_url=f"rtsp://10.0.0.{n}/s"))
        zone, (line, east, west) = _SCENE_NAMES[scene]
        polygon = ((0.0, 0.0), (10.0, 0.0), (10.0, 10.0))
        await db.zones.add(
            Zone(id=f"{camera_id}-{zone}", camera_id=camera_id, name=zone, polygon=polygon)
        )
        await db.lines.add(
            Line(
                id=f"{camera_id}-{line}",
                camera_id=camera_id,
                name=line,
                start=(0.0, 0.0),
                end=(0.0, 10.0),
                in_label=east,
                out_label=west,
            )
        )


async def _measure(history: History, queries: list[dict[str, Any]], directory: Path) -> Measured:
    """Describe, store and encode the history, then ask every question."""
    from argus.adapters.db.search_sql import SqlSearchItemStore
    from argus.adapters.db.sql import SqlDatabase
    from argus.adapters.search import SqliteVecIndex
    from argus.adapters.text import LazyMiniLm
    from argus.domain.events import Envelope, EventSource
    from argus.domain.site import Site
    from argus.services.event_search import EventSearch
    from argus.services.event_search_index import SearchIndexer

    async def site() -> Site:
        return Site("UTC")

    db = await SqlDatabase.open(f"sqlite:///{directory / 'argus.db'}", secret_key=b"b" * 32)
    encoder = LazyMiniLm(backend="onnx", threads=2)
    index = await SqliteVecIndex.open(
        directory / "vectors.db", dim=encoder.dim, namespace=encoder.model_ref
    )
    try:
        await _site(db)
        items = SqlSearchItemStore(db.engine)
        indexer = SearchIndexer(db, items, index, encoder, site)
        search = EventSearch(indexer, site, lambda: NOW)
        started = time.perf_counter()
        batch: list[Envelope] = []
        for event_id, camera_id, kind, when, payload in history.events():
            batch.append(Envelope(event_id, kind, when, EventSource("argus", camera_id), payload))
            if len(batch) == _BATCH:
                await items.add(await indexer.event_items(batch))
                batch = []
        if batch:
            await items.add(await indexer.event_items(batch))
        index_seconds = time.perf_counter() - started
        started = time.perf_counter()
        await indexer.sync()
        encode_seconds = time.perf_counter() - started
        _, descriptions = await items.counts()
        measured = Measured(history.size, descriptions, index_seconds, encode_seconds, {}, {}, 0)
        await _ask(search, history, queries, measured)
        return measured
    finally:
        await index.close()
        await db.close()


async def _ask(
    search: EventSearch, history: History, queries: list[dict[str, Any]], into: Measured
) -> None:
    """Ask every question that has a relevant event, by search and by keywords."""
    from argus.domain.search_words import STOP_WORDS
    from argus.ports.search_items import ItemFilter

    items = search.indexer.items
    await search.search(None, "warm up the encoder")
    into.recall = {"search": [], "keyword": []}
    into.latency = {"search": [], "keyword": []}
    for query in queries:
        mask = history.relevant(query["relevant"])
        relevant = {f"{int(i):026d}" for i in mask.nonzero()[0]}
        if not relevant:
            continue
        into.asked += 1
        t0 = time.perf_counter()
        result = await search.search(None, query["q"], limit=10)
        into.latency["search"].append(time.perf_counter() - t0)
        into.recall["search"].append(recall_at([h.item.item_id for h in result.hits], relevant))
        words = [w for w in query["q"].lower().split() if w not in STOP_WORDS]
        t0 = time.perf_counter()
        plain = await items.keyword(ItemFilter(), words, limit=10)
        into.latency["keyword"].append(time.perf_counter() - t0)
        into.recall["keyword"].append(recall_at([i.item_id for i in plain], relevant))


def _row(m: Measured, name: str, label: str) -> list[object]:
    lat = m.latency[name]
    return [
        f"{m.size:,}",
        label,
        f"{statistics.mean(m.recall[name]):.3f}",
        f"{sum(r >= 1.0 for r in m.recall[name])}/{m.asked}",
        fmt_ms(statistics.median(lat)),
        fmt_ms(quantile(lat, 0.95)),
    ]


def run(quick: bool) -> Section:
    """Index the history at each size and ask every labelled question."""
    title = "Search in words (issue 21)"
    if not all((MEDIA / video).exists() for video, _ in SCENES.values()):
        return Section(
            title,
            f"Skipped: {MEDIA} (../shared/eval/media) is absent; the history "
            "is recorded from vtest.avi and bikes.mp4 there.\n",
        )
    queries = json.loads(QUERIES.read_text())["queries"]
    templates = record()
    sizes = (10_000,) if quick else (10_000, 1_000_000)
    measured: list[Measured] = []
    for size in sizes:
        progress(f"search: {size:,} events")
        history = History(templates, size)
        with tempfile.TemporaryDirectory() as tmp:
            measured.append(asyncio.run(_measure(history, queries, Path(tmp))))
    rows = []
    for m in measured:
        rows.append(_row(m, "keyword", "keyword filter (reference)"))
        rows.append(_row(m, "search", "search in words"))
    build = [
        [
            f"{m.size:,}",
            f"{m.descriptions:,}",
            f"{m.index_seconds:.1f} s",
            f"{m.encode_seconds:.1f} s",
        ]
        for m in measured
    ]
    recorded = {k: len(v) for k, v in templates.items()}
    body = (
        f"History: the analyser's events on vtest.avi ({recorded['vtest']} events) and bikes.mp4 "
        f"({recorded['bikes']}) with examples/*.yaml, replicated over 8 cameras and 28 days; "
        f"{len(queries)} labelled questions in benchmarks/search_queries.json, "
        f"{measured[0].asked} with relevant events at {measured[0].size:,}. Store: SQLite; "
        "index: sqlite-vec; encoder: all-MiniLM-L6-v2 on ONNX Runtime (2 threads). "
        "recall@10 = |top 10 ∩ relevant| / min(10, |relevant|).\n\n"
        + markdown_table(
            [
                "events",
                "method",
                "mean recall@10",
                "questions at 1.0",
                "median latency (ms)",
                "p95 latency (ms)",
            ],
            rows,
        )
        + "\n\n"
        + markdown_table(["events", "distinct descriptions", "describe + store", "encode"], build)
        + "\n"
    )
    last = measured[-1]
    headline = [
        f"Search in words at {last.size:,} events: recall@10 "
        f"{statistics.mean(last.recall['search']):.2f} vs "
        f"{statistics.mean(last.recall['keyword']):.2f} for a keyword filter, "
        f"median {fmt_ms(statistics.median(last.latency['search']))} ms"
    ]
    return Section(title, body, headline)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m benchmarks.search [--quick]``."""
    return run_main(__doc__ or "", run, argv)


if __name__ == "__main__":
    raise SystemExit(main())

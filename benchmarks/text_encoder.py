"""Text encoder and vector index speed for search in words (``python -m benchmarks.text_encoder``).

Encoder: all-MiniLM-L6-v2 on event-like descriptions, sentences per second in
batches and the latency of one query sentence, ONNX Runtime (one thread and
every core) against the numpy forward pass measured in the same run (the
reference: 1.00x), with the largest difference between their vectors.

Indexes: random unit vectors of 384 dimensions (the hardest case for an
approximate index: real descriptions cluster), inserted in batches of 10 000,
then 50 queries: median and p95 latency, and recall@10 against the exact
brute-force top 10 (numpy, the memory index: the latency reference). Sizes:
10 000 and 100 000 vectors (``--quick``: 10 000); building a usearch HNSW graph
of a million 384-dimensional vectors takes tens of minutes on two cores, so
1 000 000 is not part of the run: the exact indexes scale linearly from 100 000.
"""

from __future__ import annotations

import asyncio
import math
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

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

__all__ = ["EncoderResult", "IndexResult", "descriptions", "main", "render", "run"]

DIM = 384
QUERIES = 50
K = 10
CLASSES = ("person", "car", "truck", "bicycle", "bus", "motorcycle", "dog")
ACTIONS = (
    "crossed line {line} heading {dir}",
    "entered zone {zone}",
    "left zone {zone}",
    "loitered in zone {zone} for {n} seconds",
    "stayed in zone {zone} for {n} minutes",
)
PLACES = ("north gate", "loading bay", "car park", "kerb line", "front door", "side alley")
DIRECTIONS = ("north", "south", "east", "west", "in", "out")
TIMES = ("at night", "in the morning", "in the afternoon", "in the evening")


@dataclass(frozen=True)
class EncoderResult:
    """One encoder runner: batch throughput and single-sentence latency."""

    name: str
    sentences_per_s: float
    one_sentence_s: list[float]
    max_diff: float


@dataclass(frozen=True)
class IndexResult:
    """One index kind at one size."""

    kind: str
    size: int
    insert_s: float
    query_s: list[float]
    recall: float


def descriptions(count: int, seed: int = 0) -> list[str]:
    """``count`` event descriptions in the words search indexes (deterministic)."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(count):
        action = ACTIONS[rng.integers(len(ACTIONS))].format(
            line=PLACES[rng.integers(len(PLACES))],
            zone=PLACES[rng.integers(len(PLACES))],
            dir=DIRECTIONS[rng.integers(len(DIRECTIONS))],
            n=int(rng.integers(5, 600)),
        )
        cls = CLASSES[rng.integers(len(CLASSES))]
        out.append(
            f"a {cls} {action} on camera {int(rng.integers(1, 40))} {TIMES[rng.integers(4)]}"
        )
    return out


def _encoders(quick: bool) -> list[EncoderResult]:
    from argus.adapters.text import MiniLmEncoder

    texts = descriptions(64 if quick else 256)
    single = descriptions(10 if quick else 30, seed=1)
    runners = [
        ("numpy (reference)", MiniLmEncoder.load(backend="numpy")),
        ("ONNX Runtime, 1 thread", MiniLmEncoder.load(backend="onnx", threads=1)),
        ("ONNX Runtime, all cores", MiniLmEncoder.load(backend="onnx", threads=0)),
    ]
    reference = runners[0][1].encode(texts)
    results = []
    for name, encoder in runners:
        progress(f"text_encoder: {name}")
        encoder.encode(texts[:32])  # warm-up: first-run allocations
        started = time.perf_counter()
        vectors = encoder.encode(texts)
        batch_s = time.perf_counter() - started
        latencies = []
        for text in single:
            started = time.perf_counter()
            encoder.encode([text])
            latencies.append(time.perf_counter() - started)
        results.append(
            EncoderResult(
                name,
                len(texts) / batch_s,
                latencies,
                float(np.abs(vectors - reference).max()),
            )
        )
    return results


def _unit(rng: np.random.Generator, count: int) -> npt.NDArray[np.float32]:
    rows = rng.normal(size=(count, DIM)).astype(np.float32)
    out: npt.NDArray[np.float32] = rows / np.linalg.norm(rows, axis=1, keepdims=True)
    return out


async def _measure_index(kind: str, size: int, folder: Path) -> IndexResult:
    from argus.adapters.search import MemoryVectorIndex, SqliteVecIndex, USearchIndex
    from argus.ports.text_search import VectorIndex

    rng = np.random.default_rng(size)
    vectors = _unit(rng, size)
    queries = _unit(rng, QUERIES)
    truth = [set(np.argpartition(-(vectors @ q), K)[:K].tolist()) for q in queries]
    index: VectorIndex
    if kind == "memory":
        index = MemoryVectorIndex(DIM)
    elif kind == "sqlite-vec":
        index = await SqliteVecIndex.open(folder / f"v{size}.db", dim=DIM, namespace="bench")
    else:
        index = await USearchIndex.open(
            folder / f"v{size}.usearch", dim=DIM, namespace="bench", save_every=size + 1
        )
    try:
        started = time.perf_counter()
        for start in range(0, size, 10_000):
            chunk = vectors[start : start + 10_000]
            await index.upsert(range(start, start + len(chunk)), chunk)
        insert_s = time.perf_counter() - started
        latencies, hits = [], 0
        for query, expected in zip(queries, truth, strict=True):
            started = time.perf_counter()
            found = await index.search(query, K)
            latencies.append(time.perf_counter() - started)
            hits += len(expected & {key for key, _ in found})
    finally:
        await index.close()
    return IndexResult(kind, size, insert_s, latencies, hits / (K * len(queries)))


def _indexes(quick: bool) -> list[IndexResult]:
    from argus.adapters.search import sqlite_vec_available

    sizes = (10_000,) if quick else (10_000, 100_000)
    kinds = ["memory", "usearch"]
    if sqlite_vec_available() is None:
        kinds.insert(1, "sqlite-vec")
    results = []
    with tempfile.TemporaryDirectory(prefix="argus-vectors-") as folder:
        for size in sizes:
            for kind in kinds:
                progress(f"text_encoder: {kind} index, {size} vectors")
                results.append(asyncio.run(_measure_index(kind, size, Path(folder))))
    return results


def render(encoders: Sequence[EncoderResult], indexes: Sequence[IndexResult]) -> Section:
    """The markdown section; ratios against the numpy encoder and the memory index."""
    reference = encoders[0]
    rows = [
        [
            e.name,
            f"{e.sentences_per_s:.0f}",
            fmt_ratio(ratio(e.sentences_per_s, reference.sentences_per_s)),
            fmt_ms(median(e.one_sentence_s)),
            fmt_ms(quantile(e.one_sentence_s, 0.95)),
            f"{e.max_diff:.1e}",
        ]
        for e in encoders
    ]
    body = markdown_table(
        ["encoder", "sentences/s", "vs numpy", "1 query p50 ms", "p95 ms", "max diff"], rows
    )
    exact = {r.size: median(r.query_s) for r in indexes if r.kind == "memory"}
    index_rows = [
        [
            f"{r.kind}, {r.size:,}",
            f"{r.size / r.insert_s:,.0f}" if r.insert_s > 0 else "n/a",
            fmt_ms(median(r.query_s)),
            fmt_ms(quantile(r.query_s, 0.95)),
            fmt_ratio(ratio(median(r.query_s), exact.get(r.size, math.nan))),
            f"{r.recall:.3f}",
        ]
        for r in indexes
    ]
    body += "\n\n" + markdown_table(
        ["index, vectors", "inserts/s", "query p50 ms", "p95 ms", "vs brute force", "recall@10"],
        index_rows,
    )
    best = max(encoders, key=lambda e: e.sentences_per_s)
    headline = [
        f"text_encoder: {best.name} {best.sentences_per_s:.0f} sentences/s = "
        f"{fmt_ratio(ratio(best.sentences_per_s, reference.sentences_per_s))} numpy"
    ]
    for r in indexes:
        if r.size == max(i.size for i in indexes) and r.kind != "memory":
            headline.append(
                f"text_encoder: {r.kind} at {r.size:,} vectors p50 "
                f"{fmt_ms(median(r.query_s))} ms, recall@10 {r.recall:.3f}"
            )
    return Section("Text encoder and vector indexes (search in words)", body, headline)


def run(quick: bool) -> Section:
    """Measure the encoders, then the indexes."""
    return render(_encoders(quick), _indexes(quick))


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m benchmarks.text_encoder [--quick]``."""
    return run_main("Text encoder and vector index benchmark.", run, argv)


if __name__ == "__main__":
    raise SystemExit(main())

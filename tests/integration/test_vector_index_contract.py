"""One contract for every vector index: memory, sqlite-vec (a SQLite file) and usearch.

Similarities are cosines; the exact indexes (memory, sqlite-vec) must match a
brute-force numpy ranking, the approximate one (usearch HNSW) must find nearly
all of it. File-backed indexes keep their vectors across a reopen and drop
them when reopened for another model.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from argus.adapters.search import (
    MemoryVectorIndex,
    SqliteVecIndex,
    USearchIndex,
    sqlite_vec_available,
)
from argus.domain.errors import StorageError, ValidationError
from argus.ports.text_search import VectorIndex

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

DIM = 16
MODEL = "test-model@1"
Opener = Callable[[str], Awaitable[VectorIndex]]
KINDS = ["memory", "sqlite-vec", "usearch"]
EXACT = {"memory", "sqlite-vec"}


def _unit(rows: npt.ArrayLike) -> npt.NDArray[np.float32]:
    array = np.asarray(rows, dtype=np.float32)
    out: npt.NDArray[np.float32] = array / np.linalg.norm(array, axis=-1, keepdims=True)
    return out


def _random(count: int, seed: int) -> npt.NDArray[np.float32]:
    return _unit(np.random.default_rng(seed).normal(size=(count, DIM)))


@pytest.fixture(params=KINDS)
async def opener(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Opener]:
    kind: str = request.param
    if kind == "sqlite-vec" and (reason := sqlite_vec_available()) is not None:
        pytest.skip(reason)
    opened: list[VectorIndex] = []
    shared_memory = MemoryVectorIndex(DIM)

    async def open_index(namespace: str = MODEL) -> VectorIndex:
        index: VectorIndex
        if kind == "memory":
            index = shared_memory
        elif kind == "sqlite-vec":
            index = await SqliteVecIndex.open(tmp_path / "v.db", dim=DIM, namespace=namespace)
        else:
            index = await USearchIndex.open(tmp_path / "v.usearch", dim=DIM, namespace=namespace)
        opened.append(index)
        return index

    open_index.kind = kind  # type: ignore[attr-defined]
    yield open_index
    for index in opened:
        await index.close()


async def test_an_empty_index_finds_nothing(opener: Opener) -> None:
    index = await opener(MODEL)
    assert await index.count() == 0
    assert await index.search(_random(1, 0)[0], 5) == []
    await index.remove([1, 2])
    assert await index.count() == 0


async def test_nearest_keys_come_first_with_their_cosine(opener: Opener) -> None:
    index = await opener(MODEL)
    axes = np.eye(DIM, dtype=np.float32)
    vectors = _unit([axes[0], axes[0] + 0.5 * axes[1], axes[1], -axes[0]])
    await index.upsert([10, 11, 12, 13], vectors)
    assert await index.count() == 4
    found = await index.search(axes[0], 4)
    assert [key for key, _ in found] == [10, 11, 12, 13]
    np.testing.assert_allclose(
        [score for _, score in found], [1.0, 1 / np.sqrt(1.25), 0.0, -1.0], atol=1e-5
    )
    top = await index.search(axes[1], 1)
    assert [key for key, _ in top] == [12]


async def test_upsert_replaces_a_stored_vector_and_remove_forgets(opener: Opener) -> None:
    index = await opener(MODEL)
    axes = np.eye(DIM, dtype=np.float32)
    await index.upsert([1, 2, 3], axes[:3])
    await index.upsert([2], axes[5:6])
    assert await index.count() == 3
    assert (await index.search(axes[5], 1))[0][0] == 2
    assert (await index.search(axes[1], 1))[0][1] < 0.5
    await index.remove([2, 99, 2])
    assert await index.count() == 2
    assert {key for key, _ in await index.search(axes[5], 10)} == {1, 3}
    await index.upsert([2], axes[1:2])
    key, score = (await index.search(axes[1], 1))[0]
    assert key == 2
    assert score == pytest.approx(1.0, abs=1e-5)


async def test_vectors_need_not_be_unit_length(opener: Opener) -> None:
    index = await opener(MODEL)
    axes = np.eye(DIM, dtype=np.float32)
    await index.upsert([7, 8], np.stack([3 * axes[0], 0.1 * axes[2]]))
    found = await index.search(5 * axes[0], 2)
    assert found[0][0] == 7
    assert found[0][1] == pytest.approx(1.0, abs=1e-5)


async def test_ranking_matches_brute_force(opener: Opener) -> None:
    index = await opener(MODEL)
    vectors = _random(600, 1)
    keys = list(range(1000, 1600))
    for start in range(0, 600, 200):
        await index.upsert(keys[start : start + 200], vectors[start : start + 200])
    assert await index.count() == 600
    queries = _random(20, 2)
    hits = 0
    for query in queries:
        truth = [keys[i] for i in np.argsort(-(vectors @ query), kind="stable")[:10]]
        found = await index.search(query, 10)
        scores = [score for _, score in found]
        assert scores == sorted(scores, reverse=True)
        if opener.kind in EXACT:  # type: ignore[attr-defined]
            assert [key for key, _ in found] == truth
            np.testing.assert_allclose(scores, np.sort(vectors @ query)[::-1][:10], atol=1e-5)
        hits += len(set(truth) & {key for key, _ in found})
    assert hits / (10 * len(queries)) >= 0.9


async def test_k_larger_than_the_index_returns_everything(opener: Opener) -> None:
    index = await opener(MODEL)
    await index.upsert([1, 2, 3], _random(3, 3))
    assert {key for key, _ in await index.search(_random(1, 4)[0], 50)} == {1, 2, 3}


@pytest.mark.parametrize(
    ("keys", "vectors"),
    [
        ([1, 2], np.ones((3, DIM), dtype=np.float32)),
        ([1], np.ones((1, DIM + 1), dtype=np.float32)),
        ([1, 1], np.ones((2, DIM), dtype=np.float32)),
        ([-1], np.ones((1, DIM), dtype=np.float32)),
        ([2**63], np.ones((1, DIM), dtype=np.float32)),
        ([1], np.zeros((1, DIM), dtype=np.float32)),
        ([1], np.full((1, DIM), np.nan, dtype=np.float32)),
        ([True], np.ones((1, DIM), dtype=np.float32)),
    ],
    ids=["count", "dim", "duplicate", "negative", "too-big", "zero", "nan", "bool-key"],
)
async def test_bad_upserts_are_refused(
    opener: Opener, keys: list[int], vectors: npt.NDArray[np.float32]
) -> None:
    index = await opener(MODEL)
    with pytest.raises(ValidationError):
        await index.upsert(keys, vectors)
    assert await index.count() == 0


@pytest.mark.parametrize("k", [0, -1, 4097])
async def test_bad_queries_are_refused(opener: Opener, k: int) -> None:
    index = await opener(MODEL)
    await index.upsert([1], _random(1, 5))
    with pytest.raises(ValidationError):
        await index.search(_random(1, 6)[0], k)
    with pytest.raises(ValidationError):
        await index.search(np.ones(DIM + 1, dtype=np.float32), 1)


async def test_a_closed_index_refuses_work(opener: Opener) -> None:
    index = await opener(MODEL)
    await index.upsert([1], _random(1, 7))
    await index.close()
    await index.close()
    with pytest.raises(StorageError):
        await index.count()
    with pytest.raises(StorageError):
        await index.search(_random(1, 7)[0], 1)


async def test_a_file_index_keeps_its_vectors_for_the_same_model_only(opener: Opener) -> None:
    if opener.kind == "memory":  # type: ignore[attr-defined]
        pytest.skip("the memory index keeps nothing across a restart by design")
    index = await opener(MODEL)
    vectors = _random(50, 8)
    await index.upsert(list(range(50)), vectors)
    await index.close()
    again = await opener(MODEL)
    assert await again.count() == 50
    assert (await again.search(vectors[17], 1))[0][0] == 17
    await again.close()
    other = await opener("another-model@2")
    assert await other.count() == 0


async def test_usearch_walks_its_graph_above_the_exact_threshold(tmp_path: Path) -> None:
    index = await USearchIndex.open(tmp_path / "g.usearch", dim=DIM, namespace=MODEL, exact_below=0)
    try:
        vectors = _random(2000, 9)
        await index.upsert(list(range(2000)), vectors)
        hits = 0
        for query in _random(20, 10):
            truth = set(np.argsort(-(vectors @ query))[:10].tolist())
            hits += len(truth & {key for key, _ in await index.search(query, 10)})
        assert hits / 200 >= 0.9
    finally:
        await index.close()

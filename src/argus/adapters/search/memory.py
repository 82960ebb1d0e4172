"""A vector index in process memory: exact cosine search by one matrix product."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from argus.adapters.search._common import check_k, check_keys, check_query, check_vectors
from argus.domain.errors import StorageError

__all__ = ["MemoryVectorIndex", "top_k"]

F32 = npt.NDArray[np.float32]


def top_k(scores: F32, k: int) -> npt.NDArray[np.intp]:
    """Positions of the ``k`` highest scores, highest first (ties: lower position first)."""
    if k >= len(scores):
        return np.argsort(-scores, kind="stable")
    part = np.argpartition(-scores, k - 1)[:k]
    return part[np.lexsort((part, -scores[part]))]


class MemoryVectorIndex:
    """Rows of unit vectors in one growing matrix; a removed row is filled by the last."""

    def __init__(self, dim: int) -> None:
        """An empty index of ``dim``-long vectors."""
        self._dim = dim
        self._matrix = np.zeros((0, dim), dtype=np.float32)
        self._keys = np.zeros(0, dtype=np.int64)
        self._size = 0
        self._slots: dict[int, int] = {}
        self._lock = threading.Lock()
        self._closed = False

    def _open(self) -> None:
        if self._closed:
            raise StorageError("the vector index is closed")

    def _grow(self, needed: int) -> None:
        capacity = len(self._matrix)
        if needed <= capacity:
            return
        capacity = max(needed, capacity * 2, 64)
        matrix = np.zeros((capacity, self._dim), dtype=np.float32)
        keys = np.zeros(capacity, dtype=np.int64)
        matrix[: self._size] = self._matrix[: self._size]
        keys[: self._size] = self._keys[: self._size]
        self._matrix, self._keys = matrix, keys

    async def upsert(self, keys: Sequence[int], vectors: F32) -> None:
        """Store unit ``vectors`` under ``keys`` (a stored key's vector is replaced)."""
        self._open()
        key_array = check_keys(keys)
        rows = check_vectors(len(key_array), vectors, self._dim)
        with self._lock:
            self._grow(self._size + len(key_array))
            for key, row in zip(key_array.tolist(), rows, strict=True):
                slot = self._slots.get(key)
                if slot is None:
                    slot = self._size
                    self._size += 1
                    self._slots[key] = slot
                    self._keys[slot] = key
                self._matrix[slot] = row

    def _search(self, query: F32, k: int) -> list[tuple[int, float]]:
        with self._lock:
            scores = self._matrix[: self._size] @ query
            best = top_k(scores, k)
            return [(int(self._keys[i]), float(scores[i])) for i in best]

    async def search(self, vector: F32, k: int) -> list[tuple[int, float]]:
        """The ``k`` stored keys nearest to ``vector``, most similar first."""
        self._open()
        query = check_query(vector, self._dim)
        check_k(k)
        if self._size == 0:
            return []
        return await asyncio.to_thread(self._search, query, k)

    async def remove(self, keys: Sequence[int]) -> None:
        """Forget ``keys`` (unknown keys are ignored)."""
        self._open()
        with self._lock:
            for key in check_keys(list(dict.fromkeys(keys))).tolist():
                slot = self._slots.pop(key, None)
                if slot is None:
                    continue
                last = self._size - 1
                if slot != last:
                    moved = int(self._keys[last])
                    self._matrix[slot] = self._matrix[last]
                    self._keys[slot] = moved
                    self._slots[moved] = slot
                self._size = last

    async def count(self) -> int:
        """How many vectors are stored."""
        self._open()
        return self._size

    async def close(self) -> None:
        """Drop the vectors; later calls raise ``StorageError``."""
        self._closed = True
        with self._lock:
            self._matrix = np.zeros((0, self._dim), dtype=np.float32)
            self._slots.clear()
            self._size = 0

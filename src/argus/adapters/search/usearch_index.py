"""An in-process HNSW vector index (usearch), persisted to a file: for PostgreSQL deployments.

Below 50 000 vectors a query scans them all (exact); above, it walks the
graph. The index lives in memory and is saved to ``path`` (written beside, then
renamed over it) every ``save_every`` changed vectors and on close, with a
small JSON file beside it naming the model and dimension. Opened for another
model, or when the file is missing or unreadable, the index starts empty and
the caller re-adds its stored vectors (``count()`` tells how many it has).
Calls run on a worker thread under one lock, off the event loop.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

import numpy as np
import numpy.typing as npt
from usearch.index import Index

from argus.adapters.search._common import check_k, check_keys, check_query, check_vectors
from argus.domain.errors import StorageError

__all__ = ["USearchIndex"]

log = logging.getLogger(__name__)

F32 = npt.NDArray[np.float32]
T = TypeVar("T")


def _new_index(dim: int, connectivity: int, expansion_search: int) -> Index:
    return Index(
        ndim=dim,
        metric="cos",
        dtype="f32",
        connectivity=connectivity,
        expansion_add=128,
        expansion_search=expansion_search,
    )


class USearchIndex:
    """Approximate cosine search over an HNSW graph kept in memory and in a file."""

    def __init__(
        self,
        path: Path,
        dim: int,
        namespace: str,
        index: Index,
        *,
        save_every: int,
        exact_below: int,
    ) -> None:
        """Do not call directly: use :meth:`open`."""
        self._exact_below = exact_below
        self._path = path
        self._meta = path.with_name(path.name + ".json")
        self._dim = dim
        self._namespace = namespace
        self._index = index
        self._save_every = save_every
        self._dirty = 0
        self._lock = threading.Lock()
        self._closed = False

    @classmethod
    async def open(
        cls,
        path: Path,
        *,
        dim: int,
        namespace: str,
        save_every: int = 1000,
        connectivity: int = 16,
        expansion_search: int = 512,
        exact_below: int = 50_000,
    ) -> USearchIndex:
        """Load the index saved at ``path`` for model ``namespace``, or start an empty one.

        Below ``exact_below`` vectors a query scans them all (exact, and as fast as
        the graph at that size); above, it walks the HNSW graph with
        ``expansion_search`` candidates (recall against speed).
        """

        def load() -> Index:
            wanted = {"namespace": namespace, "dim": dim}
            if path.is_file() and cls._read_meta(path) == wanted:
                try:
                    restored = Index.restore(str(path))
                except Exception as exc:  # noqa: BLE001 (a torn or foreign file: rebuilt by the caller)
                    log.warning("vector index %s unreadable (%s); starting empty", path, exc)
                else:
                    if restored is not None and restored.ndim == dim:
                        restored.expansion_search = expansion_search  # type: ignore[misc]  # untyped setter
                        return restored
            elif path.is_file():
                log.warning("vector index %s is for another model; starting empty", path)
            return _new_index(dim, connectivity, expansion_search)

        index = await asyncio.to_thread(load)
        return cls(path, dim, namespace, index, save_every=save_every, exact_below=exact_below)

    @staticmethod
    def _read_meta(path: Path) -> object:
        try:
            return json.loads(path.with_name(path.name + ".json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    async def _call(self, fn: Callable[[], T]) -> T:
        if self._closed:
            raise StorageError("the vector index is closed")

        def locked() -> T:
            with self._lock:
                return fn()

        try:
            return await asyncio.to_thread(locked)
        except StorageError:
            raise
        except (OSError, RuntimeError, ValueError) as exc:
            raise StorageError(f"vector index {self._path.name}: {exc}") from exc

    def _save(self) -> None:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        partial = self._path.with_name(self._path.name + ".partial")
        self._index.save(str(partial))
        meta = {"namespace": self._namespace, "dim": self._dim}
        partial_meta = self._meta.with_name(self._meta.name + ".partial")
        partial_meta.write_text(json.dumps(meta), encoding="utf-8")
        partial_meta.replace(self._meta)
        partial.replace(self._path)
        self._dirty = 0

    def _changed(self, count: int) -> None:
        self._dirty += count
        if self._dirty >= self._save_every:
            self._save()

    async def upsert(self, keys: Sequence[int], vectors: F32) -> None:
        """Store unit ``vectors`` under ``keys`` (a stored key's vector is replaced)."""
        key_array = check_keys(keys).astype(np.uint64)
        rows = check_vectors(len(key_array), vectors, self._dim)
        if not len(key_array):
            return

        def write() -> None:
            stored = np.asarray(self._index.contains(key_array), dtype=bool).reshape(-1)
            if stored.any():
                self._index.remove(key_array[stored])
            self._index.add(key_array, rows)
            self._changed(len(key_array))

        await self._call(write)

    async def search(self, vector: F32, k: int) -> list[tuple[int, float]]:
        """The ``k`` keys nearest to ``vector`` (approximately), most similar first."""
        query = check_query(vector, self._dim)
        check_k(k)

        def read() -> list[tuple[int, float]]:
            if len(self._index) == 0:
                return []
            exact = len(self._index) < self._exact_below
            matches = self._index.search(query, k, exact=exact)
            found = [
                (int(key), 1.0 - float(distance))
                for key, distance in zip(matches.keys, matches.distances, strict=True)
            ]
            return sorted(found, key=lambda item: (-item[1], item[0]))

        return await self._call(read)

    async def remove(self, keys: Sequence[int]) -> None:
        """Forget ``keys`` (unknown keys are ignored)."""
        key_array = check_keys(list(dict.fromkeys(keys))).astype(np.uint64)
        if not len(key_array):
            return

        def delete() -> None:
            stored = np.asarray(self._index.contains(key_array), dtype=bool).reshape(-1)
            if stored.any():
                self._index.remove(key_array[stored])
                self._changed(int(stored.sum()))

        await self._call(delete)

    async def count(self) -> int:
        """How many vectors are stored."""
        return await self._call(lambda: len(self._index))

    async def flush(self) -> None:
        """Save the index to its file now."""
        await self._call(self._save)

    async def close(self) -> None:
        """Save unsaved changes and release the index (a second close does nothing)."""
        if self._closed:
            return

        def shut() -> None:
            if self._dirty:
                self._save()

        try:
            await self._call(shut)
        finally:
            self._closed = True

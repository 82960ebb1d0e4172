"""A vector index in a SQLite file of its own, searched by the sqlite-vec extension.

The file sits beside the events' database (``argus.db`` gets ``argus.vectors.db``)
and holds one ``vec0`` table (``key`` the integer primary key, ``embedding``
``float[dim]`` compared by cosine distance) and a ``meta`` table naming the
model whose vectors it holds: opened for another model or dimension, the
vectors are dropped (they would not be comparable) and the caller re-adds them.

Python's own ``sqlite3`` is often built without extension loading, so the file
is opened with ``apsw`` (its own SQLite, extensions allowed). Every call runs
on one worker thread that owns the connection, off the event loop.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import numpy as np
import numpy.typing as npt

from argus.adapters.search._common import check_k, check_keys, check_query, check_vectors
from argus.domain.errors import ConfigError, StorageError

if TYPE_CHECKING:
    import apsw

__all__ = ["SqliteVecIndex", "sqlite_vec_available"]

log = logging.getLogger(__name__)

F32 = npt.NDArray[np.float32]
T = TypeVar("T")


def sqlite_vec_available() -> str | None:
    """``None`` when apsw and sqlite-vec load here, else why not."""
    try:
        import apsw
        import sqlite_vec  # type: ignore[import-untyped]

        connection = apsw.Connection(":memory:")
        connection.enable_load_extension(True)
        connection.load_extension(sqlite_vec.loadable_path())
        connection.close()
    except Exception as exc:  # noqa: BLE001 (import or load failure: either means "not here")
        return f"sqlite-vec cannot be loaded: {exc}"
    return None


class SqliteVecIndex:
    """Vectors in a ``vec0`` table of a SQLite file (exact cosine search)."""

    def __init__(self, path: Path, dim: int, namespace: str) -> None:
        """Do not call directly: use :meth:`open`."""
        self._path = path
        self._dim = dim
        self._namespace = namespace
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-vec")
        self._connection: apsw.Connection | None = None
        self._closed = False

    @classmethod
    async def open(cls, path: Path, *, dim: int, namespace: str) -> SqliteVecIndex:
        """Open (or create) the index file for vectors of model ``namespace``.

        Raises:
            ConfigError: apsw or sqlite-vec is not installed here.
            StorageError: The file cannot be opened or written.
        """
        reason = sqlite_vec_available()
        if reason is not None:
            raise ConfigError(reason)
        index = cls(path, dim, namespace)
        try:
            await index._call(index._connect)
        except BaseException:
            index._executor.shutdown(wait=False)
            raise
        return index

    async def _call(self, fn: Callable[[], T]) -> T:
        if self._closed:
            raise StorageError("the vector index is closed")
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._executor, fn)
        except (StorageError, ConfigError):
            raise
        except Exception as exc:  # apsw.Error and OSError: translated at the boundary
            raise StorageError(f"vector index {self._path.name}: {exc}") from exc

    def _db(self) -> apsw.Connection:
        if self._connection is None:
            raise StorageError("the vector index is not open")
        return self._connection

    def _connect(self) -> None:
        import apsw
        import sqlite_vec

        self._path.parent.mkdir(parents=True, exist_ok=True)
        connection = apsw.Connection(str(self._path))
        connection.enable_load_extension(True)
        connection.load_extension(sqlite_vec.loadable_path())
        connection.enable_load_extension(False)
        connection.set_busy_timeout(5000)
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT)")
        stored = {
            str(name): str(value)
            for name, value in connection.execute("SELECT name, value FROM meta")
        }
        wanted = {"namespace": self._namespace, "dim": str(self._dim)}
        with connection:
            if stored and stored != wanted:
                log.warning("vector index %s held %s; dropped for %s", self._path, stored, wanted)
                connection.execute("DROP TABLE IF EXISTS vectors")
            connection.execute(
                "CREATE VIRTUAL TABLE IF NOT EXISTS vectors USING vec0("
                f"key INTEGER PRIMARY KEY, embedding float[{self._dim}] distance_metric=cosine)"
            )
            connection.executemany(
                "INSERT OR REPLACE INTO meta (name, value) VALUES (?, ?)", list(wanted.items())
            )
        self._connection = connection

    async def upsert(self, keys: Sequence[int], vectors: F32) -> None:
        """Store unit ``vectors`` under ``keys`` (a stored key's vector is replaced)."""
        key_list = check_keys(keys).tolist()
        rows = check_vectors(len(key_list), vectors, self._dim)

        def write() -> None:
            connection = self._db()
            with connection:
                connection.executemany(
                    "DELETE FROM vectors WHERE key = ?", [(key,) for key in key_list]
                )
                connection.executemany(
                    "INSERT INTO vectors (key, embedding) VALUES (?, ?)",
                    [(key, row.tobytes()) for key, row in zip(key_list, rows, strict=True)],
                )

        await self._call(write)

    async def search(self, vector: F32, k: int) -> list[tuple[int, float]]:
        """The ``k`` stored keys nearest to ``vector``, most similar first."""
        query = check_query(vector, self._dim).tobytes()
        check_k(k)

        def read() -> list[tuple[int, float]]:
            rows = self._db().execute(
                "SELECT key, distance FROM vectors WHERE embedding MATCH ? AND k = ? "
                "ORDER BY distance",
                (query, k),
            )
            found = [(int(key), 1.0 - float(distance)) for key, distance in rows]
            return sorted(found, key=lambda item: (-item[1], item[0]))

        return await self._call(read)

    async def remove(self, keys: Sequence[int]) -> None:
        """Forget ``keys`` (unknown keys are ignored)."""
        key_list = check_keys(list(dict.fromkeys(keys))).tolist()

        def delete() -> None:
            connection = self._db()
            with connection:
                connection.executemany(
                    "DELETE FROM vectors WHERE key = ?", [(key,) for key in key_list]
                )

        await self._call(delete)

    async def count(self) -> int:
        """How many vectors are stored."""

        def read() -> int:
            row = self._db().execute("SELECT count(*) FROM vectors").fetchone()
            return int(row[0]) if row else 0

        return await self._call(read)

    async def close(self) -> None:
        """Close the file and stop the worker thread (a second close does nothing)."""
        if self._closed:
            return

        def shut() -> None:
            if self._connection is not None:
                self._connection.close()
                self._connection = None

        try:
            await self._call(shut)
        finally:
            self._closed = True
            self._executor.shutdown(wait=True)

"""``SqliteOutbox``: the node's durable outbox in one SQLite file (WAL).

One table holds pending items in ``seq`` order (``INTEGER PRIMARY KEY
AUTOINCREMENT``, so a seq is never reused, even after the newest rows were
removed); the item id is ``UNIQUE`` and appends use ``INSERT OR IGNORE``, so
appending an id that is already pending changes nothing. Refused items move to
``quarantine`` with the server's reason (the newest ``QUARANTINE_KEEP`` are
kept for inspection); drop and quarantine counts live in ``counters`` so a
restart keeps them.

Durability. The file is in WAL mode with ``synchronous = FULL`` by default:
every ``append`` fsyncs the write-ahead log before it returns, so an item
acknowledged to the producer survives a SIGKILL *and* a power cut (an edge
box is often unplugged, or loses power with its mast). ``NORMAL`` in WAL mode
also survives any process crash (the log is written before the commit
returns), but the last transactions before a power loss may roll back.
``benchmarks/edge_outbox.py`` measures both: FULL costs one fsync per
``append`` (about 3 ms on the benchmark VM's disk, the same as a plain SQLite
insert with FULL: the fsync is the cost), NORMAL about 0.3 ms. The node
appends each frame's events in one call from the camera's video thread, so
FULL costs at most one fsync per analysed frame that has events, which a few
frames per second afford. Pass ``synchronous="NORMAL"`` where the disk is
slow and losing the last second on power loss is acceptable. ``remove`` never
fsyncs: a removal lost to a power cut only sends acknowledged items again,
which the server answers as duplicates.

Overflow. ``max_bytes`` bounds the total item size (compact JSON bodies); the
file is larger than that by SQLite's per-row overhead: about 1.5 times for event
items (429 bytes on disk per 294-byte event in the benchmark), plus the WAL.
When an append goes over, the policy of ``argus.ports.edge_outbox`` drops
items in the same transaction: the oldest health reports first, then the
oldest evidence clips, then other evidence, then the oldest events. Every drop
is counted per kind and logged as a warning. When the disk fills up before the
bound is reached (``SQLITE_FULL``), the same policy frees room (at least
256 KiB, 1 % of the backlog, four times the append) and the append is retried
once; if it still does not fit, ``append`` raises ``StorageError``.

One connection serves every thread, behind a lock (``check_same_thread=False``):
appends are short, and SQLite serialises writers anyway.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal, TypeVar

from argus.adapters.edge._codec import decode_body, encode_body, log_drops
from argus.domain.edge import OutboxItem
from argus.domain.errors import ConfigError, StorageError
from argus.ports.edge_outbox import OutboxStats, Quarantined, StoredItem, overflow_rank

__all__ = ["QUARANTINE_KEEP", "SqliteOutbox"]

log = logging.getLogger(__name__)

QUARANTINE_KEEP = 1000
"""Quarantined items kept for inspection (the oldest beyond this are deleted; counts stay)."""

_DISK_FULL_ROOM = 256 * 1024
"""Least item bytes dropped when the disk is full before the bound is reached."""

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_T = TypeVar("_T")

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS outbox (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        kind TEXT NOT NULL,
        rank INTEGER NOT NULL,
        body BLOB NOT NULL,
        size INTEGER NOT NULL,
        created_at INTEGER NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS outbox_rank ON outbox (rank, seq)",
    """CREATE TABLE IF NOT EXISTS quarantine (
        seq INTEGER PRIMARY KEY,
        id TEXT NOT NULL,
        kind TEXT NOT NULL,
        body BLOB NOT NULL,
        created_at INTEGER NOT NULL,
        reason TEXT NOT NULL)""",
    "CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL)",
)

_BUMP = (
    "INSERT INTO counters (name, value) VALUES (?, ?) "
    "ON CONFLICT (name) DO UPDATE SET value = value + excluded.value"
)


def _micros(moment: datetime) -> int:
    return (moment - _EPOCH) // timedelta(microseconds=1)


def _moment(micros: int) -> datetime:
    return _EPOCH + timedelta(microseconds=micros)


class SqliteOutbox:
    """The durable outbox (``EdgeOutbox``) in the SQLite file ``path``.

    Args:
        path: The database file (created with its directory if missing).
        max_bytes: Bound on the total item size (the overflow policy applies above it).
        synchronous: ``FULL`` (default: durable against power loss) or ``NORMAL``
            (durable against process crashes only); see the module docstring.

    Raises:
        ConfigError: ``max_bytes`` is not positive or ``synchronous`` is unknown.
        StorageError: The file cannot be opened or is not an outbox.
    """

    def __init__(
        self,
        path: Path,
        *,
        max_bytes: int = 1 << 30,
        synchronous: Literal["FULL", "NORMAL"] = "FULL",
    ) -> None:
        if max_bytes <= 0:
            raise ConfigError(f"outbox max_bytes must be positive, got {max_bytes}")
        if synchronous not in ("FULL", "NORMAL"):
            raise ConfigError(f"outbox synchronous must be FULL or NORMAL, got {synchronous!r}")
        self.path = path
        self.max_bytes = max_bytes
        self._synchronous = synchronous
        self._lock = threading.Lock()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute(f"PRAGMA synchronous = {synchronous}")
            conn.execute("PRAGMA busy_timeout = 10000")
            for statement in _SCHEMA:
                conn.execute(statement)
            items, size = conn.execute(
                "SELECT COUNT(*), COALESCE(SUM(size), 0) FROM outbox"
            ).fetchone()
        except (OSError, sqlite3.Error) as exc:
            raise StorageError(f"cannot open the edge outbox {path}: {exc}") from exc
        self._conn: sqlite3.Connection | None = conn
        self._items = int(items)
        self._bytes = int(size)

    def _run(self, work: Callable[[sqlite3.Connection], _T]) -> _T:
        with self._lock:
            if self._conn is None:
                raise StorageError("the edge outbox is closed")
            try:
                return work(self._conn)
            except sqlite3.Error as exc:
                raise StorageError(f"edge outbox {self.path}: {exc}") from exc

    @staticmethod
    @contextmanager
    def _transaction(conn: sqlite3.Connection) -> Iterator[None]:
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            if conn.in_transaction:  # SQLite may have rolled back already (disk full)
                conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def append(self, items: Sequence[OutboxItem], *, at: datetime) -> None:
        """Add ``items`` in one transaction, then apply the overflow policy; durable on return."""
        if not items:
            return
        created = _micros(at)
        rows = [
            (item.id, item.kind, overflow_rank(item), body, len(body), created)
            for item in items
            for body in (encode_body(item),)
        ]

        def insert(conn: sqlite3.Connection) -> tuple[Counter[str], dict[str, int]]:
            with self._transaction(conn):
                added = added_bytes = 0
                for row in rows:
                    cursor = conn.execute(
                        "INSERT OR IGNORE INTO outbox (id, kind, rank, body, size, created_at) "
                        "VALUES (?, ?, ?, ?, ?, ?)",
                        row,
                    )
                    if cursor.rowcount:
                        added, added_bytes = added + 1, added_bytes + row[4]
                dropped, freed = self._overflow(conn, self._bytes + added_bytes - self.max_bytes)
                totals = self._dropped(conn) if dropped else {}
            self._items += added - sum(dropped.values())
            self._bytes += added_bytes - freed
            return dropped, totals

        def work(conn: sqlite3.Connection) -> tuple[Counter[str], dict[str, int]]:
            try:
                return insert(conn)
            except sqlite3.OperationalError as exc:
                if exc.sqlite_errorcode != sqlite3.SQLITE_FULL:
                    raise
            # The disk filled up before the bound: make room by the same policy, once.
            room = max(4 * sum(row[4] for row in rows), self._bytes // 100, _DISK_FULL_ROOM)
            with self._transaction(conn):
                dropped, freed = self._overflow(conn, room)
                totals = self._dropped(conn)
            self._items -= sum(dropped.values())
            self._bytes -= freed
            log_drops(log, dropped, totals, "disk full before its bound")
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            return insert(conn)

        dropped, totals = self._run(work)
        if dropped:
            log_drops(log, dropped, totals, f"over its bound of {self.max_bytes} bytes")

    def _overflow(self, conn: sqlite3.Connection, excess: int) -> tuple[Counter[str], int]:
        """Delete items by the policy until ``excess`` bytes are freed; count them."""
        dropped: Counter[str] = Counter()
        freed = 0
        for rank in range(4):
            while freed < excess:
                rows = conn.execute(
                    "SELECT seq, kind, size FROM outbox WHERE rank = ? ORDER BY seq LIMIT 256",
                    (rank,),
                ).fetchall()
                if not rows:
                    break
                doomed = []
                for seq, kind, size in rows:
                    if freed >= excess:
                        break
                    doomed.append((seq,))
                    dropped[kind] += 1
                    freed += size
                conn.executemany("DELETE FROM outbox WHERE seq = ?", doomed)
        if dropped:
            conn.executemany(_BUMP, [(f"dropped.{k}", n) for k, n in dropped.items()])
        return dropped, freed

    @staticmethod
    def _dropped(conn: sqlite3.Connection) -> dict[str, int]:
        rows = conn.execute("SELECT name, value FROM counters WHERE name LIKE 'dropped.%'")
        return {name.removeprefix("dropped."): int(value) for name, value in rows}

    def peek(self, max_items: int, max_bytes: int) -> list[StoredItem]:
        """The oldest pending items within the limits (at least the oldest one)."""

        def work(conn: sqlite3.Connection) -> list[StoredItem]:
            cursor = conn.execute(
                "SELECT seq, id, kind, body, size, created_at FROM outbox ORDER BY seq LIMIT ?",
                (max(1, max_items),),
            )
            found: list[StoredItem] = []
            total = 0
            for seq, item_id, kind, body, size, created in cursor:
                if found and total + size > max_bytes:
                    break
                item = OutboxItem(id=item_id, kind=kind, body=decode_body(body))
                found.append(StoredItem(seq, item, size, _moment(created)))
                total += size
            cursor.close()
            return found

        return self._run(work)

    def remove(self, seqs: Sequence[int]) -> None:
        """Forget acknowledged items (unknown seqs are ignored)."""
        if not seqs:
            return

        def work(conn: sqlite3.Connection) -> None:
            # A removal lost to a power cut only resends acknowledged items, which the
            # server answers as duplicates: no fsync needed (the next append's covers it).
            conn.execute("PRAGMA synchronous = NORMAL")
            try:
                with self._transaction(conn):
                    sizes = conn.execute(
                        "DELETE FROM outbox WHERE seq IN (SELECT value FROM json_each(?)) "
                        "RETURNING size",
                        (json.dumps([int(seq) for seq in seqs]),),
                    ).fetchall()
            finally:
                conn.execute(f"PRAGMA synchronous = {self._synchronous}")
            items, size = len(sizes), sum(int(row[0]) for row in sizes)
            self._items -= items
            self._bytes -= size

        self._run(work)

    def quarantine(self, seq: int, reason: str) -> None:
        """Move a refused item to the quarantine table with ``reason``, and count it."""

        def work(conn: sqlite3.Connection) -> None:
            with self._transaction(conn):
                moved = conn.execute(
                    "INSERT OR IGNORE INTO quarantine (seq, id, kind, body, created_at, reason) "
                    "SELECT seq, id, kind, body, created_at, ? FROM outbox WHERE seq = ?",
                    (reason, seq),
                ).rowcount
                if not moved:
                    return
                size = conn.execute("SELECT size FROM outbox WHERE seq = ?", (seq,)).fetchone()[0]
                conn.execute("DELETE FROM outbox WHERE seq = ?", (seq,))
                conn.execute(_BUMP, ("quarantined", 1))
                conn.execute(
                    "DELETE FROM quarantine WHERE seq NOT IN "
                    "(SELECT seq FROM quarantine ORDER BY seq DESC LIMIT ?)",
                    (QUARANTINE_KEEP,),
                )
            self._items -= 1
            self._bytes -= int(size)

        self._run(work)

    def quarantined(self, limit: int = 100) -> list[Quarantined]:
        """The newest quarantined items (at most ``limit``), newest first."""

        def work(conn: sqlite3.Connection) -> list[Quarantined]:
            rows = conn.execute(
                "SELECT id, kind, reason FROM quarantine ORDER BY seq DESC LIMIT ?", (limit,)
            )
            return [Quarantined(str(i), str(k), str(r)) for i, k, r in rows]

        return self._run(work)

    def stats(self, now: datetime) -> OutboxStats:
        """Depth, size, age of the oldest pending item at ``now``, drops and quarantines."""

        def work(conn: sqlite3.Connection) -> OutboxStats:
            oldest = conn.execute("SELECT created_at FROM outbox ORDER BY seq LIMIT 1").fetchone()
            counters = dict(conn.execute("SELECT name, value FROM counters").fetchall())
            age = None if oldest is None else max(0.0, (now - _moment(oldest[0])).total_seconds())
            dropped = {
                name.removeprefix("dropped."): int(value)
                for name, value in counters.items()
                if name.startswith("dropped.")
            }
            return OutboxStats(
                self._items, self._bytes, age, dropped, int(counters.get("quarantined", 0))
            )

        return self._run(work)

    def close(self) -> None:
        """Close the file (a checkpoint folds the log back in); later calls raise."""
        with self._lock:
            conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()
            except sqlite3.Error as exc:
                raise StorageError(f"closing the edge outbox {self.path}: {exc}") from exc

"""A SQLite file that keeps the in-process bus's messages across a crash.

``MemoryEventBus`` with a journal writes every message here before
``publish`` returns, and the position of each durable consumer (the lowest
message it has not acknowledged) now and then. A server that dies while the
database is down (its consumers holding events unacknowledged) therefore
finds those events again when it starts: the bus reloads the messages at or
after each consumer's position and delivers them again. Consumers are
idempotent on ``event_id``, so positions may lag (a crash between an
acknowledgement and the next save only repeats a few deliveries).

The file is written on the event loop, synchronously: an autocommit insert
in WAL mode with ``synchronous=NORMAL`` takes tens of microseconds, survives
the process being killed (not a power cut), and keeps the bus's rule that no
state is touched across an ``await``. One process owns a journal at a time
(an exclusive ``flock`` on a lock file next to it).
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from argus.domain.errors import BusError

__all__ = ["Journal", "JournalContents"]

log = logging.getLogger(__name__)

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS messages ("
    " subject TEXT NOT NULL, seq INTEGER NOT NULL, data BLOB NOT NULL,"
    " PRIMARY KEY (subject, seq))",
    "CREATE TABLE IF NOT EXISTS positions ("
    " subject TEXT NOT NULL, name TEXT NOT NULL, low INTEGER NOT NULL,"
    " PRIMARY KEY (subject, name))",
)


@dataclass(slots=True)
class JournalContents:
    """What a journal held when it was opened.

    Attributes:
        messages: Per subject, ``(seq, data)`` in ascending order (contiguous).
        positions: Per subject, each durable consumer's lowest unacknowledged seq.
    """

    messages: dict[str, list[tuple[int, bytes]]] = field(default_factory=dict)
    positions: dict[str, dict[str, int]] = field(default_factory=dict)


class Journal:
    """The journal file at ``path`` (created 0600 if missing), owned by this process.

    Raises:
        BusError: The file cannot be opened, or another process owns it.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._lock: IO[bytes] = _owned(path.with_name(path.name + ".lock"))
        except OSError as exc:
            raise BusError(f"cannot open the bus journal {path}: {exc}") from exc
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
            os.close(fd)
            self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            for statement in (
                "PRAGMA journal_mode = WAL",
                "PRAGMA synchronous = NORMAL",
                "PRAGMA busy_timeout = 1000",
                *_SCHEMA,
            ):
                self._db.execute(statement)
        except (OSError, sqlite3.Error) as exc:
            self._lock.close()
            raise BusError(f"cannot open the bus journal {path}: {exc}") from exc

    def load(self) -> JournalContents:
        """Everything the journal holds, for the bus to start from."""
        contents = JournalContents()
        try:
            for subject, seq, data in self._db.execute(
                "SELECT subject, seq, data FROM messages ORDER BY subject, seq"
            ):
                contents.messages.setdefault(subject, []).append((seq, bytes(data)))
            for subject, name, low in self._db.execute("SELECT subject, name, low FROM positions"):
                contents.positions.setdefault(subject, {})[name] = low
        except sqlite3.Error as exc:
            raise BusError(f"cannot read the bus journal {self.path}: {exc}") from exc
        return contents

    def append(self, subject: str, seq: int, data: bytes) -> None:
        """Keep one message (committed when this returns).

        Raises:
            BusError: It could not be written (disk full, file unwritable).
        """
        try:
            self._db.execute(
                "INSERT OR REPLACE INTO messages (subject, seq, data) VALUES (?, ?, ?)",
                (subject, seq, data),
            )
        except sqlite3.Error as exc:
            raise BusError(f"the bus journal refused a message on {subject}: {exc}") from exc

    def save(self, subject: str, positions: Iterable[tuple[str, int]], floor: int) -> None:
        """Store consumer positions and forget the messages below ``floor``.

        A failure is logged, not raised: positions may lag (see the module docstring).
        """
        try:
            self._db.execute("BEGIN")
            self._db.executemany(
                "INSERT OR REPLACE INTO positions (subject, name, low) VALUES (?, ?, ?)",
                [(subject, name, low) for name, low in positions],
            )
            self._db.execute("DELETE FROM messages WHERE subject = ? AND seq < ?", (subject, floor))
            self._db.execute("COMMIT")
        except sqlite3.Error:
            with contextlib.suppress(sqlite3.Error):
                self._db.execute("ROLLBACK")
            log.warning("could not save consumer positions in %s", self.path, exc_info=True)

    def close(self) -> None:
        """Close the file and give up ownership. Idempotent."""
        with contextlib.suppress(sqlite3.Error):
            self._db.close()
        self._lock.close()


def _owned(lock_path: Path) -> IO[bytes]:
    """Open ``lock_path`` and hold an exclusive lock on it for this process.

    Raises:
        BusError: Another process holds it.
    """
    handle = lock_path.open("a+b")
    try:
        lock_path.chmod(0o600)
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError as exc:
        handle.close()
        raise BusError(f"the bus journal {lock_path} is in use by another process") from exc
    except OSError:
        handle.close()
        raise
    return handle

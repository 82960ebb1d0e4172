"""``MemoryOutbox``: the outbox contract in memory (tests, and a node with no disk to spare).

Same ordering, bounds, overflow policy and counts as ``SqliteOutbox``, but
nothing survives the process.
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections import Counter
from collections.abc import Sequence
from datetime import datetime

from argus.adapters.edge._codec import decode_body, encode_body, log_drops
from argus.domain.edge import OutboxItem
from argus.domain.errors import ConfigError, StorageError
from argus.ports.edge_outbox import (
    OVERFLOW_ORDER,
    OutboxStats,
    Quarantined,
    StoredItem,
    overflow_rank,
)

__all__ = ["MemoryOutbox"]

log = logging.getLogger(__name__)


class MemoryOutbox:
    """The outbox (``EdgeOutbox``) in memory.

    Args:
        max_bytes: Bound on the total item size (the overflow policy applies above it).
        quarantine_keep: Quarantined items kept for inspection.

    Raises:
        ConfigError: ``max_bytes`` is not positive.
    """

    def __init__(self, *, max_bytes: int = 1 << 30, quarantine_keep: int = 1000) -> None:
        if max_bytes <= 0:
            raise ConfigError(f"outbox max_bytes must be positive, got {max_bytes}")
        self.max_bytes = max_bytes
        self._keep = quarantine_keep
        self._lock = threading.Lock()
        self._closed = False
        self._next = 1
        # One dict per overflow class (insertion order is seq order), plus an index.
        self._ranks: list[dict[int, StoredItem]] = [{} for _ in OVERFLOW_ORDER]
        self._where: dict[int, int] = {}  # seq -> rank, in seq order
        self._ids: set[str] = set()
        self._bytes = 0
        self._dropped: Counter[str] = Counter()
        self._quarantined = 0
        self._aside: list[Quarantined] = []

    def _check(self) -> None:
        if self._closed:
            raise StorageError("the edge outbox is closed")

    def append(self, items: Sequence[OutboxItem], *, at: datetime) -> None:
        """Add ``items`` (ids already pending are skipped), then apply the overflow policy."""
        dropped: Counter[str] = Counter()
        with self._lock:
            self._check()
            for item in items:
                if item.id in self._ids:
                    continue
                body = encode_body(item)
                stored = StoredItem(
                    self._next, OutboxItem(item.id, item.kind, decode_body(body)), len(body), at
                )
                place = overflow_rank(item)
                self._ranks[place][stored.seq] = stored
                self._where[stored.seq] = place
                self._ids.add(item.id)
                self._bytes += stored.size
                self._next += 1
            for pending in self._ranks:
                while self._bytes > self.max_bytes and pending:
                    seq = next(iter(pending))
                    gone = self._forget(seq)
                    dropped[gone.item.kind] += 1
            self._dropped.update(dropped)
            totals = dict(self._dropped)
        if dropped:
            log_drops(log, dropped, totals, f"over its bound of {self.max_bytes} bytes")

    def _forget(self, seq: int) -> StoredItem:
        stored = self._ranks[self._where.pop(seq)].pop(seq)
        self._ids.discard(stored.item.id)
        self._bytes -= stored.size
        return stored

    def peek(self, max_items: int, max_bytes: int) -> list[StoredItem]:
        """The oldest pending items within the limits (at least the oldest one)."""
        with self._lock:
            self._check()
            pending = list(itertools.islice(self._where, max(1, max_items)))
            found: list[StoredItem] = []
            total = 0
            for seq in pending:
                stored = self._ranks[self._where[seq]][seq]
                if found and total + stored.size > max_bytes:
                    break
                found.append(stored)
                total += stored.size
            return found

    def remove(self, seqs: Sequence[int]) -> None:
        """Forget acknowledged items (unknown seqs are ignored)."""
        with self._lock:
            self._check()
            for seq in seqs:
                if seq in self._where:
                    self._forget(seq)

    def quarantine(self, seq: int, reason: str) -> None:
        """Move a refused item aside with ``reason``, and count it."""
        with self._lock:
            self._check()
            if seq not in self._where:
                return
            stored = self._forget(seq)
            self._quarantined += 1
            aside = Quarantined(stored.item.id, stored.item.kind, reason)
            self._aside = [*self._aside, aside][-self._keep :]

    def quarantined(self, limit: int = 100) -> list[Quarantined]:
        """The newest quarantined items (at most ``limit``), newest first."""
        with self._lock:
            return list(reversed(self._aside))[:limit]

    def stats(self, now: datetime) -> OutboxStats:
        """Depth, size, age of the oldest pending item at ``now``, drops and quarantines."""
        with self._lock:
            self._check()
            age = None
            if self._where:
                first = next(iter(self._where))
                oldest = self._ranks[self._where[first]][first].created_at
                age = max(0.0, (now - oldest).total_seconds())
            return OutboxStats(
                len(self._where), self._bytes, age, dict(self._dropped), self._quarantined
            )

    def close(self) -> None:
        """Refuse further calls."""
        with self._lock:
            self._closed = True

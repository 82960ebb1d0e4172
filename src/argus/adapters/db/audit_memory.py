"""The in-memory audit log: the fake for service tests and the contract's reference.

Records live in one list in ``seq`` order. ``append`` does not await between
reading the head and storing the record, so concurrent tasks on one event loop
cannot interleave there; the log is not shared between processes. Pruning
removes a prefix of the list and appends a checkpoint; the record of ``seq`` n
then sits at index ``n - 1 - checkpoint.seq``.
"""

from __future__ import annotations

import builtins
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from argus.domain.audit import (
    GENESIS_HASH,
    AuditCheckpoint,
    AuditEntry,
    AuditRecord,
    ChainReport,
    next_record,
    sign_checkpoint,
    verify_stream,
)
from argus.ports.audit import AuditFilter, check_prune_args, check_records_args
from argus.ports.paging import MAX_PAGE, Page, check_page

__all__ = ["MemoryAuditLog", "matches"]


def matches(record: AuditRecord, target: str | None, where: AuditFilter | None) -> bool:
    """Whether ``record`` is on ``target`` (when given) and selected by ``where``."""
    entry = record.entry
    if target is not None and entry.target != target:
        return False
    if where is None:
        return True
    return (
        (where.actor is None or entry.actor == where.actor)
        and (where.action is None or entry.action.startswith(where.action))
        and (where.target is None or entry.target == where.target)
        and (where.outcome is None or entry.outcome == where.outcome)
        and (where.since is None or entry.at >= where.since)
        and (where.until is None or entry.at < where.until)
    )


class MemoryAuditLog:
    """An ``AuditLog`` in a list.

    Args:
        chain_key: The key the chain's hashes are made with (``chain_key``).
    """

    def __init__(self, chain_key: bytes) -> None:
        self._key = chain_key
        self._records: builtins.list[AuditRecord] = []
        self._checkpoints: builtins.list[AuditCheckpoint] = []

    def tables(self) -> tuple[builtins.list[Any], ...]:
        """The containers of its state (a unit of work restores them on rollback)."""
        return (self._records, self._checkpoints)

    @property
    def _pruned(self) -> int:
        """The ``seq`` of the last pruned record (0: none)."""
        return self._checkpoints[-1].seq if self._checkpoints else 0

    async def append(self, entry: AuditEntry) -> AuditRecord:
        last = self._records[-1] if self._records else None
        head = None if last is None else (last.seq, last.hash)
        record = next_record(self._key, head, entry)
        self._records.append(record)
        return record

    async def records(
        self,
        *,
        after_seq: int = 0,
        limit: int = 1000,
        target: str | None = None,
        where: AuditFilter | None = None,
    ) -> builtins.list[AuditRecord]:
        check_records_args(after_seq, limit)
        found: builtins.list[AuditRecord] = []
        # seq n sits at index n - 1 - pruned, so the scan starts right after ``after_seq``.
        for record in self._records[max(0, after_seq - self._pruned) :]:
            if matches(record, target, where):
                found.append(record)
                if len(found) == limit:
                    break
        return found

    async def list(
        self, *, limit: int = 50, offset: int = 0, where: AuditFilter | None = None
    ) -> Page[AuditRecord]:
        check_page(limit, offset)
        selected = [r for r in reversed(self._records) if matches(r, None, where)]
        return Page(tuple(selected[offset : offset + limit]), len(selected))

    async def count(self, where: AuditFilter | None = None) -> int:
        if where is None:
            return len(self._records)
        return sum(1 for r in self._records if matches(r, None, where))

    async def head(self) -> tuple[int, str]:
        if not self._records:
            return (0, GENESIS_HASH)
        return (self._records[-1].seq, self._records[-1].hash)

    async def all_records(self, *, batch: int = MAX_PAGE) -> AsyncIterator[AuditRecord]:
        check_page(batch)
        after = 0
        while chunk := await self.records(after_seq=after, limit=batch):
            for record in chunk:
                yield record
            after = chunk[-1].seq

    async def prune_before(self, cutoff: datetime, *, limit: int, at: datetime) -> int:
        check_prune_args(cutoff, limit, at)
        count = 0
        # The newest record stays: it is the head the next append chains to.
        for record in self._records[: min(limit, len(self._records) - 1)]:
            if record.entry.at >= cutoff:
                break
            count += 1
        if count == 0:
            return 0
        last = self._records[count - 1]
        self._checkpoints.append(
            sign_checkpoint(
                self._key, (last.seq, last.hash), count=count, before=cutoff, pruned_at=at
            )
        )
        del self._records[:count]
        return count

    async def checkpoints(self, *, limit: int = 100) -> builtins.list[AuditCheckpoint]:
        check_page(limit)
        return list(reversed(self._checkpoints))[:limit]

    async def verify(self, *, expected_head: tuple[int, str] | None = None) -> ChainReport:
        checkpoint = self._checkpoints[-1] if self._checkpoints else None
        return await verify_stream(
            self.all_records(), self._key, expected_head=expected_head, checkpoint=checkpoint
        )

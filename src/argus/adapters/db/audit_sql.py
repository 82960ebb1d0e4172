"""The audit log in the ``audit_log`` table (see ``ports.audit``).

Appending reads the head (the row with the highest ``seq``) and inserts the
record chained to it, so writers must not interleave between the two, even
from other processes:

* on PostgreSQL the transaction first takes the transaction-scoped advisory
  lock ``pg_advisory_xact_lock(AUDIT_LOCK_ID)``; under READ COMMITTED the head
  is then read after the previous holder committed;
* on SQLite the transaction opens with a write that changes nothing, which
  takes the database file's write lock (waiting out ``busy_timeout``) before
  the head is read; the driver opens a transaction only for writes, so a
  leading ``SELECT`` would run outside it.

An ``asyncio.Lock`` per instance also queues this process's appends, so they
wait on the event loop instead of in the database. ``seq`` is the primary key:
should anything bypass the locks, a duplicate fails rather than forks the chain.

Pruning (retention) takes the same lock, deletes a prefix of the chain and
stores its signed checkpoint in ``audit_checkpoints`` in one transaction;
verification starts at the newest checkpoint.
"""

from __future__ import annotations

import asyncio
import builtins
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from argus.adapters.db._sqlcore import Bind, count_rows, transaction
from argus.adapters.db.tables import audit_log
from argus.adapters.db.tables_retention import audit_checkpoints
from argus.domain.audit import (
    GENESIS_HASH,
    AuditCheckpoint,
    AuditEntry,
    AuditRecord,
    ChainReport,
    check_entry,
    next_record,
    sign_checkpoint,
    verify_stream,
)
from argus.domain.errors import StorageError, ValidationError
from argus.ports.audit import AuditFilter, check_prune_args, check_records_args
from argus.ports.paging import MAX_PAGE, Page, check_page

__all__ = ["AUDIT_LOCK_ID", "SqlAuditLog"]

AUDIT_LOCK_ID = int.from_bytes(b"argusaud", "big")
"""The PostgreSQL advisory lock that serialises appends (``argusaud`` as a 64-bit integer)."""

Row = sa.Row[Any]


def _record(row: Row) -> AuditRecord:
    """The record of a row as stored, unvalidated: verification judges tampered rows."""
    entry = AuditEntry(
        action=row.action,
        actor=row.actor,
        at=row.at,
        target=row.target,
        outcome=row.outcome,
        details=row.details,
        ip=row.ip,
    )
    return AuditRecord(seq=int(row.seq), entry=entry, prev_hash=row.prev_hash, hash=row.hash)


def _conditions(target: str | None, where: AuditFilter | None) -> builtins.list[Any]:
    conditions: builtins.list[Any] = []
    if target is not None:
        conditions.append(audit_log.c.target == target)
    if where is None:
        return conditions
    if where.actor is not None:
        conditions.append(audit_log.c.actor == where.actor)
    if where.action is not None:
        conditions.append(audit_log.c.action.startswith(where.action, autoescape=True))
    if where.target is not None:
        conditions.append(audit_log.c.target == where.target)
    if where.outcome is not None:
        conditions.append(audit_log.c.outcome == where.outcome)
    if where.since is not None:
        conditions.append(audit_log.c.at >= where.since)
    if where.until is not None:
        conditions.append(audit_log.c.at < where.until)
    return conditions


async def _fetch(connection: AsyncConnection, query: sa.Select[Any]) -> builtins.list[AuditRecord]:
    """Run ``query`` and convert its rows; a row that does not load is a ``StorageError``."""
    result = await connection.execute(query)
    try:
        return [_record(row) for row in result.all()]
    except (TypeError, ValueError) as exc:
        raise StorageError(f"an audit record is unreadable: {exc}") from exc


def _checkpoint(row: Row) -> AuditCheckpoint:
    try:
        return AuditCheckpoint(
            seq=int(row.seq),
            hash=row.hash,
            count=int(row._mapping["count"]),
            before=row.before,
            pruned_at=row.pruned_at,
            signature=row.signature,
        )
    except (TypeError, ValueError, ValidationError) as exc:
        raise StorageError(f"an audit checkpoint is unreadable: {exc}") from exc


async def _lock_writers(connection: AsyncConnection) -> None:
    """Hold the store's audit write lock until the transaction ends."""
    if connection.dialect.name == "postgresql":
        await connection.execute(sa.select(sa.func.pg_advisory_xact_lock(AUDIT_LOCK_ID)))
    else:
        await connection.execute(sa.update(audit_log).where(sa.false()).values(seq=audit_log.c.seq))


class SqlAuditLog:
    """An ``AuditLog`` in the ``audit_log`` table.

    Args:
        engine: The store's engine (SQLite or PostgreSQL, migrated); not disposed here.
        chain_key: The key the chain's hashes are made with (``chain_key``).
    """

    def __init__(self, engine: Bind, chain_key: bytes) -> None:
        self._engine = engine
        self._key = chain_key
        self._lock = asyncio.Lock()

    async def append(self, entry: AuditEntry) -> AuditRecord:
        checked = check_entry(entry)
        async with (
            self._lock,
            transaction(self._engine, "appending to the audit log") as connection,
        ):
            await _lock_writers(connection)
            last = (
                await connection.execute(
                    sa.select(audit_log.c.seq, audit_log.c.hash)
                    .order_by(audit_log.c.seq.desc())
                    .limit(1)
                )
            ).first()
            head = None if last is None else (int(last.seq), str(last.hash))
            record = next_record(self._key, head, checked)
            await connection.execute(sa.insert(audit_log).values(record.fields()))
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
        query = (
            sa.select(audit_log)
            .where(audit_log.c.seq > after_seq, *_conditions(target, where))
            .order_by(audit_log.c.seq)
            .limit(limit)
        )
        async with transaction(self._engine, "reading the audit log") as connection:
            return await _fetch(connection, query)

    async def list(
        self, *, limit: int = 50, offset: int = 0, where: AuditFilter | None = None
    ) -> Page[AuditRecord]:
        check_page(limit, offset)
        conditions: Sequence[Any] = _conditions(None, where)
        query = (
            sa.select(audit_log)
            .where(*conditions)
            .order_by(audit_log.c.seq.desc())
            .limit(limit)
            .offset(offset)
        )
        async with transaction(self._engine, "listing the audit log") as connection:
            total = await count_rows(connection, audit_log, *conditions)
            items = await _fetch(connection, query)
        return Page(tuple(items), total)

    async def count(self, where: AuditFilter | None = None) -> int:
        async with transaction(self._engine, "counting audit records") as connection:
            return await count_rows(connection, audit_log, *_conditions(None, where))

    async def head(self) -> tuple[int, str]:
        query = sa.select(audit_log.c.seq, audit_log.c.hash).order_by(audit_log.c.seq.desc())
        async with transaction(self._engine, "reading the audit head") as connection:
            last = (await connection.execute(query.limit(1))).first()
        return (0, GENESIS_HASH) if last is None else (int(last.seq), str(last.hash))

    async def all_records(self, *, batch: int = MAX_PAGE) -> AsyncIterator[AuditRecord]:
        check_page(batch)
        after = 0
        while chunk := await self.records(after_seq=after, limit=batch):
            for record in chunk:
                yield record
            after = chunk[-1].seq

    async def prune_before(self, cutoff: datetime, *, limit: int, at: datetime) -> int:
        check_prune_args(cutoff, limit, at)
        oldest = (
            sa.select(audit_log.c.seq, audit_log.c.hash, audit_log.c.at)
            .order_by(audit_log.c.seq)
            .limit(limit + 1)
        )
        async with self._lock, transaction(self._engine, "pruning the audit log") as connection:
            await _lock_writers(connection)
            rows = (await connection.execute(oldest)).all()
            prefix: builtins.list[Any] = []
            # The newest record stays: it is the head the next append chains to.
            for row in rows[:limit] if len(rows) > limit else rows[:-1]:
                if row.at >= cutoff:
                    break
                prefix.append(row)
            if not prefix:
                return 0
            last = prefix[-1]
            checkpoint = sign_checkpoint(
                self._key,
                (int(last.seq), str(last.hash)),
                count=len(prefix),
                before=cutoff,
                pruned_at=at,
            )
            await connection.execute(sa.delete(audit_log).where(audit_log.c.seq <= checkpoint.seq))
            await connection.execute(
                sa.insert(audit_checkpoints).values(
                    seq=checkpoint.seq,
                    hash=checkpoint.hash,
                    count=checkpoint.count,
                    before=checkpoint.before,
                    pruned_at=checkpoint.pruned_at,
                    signature=checkpoint.signature,
                )
            )
        return len(prefix)

    async def checkpoints(self, *, limit: int = 100) -> builtins.list[AuditCheckpoint]:
        check_page(limit)
        query = sa.select(audit_checkpoints).order_by(audit_checkpoints.c.seq.desc()).limit(limit)
        async with transaction(self._engine, "reading audit checkpoints") as connection:
            rows = (await connection.execute(query)).all()
        return [_checkpoint(row) for row in rows]

    async def verify(self, *, expected_head: tuple[int, str] | None = None) -> ChainReport:
        latest = await self.checkpoints(limit=1)
        report = await self._verify_from(latest, expected_head)
        if not report.ok and (newer := await self.checkpoints(limit=1)) != latest:
            # A prune committed while the records were read: judge them from its checkpoint.
            report = await self._verify_from(newer, expected_head)
        return report

    async def _verify_from(
        self, checkpoints: builtins.list[AuditCheckpoint], expected_head: tuple[int, str] | None
    ) -> ChainReport:
        return await verify_stream(
            self.all_records(),
            self._key,
            expected_head=expected_head,
            checkpoint=checkpoints[0] if checkpoints else None,
        )

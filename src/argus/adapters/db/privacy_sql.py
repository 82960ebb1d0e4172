"""The erasure store in SQL (see ``ErasureStore``): SQLite and PostgreSQL.

``delete_events`` deletes one batch per transaction and, in that transaction,
subtracts the deleted events from ``event_rollups`` (the same upsert the
insert path adds with, with negative totals; rows that reach zero are removed),
so the count rollups stay equal to a scan of the remaining events.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from argus.adapters.db._sqlcore import transaction
from argus.adapters.db.rollups_sql import Counted, rollup_rows, upsert_statement
from argus.adapters.db.tables import event_rollups, events, verify_decisions
from argus.adapters.db.workstations_sql import _decision
from argus.domain.checks import aware_utc
from argus.domain.errors import ValidationError
from argus.domain.event_stats import COUNTED_TYPES
from argus.domain.workstations import DecisionRecord
from argus.ports.privacy import ERASE_BATCH

__all__ = ["SqlErasureStore"]


class SqlErasureStore:
    """Deletes events (and their rollup counts) and decision records (see ``ErasureStore``).

    Args:
        engine: The database's engine.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._upsert = upsert_statement(engine.dialect.name)

    async def delete_events(
        self,
        camera_id: str,
        since: datetime,
        until: datetime,
        *,
        keep: Collection[str] = (),
        limit: int = ERASE_BATCH,
    ) -> int:
        since, until = aware_utc(since, "since"), aware_utc(until, "until")
        if limit < 1:
            raise ValidationError(f"limit must be positive, got {limit}")
        conditions: list[Any] = [
            events.c.camera_id == camera_id,
            events.c.timestamp >= since,
            events.c.timestamp < until,
        ]
        if keep:
            conditions.append(events.c.event_id.notin_(sorted(set(keep))))
        query = (
            sa.select(
                events.c.event_id,
                events.c.timestamp,
                events.c.camera_id,
                events.c.type,
                events.c.payload,
            )
            .where(*conditions)
            .order_by(events.c.timestamp, events.c.event_id)
            .limit(limit)
        )
        async with transaction(self._engine, "erasing events") as connection:
            rows = (await connection.execute(query)).all()
            if not rows:
                return 0
            ids = [row.event_id for row in rows]
            await connection.execute(sa.delete(events).where(events.c.event_id.in_(ids)))
            counted: list[Counted] = [
                (
                    row.timestamp,
                    row.camera_id,
                    row.type,
                    row.payload if isinstance(row.payload, Mapping) else {},
                )
                for row in rows
                if row.type in COUNTED_TYPES
            ]
            decrements = rollup_rows(counted)
            if decrements:
                for row in decrements:
                    row["total"] = -row["total"]
                await connection.execute(self._upsert, decrements)
                keys = sorted({row["group_key"] for row in decrements})
                await connection.execute(
                    sa.delete(event_rollups).where(
                        event_rollups.c.group_key.in_(keys), event_rollups.c.total <= 0
                    )
                )
        return len(ids)

    async def subject_decisions(self, subject_id: str) -> tuple[DecisionRecord, ...]:
        query = (
            sa.select(verify_decisions)
            .where(verify_decisions.c.subject == subject_id)
            .order_by(verify_decisions.c.at, verify_decisions.c.id)
        )
        async with transaction(self._engine, "reading a subject's decisions") as connection:
            rows = (await connection.execute(query)).all()
        return tuple(_decision(row) for row in rows)

    async def delete_decisions(self, ids: Collection[str]) -> int:
        wanted = sorted(set(ids))
        gone = 0
        async with transaction(self._engine, "erasing decisions") as connection:
            for start in range(0, len(wanted), ERASE_BATCH):
                chunk = wanted[start : start + ERASE_BATCH]
                result = await connection.execute(
                    sa.delete(verify_decisions).where(verify_decisions.c.id.in_(chunk))
                )
                gone += int(result.rowcount or 0)
        return gone

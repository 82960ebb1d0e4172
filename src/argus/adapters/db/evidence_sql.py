"""Evidence metadata in the ``evidence`` table (see ``EvidenceRepository``).

The item is stored whole as JSON (``body``) next to the columns that queries
filter and sort on. Those columns repeat fields of the body, so a row edited
in place can contradict itself: every read compares them and reports a
mismatch as ``IntegrityError`` naming the field, instead of listing the item
under the wrong camera or alert. (Fields only in the body are covered by the
item's HMAC, which ``EvidenceService`` verifies.)

``browse`` lists such a row in place as ``TamperedEvidence`` (with what
could be read of it) instead of failing the whole page, so one edited row
does not hide the rest of the evidence.

Locked rows are deleted by no statement: ``DELETE ... WHERE locked = false``,
so a lock taken by another server between a check and a delete still holds.
"""

from __future__ import annotations

import builtins
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from argus.adapters.db._sqlcore import count_rows, transaction
from argus.adapters.db.alerts_sql import _parse, _update_version
from argus.adapters.db.tables import evidence, evidence_gaps
from argus.domain.checks import aware_utc
from argus.domain.errors import ConflictError, IntegrityError, NotFoundError, ValidationError
from argus.domain.evidence import EvidenceItem
from argus.domain.evidence_status import EvidenceEntry, EvidenceGap, TamperedEvidence
from argus.ports.evidence import ALL_EVIDENCE, EvidenceFilter
from argus.ports.paging import Page, check_page

__all__ = ["SqlEvidenceRepository"]

_COLUMNS = ("kind", "alert_id", "incident_id", "camera_id", "created_at", "locked", "version")
"""Columns that repeat a field of the body (and must agree with it)."""


def _row(item: EvidenceItem) -> dict[str, Any]:
    row: dict[str, Any] = {"id": item.id, "body": item.to_dict()}
    row.update({name: getattr(item, name) for name in _COLUMNS})
    return row


def _item(row: sa.Row[Any]) -> EvidenceItem:
    item = _parse("evidence item", EvidenceItem.from_dict, row.body)
    if item.id != row.id:
        raise IntegrityError(f"evidence row {row.id} holds the body of evidence {item.id}")
    for name in _COLUMNS:
        if getattr(row, name) != getattr(item, name):
            raise IntegrityError(
                f"evidence {item.id}: column {name} ({getattr(row, name)!r}) disagrees with "
                f"the stored item ({getattr(item, name)!r}); the row was edited"
            )
    return item


def _entry(row: sa.Row[Any]) -> EvidenceEntry:
    """The row's item, or the row reported as tampered with what can be read of it."""
    try:
        claimed: EvidenceItem | None = EvidenceItem.from_dict(row.body)
    except (ValidationError, AttributeError) as exc:
        claimed, reason = None, f"evidence row {row.id}: its stored item is unreadable ({exc})"
    else:
        try:
            return _item(row)
        except IntegrityError as exc:
            reason = str(exc)
    cameras = [row.camera_id] if claimed is None else [row.camera_id, claimed.camera_id]
    return TamperedEvidence(
        id=row.id,
        reason=reason,
        cameras=tuple(dict.fromkeys(cameras)),
        claimed=claimed,
        kind=row.kind,
        alert_id=row.alert_id,
        incident_id=row.incident_id,
        created_at=row.created_at,
        locked=bool(row.locked),
    )


def _conditions(where: EvidenceFilter) -> builtins.list[Any]:
    """``where`` as SQL conditions on the columns."""
    conditions: builtins.list[Any] = []
    if where.alert_id is not None:
        conditions.append(evidence.c.alert_id == where.alert_id)
    if where.incident_id is not None:
        conditions.append(evidence.c.incident_id == where.incident_id)
    if where.camera_id is not None:
        conditions.append(evidence.c.camera_id == where.camera_id)
    if where.created_before is not None:
        before = aware_utc(where.created_before, "created_before")
        conditions.append(evidence.c.created_at < before)
    if where.locked is not None:
        conditions.append(evidence.c.locked.is_(where.locked))
    return conditions


def _gap(row: sa.Row[Any]) -> EvidenceGap:
    return _parse("evidence gap", EvidenceGap.from_dict, row.body)


class SqlEvidenceRepository:
    """Evidence items in the ``evidence`` table (see ``EvidenceRepository``).

    Args:
        engine: The engine of a migrated database (``SqlDatabase.engine``).
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def add(self, item: EvidenceItem) -> None:
        async with transaction(self._engine, f"adding evidence {item.id}") as connection:
            await connection.execute(sa.insert(evidence).values(_row(item)))

    async def get(self, evidence_id: str) -> EvidenceItem:
        async with transaction(self._engine, "reading evidence") as connection:
            row = (
                await connection.execute(sa.select(evidence).where(evidence.c.id == evidence_id))
            ).first()
        if row is None:
            raise NotFoundError(f"no evidence {evidence_id}")
        return _item(row)

    async def _rows(
        self, where: EvidenceFilter, limit: int, offset: int
    ) -> tuple[builtins.list[sa.Row[Any]], int]:
        """The one query behind ``list`` and ``browse``: a page of rows and the total."""
        check_page(limit, offset)
        conditions = _conditions(where)
        query = (
            sa.select(evidence)
            .where(*conditions)
            .order_by(evidence.c.created_at, evidence.c.id)
            .limit(limit)
            .offset(offset)
        )
        async with transaction(self._engine, "listing evidence") as connection:
            total = await count_rows(connection, evidence, *conditions)
            rows = (await connection.execute(query)).all()
        return builtins.list(rows), total

    async def list(
        self, where: EvidenceFilter = ALL_EVIDENCE, *, limit: int = 100, offset: int = 0
    ) -> Page[EvidenceItem]:
        rows, total = await self._rows(where, limit, offset)
        return Page(tuple(_item(row) for row in rows), total)

    async def browse(
        self, where: EvidenceFilter = ALL_EVIDENCE, *, limit: int = 100, offset: int = 0
    ) -> Page[EvidenceEntry]:
        rows, total = await self._rows(where, limit, offset)
        return Page(tuple(_entry(row) for row in rows), total)

    async def record_gap(self, gap: EvidenceGap) -> None:
        row = {
            "alert_id": gap.alert_id,
            "camera_id": gap.camera_id,
            "at": gap.at,
            "body": gap.to_dict(),
        }
        async with transaction(self._engine, f"recording the evidence gap of {gap.alert_id}") as c:
            await c.execute(
                sa.delete(evidence_gaps).where(evidence_gaps.c.alert_id == gap.alert_id)
            )
            await c.execute(sa.insert(evidence_gaps).values(row))

    async def gaps(
        self,
        *,
        alert_id: str | None = None,
        camera_id: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> Page[EvidenceGap]:
        check_page(limit, offset)
        where: builtins.list[Any] = []
        if alert_id is not None:
            where.append(evidence_gaps.c.alert_id == alert_id)
        if camera_id is not None:
            where.append(evidence_gaps.c.camera_id == camera_id)
        query = (
            sa.select(evidence_gaps)
            .where(*where)
            .order_by(evidence_gaps.c.at.desc(), evidence_gaps.c.alert_id.desc())
            .limit(limit)
            .offset(offset)
        )
        async with transaction(self._engine, "listing evidence gaps") as connection:
            total = await count_rows(connection, evidence_gaps, *where)
            rows = (await connection.execute(query)).all()
        return Page(tuple(_gap(row) for row in rows), total)

    async def update(self, item: EvidenceItem) -> None:
        async with transaction(self._engine, f"updating evidence {item.id}") as connection:
            await _update_version(connection, evidence, "evidence", _row(item))

    async def delete(self, evidence_id: str) -> None:
        async with transaction(self._engine, f"deleting evidence {evidence_id}") as connection:
            result = await connection.execute(
                sa.delete(evidence).where(
                    evidence.c.id == evidence_id, evidence.c.locked.is_(False)
                )
            )
            if result.rowcount == 0:
                locked = await connection.scalar(
                    sa.select(evidence.c.locked).where(evidence.c.id == evidence_id)
                )
                if locked is None:
                    raise NotFoundError(f"no evidence {evidence_id}")
                raise ConflictError(f"evidence {evidence_id} is locked")

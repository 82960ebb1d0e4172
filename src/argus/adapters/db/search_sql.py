"""The search item store on SQL (see ``ports.search_items``).

Texts are interned with an insert that ignores a text already stored, then
read back by text, so two servers adding the same description race safely.
Items are upserted on ``(kind, item_id)``. ``find`` with description ids
walks ``ix_search_items_description_time``; without them ``ix_search_items_time``.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from argus.adapters.db._sqlcore import Bind, insert_for, transaction
from argus.adapters.db.tables_search import search_descriptions, search_items
from argus.ports.search_items import (
    Description,
    ItemFilter,
    ItemKind,
    SearchItem,
    check_limit,
)

__all__ = ["SqlSearchItemStore"]

_BATCH = 500
_ITEM_COLUMNS = (
    "occurred_at",
    "local_hour",
    "camera_id",
    "event_type",
    "class_name",
    "zone",
    "line",
    "direction",
    "description_id",
)


def _conditions(where: ItemFilter) -> list[sa.ColumnElement[bool]]:
    c = search_items.c
    found: list[sa.ColumnElement[bool]] = []
    if where.since is not None:
        found.append(c.occurred_at >= where.since)
    if where.until is not None:
        found.append(c.occurred_at < where.until)
    hours = where.local_hours()
    if hours is not None:
        found.append(c.local_hour.in_(hours))
    if where.scope is not None:
        found.append(c.camera_id.in_(where.scope))
    for column, values in (
        (c.camera_id, where.camera_ids),
        (c.kind, where.kinds),
        (c.event_type, where.types),
        (c.class_name, where.classes),
        (c.zone, where.zones),
        (c.line, where.lines),
        (c.direction, where.directions),
    ):
        if values:
            found.append(column.in_(values))
    return found


class SqlSearchItemStore:
    """A ``SearchItemStore`` over ``search_descriptions`` and ``search_items``.

    Args:
        engine: The store's engine.
    """

    def __init__(self, engine: Bind) -> None:
        self._engine = engine
        self._insert = insert_for(engine)

    async def add(self, items: Sequence[SearchItem]) -> None:
        for start in range(0, len(items), _BATCH):
            await self._add(items[start : start + _BATCH])

    async def _add(self, items: Sequence[SearchItem]) -> None:
        texts = sorted({item.text for item in items})
        d = search_descriptions.c
        async with transaction(self._engine, "indexing search items") as connection:
            if texts:
                await connection.execute(
                    self._insert(search_descriptions)
                    .values([{"text": t} for t in texts])
                    .on_conflict_do_nothing(index_elements=[d.text])
                )
            rows = await connection.execute(sa.select(d.id, d.text).where(d.text.in_(texts)))
            ids = {row.text: row.id for row in rows}
            keys = [(item.kind, item.item_id) for item in items]
            c = search_items.c
            await connection.execute(
                sa.delete(search_items).where(sa.tuple_(c.kind, c.item_id).in_(keys))
            )
            latest = {(i.kind, i.item_id): i for i in items}
            await connection.execute(
                sa.insert(search_items),
                [_row(item, ids[item.text]) for item in latest.values()],
            )

    async def has(self, kind: ItemKind, item_id: str) -> bool:
        c = search_items.c
        async with transaction(self._engine, "reading a search item") as connection:
            found = await connection.scalar(
                sa.select(c.item_id).where(c.kind == kind, c.item_id == item_id)
            )
        return found is not None

    async def pending(self, model_ref: str, *, limit: int = 256) -> tuple[Description, ...]:
        check_limit(limit)
        d = search_descriptions.c
        query = (
            sa.select(d.id, d.text)
            .where(sa.or_(d.indexed_model.is_(None), d.indexed_model != model_ref))
            .order_by(d.id)
            .limit(limit)
        )
        async with transaction(self._engine, "reading search descriptions") as connection:
            rows = await connection.execute(query)
            return tuple(Description(row.id, row.text) for row in rows)

    async def mark_indexed(self, ids: Sequence[int], model_ref: str) -> None:
        d = search_descriptions.c
        async with transaction(self._engine, "marking search descriptions") as connection:
            await connection.execute(
                sa.update(search_descriptions)
                .where(d.id.in_(list(ids)))
                .values(indexed_model=model_ref)
            )

    async def reset_indexed(self) -> None:
        async with transaction(self._engine, "resetting search descriptions") as connection:
            await connection.execute(sa.update(search_descriptions).values(indexed_model=None))

    async def counts(self) -> tuple[int, int]:
        async with transaction(self._engine, "counting search items") as connection:
            items = await connection.scalar(sa.select(sa.func.count()).select_from(search_items))
            texts = await connection.scalar(
                sa.select(sa.func.count()).select_from(search_descriptions)
            )
        return int(items or 0), int(texts or 0)

    async def find(
        self, where: ItemFilter, description_ids: Sequence[int] | None, *, limit: int
    ) -> tuple[SearchItem, ...]:
        check_limit(limit)
        c = search_items.c
        conditions = _conditions(where)
        if description_ids is not None:
            if not description_ids:
                return ()
            conditions.append(c.description_id.in_(list(description_ids)))
        return await self._select(conditions, limit)

    async def keyword(
        self, where: ItemFilter, words: Sequence[str], *, limit: int
    ) -> tuple[SearchItem, ...]:
        check_limit(limit)
        d = search_descriptions.c
        matching = sa.select(d.id).where(
            *(sa.func.lower(d.text).contains(w.lower(), autoescape=True) for w in words)
        )
        conditions = _conditions(where)
        conditions.append(search_items.c.description_id.in_(matching))
        return await self._select(conditions, limit)

    async def _select(
        self, conditions: list[sa.ColumnElement[bool]], limit: int
    ) -> tuple[SearchItem, ...]:
        c = search_items.c
        d = search_descriptions.c
        query = (
            sa.select(search_items, d.text)
            .join(search_descriptions, d.id == c.description_id)
            .where(*conditions)
            .order_by(c.occurred_at.desc(), c.item_id.desc())
            .limit(limit)
        )
        async with transaction(self._engine, "searching items") as connection:
            rows = await connection.execute(query)
            return tuple(_item(row) for row in rows)

    async def remove(self, kind: ItemKind, item_ids: Sequence[str]) -> None:
        c = search_items.c
        async with transaction(self._engine, "removing search items") as connection:
            for start in range(0, len(item_ids), _BATCH):
                chunk = list(item_ids[start : start + _BATCH])
                await connection.execute(
                    sa.delete(search_items).where(c.kind == kind, c.item_id.in_(chunk))
                )

    async def purge(self, where: ItemFilter, *, keep: Collection[str] = ()) -> int:
        c = search_items.c
        kept, removed, after = set(keep), 0, ""
        conditions = _conditions(where)
        while True:  # in batches by id: a hold list can be longer than a NOT IN allows
            async with transaction(self._engine, "purging search items") as connection:
                rows = await connection.execute(
                    sa.select(c.item_id)
                    .where(*conditions, c.item_id > after)
                    .order_by(c.item_id)
                    .limit(_BATCH)
                )
                ids = [str(row.item_id) for row in rows]
                doomed = [i for i in ids if i not in kept]
                if doomed:
                    result = await connection.execute(
                        sa.delete(search_items).where(*conditions, c.item_id.in_(doomed))
                    )
                    removed += int(result.rowcount or 0)
            if len(ids) < _BATCH:
                return removed
            after = ids[-1]

    async def item_ids(
        self, kind: ItemKind, *, until: datetime, after: str = "", limit: int
    ) -> tuple[str, ...]:
        check_limit(limit)
        c = search_items.c
        query = (
            sa.select(c.item_id)
            .where(c.kind == kind, c.occurred_at < until, c.item_id > after)
            .order_by(c.item_id)
            .limit(limit)
        )
        async with transaction(self._engine, "reading search item ids") as connection:
            rows = await connection.execute(query)
            return tuple(str(row.item_id) for row in rows)


def _row(item: SearchItem, description_id: int) -> dict[str, Any]:
    row: dict[str, Any] = {name: getattr(item, name) for name in _ITEM_COLUMNS}
    row.update(kind=item.kind, item_id=item.item_id, description_id=description_id)
    return row


def _item(row: sa.Row[Any]) -> SearchItem:
    return SearchItem(
        kind=row.kind,
        item_id=row.item_id,
        occurred_at=row.occurred_at,
        local_hour=row.local_hour,
        text=row.text,
        camera_id=row.camera_id,
        event_type=row.event_type,
        class_name=row.class_name,
        zone=row.zone,
        line=row.line,
        direction=row.direction,
        description_id=row.description_id,
    )

"""The search item store in memory (see ``ports.search_items``)."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import replace
from datetime import datetime

from argus.ports.search_items import (
    Description,
    ItemFilter,
    ItemKind,
    SearchItem,
    check_limit,
)

__all__ = ["MemorySearchItemStore", "item_matches"]


def item_matches(item: SearchItem, where: ItemFilter) -> bool:
    """Whether ``item`` passes every filter of ``where``."""
    hours = where.local_hours()
    checks = (
        where.since is None or item.occurred_at >= where.since,
        where.until is None or item.occurred_at < where.until,
        hours is None or item.local_hour in hours,
        not where.camera_ids or item.camera_id in where.camera_ids,
        where.scope is None or item.camera_id in where.scope,
        not where.kinds or item.kind in where.kinds,
        not where.types or item.event_type in where.types,
        not where.classes or item.class_name in where.classes,
        not where.zones or item.zone in where.zones,
        not where.lines or item.line in where.lines,
        not where.directions or item.direction in where.directions,
    )
    return all(checks)


class MemorySearchItemStore:
    """A ``SearchItemStore`` over dicts.

    Args:
        check: Raises ``StorageError`` once the store is closed.
    """

    def __init__(self, check: Callable[[], None] = lambda: None) -> None:
        self._check = check
        self._ids: dict[str, int] = {}
        self._texts: dict[int, str] = {}
        self._indexed: dict[int, str] = {}
        self._items: dict[tuple[str, str], SearchItem] = {}

    def _intern(self, text: str) -> int:
        found = self._ids.get(text)
        if found is None:
            found = len(self._ids) + 1
            self._ids[text] = found
            self._texts[found] = text
        return found

    async def add(self, items: Sequence[SearchItem]) -> None:
        self._check()
        for item in items:
            stored = replace(item, description_id=self._intern(item.text))
            self._items[(item.kind, item.item_id)] = stored

    async def has(self, kind: ItemKind, item_id: str) -> bool:
        self._check()
        return (kind, item_id) in self._items

    async def pending(self, model_ref: str, *, limit: int = 256) -> tuple[Description, ...]:
        self._check()
        check_limit(limit)
        ids = [i for i in sorted(self._texts) if self._indexed.get(i) != model_ref][:limit]
        return tuple(Description(i, self._texts[i]) for i in ids)

    async def mark_indexed(self, ids: Sequence[int], model_ref: str) -> None:
        self._check()
        for key in ids:
            if key in self._texts:
                self._indexed[key] = model_ref

    async def reset_indexed(self) -> None:
        self._check()
        self._indexed.clear()

    async def counts(self) -> tuple[int, int]:
        self._check()
        return len(self._items), len(self._texts)

    async def find(
        self, where: ItemFilter, description_ids: Sequence[int] | None, *, limit: int
    ) -> tuple[SearchItem, ...]:
        self._check()
        check_limit(limit)
        wanted = None if description_ids is None else set(description_ids)
        found = [
            item
            for item in self._items.values()
            if (wanted is None or item.description_id in wanted) and item_matches(item, where)
        ]
        found.sort(key=lambda i: (i.occurred_at, i.item_id), reverse=True)
        return tuple(found[:limit])

    async def keyword(
        self, where: ItemFilter, words: Sequence[str], *, limit: int
    ) -> tuple[SearchItem, ...]:
        self._check()
        check_limit(limit)
        lowered = [w.lower() for w in words]
        ids = [i for i, t in self._texts.items() if all(w in t.lower() for w in lowered)]
        return await self.find(where, ids, limit=limit)

    async def remove(self, kind: ItemKind, item_ids: Sequence[str]) -> None:
        self._check()
        for item_id in item_ids:
            self._items.pop((kind, item_id), None)

    async def purge(self, where: ItemFilter, *, keep: Collection[str] = ()) -> int:
        self._check()
        kept = set(keep)
        doomed = [
            key
            for key, item in self._items.items()
            if item.item_id not in kept and item_matches(item, where)
        ]
        for key in doomed:
            del self._items[key]
        return len(doomed)

    async def item_ids(
        self, kind: ItemKind, *, until: datetime, after: str = "", limit: int
    ) -> tuple[str, ...]:
        self._check()
        check_limit(limit)
        ids = sorted(
            item.item_id
            for (k, item_id), item in self._items.items()
            if k == kind and item_id > after and item.occurred_at < until
        )
        return tuple(ids[:limit])

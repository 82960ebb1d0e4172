"""The store behind search in words: distinct descriptions and what each describes.

Every indexed event, alert or incident is a ``SearchItem``: its kind and id,
camera, time, the fields filters use (type, class, zone, line, direction,
site-local hour) and the id of its description. Descriptions are interned:
one row per distinct text, so a million events that share a few thousand
descriptions need only a few thousand vectors. A description remembers which
encoder (``model_ref``) has indexed it, so a new or lost vector index is
filled again from the store.

Adding an item whose ``(kind, item_id)`` is stored replaces it (an alert's
description changes with its verdict); the store is the consumer's
idempotency check.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol, runtime_checkable

from argus.domain.errors import ValidationError

__all__ = [
    "MAX_FIND",
    "Description",
    "ItemFilter",
    "ItemKind",
    "SearchErasure",
    "SearchItem",
    "SearchItemStore",
    "check_limit",
]

ItemKind = Literal["event", "alert", "incident"]

MAX_FIND = 10_000
"""Most items one ``find`` or ``keyword`` call returns."""


def check_limit(limit: int) -> None:
    """Refuse a ``limit`` outside ``[1, MAX_FIND]`` (``ValidationError``)."""
    if not 1 <= limit <= MAX_FIND:
        raise ValidationError(f"limit must be in [1, {MAX_FIND}], got {limit}")


@dataclass(frozen=True, slots=True)
class SearchItem:
    """One searchable thing and its description.

    Attributes:
        kind: ``event``, ``alert`` or ``incident``.
        item_id: Its id.
        occurred_at: When it happened (timezone-aware).
        local_hour: The site-local hour of ``occurred_at`` (0-23).
        text: Its description (``argus.domain.event_text``).
        camera_id: Its camera, if one.
        event_type: The event type (of the alert's event for alerts).
        class_name: The object class, if one.
        zone: The zone's name, if one.
        line: The line's name, if one.
        direction: ``in`` or ``out`` for crossings.
        description_id: The interned description's id (set by the store on reads).
    """

    kind: ItemKind
    item_id: str
    occurred_at: datetime
    local_hour: int
    text: str
    camera_id: str | None = None
    event_type: str | None = None
    class_name: str | None = None
    zone: str | None = None
    line: str | None = None
    direction: str | None = None
    description_id: int = 0

    def __post_init__(self) -> None:
        if self.occurred_at.tzinfo is None:
            raise ValidationError("occurred_at must be timezone-aware")
        if not 0 <= self.local_hour <= 23:
            raise ValidationError("local_hour must be 0-23")
        if not self.text or len(self.text) > 1000:
            raise ValidationError("text must be 1-1000 characters")


@dataclass(frozen=True, slots=True)
class Description:
    """One distinct description.

    Attributes:
        id: Its key (also its key in the vector index).
        text: The words.
    """

    id: int
    text: str


@dataclass(frozen=True, slots=True)
class ItemFilter:
    """Which items a query returns; empty tuples and ``None`` do not filter.

    Attributes:
        since: At or after this moment.
        until: Strictly before this moment.
        hours: Site-local hour window ``(start, end)``, end exclusive; wraps
            midnight when ``start > end``.
        camera_ids: Any of these cameras (the query's cameras).
        scope: Only these cameras (the caller's scope; ``None``: all).
        kinds: Any of these kinds.
        types: Any of these event types.
        classes: Any of these classes.
        zones: Any of these zones.
        lines: Any of these lines.
        directions: Any of these directions.
    """

    since: datetime | None = None
    until: datetime | None = None
    hours: tuple[int, int] | None = None
    camera_ids: tuple[str, ...] = ()
    scope: tuple[str, ...] | None = None
    kinds: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    classes: tuple[str, ...] = ()
    zones: tuple[str, ...] = ()
    lines: tuple[str, ...] = ()
    directions: tuple[str, ...] = ()

    def local_hours(self) -> tuple[int, ...] | None:
        """The hours the window covers (``None``: no hour filter)."""
        if self.hours is None:
            return None
        start, end = self.hours
        if start < end:
            return tuple(range(start, min(end, 24)))
        return tuple(range(start, 24)) + tuple(range(end))


@runtime_checkable
class SearchItemStore(Protocol):
    """Interned descriptions and the items they describe."""

    async def add(self, items: Sequence[SearchItem]) -> None:
        """Store items (replacing those with the same kind and id), interning their texts."""
        ...

    async def has(self, kind: ItemKind, item_id: str) -> bool:
        """Whether an item is stored."""
        ...

    async def pending(self, model_ref: str, *, limit: int = 256) -> tuple[Description, ...]:
        """Descriptions that ``model_ref`` has not indexed yet, oldest first."""
        ...

    async def mark_indexed(self, ids: Sequence[int], model_ref: str) -> None:
        """Record that ``model_ref`` indexed these descriptions."""
        ...

    async def reset_indexed(self) -> None:
        """Forget which descriptions were indexed (the vector index was lost)."""
        ...

    async def counts(self) -> tuple[int, int]:
        """``(items, descriptions)`` stored."""
        ...

    async def find(
        self, where: ItemFilter, description_ids: Sequence[int] | None, *, limit: int
    ) -> tuple[SearchItem, ...]:
        """Matching items, newest first; only of ``description_ids`` when given."""
        ...

    async def keyword(
        self, where: ItemFilter, words: Sequence[str], *, limit: int
    ) -> tuple[SearchItem, ...]:
        """Matching items whose description contains every word, newest first."""
        ...

    async def remove(self, kind: ItemKind, item_ids: Sequence[str]) -> None:
        """Forget items (erasure, retention); their descriptions stay."""
        ...

    async def purge(self, where: ItemFilter, *, keep: Collection[str] = ()) -> int:
        """Forget every item ``where`` matches except those whose id is in ``keep``; how many."""
        ...

    async def item_ids(
        self, kind: ItemKind, *, until: datetime, after: str = "", limit: int
    ) -> tuple[str, ...]:
        """Ids of ``kind`` items that occurred before ``until``, above ``after``, ascending."""
        ...


@runtime_checkable
class SearchErasure(Protocol):
    """What privacy erasure and retention call so search forgets what they deleted."""

    async def erase_range(
        self, camera_id: str, since: datetime, until: datetime, keep: Collection[str]
    ) -> int:
        """Forget a camera's events in ``[since, until)`` except ``keep``; how many."""
        ...

    async def sweep(self, cutoffs: Mapping[str, datetime], keep_events: Collection[str]) -> int:
        """Forget what a retention sweep deleted (``cutoffs`` by retention kind); how many."""
        ...

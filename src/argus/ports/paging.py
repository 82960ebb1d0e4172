"""Paging: one page of a list, the limits on a page, and reading a paginated list whole.

Offset lists are paginated by ``limit`` and ``offset`` and report the ``total``
that matched; cursor lists (events) hand back ``next_cursor`` as well.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from argus.domain.errors import ValidationError

__all__ = ["MAX_PAGE", "Page", "all_pages", "check_page"]

T = TypeVar("T")

MAX_PAGE = 1000
"""Largest ``limit`` a list accepts."""


def check_page(limit: int, offset: int = 0) -> None:
    """Validate paging arguments.

    Raises:
        ValidationError: ``limit`` is outside ``[1, MAX_PAGE]`` or ``offset`` is negative.
    """
    if not 1 <= limit <= MAX_PAGE:
        raise ValidationError(f"limit must be in [1, {MAX_PAGE}], got {limit}")
    if offset < 0:
        raise ValidationError(f"offset must be >= 0, got {offset}")


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a list.

    Attributes:
        items: The entities of this page, in the list's order.
        total: How many entities match, over all pages.
        next_cursor: Where the next page starts (cursor-paginated lists), or
            ``None`` on the last page and for offset-paginated lists.
    """

    items: tuple[T, ...]
    total: int
    next_cursor: str | None = None


async def all_pages(fetch: Callable[[int], Awaitable[Page[T]]]) -> list[T]:
    """Every item of an offset-paginated list; ``fetch(offset)`` returns one page."""
    items: list[T] = []
    while True:
        page = await fetch(len(items))
        items += page.items
        if not page.items or len(items) >= page.total:
            return items

"""Reading offset-paginated lists whole."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from argus.ports.repositories import Page

__all__ = ["all_pages"]

T = TypeVar("T")


async def all_pages(fetch: Callable[[int], Awaitable[Page[T]]]) -> list[T]:
    """Every item of an offset-paginated list; ``fetch(offset)`` returns one page."""
    items: list[T] = []
    while True:
        page = await fetch(len(items))
        items += page.items
        if not page.items or len(items) >= page.total:
            return items

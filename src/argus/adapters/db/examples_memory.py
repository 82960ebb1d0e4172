"""The hard-example store in memory (see ``ports.hard_examples``).

``matches`` is the one reading of ``ExampleFilter``; the SQL store mirrors it
in SQL and the contract test holds them together.
"""

from __future__ import annotations

import builtins
from collections import Counter
from collections.abc import Callable, Sequence

from argus.domain.errors import ConflictError, NotFoundError, ValidationError
from argus.domain.hard_examples import ExampleSource, ExampleState, HardExample
from argus.ports.hard_examples import ExampleFilter, ExampleTally
from argus.ports.paging import Page, check_page

__all__ = ["MemoryHardExampleStore", "matches"]


def matches(example: HardExample, where: ExampleFilter) -> bool:
    """Whether ``example`` meets every condition of ``where``."""
    labelled_by = example.labelled_by
    return (
        (where.camera_ids is None or example.camera_id in where.camera_ids)
        and (where.sources is None or example.source in where.sources)
        and (where.states is None or example.state in where.states)
        and (where.assignee is None or example.assignee == where.assignee)
        and (where.labelled_by is None or labelled_by == where.labelled_by)
        and (
            where.not_labelled_by is None
            or (labelled_by is not None and labelled_by != where.not_labelled_by)
        )
        and (where.since is None or example.captured_at >= where.since)
        and (where.until is None or example.captured_at < where.until)
        and (where.model_ref is None or example.model_ref == where.model_ref)
        and (where.source_key is None or example.source_key == where.source_key)
    )


def check_version(example: HardExample, expected_version: int) -> None:
    """Refuse an update whose new value does not carry a later version."""
    if example.version <= expected_version:
        raise ValidationError(
            f"an updated example carries a version after {expected_version} "
            f"(got {example.version}); use HardExample.bumped"
        )


class MemoryHardExampleStore:
    """A ``HardExampleStore`` over a dict.

    Args:
        check: Raises ``StorageError`` once the store is closed.
    """

    def __init__(self, check: Callable[[], None]) -> None:
        self._check = check
        self._examples: dict[str, HardExample] = {}

    async def add(self, example: HardExample) -> bool:
        self._check()
        if example.source_key and any(
            e.source == example.source and e.source_key == example.source_key
            for e in self._examples.values()
        ):
            return False
        if example.id in self._examples:
            raise ConflictError(f"hard example {example.id} already exists")
        self._examples[example.id] = example
        return True

    async def get(self, example_id: str) -> HardExample:
        self._check()
        example = self._examples.get(example_id)
        if example is None:
            raise NotFoundError(f"no hard example {example_id}")
        return example

    def _matching(self, where: ExampleFilter, *, oldest_first: bool) -> list[HardExample]:
        found = [e for e in self._examples.values() if matches(e, where)]
        found.sort(key=lambda e: (e.captured_at, e.id), reverse=not oldest_first)
        return found

    async def list(
        self, where: ExampleFilter, *, limit: int = 50, offset: int = 0, oldest_first: bool = False
    ) -> Page[HardExample]:
        self._check()
        check_page(limit, offset)
        found = self._matching(where, oldest_first=oldest_first)
        return Page(tuple(found[offset : offset + limit]), len(found))

    async def count(self, where: ExampleFilter) -> int:
        self._check()
        return sum(1 for e in self._examples.values() if matches(e, where))

    async def tally(self, where: ExampleFilter) -> Sequence[ExampleTally]:
        self._check()
        counts: Counter[tuple[str, ExampleSource, ExampleState]] = Counter(
            (e.camera_id, e.source, e.state) for e in self._examples.values() if matches(e, where)
        )
        return tuple(ExampleTally(c, so, st, n) for (c, so, st), n in counts.items())

    async def update(self, example: HardExample, *, expected_version: int) -> None:
        self._check()
        check_version(example, expected_version)
        stored = await self.get(example.id)
        if stored.version != expected_version:
            raise ConflictError(
                f"hard example {example.id} changed meanwhile "
                f"(version {stored.version}, expected {expected_version})"
            )
        self._examples[example.id] = example

    async def delete(self, example_id: str) -> None:
        self._check()
        if self._examples.pop(example_id, None) is None:
            raise NotFoundError(f"no hard example {example_id}")

    async def purge(self, where: ExampleFilter, *, limit: int = 500) -> Sequence[HardExample]:
        self._check()
        check_page(limit)
        gone: builtins.list[HardExample] = self._matching(where, oldest_first=True)[:limit]
        for example in gone:
            del self._examples[example.id]
        return tuple(gone)

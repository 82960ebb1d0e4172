"""The hard-example store (``Database.hard_examples``): the labelling queue.

The conventions of ``argus.ports.repositories`` hold: every method is one
transaction and a failing database raises ``StorageError``. ``update`` is
compare-and-set on ``version``: two people saving the same example never
overwrite each other silently (the second gets ``ConflictError``).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable

from argus.domain.hard_examples import ExampleSource, ExampleState, HardExample
from argus.ports.paging import Page

__all__ = ["ExampleFilter", "HardExampleStore"]


@dataclass(frozen=True, slots=True)
class ExampleFilter:
    """Which examples a list returns (every given condition must hold).

    Attributes:
        camera_ids: Within these cameras (``None``: any; empty: none).
        sources: Collected for one of these reasons.
        states: In one of these states.
        assignee: Held by this user.
        labelled_by: Labelled by this user.
        not_labelled_by: Not labelled by this user (someone else's, to review).
        since: Captured at or after.
        until: Captured before.
        model_ref: Produced by this model (``name@version``).
    """

    camera_ids: Collection[str] | None = None
    sources: Collection[ExampleSource] | None = None
    states: Collection[ExampleState] | None = None
    assignee: str | None = None
    labelled_by: str | None = None
    not_labelled_by: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    model_ref: str | None = None


@runtime_checkable
class HardExampleStore(Protocol):
    """Hard examples: add, read, list, count, update, delete."""

    async def add(self, example: HardExample) -> bool:
        """Store a new example; ``False`` when its ``(source, source_key)`` is already stored."""
        ...

    async def get(self, example_id: str) -> HardExample:
        """The example (``NotFoundError`` if unknown)."""
        ...

    async def list(
        self, where: ExampleFilter, *, limit: int = 50, offset: int = 0, oldest_first: bool = False
    ) -> Page[HardExample]:
        """Matching examples, newest capture first unless ``oldest_first``.

        Raises:
            ValidationError: ``limit`` is outside ``[1, 1000]`` or ``offset`` is negative.
        """
        ...

    async def count(self, where: ExampleFilter) -> int:
        """How many examples match (the per-camera sampling limits use it)."""
        ...

    async def update(self, example: HardExample, *, expected_version: int) -> None:
        """Replace the stored example if its version is still ``expected_version``.

        Raises:
            NotFoundError: Unknown example.
            ConflictError: Someone changed it since ``expected_version``.
        """
        ...

    async def delete(self, example_id: str) -> None:
        """Remove the example (``NotFoundError`` if unknown); its frame is the caller's."""
        ...

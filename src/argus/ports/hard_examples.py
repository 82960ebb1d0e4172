"""The hard-example store (``Database.hard_examples``): the labelling queue.

The conventions of ``argus.ports.repositories`` hold: every method is one
transaction and a failing database raises ``StorageError``. ``update`` is
compare-and-set on ``version``: two people saving the same example never
overwrite each other silently (the second gets ``ConflictError``).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable

from argus.domain.hard_examples import ExampleSource, ExampleState, HardExample
from argus.ports.paging import Page

__all__ = ["ExampleFilter", "ExampleTally", "HardExampleStore"]


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
        source_key: Collected from this alert or event (``HardExample.source_key``).

    An empty collection matches nothing; ``not_labelled_by`` matches only
    labelled examples (``labelled_by`` set and different).
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
    source_key: str | None = None


@dataclass(frozen=True, slots=True)
class ExampleTally:
    """How many examples of one camera, source and state there are.

    Attributes:
        camera_id: The camera.
        source: Why they were collected.
        state: Where they stand.
        count: How many (always positive).
    """

    camera_id: str
    source: ExampleSource
    state: ExampleState
    count: int


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

    async def tally(self, where: ExampleFilter) -> Sequence[ExampleTally]:
        """Counts of the matching examples by camera, source and state (any order)."""
        ...

    async def update(self, example: HardExample, *, expected_version: int) -> None:
        """Replace the stored example if its version is still ``expected_version``.

        The new value carries the next version (``example.bumped(...)``): its
        ``version`` must be greater than ``expected_version``.

        Raises:
            ValidationError: ``example.version`` is not greater than ``expected_version``.
            NotFoundError: Unknown example.
            ConflictError: Someone changed it since ``expected_version``.
        """
        ...

    async def delete(self, example_id: str) -> None:
        """Remove the example (``NotFoundError`` if unknown); its frame is the caller's."""
        ...

    async def purge(self, where: ExampleFilter, *, limit: int = 500) -> Sequence[HardExample]:
        """Delete up to ``limit`` matching examples, oldest capture first; return them.

        Privacy erasure and retention call it in batches and then delete the
        returned examples' frames.

        Raises:
            ValidationError: ``limit`` is outside ``[1, 1000]``.
        """
        ...

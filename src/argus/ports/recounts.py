"""The re-count job store (``Database.recounts``): jobs that survive a restart.

The conventions of ``argus.ports.repositories`` hold: every method is one
transaction and a failing database raises ``StorageError``. ``claim`` is the
one way a job starts running: it moves the oldest queued job to ``running``
in one statement, so two workers never take the same job.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Literal, Protocol, runtime_checkable

from argus.domain.recount_jobs import LineRecount, RecountJob

__all__ = ["RecountJobStore"]


@runtime_checkable
class RecountJobStore(Protocol):
    """Re-count jobs: add, read, list, claim, finish, requeue."""

    async def add(self, job: RecountJob) -> None:
        """Store a new job (``ConflictError`` if its id is taken)."""
        ...

    async def get(self, job_id: str) -> RecountJob:
        """The job (``NotFoundError`` if unknown)."""
        ...

    async def list(
        self,
        *,
        camera_id: str | None = None,
        camera_ids: Collection[str] | None = None,
        limit: int = 50,
    ) -> tuple[RecountJob, ...]:
        """The newest jobs first, of ``camera_id`` and within ``camera_ids`` when given.

        Raises:
            ValidationError: ``limit`` is outside ``[1, 1000]``.
        """
        ...

    async def claim(self, now: datetime) -> RecountJob | None:
        """Move the oldest queued job to ``running`` (``started_at = now``) and return it."""
        ...

    async def finish(
        self,
        job_id: str,
        *,
        status: Literal["done", "failed"],
        now: datetime,
        lines: Sequence[LineRecount] = (),
        samples: int = 0,
        error: str | None = None,
    ) -> None:
        """Record a running job's end (``NotFoundError`` if unknown)."""
        ...

    async def requeue(self) -> int:
        """Queue every ``running`` job again (at start: their worker is gone); how many."""
        ...

"""The re-count job store in memory (see ``ports.recounts``)."""

from __future__ import annotations

import builtins
from collections.abc import Callable, Collection, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Literal

from argus.domain.errors import ConflictError, NotFoundError
from argus.domain.recount_jobs import LineRecount, RecountJob
from argus.ports.paging import check_page

__all__ = ["MemoryRecountJobStore"]


class MemoryRecountJobStore:
    """A ``RecountJobStore`` over a dict.

    Args:
        check: Raises ``StorageError`` once the store is closed.
    """

    def __init__(self, check: Callable[[], None]) -> None:
        self._check = check
        self._jobs: dict[str, RecountJob] = {}

    async def add(self, job: RecountJob) -> None:
        self._check()
        if job.id in self._jobs:
            raise ConflictError(f"re-count job {job.id} already exists")
        self._jobs[job.id] = job

    async def get(self, job_id: str) -> RecountJob:
        self._check()
        job = self._jobs.get(job_id)
        if job is None:
            raise NotFoundError(f"no re-count job {job_id}")
        return job

    async def list(
        self,
        *,
        camera_id: str | None = None,
        camera_ids: Collection[str] | None = None,
        limit: int = 50,
    ) -> tuple[RecountJob, ...]:
        self._check()
        check_page(limit)
        jobs: builtins.list[RecountJob] = [
            j
            for j in self._jobs.values()
            if (camera_id is None or j.camera_id == camera_id)
            and (camera_ids is None or j.camera_id in camera_ids)
        ]
        jobs.sort(key=lambda j: (j.created_at, j.id), reverse=True)
        return tuple(jobs[:limit])

    async def claim(self, now: datetime) -> RecountJob | None:
        self._check()
        queued = [j for j in self._jobs.values() if j.status == "queued"]
        if not queued:
            return None
        job = min(queued, key=lambda j: (j.created_at, j.id))
        taken = replace(job, status="running", started_at=now)
        self._jobs[job.id] = taken
        return taken

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
        job = await self.get(job_id)
        self._jobs[job_id] = replace(
            job,
            status=status,
            finished_at=now,
            lines=tuple(lines),
            samples=samples,
            error=error,
        )

    async def requeue(self) -> int:
        self._check()
        running = [j for j in self._jobs.values() if j.status == "running"]
        for job in running:
            self._jobs[job.id] = replace(job, status="queued")
        return len(running)

"""The re-count job store on SQL (see ``ports.recounts``).

``claim`` picks the oldest queued job and moves it to ``running`` with a
conditional update (``WHERE status = 'queued'``) in one transaction: when two
servers race for one job, one update matches no row and that server tries the
next job.
"""

from __future__ import annotations

import builtins
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any, Literal

import sqlalchemy as sa

from argus.adapters.db._sqlcore import Bind, transaction
from argus.adapters.db.tables_recounts import recount_jobs
from argus.domain.errors import NotFoundError
from argus.domain.recount_jobs import LineRecount, RecountJob, RecountStatus
from argus.ports.paging import check_page

__all__ = ["SqlRecountJobStore"]

_CLAIM_TRIES = 5


def _row(job: RecountJob) -> dict[str, Any]:
    return {
        "id": job.id,
        "camera_id": job.camera_id,
        "status": job.status,
        "start": job.start,
        "end": job.end,
        "requested_by": job.requested_by,
        "created_at": job.created_at,
        "started_at": job.started_at,
        "finished_at": job.finished_at,
        "result": _result(job.lines, job.samples),
        "error": job.error,
    }


def _result(lines: Sequence[LineRecount], samples: int) -> dict[str, Any]:
    return {"lines": [line.to_dict() for line in lines], "samples": samples}


def _job(row: sa.Row[Any]) -> RecountJob:
    result: dict[str, Any] = dict(row.result or {})
    status: RecountStatus = row.status
    return RecountJob(
        id=row.id,
        camera_id=row.camera_id,
        start=row.start,
        end=row.end,
        status=status,
        requested_by=row.requested_by,
        created_at=row.created_at,
        started_at=row.started_at,
        finished_at=row.finished_at,
        lines=tuple(LineRecount.from_dict(item) for item in result.get("lines") or ()),
        samples=int(result.get("samples") or 0),
        error=row.error,
    )


class SqlRecountJobStore:
    """A ``RecountJobStore`` over the ``recount_jobs`` table.

    Args:
        engine: The store's engine.
    """

    def __init__(self, engine: Bind) -> None:
        self._engine = engine

    async def add(self, job: RecountJob) -> None:
        async with transaction(self._engine, f"adding re-count job {job.id}") as connection:
            await connection.execute(sa.insert(recount_jobs).values(_row(job)))

    async def get(self, job_id: str) -> RecountJob:
        async with transaction(self._engine, f"reading re-count job {job_id}") as connection:
            row = (
                await connection.execute(sa.select(recount_jobs).where(recount_jobs.c.id == job_id))
            ).first()
        if row is None:
            raise NotFoundError(f"no re-count job {job_id}")
        return _job(row)

    async def list(
        self,
        *,
        camera_id: str | None = None,
        camera_ids: Collection[str] | None = None,
        limit: int = 50,
    ) -> tuple[RecountJob, ...]:
        check_page(limit)
        where: builtins.list[Any] = []
        if camera_id is not None:
            where.append(recount_jobs.c.camera_id == camera_id)
        if camera_ids is not None:
            where.append(recount_jobs.c.camera_id.in_(builtins.list(camera_ids)))
        query = (
            sa.select(recount_jobs)
            .where(*where)
            .order_by(recount_jobs.c.created_at.desc(), recount_jobs.c.id.desc())
            .limit(limit)
        )
        async with transaction(self._engine, "listing re-count jobs") as connection:
            rows = (await connection.execute(query)).all()
        return tuple(_job(row) for row in rows)

    async def claim(self, now: datetime) -> RecountJob | None:
        oldest = (
            sa.select(recount_jobs.c.id)
            .where(recount_jobs.c.status == "queued")
            .order_by(recount_jobs.c.created_at, recount_jobs.c.id)
            .limit(1)
        )
        async with transaction(self._engine, "claiming a re-count job") as connection:
            for _ in range(_CLAIM_TRIES):
                job_id = await connection.scalar(oldest)
                if job_id is None:
                    return None
                taken = await connection.execute(
                    sa.update(recount_jobs)
                    .where(recount_jobs.c.id == job_id, recount_jobs.c.status == "queued")
                    .values(status="running", started_at=now)
                )
                if taken.rowcount:
                    row = (
                        await connection.execute(
                            sa.select(recount_jobs).where(recount_jobs.c.id == job_id)
                        )
                    ).one()
                    return _job(row)
        return None

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
        async with transaction(self._engine, f"finishing re-count job {job_id}") as connection:
            result = await connection.execute(
                sa.update(recount_jobs)
                .where(recount_jobs.c.id == job_id)
                .values(
                    status=status,
                    finished_at=now,
                    result=_result(lines, samples),
                    error=error,
                )
            )
        if not result.rowcount:
            raise NotFoundError(f"no re-count job {job_id}")

    async def requeue(self) -> int:
        async with transaction(self._engine, "requeueing re-count jobs") as connection:
            result = await connection.execute(
                sa.update(recount_jobs)
                .where(recount_jobs.c.status == "running")
                .values(status="queued")
            )
        return max(int(result.rowcount or 0), 0)

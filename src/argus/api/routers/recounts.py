"""Re-count jobs: a camera's period counted again from its trajectory log.

``POST /cameras/{camera_id}/recounts`` queues a job (202; operators and
admins); ``GET /recounts/{id}`` reads it with its per-line live and
re-counted figures once done; ``GET /recounts?camera_id=`` lists the newest.
Reads need ``view``. The service audits requests and their ends.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from argus.api.deps import CameraId, RuntimeDep
from argus.api.schemas.common import AUTH_RESPONSES, ERROR_RESPONSES
from argus.api.schemas.recounts import RecountCreate, RecountList, RecountPublic
from argus.api.security import Acting
from argus.services.recount_jobs import RecountService

__all__ = ["router"]

router = APIRouter(tags=["analytics"], responses={**ERROR_RESPONSES, **AUTH_RESPONSES})

JobId = Annotated[str, Path(min_length=1, max_length=64, description="Re-count job id.")]


def get_recounts(runtime: RuntimeDep) -> RecountService:
    """The app's re-count jobs."""
    return runtime.recounts


RecountsDep = Annotated[RecountService, Depends(get_recounts)]


@router.post("/cameras/{camera_id}/recounts", status_code=202, summary="Re-count a camera's period")
async def create(
    camera_id: CameraId, body: RecountCreate, recounts: RecountsDep, actor: Acting
) -> RecountPublic:
    """Queue a re-count of the period (at most 31 days) with the camera's current lines."""
    return RecountPublic.of(await recounts.request(actor, camera_id, body.start, body.end))


@router.get("/recounts/{job_id}", summary="Get a re-count job")
async def get(job_id: JobId, recounts: RecountsDep, actor: Acting) -> RecountPublic:
    """The job's status and, once done, live and re-counted crossings per line."""
    return RecountPublic.of(await recounts.get(actor, job_id))


@router.get("/recounts", summary="List re-count jobs")
async def list_jobs(
    recounts: RecountsDep,
    actor: Acting,
    camera_id: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 20,
) -> RecountList:
    """The newest jobs first (of one camera when ``camera_id`` is given)."""
    jobs = await recounts.list(actor, camera_id=camera_id, limit=limit)
    return RecountList(items=[RecountPublic.of(job) for job in jobs])

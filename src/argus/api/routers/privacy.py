"""``/api/v1/privacy``: erasure and export requests (admin only).

The app mounts it behind ``Guard("admin", "admin")``. Erasing a face subject
removes its descriptors, its workstation decisions and their evidence frames,
except what a legal hold or a lock keeps (listed with the reason); exporting
one returns everything held about it as an encrypted bundle; erasing a
camera's time range removes its events, evidence and continuous recordings
there (segments across the range's edges cut at keyframes), holds respected.
Each request is audited and listed at ``GET /privacy/requests``. See
``argus.services.privacy``.
"""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response

from argus.api.deps import RuntimeDep
from argus.api.schemas.common import AUTH_RESPONSES, ERROR_RESPONSES
from argus.api.schemas.privacy import (
    PrivacyRequestList,
    RangeErasureCreate,
    RangeErasurePublic,
    SubjectErasureCreate,
    SubjectErasurePublic,
    SubjectExportCreate,
)
from argus.api.security import Acting, Caller
from argus.ports.paging import MAX_PAGE
from argus.services.privacy import PrivacyService

__all__ = ["EXPORT_MEDIA_TYPE", "router"]

router = APIRouter(
    prefix="/privacy", tags=["privacy"], responses={**ERROR_RESPONSES, **AUTH_RESPONSES}
)

EXPORT_MEDIA_TYPE = "application/octet-stream"
"""The media type of a sealed subject export."""

SubjectId = Annotated[str, Path(min_length=1, max_length=64, description="Face subject id.")]


def get_privacy(runtime: RuntimeDep) -> PrivacyService:
    """The app's privacy service."""
    return runtime.privacy


PrivacyDep = Annotated[PrivacyService, Depends(get_privacy)]


@router.post("/subjects/{subject_id}/erase", summary="Erase a face subject")
async def erase_subject(
    subject_id: SubjectId, body: SubjectErasureCreate, actor: Acting, privacy: PrivacyDep
) -> SubjectErasurePublic:
    """Erase the subject, its descriptors, decisions and evidence frames (holds respected)."""
    return SubjectErasurePublic.of(await privacy.erase_subject(actor, subject_id, body.reason))


@router.post(
    "/subjects/{subject_id}/export",
    summary="Export what is held about a face subject",
    response_class=Response,
    responses={200: {"content": {EXPORT_MEDIA_TYPE: {}}, "description": "The sealed bundle."}},
)
async def export_subject(
    subject_id: SubjectId, body: SubjectExportCreate, actor: Acting, privacy: PrivacyDep
) -> Response:
    """A zip of everything held about the subject, sealed under the passphrase."""
    sealed = await privacy.export_subject(actor, subject_id, body.passphrase, body.reason)
    name = re.sub(r"[^A-Za-z0-9_-]", "_", subject_id)
    return Response(
        content=sealed,
        media_type=EXPORT_MEDIA_TYPE,
        headers={
            "Content-Disposition": f'attachment; filename="argus-subject-{name}.argusx"',
            "Cache-Control": "no-store",
        },
    )


@router.post(
    "/erasures", summary="Erase a camera's events, evidence and recordings in a time range"
)
async def erase_range(
    body: RangeErasureCreate, actor: Acting, privacy: PrivacyDep
) -> RangeErasurePublic:
    """Erase events, evidence and recordings of the camera in ``[since, until)`` (holds
    respected); ``recordings`` says what was deleted and cut, and how many seconds outside
    the range keyframe-aligned cuts took with them."""
    result = await privacy.erase_range(actor, body.camera_id, body.since, body.until, body.reason)
    return RangeErasurePublic.of(result)


@router.get("/requests", summary="List privacy requests")
async def list_requests(
    who: Caller,
    privacy: PrivacyDep,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> PrivacyRequestList:
    """The erasure and export requests made, newest first."""
    del who
    page = await privacy.requests(limit=limit, offset=offset)
    return PrivacyRequestList.page(list(page.items), page.total, limit, offset)

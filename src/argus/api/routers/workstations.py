"""``/api/v1/workstations``: face subjects and enrolment, verify clients, capacity, decisions.

Admin only (the app mounts it behind ``Guard("admin", "admin")``): these
routes hold biometric references and decide who may use a workstation, so
viewers do not read them either. Enrolment takes photos (multipart, at most
``MAX_PHOTOS`` of ``MAX_PHOTO_BYTES`` each), keeps one descriptor and one small
face thumbnail per photo, and discards the photos. Thumbnails are served with
``Cache-Control: private, no-store`` (biometric data: no shared cache keeps it).
Every change is in the audit trail.
"""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, File, Path, Query, Response, UploadFile

from argus.api.deps import RuntimeDep
from argus.api.schemas.common import AUTH_RESPONSES, ERROR_RESPONSES, ErrorBody
from argus.api.schemas.workstations import (
    CapacityPublic,
    ClientCreate,
    ClientCreated,
    ClientList,
    ClientPublic,
    ClientUpdate,
    DecisionList,
    DecisionPublic,
    EnrolmentPublic,
    SubjectCreate,
    SubjectErased,
    SubjectList,
    SubjectPublic,
)
from argus.api.security import Acting, Caller
from argus.domain.errors import ValidationError
from argus.domain.workstations import ClientStatus
from argus.ports.paging import MAX_PAGE

__all__ = ["MAX_PHOTOS", "MAX_PHOTO_BYTES", "PHOTO_PATH", "PHOTO_UPLOAD_LIMIT", "router"]

router = APIRouter(
    prefix="/workstations", tags=["workstations"], responses={**ERROR_RESPONSES, **AUTH_RESPONSES}
)

MAX_PHOTOS = 10
"""Photos one enrolment upload may carry."""
MAX_PHOTO_BYTES = 8 << 20
"""Bytes one photo may have."""
PHOTO_PATH = re.compile(r"^/api/v1/workstations/subjects/[^/]+/photos$")
"""The route that takes a large body."""
PHOTO_UPLOAD_LIMIT = 24 << 20
"""Bytes an enrolment upload may have (photos and multipart framing)."""

SubjectId = Annotated[str, Path(min_length=1, max_length=64, description="Subject id.")]
ClientId = Annotated[str, Path(min_length=1, max_length=64, description="Client id.")]
PhotoId = Annotated[str, Path(min_length=1, max_length=64, description="Thumbnail id.")]
_PRIVATE = {"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"}
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE, description="Page size.")]
Offset = Annotated[int, Query(ge=0, le=1_000_000, description="Items to skip.")]


@router.post("/subjects", status_code=201, summary="Create a face subject")
async def create_subject(body: SubjectCreate, actor: Acting, runtime: RuntimeDep) -> SubjectPublic:
    """A person who may use workstations; enrol their face by uploading photos."""
    subject = await runtime.workstations.create_subject(actor, body.name)
    return SubjectPublic.of(subject, 0)


@router.get("/subjects", summary="List face subjects")
async def list_subjects(
    who: Caller, runtime: RuntimeDep, limit: Limit = 50, offset: Offset = 0
) -> SubjectList:
    """Subjects, oldest first, with their descriptor counts."""
    del who
    page = await runtime.workstations.list_subjects(limit=limit, offset=offset)
    return SubjectList(
        items=[SubjectPublic.view(s) for s in page.items],
        total=page.total,
        limit=limit,
        offset=offset,
    )


@router.get("/subjects/{subject_id}", summary="Get a face subject")
async def get_subject(subject_id: SubjectId, who: Caller, runtime: RuntimeDep) -> SubjectPublic:
    """One subject."""
    del who
    return SubjectPublic.view(await runtime.workstations.get_subject(subject_id))


@router.delete("/subjects/{subject_id}", summary="Delete a face subject (GDPR erasure)")
async def delete_subject(
    subject_id: SubjectId, actor: Acting, runtime: RuntimeDep
) -> SubjectErased:
    """Delete the subject, erase its descriptors and face thumbnails, and remove it from every
    client."""
    erased = await runtime.workstations.delete_subject(actor, subject_id)
    return SubjectErased(id=subject_id, erased_embeddings=erased)


@router.post(
    "/subjects/{subject_id}/photos",
    status_code=201,
    summary="Enrol a subject's face from photos",
    responses={
        413: {"model": ErrorBody, "description": f"The upload is over {PHOTO_UPLOAD_LIMIT} bytes."}
    },
)
async def enrol(
    subject_id: SubjectId,
    actor: Acting,
    runtime: RuntimeDep,
    photos: Annotated[
        list[UploadFile],
        File(
            description=f"JPEG or PNG photos showing the subject's face alone (at most "
            f"{MAX_PHOTOS}, {MAX_PHOTO_BYTES} bytes each)."
        ),
    ],
) -> EnrolmentPublic:
    """One reference descriptor and one face thumbnail per photo; a photo with no face or
    several is refused (422) and nothing is stored. The photos are not kept."""
    if len(photos) > MAX_PHOTOS:
        raise ValidationError(f"send at most {MAX_PHOTOS} photos at once")
    data = []
    for number, photo in enumerate(photos, 1):
        content = await photo.read(MAX_PHOTO_BYTES + 1)
        if len(content) > MAX_PHOTO_BYTES:
            raise ValidationError(f"photo {number} is over {MAX_PHOTO_BYTES} bytes")
        data.append(content)
    service = runtime.workstations
    made = await service.enrol(actor, subject_id, data)
    seen = await service.get_subject(subject_id)
    return EnrolmentPublic(
        subject_id=subject_id,
        added=len(made),
        embeddings=seen.embeddings,
        model=made[0].model,
        photos=[e.id for e in made if e.thumbnail is not None],
    )


@router.get(
    "/subjects/{subject_id}/photos/{photo_id}",
    summary="Get an enrolled face thumbnail",
    response_class=Response,
    responses={200: {"content": {"image/jpeg": {}}, "description": "The face, JPEG."}},
)
async def photo(
    subject_id: SubjectId, photo_id: PhotoId, who: Caller, runtime: RuntimeDep
) -> Response:
    """The face an enrolment photo showed, cropped and scaled down (the photo is not kept).

    Ids are in the subject's ``photos``. Never stored by shared caches."""
    del who
    data = await runtime.workstations.thumbnail(subject_id, photo_id)
    return Response(content=data, media_type="image/jpeg", headers=_PRIVATE)


@router.post("/clients", status_code=201, summary="Register a workstation client")
async def register(body: ClientCreate, actor: Acting, runtime: RuntimeDep) -> ClientCreated:
    """A client and the subjects allowed at it; its key is in this answer only."""
    issued = await runtime.workstations.register(actor, body.name, body.subjects)
    public = ClientPublic.of(issued.client, await runtime.verify.view())
    return ClientCreated(**public.model_dump(), key=issued.key)


@router.get("/clients", summary="List workstation clients")
async def list_clients(
    who: Caller, runtime: RuntimeDep, limit: Limit = 50, offset: Offset = 0
) -> ClientList:
    """Clients, oldest first, with their status and where they are now."""
    del who
    page = await runtime.workstations.list_clients(limit=limit, offset=offset)
    view = await runtime.verify.view()
    return ClientList(
        items=[ClientPublic.of(c, view) for c in page.items],
        total=page.total,
        limit=limit,
        offset=offset,
    )


@router.get("/clients/{client_id}", summary="Get a workstation client")
async def get_client(client_id: ClientId, who: Caller, runtime: RuntimeDep) -> ClientPublic:
    """One client, its status and where it is now."""
    del who
    client = await runtime.workstations.get_client(client_id)
    return ClientPublic.of(client, await runtime.verify.view())


@router.patch("/clients/{client_id}", summary="Change a workstation client")
async def update_client(
    client_id: ClientId, body: ClientUpdate, actor: Acting, runtime: RuntimeDep
) -> ClientPublic:
    """Rename it or change the subjects allowed at it (a live session takes them at once)."""
    client = await runtime.workstations.update_client(
        actor, client_id, name=body.name, subjects=body.subjects
    )
    return ClientPublic.of(client, await runtime.verify.view())


@router.delete("/clients/{client_id}", status_code=204, summary="Delete a workstation client")
async def delete_client(client_id: ClientId, actor: Acting, runtime: RuntimeDep) -> Response:
    """Remove the client (a live session ends; its decision history stays)."""
    await runtime.workstations.delete_client(actor, client_id)
    return Response(status_code=204)


async def _set_status(
    client_id: str, status: ClientStatus, actor: Acting, runtime: RuntimeDep
) -> ClientPublic:
    client = await runtime.workstations.set_status(actor, client_id, status)
    return ClientPublic.of(client, await runtime.verify.view())


@router.post("/clients/{client_id}/pause", summary="Pause a workstation client")
async def pause(client_id: ClientId, actor: Acting, runtime: RuntimeDep) -> ClientPublic:
    """Refuse the client until it is unblocked (a live session ends with 4403)."""
    return await _set_status(client_id, "paused", actor, runtime)


@router.post("/clients/{client_id}/block", summary="Block a workstation client")
async def block(client_id: ClientId, actor: Acting, runtime: RuntimeDep) -> ClientPublic:
    """Block the client (a live session ends with 4403)."""
    return await _set_status(client_id, "blocked", actor, runtime)


@router.post("/clients/{client_id}/unblock", summary="Unblock a workstation client")
async def unblock(client_id: ClientId, actor: Acting, runtime: RuntimeDep) -> ClientPublic:
    """Lift a block or a pause: the client may connect again."""
    return await _set_status(client_id, "active", actor, runtime)


@router.get("/pipelines", summary="Pipelines and the queue")
async def pipelines(who: Caller, runtime: RuntimeDep) -> CapacityPublic:
    """The shared capacity state: limits, running pipelines and their clients, the queue."""
    del who
    return CapacityPublic.of(await runtime.verify.view(), runtime.verify.analysed())


@router.get("/decisions", summary="Decision history")
async def decisions(
    who: Caller,
    runtime: RuntimeDep,
    client_id: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> DecisionList:
    """Non-allow decisions sent to clients (lock screen, sign out, block), newest first."""
    del who
    page = await runtime.workstations.decisions(client_id=client_id, limit=limit, offset=offset)
    return DecisionList(
        items=[DecisionPublic.of(r) for r in page.items],
        total=page.total,
        limit=limit,
        offset=offset,
    )

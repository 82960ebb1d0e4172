"""``/api/v1/evidence``: encrypted alert and incident evidence; ``/incidents/{id}/evidence``.

Reading content verifies the object's HMAC (over ciphertext and metadata)
before decrypting and checks the plaintext's sha256; anything altered is
reported (409) and never served. Every read, export, lock, upload and delete
is in the audit trail. A listed row that contradicts itself (edited in the
database) is reported in place with ``tampered: true`` and the rest is listed;
an alert whose evidence could not be captured has a gap (``/evidence/gaps``,
and ``gaps`` of ``GET /evidence?alert_id=``). Viewers read; operators lock, export and upload;
deleting needs an admin (locked evidence cannot be deleted at all).
"""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Path, Query, Response, UploadFile

from argus.api.deps import RuntimeDep
from argus.api.routers.incidents import scoped_incident
from argus.api.schemas.common import AUTH_RESPONSES, ERROR_RESPONSES, ErrorBody
from argus.api.schemas.evidence import (
    EvidenceExport,
    EvidenceGapList,
    EvidenceGapPublic,
    EvidenceList,
    EvidencePublic,
    PublicKey,
)
from argus.api.security import Acting, Caller
from argus.domain.errors import ValidationError
from argus.domain.evidence import key_fingerprint
from argus.ports.evidence import EvidenceFilter
from argus.ports.paging import MAX_PAGE
from argus.services.evidence import EvidenceService

__all__ = ["UPLOAD_LIMIT", "UPLOAD_PATH", "bundle_router", "incident_router", "router"]

router = APIRouter(
    prefix="/evidence", tags=["evidence"], responses={**ERROR_RESPONSES, **AUTH_RESPONSES}
)
bundle_router = APIRouter(
    prefix="/evidence-bundles", tags=["evidence"], responses={**ERROR_RESPONSES, **AUTH_RESPONSES}
)
incident_router = APIRouter(
    prefix="/incidents", tags=["evidence"], responses={**ERROR_RESPONSES, **AUTH_RESPONSES}
)

UPLOAD_PATH = re.compile(r"^/api/v1/incidents/[^/]+/evidence$")
"""The one route that takes a large body."""
UPLOAD_LIMIT = 25 << 20
"""Bytes an uploaded file may have (with its multipart framing)."""

_TAMPERED: dict[int | str, dict[str, object]] = {
    409: {
        "model": ErrorBody,
        "description": "The stored object or its metadata failed the integrity check "
        "(reported and audited, never served), or the evidence is locked.",
    }
}
_CONTENT_TYPE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]{0,63}/[a-z0-9][a-z0-9!#$&^_.+-]{0,63}$")
_UPLOAD_TYPES = frozenset(
    {
        "image/jpeg",
        "image/png",
        "video/mp4",
        "application/pdf",
        "text/plain",
        "application/octet-stream",
    }
)
_FILENAME = re.compile(r"^[^/\\\x00-\x1f]{1,200}$")

EvidenceId = Annotated[str, Path(min_length=1, max_length=64, description="Evidence id.")]
IncidentId = Annotated[str, Path(min_length=1, max_length=64, description="Incident id.")]


def _evidence(runtime: RuntimeDep) -> EvidenceService:
    return runtime.evidence


EvidenceDep = Annotated[EvidenceService, Depends(_evidence)]


@router.get("", summary="List evidence")
async def list_evidence(
    evidence: EvidenceDep,
    actor: Acting,
    alert_id: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
    incident_id: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    camera_id: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
    locked: Annotated[bool | None, Query(description="Only (not) locked items.")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> EvidenceList:
    """Evidence metadata, oldest first (a camera-scoped caller sees its cameras' only).

    A row edited in the database is listed with ``tampered: true``; with
    ``alert_id``, ``gaps`` says why the alert's evidence is missing, if it is.
    """
    where = EvidenceFilter(
        alert_id=alert_id, incident_id=incident_id, camera_id=camera_id, locked=locked
    )
    page = await evidence.browse(where, actor=actor, limit=limit, offset=offset)
    gaps = (
        []
        if alert_id is None
        else (await evidence.gaps(alert_id=alert_id, actor=actor, limit=MAX_PAGE)).items
    )
    return EvidenceList.of_page(page, limit, offset, gaps=gaps)


@router.get("/gaps", summary="Evidence gaps")
async def list_gaps(
    evidence: EvidenceDep,
    actor: Acting,
    alert_id: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
    camera_id: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> EvidenceGapList:
    """Alerts whose evidence could not be captured (shed, no frames, failed), newest first."""
    page = await evidence.gaps(
        alert_id=alert_id, camera_id=camera_id, actor=actor, limit=limit, offset=offset
    )
    return EvidenceGapList(
        items=[EvidenceGapPublic.of(g) for g in page.items],
        total=page.total,
        limit=limit,
        offset=offset,
    )


@router.get("/keys/signing", summary="Bundle signing key")
async def public_key(evidence: EvidenceDep, actor: Acting) -> PublicKey:
    """The Ed25519 key export bundles are signed with; pin it when verifying offline."""
    del actor
    key = evidence.public_key
    return PublicKey(public_key_hex=key.hex(), fingerprint=key_fingerprint(key))


@router.get("/{evidence_id}", summary="Evidence metadata")
async def get_evidence(
    evidence_id: EvidenceId, evidence: EvidenceDep, actor: Acting
) -> EvidencePublic:
    """One item's metadata (not verified: its content and /verify are)."""
    return EvidencePublic.of(await evidence.get(evidence_id, actor=actor))


@router.get(
    "/{evidence_id}/content",
    summary="Evidence content",
    response_class=Response,
    responses={
        200: {
            "content": {"application/octet-stream": {}, "image/jpeg": {}, "video/mp4": {}},
            "description": "The verified, decrypted content.",
        },
        **_TAMPERED,
    },
)
async def content(evidence_id: EvidenceId, evidence: EvidenceDep, actor: Acting) -> Response:
    """Verify, decrypt and return the content; audited as ``evidence.read``."""
    item, data = await evidence.read(evidence_id, actor=actor)
    return Response(
        data,
        media_type=item.content_type,
        headers={
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
            "Content-Disposition": f'inline; filename="{item.id}"',
            "X-Evidence-SHA256": item.sha256,
        },
    )


@router.get("/{evidence_id}/verify", summary="Check integrity", responses=_TAMPERED)
async def verify(evidence_id: EvidenceId, evidence: EvidenceDep, actor: Acting) -> EvidencePublic:
    """Check the object and its metadata without returning the content (409 if altered)."""
    return EvidencePublic.of(await evidence.verify(evidence_id, actor=actor))


@router.post("/{evidence_id}/lock", summary="Lock evidence")
async def lock(evidence_id: EvidenceId, evidence: EvidenceDep, actor: Acting) -> EvidencePublic:
    """Keep the item past retention and refuse its deletion until unlocked."""
    return EvidencePublic.of(await evidence.lock(evidence_id, actor=actor))


@router.post("/{evidence_id}/unlock", summary="Unlock evidence")
async def unlock(evidence_id: EvidenceId, evidence: EvidenceDep, actor: Acting) -> EvidencePublic:
    """Let retention and deletion apply again."""
    return EvidencePublic.of(await evidence.unlock(evidence_id, actor=actor))


@router.delete("/{evidence_id}", status_code=204, summary="Delete evidence", responses=_TAMPERED)
async def delete(evidence_id: EvidenceId, evidence: EvidenceDep, actor: Acting) -> None:
    """Delete an unlocked item and its object (admin; 409 when locked)."""
    await evidence.delete(evidence_id, actor=actor)


@bundle_router.post(
    "",
    summary="Export a signed bundle",
    response_class=Response,
    responses={
        200: {"content": {"application/zip": {}}, "description": "The signed bundle."},
        **_TAMPERED,
    },
)
async def export(body: EvidenceExport, evidence: EvidenceDep, actor: Acting) -> Response:
    """A zip of the verified items, their metadata and audit trail, signed with the
    installation key; ``argus evidence verify BUNDLE`` checks it offline."""
    bundle = await evidence.export(body.ids, actor=actor)
    return Response(
        bundle,
        media_type="application/zip",
        headers={
            "Cache-Control": "no-store",
            "Content-Disposition": 'attachment; filename="argus-evidence.zip"',
        },
    )


@incident_router.get("/{incident_id}/evidence", summary="Evidence of an incident")
async def incident_evidence(
    incident_id: IncidentId,
    runtime: RuntimeDep,
    who: Caller,
    actor: Acting,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> EvidenceList:
    """Items attached to the incident and those of its linked alerts, oldest first."""
    incident = await scoped_incident(runtime.alerts, incident_id, who)
    page = await runtime.evidence.of_incident(incident, actor=actor, limit=limit, offset=offset)
    return EvidenceList.of_page(page, limit, offset)


@incident_router.post(
    "/{incident_id}/evidence",
    status_code=201,
    summary="Attach a file to an incident",
    responses={413: {"model": ErrorBody, "description": f"The file is over {UPLOAD_LIMIT} bytes."}},
)
async def upload(
    incident_id: IncidentId,
    runtime: RuntimeDep,
    who: Caller,
    actor: Acting,
    file: Annotated[UploadFile, File(description="The file (at most 25 MiB).")],
    kind: Annotated[str, Form(pattern="^(document|frame)$")] = "document",
) -> EvidencePublic:
    """Store a file as encrypted evidence of the incident; its name is only recorded."""
    incident = await scoped_incident(runtime.alerts, incident_id, who)
    name = file.filename or "upload"
    if not _FILENAME.fullmatch(name) or ".." in name:
        raise ValidationError(f"file name {name[:80]!r} is not a plain file name")
    content_type = (file.content_type or "application/octet-stream").split(";")[0].strip().lower()
    if not _CONTENT_TYPE.fullmatch(content_type) or content_type not in _UPLOAD_TYPES:
        raise ValidationError(
            f"content type {content_type!r} is not taken; use one of {sorted(_UPLOAD_TYPES)}"
        )
    data = await file.read(UPLOAD_LIMIT + 1)
    if len(data) > UPLOAD_LIMIT:
        raise ValidationError(f"the file is over {UPLOAD_LIMIT} bytes")
    if not data:
        raise ValidationError("the file is empty")
    item = await runtime.evidence.upload(
        incident,
        data,
        "frame" if kind == "frame" else "document",
        content_type,
        filename=name,
        actor=actor,
    )
    return EvidencePublic.of(item)

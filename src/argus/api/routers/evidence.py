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
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, File, Form, Path, Query, Request, Response, UploadFile

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
from argus.api.security import Caller, audited, client_ip
from argus.domain.errors import NotFoundError, PermissionDeniedError, ValidationError
from argus.domain.evidence import EvidenceItem, key_fingerprint
from argus.domain.evidence_status import EvidenceEntry, EvidenceGap, TamperedEvidence
from argus.domain.identity import Principal
from argus.ports.repositories import MAX_PAGE, Page
from argus.services.evidence import EvidenceService
from argus.services.paging import all_pages

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


async def _scoped(evidence: EvidenceService, evidence_id: str, who: Principal) -> EvidenceItem:
    item = await evidence.get(evidence_id)
    if not who.sees_camera(item.camera_id):
        raise NotFoundError(f"no evidence {evidence_id}")
    return item


def _sees(who: Principal, entry: EvidenceEntry) -> bool:
    """A tampered row is shown only to callers who see every camera it names."""
    if isinstance(entry, TamperedEvidence):
        return all(who.sees_camera(camera) for camera in entry.cameras)
    return who.sees_camera(entry.camera_id)


def _page(items: list[EvidenceEntry], limit: int, offset: int) -> EvidenceList:
    return EvidenceList(
        items=[EvidencePublic.of_entry(i) for i in items[offset : offset + limit]],
        total=len(items),
        limit=limit,
        offset=offset,
    )


async def _alert_gaps(
    evidence: EvidenceService, alert_id: str | None, who: Principal
) -> list[EvidenceGapPublic]:
    if alert_id is None:
        return []
    page = await evidence.gaps(alert_id=alert_id, limit=MAX_PAGE)
    return [EvidenceGapPublic.of(g) for g in page.items if who.sees_camera(g.camera_id)]


@router.get("", summary="List evidence")
async def list_evidence(
    runtime: RuntimeDep,
    who: Caller,
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
    evidence = runtime.evidence
    gaps = await _alert_gaps(evidence, alert_id, who)
    if who.cameras is None:
        page: Page[EvidenceEntry] = await evidence.browse(
            alert_id=alert_id,
            incident_id=incident_id,
            camera_id=camera_id,
            locked=locked,
            limit=limit,
            offset=offset,
        )
        return EvidenceList(
            items=[EvidencePublic.of_entry(i) for i in page.items],
            total=page.total,
            limit=limit,
            offset=offset,
            gaps=gaps,
        )
    everything = await all_pages(
        lambda skip: evidence.browse(
            alert_id=alert_id,
            incident_id=incident_id,
            camera_id=camera_id,
            locked=locked,
            limit=MAX_PAGE,
            offset=skip,
        )
    )
    listed = _page([i for i in everything if _sees(who, i)], limit, offset)
    return listed.model_copy(update={"gaps": gaps})


@router.get("/gaps", summary="Evidence gaps")
async def list_gaps(
    runtime: RuntimeDep,
    who: Caller,
    alert_id: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
    camera_id: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> EvidenceGapList:
    """Alerts whose evidence could not be captured (shed, no frames, failed), newest first."""
    evidence = runtime.evidence
    if who.cameras is None:
        page: Page[EvidenceGap] = await evidence.gaps(
            alert_id=alert_id, camera_id=camera_id, limit=limit, offset=offset
        )
        found, total = list(page.items), page.total
    else:
        everything = await all_pages(
            lambda skip: evidence.gaps(
                alert_id=alert_id, camera_id=camera_id, limit=MAX_PAGE, offset=skip
            )
        )
        seen = [g for g in everything if who.sees_camera(g.camera_id)]
        found, total = seen[offset : offset + limit], len(seen)
    return EvidenceGapList(
        items=[EvidenceGapPublic.of(g) for g in found], total=total, limit=limit, offset=offset
    )


@router.get("/keys/signing", summary="Bundle signing key")
async def public_key(runtime: RuntimeDep, who: Caller) -> PublicKey:
    """The Ed25519 key export bundles are signed with; pin it when verifying offline."""
    del who
    key = runtime.evidence.public_key
    return PublicKey(public_key_hex=key.hex(), fingerprint=key_fingerprint(key))


@router.get("/{evidence_id}", summary="Evidence metadata")
async def get_evidence(evidence_id: EvidenceId, runtime: RuntimeDep, who: Caller) -> EvidencePublic:
    """One item's metadata (not verified: its content and /verify are)."""
    return EvidencePublic.of(await _scoped(runtime.evidence, evidence_id, who))


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
async def content(
    request: Request, evidence_id: EvidenceId, runtime: RuntimeDep, who: Caller
) -> Response:
    """Verify, decrypt and return the content; audited as ``evidence.read``."""
    await _scoped(runtime.evidence, evidence_id, who)
    item, data = await runtime.evidence.read(evidence_id, actor=who.actor, ip=client_ip(request))
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
async def verify(
    request: Request, evidence_id: EvidenceId, runtime: RuntimeDep, who: Caller
) -> EvidencePublic:
    """Check the object and its metadata without returning the content (409 if altered)."""
    await _scoped(runtime.evidence, evidence_id, who)
    item = await runtime.evidence.verify(evidence_id, actor=who.actor, ip=client_ip(request))
    return EvidencePublic.of(item)


@router.post("/{evidence_id}/lock", summary="Lock evidence")
async def lock(
    request: Request, evidence_id: EvidenceId, runtime: RuntimeDep, who: Caller
) -> EvidencePublic:
    """Keep the item past retention and refuse its deletion until unlocked."""
    await _scoped(runtime.evidence, evidence_id, who)
    item = await runtime.evidence.lock(evidence_id, actor=who.actor, ip=client_ip(request))
    return EvidencePublic.of(item)


@router.post("/{evidence_id}/unlock", summary="Unlock evidence")
async def unlock(
    request: Request, evidence_id: EvidenceId, runtime: RuntimeDep, who: Caller
) -> EvidencePublic:
    """Let retention and deletion apply again."""
    await _scoped(runtime.evidence, evidence_id, who)
    item = await runtime.evidence.unlock(evidence_id, actor=who.actor, ip=client_ip(request))
    return EvidencePublic.of(item)


@router.delete("/{evidence_id}", status_code=204, summary="Delete evidence", responses=_TAMPERED)
async def delete(
    request: Request, evidence_id: EvidenceId, runtime: RuntimeDep, who: Caller
) -> None:
    """Delete an unlocked item and its object (admin; 409 when locked)."""
    if who.role != "admin":
        raise PermissionDeniedError(f"{who.actor} may not delete evidence (admins only)")
    await _scoped(runtime.evidence, evidence_id, who)
    await runtime.evidence.delete(evidence_id, actor=who.actor, ip=client_ip(request))


@bundle_router.post(
    "",
    summary="Export a signed bundle",
    response_class=Response,
    responses={
        200: {"content": {"application/zip": {}}, "description": "The signed bundle."},
        **_TAMPERED,
    },
)
async def export(
    request: Request, body: EvidenceExport, runtime: RuntimeDep, who: Caller
) -> Response:
    """A zip of the verified items, their metadata and audit trail, signed with the
    installation key; ``argus evidence verify BUNDLE`` checks it offline."""
    for evidence_id in dict.fromkeys(body.ids):
        await _scoped(runtime.evidence, evidence_id, who)
    bundle = await runtime.evidence.export(body.ids, actor=who.actor, ip=client_ip(request))
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
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> EvidenceList:
    """Items attached to the incident and those of its linked alerts, oldest first."""
    incident = await scoped_incident(runtime.alerts, incident_id, who)
    evidence = runtime.evidence
    found: dict[str, EvidenceEntry] = {
        i.id: i
        for i in await all_pages(
            lambda skip: evidence.browse(incident_id=incident.id, limit=MAX_PAGE, offset=skip)
        )
    }
    for alert_id in incident.alert_ids:
        for item in (await evidence.browse(alert_id=alert_id, limit=MAX_PAGE)).items:
            found[item.id] = item
    ordered = sorted(found.values(), key=_created)
    return _page([i for i in ordered if _sees(who, i)], limit, offset)


def _created(entry: EvidenceEntry) -> tuple[datetime, str]:
    if isinstance(entry, TamperedEvidence):
        return entry.created_at or datetime.min.replace(tzinfo=UTC), entry.id
    return entry.created_at, entry.id


@incident_router.post(
    "/{incident_id}/evidence",
    status_code=201,
    summary="Attach a file to an incident",
    responses={413: {"model": ErrorBody, "description": f"The file is over {UPLOAD_LIMIT} bytes."}},
)
async def upload(
    request: Request,
    incident_id: IncidentId,
    runtime: RuntimeDep,
    who: Caller,
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
    item = await runtime.evidence.store(
        data,
        "frame" if kind == "frame" else "document",
        content_type,
        actor=who.actor,
        incident_id=incident.id,
        camera_id=incident.camera_id,
    )
    await audited(
        runtime,
        request,
        who,
        "evidence.upload",
        f"evidence:{item.id}",
        incident=incident.id,
        filename=name,
        size=item.size,
    )
    return EvidencePublic.of(item)

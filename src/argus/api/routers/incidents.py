"""``/api/v1/incidents``: confirmed incidents, their alerts, evidence, notes and status.

Statuses move ``open`` ⇄ ``in_progress``, either to ``resolved``, which may
go back to ``in_progress``; any of them to ``closed``, which is final. A move
the state machine does not allow answers 409 and changes nothing.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from argus.api.deps import AlertsDep
from argus.api.schemas.alerts import (
    IncidentCreate,
    IncidentList,
    IncidentNoteCreate,
    IncidentPublic,
    IncidentStatusChange,
    IncidentUpdate,
)
from argus.api.schemas.common import ERROR_RESPONSES, ErrorBody
from argus.domain.alerts import IncidentStatus
from argus.ports.repositories import MAX_PAGE

__all__ = ["router"]

router = APIRouter(prefix="/incidents", tags=["incidents"], responses=ERROR_RESPONSES)

IncidentId = Annotated[str, Path(min_length=1, max_length=64, description="Incident id.")]
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE, description="Page size.")]
Offset = Annotated[int, Query(ge=0, le=1_000_000, description="Items to skip.")]
_CHANGED: dict[int | str, dict[str, object]] = {
    409: {"model": ErrorBody, "description": "The incident changed meanwhile (retry)."}
}
_MOVE_REFUSED: dict[int | str, dict[str, object]] = {
    409: {
        "model": ErrorBody,
        "description": "The incident's status does not allow this move, or it changed meanwhile.",
    }
}


@router.post("", status_code=201, summary="Open an incident")
async def create_incident(body: IncidentCreate, alerts: AlertsDep) -> IncidentPublic:
    """Open an incident by hand; linked alerts must exist (confirming an alert opens one too)."""
    return IncidentPublic.of(await alerts.create_incident(body.fields(), body.actor))


@router.get("", summary="List incidents")
async def list_incidents(
    alerts: AlertsDep,
    limit: Limit = 50,
    offset: Offset = 0,
    status: Annotated[IncidentStatus | None, Query(description="Only in this status.")] = None,
    camera_id: Annotated[
        str | None, Query(min_length=1, max_length=200, description="Only on this camera.")
    ] = None,
) -> IncidentList:
    """Incidents, newest first."""
    page = await alerts.list_incidents(
        limit=limit, offset=offset, status=status, camera_id=camera_id
    )
    items = [IncidentPublic.of(i) for i in page.items]
    return IncidentList(items=items, total=page.total, limit=limit, offset=offset)


@router.get("/{incident_id}", summary="Get an incident")
async def get_incident(incident_id: IncidentId, alerts: AlertsDep) -> IncidentPublic:
    """One incident with its notes and status history."""
    return IncidentPublic.of(await alerts.get_incident(incident_id))


@router.patch("/{incident_id}", summary="Change an incident", responses=_CHANGED)
async def update_incident(
    incident_id: IncidentId, body: IncidentUpdate, alerts: AlertsDep
) -> IncidentPublic:
    """Change the title, description or camera; link alerts and evidence (whole lists)."""
    return IncidentPublic.of(await alerts.update_incident(incident_id, body.changes()))


@router.delete("/{incident_id}", status_code=204, summary="Remove an incident")
async def delete_incident(incident_id: IncidentId, alerts: AlertsDep) -> None:
    """Delete the incident; its alerts stay."""
    await alerts.delete_incident(incident_id)


@router.post("/{incident_id}/status", summary="Move an incident", responses=_MOVE_REFUSED)
async def set_status(
    incident_id: IncidentId, body: IncidentStatusChange, alerts: AlertsDep
) -> IncidentPublic:
    """Move the incident to another status; the step is kept in its history."""
    incident = await alerts.set_incident_status(incident_id, body.status, body.actor, body.note)
    return IncidentPublic.of(incident)


@router.post("/{incident_id}/notes", status_code=201, summary="Add a note", responses=_CHANGED)
async def add_note(
    incident_id: IncidentId, body: IncidentNoteCreate, alerts: AlertsDep
) -> IncidentPublic:
    """Append an operator's note; answers the incident with every note."""
    return IncidentPublic.of(await alerts.add_incident_note(incident_id, body.author, body.text))

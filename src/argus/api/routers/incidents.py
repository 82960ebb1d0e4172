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
from argus.api.schemas.common import AUTH_RESPONSES, ERROR_RESPONSES, ErrorBody
from argus.api.security import Acting, Caller
from argus.domain.actor import Actor
from argus.domain.alerts import Incident, IncidentStatus
from argus.domain.identity import Principal
from argus.ports.paging import MAX_PAGE
from argus.services.alerts import AlertService

__all__ = ["router"]

router = APIRouter(
    prefix="/incidents", tags=["incidents"], responses={**ERROR_RESPONSES, **AUTH_RESPONSES}
)

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


async def scoped_incident(alerts: AlertService, incident_id: str, who: Principal) -> Incident:
    """The incident, as ``NotFoundError`` when its camera is outside the caller's scope."""
    return await alerts.incidents.get(Actor(principal=who), incident_id)


@router.post("", status_code=201, summary="Open an incident")
async def create_incident(body: IncidentCreate, actor: Acting, alerts: AlertsDep) -> IncidentPublic:
    """Open an incident by hand; linked alerts must exist (confirming an alert opens one too).

    A camera-scoped caller may link only alerts of its cameras; another camera's
    alert answers exactly like an unknown id (422), so the answer does not tell
    whether it exists.
    """
    return IncidentPublic.of(await alerts.incidents.create(actor, body.command()))


@router.get("", summary="List incidents")
async def list_incidents(
    alerts: AlertsDep,
    who: Caller,
    limit: Limit = 50,
    offset: Offset = 0,
    status: Annotated[IncidentStatus | None, Query(description="Only in this status.")] = None,
    camera_id: Annotated[
        str | None, Query(min_length=1, max_length=200, description="Only on this camera.")
    ] = None,
) -> IncidentList:
    """Incidents, newest first."""
    page = await alerts.incidents.list(
        limit=limit, offset=offset, status=status, camera_ids=who.camera_filter(camera_id)
    )
    items = [IncidentPublic.of(i) for i in page.items]
    return IncidentList(items=items, total=page.total, limit=limit, offset=offset)


@router.get("/{incident_id}", summary="Get an incident")
async def get_incident(incident_id: IncidentId, alerts: AlertsDep, actor: Acting) -> IncidentPublic:
    """One incident with its notes and status history."""
    return IncidentPublic.of(await alerts.incidents.get(actor, incident_id))


@router.patch("/{incident_id}", summary="Change an incident", responses=_CHANGED)
async def update_incident(
    incident_id: IncidentId, body: IncidentUpdate, actor: Acting, alerts: AlertsDep
) -> IncidentPublic:
    """Change the title, description or camera; link alerts and evidence (whole lists)."""
    return IncidentPublic.of(await alerts.incidents.update(actor, incident_id, body.command()))


@router.delete("/{incident_id}", status_code=204, summary="Remove an incident")
async def delete_incident(incident_id: IncidentId, actor: Acting, alerts: AlertsDep) -> None:
    """Delete the incident; its alerts stay."""
    await alerts.incidents.delete(actor, incident_id)


@router.post("/{incident_id}/status", summary="Move an incident", responses=_MOVE_REFUSED)
async def set_status(
    incident_id: IncidentId, body: IncidentStatusChange, actor: Acting, alerts: AlertsDep
) -> IncidentPublic:
    """Move the incident to another status; the step is kept in its history."""
    moved = await alerts.incidents.set_status(actor, incident_id, body.status, body.note)
    return IncidentPublic.of(moved)


@router.post("/{incident_id}/notes", status_code=201, summary="Add a note", responses=_CHANGED)
async def add_note(
    incident_id: IncidentId, body: IncidentNoteCreate, actor: Acting, alerts: AlertsDep
) -> IncidentPublic:
    """Append an operator's note; answers the incident with every note."""
    return IncidentPublic.of(await alerts.incidents.add_note(actor, incident_id, body.text))

"""``/api/v1/alerts``: raised alerts and their lifecycle; ``/api/v1/feedback``: false positives.

An alert waits for an operator (``new``, ``notified``, ``escalated``), is
acknowledged, then confirmed (it closes and opens an incident) or dismissed as
a false positive (it closes and is kept as feedback). A step the state machine
does not allow answers 409 and changes nothing.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from argus.api.deps import AlertsDep
from argus.api.schemas.alerts import (
    AlertAction,
    AlertConfirm,
    AlertConfirmed,
    AlertList,
    AlertPublic,
    FeedbackList,
    FeedbackPublic,
    IncidentPublic,
)
from argus.api.schemas.common import AUTH_RESPONSES, ERROR_RESPONSES, ErrorBody, Moment
from argus.api.security import Acting, Caller
from argus.domain.alerts import AlertState, Severity
from argus.ports.alerts import AlertFilter
from argus.ports.paging import MAX_PAGE

__all__ = ["router"]

router = APIRouter(tags=["alerts"], responses={**ERROR_RESPONSES, **AUTH_RESPONSES})

_STEP_REFUSED: dict[int | str, dict[str, object]] = {
    409: {
        "model": ErrorBody,
        "description": "The alert's state does not allow this step, or it changed meanwhile.",
    }
}


AlertId = Annotated[str, Path(min_length=1, max_length=64, description="Alert id.")]
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE, description="Page size.")]
Offset = Annotated[int, Query(ge=0, le=1_000_000, description="Items to skip.")]


@router.get("/alerts", summary="Query alerts")
async def list_alerts(
    alerts: AlertsDep,
    who: Caller,
    camera_id: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    rule_id: Annotated[
        str | None, Query(min_length=1, max_length=64, description="Raised by this rule.")
    ] = None,
    state: Annotated[
        list[AlertState] | None, Query(description="In any of these states (repeat for several).")
    ] = None,
    severity: Annotated[
        list[Severity] | None, Query(description="Of any of these severities (repeat for several).")
    ] = None,
    since: Annotated[Moment | None, Query(description="Raised at or after (with offset).")] = None,
    until: Annotated[
        Moment | None, Query(description="Raised strictly before (with offset).")
    ] = None,
    group_id: Annotated[
        str | None, Query(min_length=1, max_length=64, description="Of this alert group.")
    ] = None,
    limit: Limit = 50,
    offset: Offset = 0,
    cursor: Annotated[
        str | None,
        Query(max_length=512, description="next_cursor of the previous page (offset 0)."),
    ] = None,
) -> AlertList:
    """Alerts matching every given filter, newest first; paged by offset or by cursor."""
    where = AlertFilter(
        camera_ids=who.camera_filter(camera_id),
        rule_id=rule_id,
        states=tuple(state) if state else None,
        severities=tuple(severity) if severity else None,
        since=since,
        until=until,
        group_id=group_id,
    )
    page = await alerts.list_alerts(where, limit=limit, offset=offset, cursor=cursor)
    items = [AlertPublic.of(a) for a in page.items]
    return AlertList(
        items=items, total=page.total, limit=limit, offset=offset, next_cursor=page.next_cursor
    )


@router.get("/alerts/{alert_id}", summary="Get an alert")
async def get_alert(alert_id: AlertId, alerts: AlertsDep, actor: Acting) -> AlertPublic:
    """One alert with its risk components and history."""
    return AlertPublic.of(await alerts.get_alert(alert_id, actor))


@router.post(
    "/alerts/{alert_id}/acknowledge", summary="Acknowledge an alert", responses=_STEP_REFUSED
)
async def acknowledge(
    alert_id: AlertId, body: AlertAction, actor: Acting, alerts: AlertsDep
) -> AlertPublic:
    """An operator takes a waiting alert; its escalation stops."""
    return AlertPublic.of(await alerts.acknowledge(actor, alert_id, body.note))


@router.post("/alerts/{alert_id}/confirm", summary="Confirm an alert", responses=_STEP_REFUSED)
async def confirm(
    alert_id: AlertId, body: AlertConfirm, actor: Acting, alerts: AlertsDep
) -> AlertConfirmed:
    """Confirm an acknowledged alert as real: it closes and opens an incident."""
    alert, incident = await alerts.confirm(actor, alert_id, body.note, title=body.title)
    return AlertConfirmed(alert=AlertPublic.of(alert), incident=IncidentPublic.of(incident))


@router.post(
    "/alerts/{alert_id}/dismiss", summary="Dismiss a false positive", responses=_STEP_REFUSED
)
async def dismiss(
    alert_id: AlertId, body: AlertAction, actor: Acting, alerts: AlertsDep
) -> AlertPublic:
    """Close an acknowledged alert as a false positive; it is kept as feedback."""
    return AlertPublic.of(await alerts.dismiss(actor, alert_id, body.note))


@router.get("/feedback", summary="False positives")
async def list_feedback(
    alerts: AlertsDep, who: Caller, limit: Limit = 50, offset: Offset = 0
) -> FeedbackList:
    """Alerts dismissed as false positives, newest first, with their rule and risk components."""
    page = await alerts.list_feedback(
        limit=limit, offset=offset, camera_ids=who.camera_filter(None)
    )
    items = [FeedbackPublic.of(alert, rule) for alert, rule in page.items]
    return FeedbackList(items=items, total=page.total, limit=limit, offset=offset)

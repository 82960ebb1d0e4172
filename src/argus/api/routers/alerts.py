"""``/api/v1/alerts``: raised alerts and their lifecycle; ``/api/v1/feedback``: false positives.

An alert waits for an operator (``new``, ``notified``, ``escalated``), is
acknowledged, then confirmed (it closes and opens an incident) or dismissed as
a false positive (it closes and is kept as feedback). A step the state machine
does not allow answers 409 and changes nothing.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request

from argus.api.deps import AlertsDep, RuntimeDep
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
from argus.api.security import Caller, audited
from argus.domain.alerts import Alert, AlertState, Severity
from argus.domain.errors import NotFoundError
from argus.domain.identity import Principal
from argus.ports.alerts import AlertFilter
from argus.ports.repositories import MAX_PAGE
from argus.services.alerts import AlertService

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


async def scoped_alert(alerts: AlertService, alert_id: str, who: Principal) -> Alert:
    """The alert, as ``NotFoundError`` when its camera is outside the caller's scope."""
    alert = await alerts.get_alert(alert_id)
    if not who.sees_camera(alert.camera_id):
        raise NotFoundError(f"no alert {alert_id}")
    return alert


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
    limit: Limit = 50,
    offset: Offset = 0,
) -> AlertList:
    """Alerts matching every given filter, newest first."""
    where = AlertFilter(
        camera_ids=who.camera_filter(camera_id),
        rule_id=rule_id,
        states=tuple(state) if state else None,
        severities=tuple(severity) if severity else None,
        since=since,
        until=until,
    )
    page = await alerts.list_alerts(where, limit=limit, offset=offset)
    items = [AlertPublic.of(a) for a in page.items]
    return AlertList(items=items, total=page.total, limit=limit, offset=offset)


@router.get("/alerts/{alert_id}", summary="Get an alert")
async def get_alert(alert_id: AlertId, alerts: AlertsDep, who: Caller) -> AlertPublic:
    """One alert with its risk components and history."""
    return AlertPublic.of(await scoped_alert(alerts, alert_id, who))


@router.post(
    "/alerts/{alert_id}/acknowledge", summary="Acknowledge an alert", responses=_STEP_REFUSED
)
async def acknowledge(
    request: Request, alert_id: AlertId, body: AlertAction, who: Caller, runtime: RuntimeDep
) -> AlertPublic:
    """An operator takes a waiting alert; its escalation stops."""
    await scoped_alert(runtime.alerts, alert_id, who)
    alert = await runtime.alerts.acknowledge(alert_id, who.actor, body.note)
    await audited(runtime, request, who, "alert.acknowledge", f"alert:{alert_id}")
    return AlertPublic.of(alert)


@router.post("/alerts/{alert_id}/confirm", summary="Confirm an alert", responses=_STEP_REFUSED)
async def confirm(
    request: Request, alert_id: AlertId, body: AlertConfirm, who: Caller, runtime: RuntimeDep
) -> AlertConfirmed:
    """Confirm an acknowledged alert as real: it closes and opens an incident."""
    await scoped_alert(runtime.alerts, alert_id, who)
    alert, incident = await runtime.alerts.confirm(alert_id, who.actor, body.note, title=body.title)
    await audited(runtime, request, who, "alert.confirm", f"alert:{alert_id}", incident=incident.id)
    return AlertConfirmed(alert=AlertPublic.of(alert), incident=IncidentPublic.of(incident))


@router.post(
    "/alerts/{alert_id}/dismiss", summary="Dismiss a false positive", responses=_STEP_REFUSED
)
async def dismiss(
    request: Request, alert_id: AlertId, body: AlertAction, who: Caller, runtime: RuntimeDep
) -> AlertPublic:
    """Close an acknowledged alert as a false positive; it is kept as feedback."""
    await scoped_alert(runtime.alerts, alert_id, who)
    alert = await runtime.alerts.dismiss(alert_id, who.actor, body.note)
    await audited(runtime, request, who, "alert.dismiss", f"alert:{alert_id}")
    return AlertPublic.of(alert)


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

"""``/api/v1/alerts``: raised alerts and their lifecycle; ``/api/v1/feedback``: false positives.

An alert waits for an operator (``new``, ``notified``, ``escalated``), is
acknowledged, then confirmed (it closes and opens an incident) or dismissed as
a false positive (it closes and is kept as feedback). A step the state machine
does not allow answers 409 and changes nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query

from argus.api.deps import AlertsDep
from argus.api.schemas.alert_detail import AlertOverlayPublic
from argus.api.schemas.alert_inbox import AlertSummaryPublic
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
from argus.domain.alerts.triage import AlertOrder
from argus.domain.identity import Principal
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
ORDER_HELP = (
    "newest: newest first (the default); triage: high severity first, then escalated alerts "
    "still waiting (most escalations first), then waiting, acknowledged, closed; then oldest "
    "first. Triage pages by offset only."
)


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
    order: Annotated[AlertOrder, Query(description=ORDER_HELP)] = "newest",
) -> AlertList:
    """Alerts matching every given filter, newest first (or in triage order); paged.

    Newest first pages by offset or by cursor; triage order (severity, then
    escalated alerts still waiting, most escalations first, then the oldest)
    pages by offset only: a cursor is refused (422) and next_cursor is null.
    """
    where = _where(who, camera_id, rule_id, state, severity, since, until, group_id)
    page = await alerts.list_alerts(where, limit=limit, offset=offset, cursor=cursor, order=order)
    items = [AlertPublic.of(a) for a in page.items]
    return AlertList(
        items=items, total=page.total, limit=limit, offset=offset, next_cursor=page.next_cursor
    )


@router.get("/alerts/summary", summary="Count alerts per severity and state")
async def summarize_alerts(
    alerts: AlertsDep,
    who: Caller,
    camera_id: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    rule_id: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    state: Annotated[list[AlertState] | None, Query()] = None,
    severity: Annotated[list[Severity] | None, Query()] = None,
    since: Annotated[Moment | None, Query()] = None,
    until: Annotated[Moment | None, Query()] = None,
    group_id: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
) -> AlertSummaryPublic:
    """How many alerts match the filters of ``GET /alerts``: in all, per severity, per state."""
    where = _where(who, camera_id, rule_id, state, severity, since, until, group_id)
    return AlertSummaryPublic.of(await alerts.summarize_alerts(where))


def _where(
    who: Principal,
    camera_id: str | None,
    rule_id: str | None,
    state: list[AlertState] | None,
    severity: list[Severity] | None,
    since: datetime | None,
    until: datetime | None,
    group_id: str | None,
) -> AlertFilter:
    return AlertFilter(
        camera_ids=who.camera_filter(camera_id),
        rule_id=rule_id,
        states=tuple(state) if state else None,
        severities=tuple(severity) if severity else None,
        since=since,
        until=until,
        group_id=group_id,
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


# --- the detail view: overlay and undo (issue 23) ------------------------------------------


@router.get("/alerts/{alert_id}/overlay", summary="What to draw over an alert's media")
async def alert_overlay(alert_id: AlertId, alerts: AlertsDep, actor: Acting) -> AlertOverlayPublic:
    """The rule's line or zone and the object's box and path, in pixels of the analysed frame.

    The box and path come from the camera's trajectory log (foot point and height
    at up to 5 Hz); its width is estimated from the object's class. The log of a
    minute is stored when the minute ends: a fresh alert's box follows then.
    """
    return AlertOverlayPublic.of(await alerts.overlays.of(actor, alert_id))


@router.post(
    "/alerts/{alert_id}/undo-dismiss",
    summary="Undo a false-positive dismissal",
    responses=_STEP_REFUSED,
)
async def undo_dismiss(
    alert_id: AlertId, body: AlertAction, actor: Acting, alerts: AlertsDep
) -> AlertPublic:
    """Take a dismissal back within 10 minutes: the alert is acknowledged again (audited).

    Later (see ``dismissal_undo_until`` of the alert) the dismissal is final: 409.
    """
    return AlertPublic.of(await alerts.undo_dismissal(actor, alert_id, body.note))

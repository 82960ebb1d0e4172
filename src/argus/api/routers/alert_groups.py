"""``/api/v1/alert-groups``, ``/snoozes``, ``/maintenance-windows``: alert storms, quiet times.

Alerts of one rule, camera and zone or line raised close together form a group
(newest ``last_seen`` first, cursor-paginated); an operator acknowledges or
dismisses a whole group in one step. Snoozes (operators) and maintenance
windows (``maintenance_router``, administrators with ``configure``) keep alerts
from being notified; the alerts are still stored, with ``suppressed`` saying why.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from argus.api.deps import AlertsDep
from argus.api.schemas.alert_groups import (
    AlertGroupAction,
    AlertGroupDismiss,
    AlertGroupList,
    AlertGroupPublic,
    AlertGroupStep,
    GroupAlertList,
    MaintenanceWindowCreate,
    MaintenanceWindowList,
    MaintenanceWindowPublic,
    SnoozeCreate,
    SnoozeList,
    SnoozePublic,
)
from argus.api.schemas.alerts import AlertPublic
from argus.api.schemas.common import AUTH_RESPONSES, ERROR_RESPONSES, ErrorBody
from argus.api.security import Acting, Caller
from argus.domain.alerts import Severity
from argus.domain.alerts.groups import GroupState
from argus.domain.alerts.triage import AlertOrder
from argus.ports.alert_groups import GroupFilter
from argus.ports.paging import MAX_PAGE

__all__ = ["maintenance_router", "router"]

router = APIRouter(tags=["alert groups"], responses={**ERROR_RESPONSES, **AUTH_RESPONSES})
maintenance_router = APIRouter(
    tags=["alert groups"], responses={**ERROR_RESPONSES, **AUTH_RESPONSES}
)

_STEP_REFUSED: dict[int | str, dict[str, object]] = {
    409: {
        "model": ErrorBody,
        "description": "No alert of the group is in a state this step applies to, "
        "or one changed meanwhile.",
    }
}

GroupId = Annotated[str, Path(min_length=1, max_length=64, description="Alert group id.")]
ItemId = Annotated[str, Path(min_length=1, max_length=64, description="Id.")]
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE, description="Page size.")]
Offset = Annotated[int, Query(ge=0, le=1_000_000, description="Items to skip.")]
Cursor = Annotated[
    str | None, Query(max_length=512, description="next_cursor of the previous page.")
]
Active = Annotated[bool, Query(description="Only those not ended yet.")]
GROUP_ORDER_HELP = (
    "newest: newest last_seen first (the default); triage: highest severity first, then groups "
    "whose waiting alerts escalated most, then waiting, acknowledged, closed; then the oldest "
    "first seen. Triage pages by offset only."
)


@router.get("/alert-groups", summary="Query alert groups")
async def list_groups(
    alerts: AlertsDep,
    who: Caller,
    state: GroupState | None = None,
    camera_id: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    rule_id: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    severity: Annotated[
        list[Severity] | None, Query(description="Highest severity any of these.")
    ] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
    offset: Offset = 0,
    order: Annotated[AlertOrder, Query(description=GROUP_ORDER_HELP)] = "newest",
) -> AlertGroupList:
    """Groups matching every given filter, newest last_seen first (or in triage order).

    Newest first pages by cursor (or offset); triage order (highest severity, then
    the group's most escalated waiting alert, then the oldest first seen) pages by
    offset only: a cursor is refused (422) and next_cursor is null.
    """
    where = GroupFilter(
        state=state,
        camera_ids=who.camera_filter(camera_id),
        rule_id=rule_id,
        severities=tuple(severity) if severity else None,
    )
    page = await alerts.groups.list(where, limit=limit, cursor=cursor, offset=offset, order=order)
    items = [AlertGroupPublic.of(g) for g in page.items]
    return AlertGroupList(items=items, next_cursor=page.next_cursor, total=page.total)


@router.get("/alert-groups/{group_id}", summary="Get an alert group")
async def get_group(group_id: GroupId, alerts: AlertsDep, actor: Acting) -> AlertGroupPublic:
    """One group with its counts."""
    return AlertGroupPublic.of(await alerts.groups.get(group_id, actor))


@router.get("/alert-groups/{group_id}/alerts", summary="A group's alerts")
async def list_group_alerts(
    group_id: GroupId, alerts: AlertsDep, actor: Acting, limit: Limit = 50, cursor: Cursor = None
) -> GroupAlertList:
    """The group's alerts, newest first."""
    page = await alerts.groups.alerts(actor, group_id, limit=limit, cursor=cursor)
    items = [AlertPublic.of(a) for a in page.items]
    return GroupAlertList(items=items, next_cursor=page.next_cursor, total=page.total)


@router.post(
    "/alert-groups/{group_id}/acknowledge",
    summary="Acknowledge a group",
    responses=_STEP_REFUSED,
)
async def acknowledge_group(
    group_id: GroupId, body: AlertGroupAction, actor: Acting, alerts: AlertsDep
) -> AlertGroupStep:
    """Acknowledge every waiting alert of the group at once; their escalation stops."""
    step = await alerts.groups.acknowledge(actor, group_id, body.note)
    return AlertGroupStep(group=AlertGroupPublic.of(step.group), alerts=[a.id for a in step.alerts])


@router.post("/alert-groups/{group_id}/dismiss", summary="Dismiss a group", responses=_STEP_REFUSED)
async def dismiss_group(
    group_id: GroupId, body: AlertGroupDismiss, actor: Acting, alerts: AlertsDep
) -> AlertGroupStep:
    """Close every acknowledged alert of the group as a false positive."""
    step = await alerts.groups.dismiss(actor, group_id, body.note)
    return AlertGroupStep(group=AlertGroupPublic.of(step.group), alerts=[a.id for a in step.alerts])


@router.get("/snoozes", summary="List snoozes")
async def list_snoozes(
    alerts: AlertsDep, who: Caller, active: Active = True, limit: Limit = 100, offset: Offset = 0
) -> SnoozeList:
    """Snoozes, latest end first (of the caller's cameras, and of rules on every camera)."""
    page = await alerts.suppression.list_snoozes(
        active=active, limit=limit, offset=offset, camera_ids=who.camera_filter(None)
    )
    items = [SnoozePublic.of(s) for s in page.items]
    return SnoozeList(items=items, total=page.total, limit=limit, offset=offset)


@router.post("/snoozes", status_code=201, summary="Snooze a rule or camera")
async def create_snooze(body: SnoozeCreate, actor: Acting, alerts: AlertsDep) -> SnoozePublic:
    """Alerts of the rule and/or camera are stored but not notified until the snooze ends."""
    return SnoozePublic.of(await alerts.suppression.snooze(actor, body.command()))


@router.delete("/snoozes/{snooze_id}", status_code=204, summary="End a snooze")
async def delete_snooze(snooze_id: ItemId, actor: Acting, alerts: AlertsDep) -> None:
    """End a snooze now."""
    await alerts.suppression.unsnooze(actor, snooze_id)


@maintenance_router.get("/maintenance-windows", summary="List maintenance windows")
async def list_windows(
    alerts: AlertsDep, who: Caller, active: Active = True, limit: Limit = 100, offset: Offset = 0
) -> MaintenanceWindowList:
    """Maintenance windows, latest start first (of every camera, or of the caller's)."""
    page = await alerts.suppression.list_windows(
        active=active, limit=limit, offset=offset, camera_ids=who.camera_filter(None)
    )
    items = [MaintenanceWindowPublic.of(w) for w in page.items]
    return MaintenanceWindowList(items=items, total=page.total, limit=limit, offset=offset)


@maintenance_router.post(
    "/maintenance-windows", status_code=201, summary="Add a maintenance window"
)
async def create_window(
    body: MaintenanceWindowCreate, actor: Acting, alerts: AlertsDep
) -> MaintenanceWindowPublic:
    """While it lasts, alerts of its cameras are stored but not notified."""
    return MaintenanceWindowPublic.of(await alerts.suppression.add_window(actor, body.command()))


@maintenance_router.delete(
    "/maintenance-windows/{window_id}", status_code=204, summary="Delete a maintenance window"
)
async def delete_window(window_id: ItemId, actor: Acting, alerts: AlertsDep) -> None:
    """Delete a window (ending it now if it is under way)."""
    await alerts.suppression.delete_window(actor, window_id)

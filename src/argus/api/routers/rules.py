"""``/api/v1/rules``: stored alert rules; changes take effect on the next event."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request

from argus.api.deps import AlertsDep, RuntimeDep
from argus.api.schemas.common import AUTH_RESPONSES, ERROR_RESPONSES
from argus.api.schemas.rules import RuleCreate, RuleList, RulePublic, RuleUpdate
from argus.api.security import Caller, audited
from argus.domain.errors import NotFoundError
from argus.domain.identity import Principal
from argus.domain.rules import Rule
from argus.ports.repositories import MAX_PAGE, Page
from argus.services.alerts import AlertService
from argus.services.paging import all_pages

__all__ = ["router"]

router = APIRouter(prefix="/rules", tags=["rules"], responses={**ERROR_RESPONSES, **AUTH_RESPONSES})

RuleId = Annotated[str, Path(min_length=1, max_length=64, description="Rule id.")]
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE, description="Page size.")]
Offset = Annotated[int, Query(ge=0, le=1_000_000, description="Items to skip.")]


async def scoped_rule(alerts: AlertService, rule_id: str, who: Principal) -> Rule:
    """The rule, as ``NotFoundError`` when its camera is outside the caller's scope.

    A rule of every camera (``camera_id`` null) is seen by unscoped callers only.
    """
    rule = await alerts.get_rule(rule_id)
    if not who.sees_camera(rule.camera_id):
        raise NotFoundError(f"no rule {rule_id}")
    return rule


@router.post("", status_code=201, summary="Add a rule")
async def create_rule(
    request: Request, body: RuleCreate, who: Caller, runtime: RuntimeDep
) -> RulePublic:
    """Store an alert rule; it applies to events from now on."""
    fields = body.model_dump()
    who.require_camera(fields.get("camera_id"))
    rule = await runtime.alerts.create_rule(fields)
    await audited(runtime, request, who, "rule.create", f"rule:{rule.id}", name=rule.name)
    return RulePublic.of(rule)


@router.get("", summary="List rules")
async def list_rules(
    alerts: AlertsDep,
    who: Caller,
    limit: Limit = 50,
    offset: Offset = 0,
    camera_id: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=64,
            description="Rules of this camera and rules of every camera.",
        ),
    ] = None,
    enabled: Annotated[bool | None, Query(description="Only (not) enabled rules.")] = None,
) -> RuleList:
    """Rules in creation order (a camera-scoped caller sees the rules of its cameras)."""
    if who.cameras is None:
        page = await alerts.list_rules(
            limit=limit, offset=offset, camera_id=camera_id, enabled=enabled
        )
    else:
        everything = await all_pages(
            lambda skip: alerts.list_rules(
                limit=MAX_PAGE, offset=skip, camera_id=camera_id, enabled=enabled
            )
        )
        seen = [r for r in everything if who.sees_camera(r.camera_id)]
        page = Page(tuple(seen[offset : offset + limit]), len(seen))
    items = [RulePublic.of(r) for r in page.items]
    return RuleList(items=items, total=page.total, limit=limit, offset=offset)


@router.get("/{rule_id}", summary="Get a rule")
async def get_rule(rule_id: RuleId, alerts: AlertsDep, who: Caller) -> RulePublic:
    """One rule."""
    return RulePublic.of(await scoped_rule(alerts, rule_id, who))


@router.patch("/{rule_id}", summary="Change a rule")
async def update_rule(
    request: Request, rule_id: RuleId, body: RuleUpdate, who: Caller, runtime: RuntimeDep
) -> RulePublic:
    """Change some fields (null clears a condition); the rule's window and cooldowns restart."""
    await scoped_rule(runtime.alerts, rule_id, who)
    changes = body.changes()
    if "camera_id" in changes:
        who.require_camera(changes["camera_id"])
    rule = await runtime.alerts.update_rule(rule_id, changes)
    await audited(runtime, request, who, "rule.update", f"rule:{rule_id}", fields=sorted(changes))
    return RulePublic.of(rule)


@router.delete("/{rule_id}", status_code=204, summary="Remove a rule")
async def delete_rule(request: Request, rule_id: RuleId, who: Caller, runtime: RuntimeDep) -> None:
    """Delete the rule; the alerts it raised stay."""
    await scoped_rule(runtime.alerts, rule_id, who)
    await runtime.alerts.delete_rule(rule_id)
    await audited(runtime, request, who, "rule.delete", f"rule:{rule_id}")

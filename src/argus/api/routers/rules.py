"""``/api/v1/rules``: stored alert rules; changes take effect on the next event."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from argus.api.deps import AlertsDep
from argus.api.schemas.common import AUTH_RESPONSES, ERROR_RESPONSES
from argus.api.schemas.rules import RuleCreate, RuleList, RulePublic, RuleUpdate
from argus.api.security import Acting
from argus.ports.paging import MAX_PAGE

__all__ = ["router"]

router = APIRouter(prefix="/rules", tags=["rules"], responses={**ERROR_RESPONSES, **AUTH_RESPONSES})

RuleId = Annotated[str, Path(min_length=1, max_length=64, description="Rule id.")]
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE, description="Page size.")]
Offset = Annotated[int, Query(ge=0, le=1_000_000, description="Items to skip.")]


@router.post("", status_code=201, summary="Add a rule")
async def create_rule(body: RuleCreate, actor: Acting, alerts: AlertsDep) -> RulePublic:
    """Store an alert rule; it applies to events from now on."""
    return RulePublic.of(await alerts.rules.create(actor, body.command()))


@router.get("", summary="List rules")
async def list_rules(
    alerts: AlertsDep,
    actor: Acting,
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
    page = await alerts.rules.list(
        actor, limit=limit, offset=offset, camera_id=camera_id, enabled=enabled
    )
    items = [RulePublic.of(r) for r in page.items]
    return RuleList(items=items, total=page.total, limit=limit, offset=offset)


@router.get("/{rule_id}", summary="Get a rule")
async def get_rule(rule_id: RuleId, alerts: AlertsDep, actor: Acting) -> RulePublic:
    """One rule."""
    return RulePublic.of(await alerts.rules.get(actor, rule_id))


@router.patch("/{rule_id}", summary="Change a rule")
async def update_rule(
    rule_id: RuleId, body: RuleUpdate, actor: Acting, alerts: AlertsDep
) -> RulePublic:
    """Change some fields (null clears a condition); the rule's window and cooldowns restart."""
    return RulePublic.of(await alerts.rules.update(actor, rule_id, body.command()))


@router.delete("/{rule_id}", status_code=204, summary="Remove a rule")
async def delete_rule(rule_id: RuleId, actor: Acting, alerts: AlertsDep) -> None:
    """Delete the rule; the alerts it raised stay."""
    await alerts.rules.delete(actor, rule_id)

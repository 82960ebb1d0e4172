"""``/api/v1/rules``: stored alert rules; changes take effect on the next event."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from argus.api.deps import AlertsDep
from argus.api.schemas.common import ERROR_RESPONSES
from argus.api.schemas.rules import RuleCreate, RuleList, RulePublic, RuleUpdate
from argus.ports.repositories import MAX_PAGE

__all__ = ["router"]

router = APIRouter(prefix="/rules", tags=["rules"], responses=ERROR_RESPONSES)

RuleId = Annotated[str, Path(min_length=1, max_length=64, description="Rule id.")]
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE, description="Page size.")]
Offset = Annotated[int, Query(ge=0, le=1_000_000, description="Items to skip.")]


@router.post("", status_code=201, summary="Add a rule")
async def create_rule(body: RuleCreate, alerts: AlertsDep) -> RulePublic:
    """Store an alert rule; it applies to events from now on."""
    return RulePublic.of(await alerts.create_rule(body.model_dump()))


@router.get("", summary="List rules")
async def list_rules(
    alerts: AlertsDep,
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
    """Rules in creation order."""
    page = await alerts.list_rules(limit=limit, offset=offset, camera_id=camera_id, enabled=enabled)
    items = [RulePublic.of(r) for r in page.items]
    return RuleList(items=items, total=page.total, limit=limit, offset=offset)


@router.get("/{rule_id}", summary="Get a rule")
async def get_rule(rule_id: RuleId, alerts: AlertsDep) -> RulePublic:
    """One rule."""
    return RulePublic.of(await alerts.get_rule(rule_id))


@router.patch("/{rule_id}", summary="Change a rule")
async def update_rule(rule_id: RuleId, body: RuleUpdate, alerts: AlertsDep) -> RulePublic:
    """Change some fields (null clears a condition); the rule's window and cooldowns restart."""
    return RulePublic.of(await alerts.update_rule(rule_id, body.changes()))


@router.delete("/{rule_id}", status_code=204, summary="Remove a rule")
async def delete_rule(rule_id: RuleId, alerts: AlertsDep) -> None:
    """Delete the rule; the alerts it raised stay."""
    await alerts.delete_rule(rule_id)

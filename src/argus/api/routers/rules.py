"""``/api/v1/rules``: stored alert rules; changes take effect on the next event.

A rule's line or zone must exist on its camera (a rule of every camera: on at
least one registered camera); ``POST /rules/dry-run`` and ``POST /rules/preview``
try a draft rule without storing it.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from argus.api.deps import AlertsDep, RuntimeDep
from argus.api.schemas.common import AUTH_RESPONSES, ERROR_RESPONSES
from argus.api.schemas.rule_trials import (
    RuleDryRunPublic,
    RuleDryRunRequest,
    RulePreviewPublic,
    RulePreviewRequest,
)
from argus.api.schemas.rules import RuleCreate, RuleList, RulePublic, RuleUpdate
from argus.api.security import Acting
from argus.ports.paging import MAX_PAGE
from argus.services.rule_dry_run import RuleTrial

__all__ = ["router"]

router = APIRouter(prefix="/rules", tags=["rules"], responses={**ERROR_RESPONSES, **AUTH_RESPONSES})

RuleId = Annotated[str, Path(min_length=1, max_length=64, description="Rule id.")]
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE, description="Page size.")]
Offset = Annotated[int, Query(ge=0, le=1_000_000, description="Items to skip.")]


def get_rule_trial(runtime: RuntimeDep) -> RuleTrial:
    """Dry runs and previews over the app's store and risk policy (stateless, read-only)."""
    return RuleTrial(runtime.database, runtime.risk_policy)


RuleTrialDep = Annotated[RuleTrial, Depends(get_rule_trial)]


@router.post("", status_code=201, summary="Add a rule")
async def create_rule(body: RuleCreate, actor: Acting, alerts: AlertsDep) -> RulePublic:
    """Store an alert rule; it applies to events from now on.

    Its line or zone must exist on its camera, or (a rule of every camera) on at
    least one registered camera: 422 otherwise. A camera id that is not
    registered is not checked.
    """
    return RulePublic.of(await alerts.rules.create(actor, body.command()))


@router.post("/dry-run", summary="Try a rule on past events")
async def dry_run_rule(
    body: RuleDryRunRequest, actor: Acting, trial: RuleTrialDep
) -> RuleDryRunPublic:
    """The stored events of the last ``hours`` the draft rule would have fired on.

    Nothing is stored. Events are replayed oldest first through the rule alone,
    so its count window, cooldown and schedule act as they would have; each
    firing is scored with the risk policy in force now (repeats: the draft's own
    earlier firings on the camera).
    """
    run = await trial.dry_run(actor, body.rule.command(), body.hours)
    return RuleDryRunPublic.of(run)


@router.post("/preview", summary="Preview a rule's severity")
async def preview_rule(
    body: RulePreviewRequest, actor: Acting, trial: RuleTrialDep
) -> RulePreviewPublic:
    """The score and severity the draft rule's alerts get under the risk policy in force.

    By day and at night, each as a first alert and as one that repeats, on the
    rule's camera (its zone's criticality, its time zone); nothing is stored.
    """
    preview = await trial.preview(
        actor, body.rule.command(), camera_id=body.camera_id, confidence=body.confidence
    )
    return RulePreviewPublic.of(preview)


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
    """Change some fields (null clears a condition); the rule's window and cooldowns restart.

    A changed camera, line or zone is checked as on create (422).
    """
    return RulePublic.of(await alerts.rules.update(actor, rule_id, body.command()))


@router.delete("/{rule_id}", status_code=204, summary="Remove a rule")
async def delete_rule(rule_id: RuleId, actor: Acting, alerts: AlertsDep) -> None:
    """Delete the rule; the alerts it raised stay."""
    await alerts.rules.delete(actor, rule_id)

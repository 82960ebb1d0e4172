"""``/api/v1/risk-policy`` (the editable risk policy, with a preview) and ``/api/v1/site``.

Reading needs ``view``; changing either, and the preview (it may carry a
draft policy), needs ``admin`` (the router's guard). Every change is audited
by the service.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from argus.api.deps import RuntimeDep
from argus.api.schemas.common import AUTH_RESPONSES, ERROR_RESPONSES
from argus.api.schemas.policy import (
    RiskPolicyPublic,
    RiskPolicyUpdate,
    RiskPreviewPublic,
    RiskPreviewRequest,
    SitePublic,
    SiteUpdate,
)
from argus.api.security import Acting
from argus.services.risk_policy import RiskPolicyService

__all__ = ["router"]

router = APIRouter(tags=["risk policy"], responses={**ERROR_RESPONSES, **AUTH_RESPONSES})


def get_risk_policy(runtime: RuntimeDep) -> RiskPolicyService:
    """The app's risk policy service."""
    return runtime.risk_policy


RiskPolicyDep = Annotated[RiskPolicyService, Depends(get_risk_policy)]


@router.get("/risk-policy", summary="Get the risk policy")
async def get_policy(policies: RiskPolicyDep) -> RiskPolicyPublic:
    """The policy in force (the defaults until one is stored), with the defaults."""
    return RiskPolicyPublic.of(await policies.get(), policies.default_policy)


@router.put("/risk-policy", summary="Replace the risk policy")
async def put_policy(
    body: RiskPolicyUpdate, actor: Acting, policies: RiskPolicyDep
) -> RiskPolicyPublic:
    """Store a new policy (fields left out: the defaults); audited ``risk_policy.update``.

    New alerts are scored with it within two seconds on every server; alerts
    already raised keep their score and explanation.
    """
    policy = await policies.update(actor, body.document())
    return RiskPolicyPublic.of(policy, policies.default_policy)


@router.post("/risk-policy/preview", summary="Score an event with the (or a draft) policy")
async def preview_policy(
    body: RiskPreviewRequest, actor: Acting, policies: RiskPolicyDep
) -> RiskPreviewPublic:
    """The risk, severity and explanation a rule's alert for this event would get."""
    draft = None if body.policy is None else body.policy.document()
    risk, policy = await policies.preview(actor, body.command(), draft)
    return RiskPreviewPublic.of(risk, policy, body.camera_id, body.at)


@router.get("/site", summary="Get the site's time zones")
async def get_site(policies: RiskPolicyDep) -> SitePublic:
    """The site's zone and the zones of cameras elsewhere."""
    return SitePublic.of(await policies.site(), policies.default_site)


@router.put("/site", summary="Replace the site's time zones")
async def put_site(body: SiteUpdate, actor: Acting, policies: RiskPolicyDep) -> SitePublic:
    """Store the site's zones (every camera named must exist); audited ``site.update``."""
    site = await policies.update_site(actor, body.document())
    return SitePublic.of(site, policies.default_site)

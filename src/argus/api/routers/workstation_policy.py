"""``/api/v1/workstations/policy``: the decision thresholds and phone rules, changed at runtime.

Reading and changing need ``admin`` (the router's guard, like the rest of
``/workstations``). A change is validated, stored, audited
(``workstation.policy.update``) and applied to the live sessions of this
server at once; other servers take it within their status interval.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from argus.api.deps import RuntimeDep
from argus.api.schemas.common import AUTH_RESPONSES, ERROR_RESPONSES
from argus.api.schemas.workstation_policy import WorkstationPolicyPublic, WorkstationPolicyUpdate
from argus.api.security import Acting
from argus.services.workstation_policy import WorkstationPolicyService

__all__ = ["router"]

router = APIRouter(
    prefix="/workstations",
    tags=["workstations"],
    responses={**ERROR_RESPONSES, **AUTH_RESPONSES},
)


def get_policies(runtime: RuntimeDep) -> WorkstationPolicyService:
    """The policy service over the app's store and its verify hub's live policy."""
    return WorkstationPolicyService(runtime.database, runtime.verify.policy)


PoliciesDep = Annotated[WorkstationPolicyService, Depends(get_policies)]


@router.get("/policy", summary="Get the workstation decision policy")
async def get_policy(policies: PoliciesDep) -> WorkstationPolicyPublic:
    """The thresholds and phone rules in force, their defaults, and where each came from."""
    return WorkstationPolicyPublic.of(await policies.get())


@router.put("/policy", summary="Replace the workstation decision policy")
async def put_policy(
    body: WorkstationPolicyUpdate, actor: Acting, policies: PoliciesDep
) -> WorkstationPolicyPublic:
    """Store a new policy (fields left out: their defaults; ``{}`` restores every default).

    Audited ``workstation.policy.update`` with the values before and after. Live
    sessions of this server decide their next frame by it; other servers within
    their status interval (``status_seconds``, 5 s).
    """
    return WorkstationPolicyPublic.of(await policies.update(actor, body.document()))

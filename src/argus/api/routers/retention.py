"""``/api/v1/retention``, legal holds on incidents, and audit checkpoints (admin only).

``GET/PUT /retention`` read and change the policy (days per kind of data);
``POST /retention/sweep`` sweeps now and answers the counts;
``PUT/DELETE /incidents/{id}/hold`` set and release an incident's legal hold;
``GET /audit/checkpoints`` lists the signed checkpoints of pruned audit records.
Every change is audited by the service.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from argus.api.deps import RuntimeDep
from argus.api.schemas.common import AUTH_RESPONSES, ERROR_RESPONSES
from argus.api.schemas.retention import (
    CheckpointList,
    CheckpointPublic,
    LegalHoldCreate,
    LegalHoldPublic,
    RetentionDays,
    RetentionPublic,
    RetentionUpdate,
    SweepPublic,
)
from argus.api.security import Acting
from argus.services.retention import RetentionService

__all__ = ["router"]

router = APIRouter(tags=["retention"], responses={**ERROR_RESPONSES, **AUTH_RESPONSES})

IncidentId = Annotated[str, Path(min_length=1, max_length=64, description="Incident id.")]


def get_retention(runtime: RuntimeDep) -> RetentionService:
    """The app's retention service."""
    return runtime.retention


RetentionDep = Annotated[RetentionService, Depends(get_retention)]


async def _public(retention: RetentionService) -> RetentionPublic:
    last = retention.sweeper.last
    return RetentionPublic(
        policy=RetentionDays.of(await retention.policy()),
        defaults=RetentionDays.of(retention.policies.defaults),
        last_sweep=None if last is None else SweepPublic.of(last),
    )


@router.get("/retention", summary="Get the retention policy")
async def get_policy(retention: RetentionDep) -> RetentionPublic:
    """Days each kind of data is kept, the defaults, and this server's latest sweep."""
    return await _public(retention)


@router.put("/retention", summary="Change the retention policy")
async def put_policy(
    body: RetentionUpdate, retention: RetentionDep, actor: Acting
) -> RetentionPublic:
    """Change the days of the kinds named; the others keep theirs."""
    await retention.update_policy(actor, body.model_dump(exclude_none=True))
    return await _public(retention)


@router.post("/retention/sweep", summary="Sweep now")
async def sweep(retention: RetentionDep, actor: Acting) -> SweepPublic:
    """Delete everything past its retention now (legal holds respected); the counts."""
    return SweepPublic.of(await retention.sweep(actor))


@router.put("/incidents/{incident_id}/hold", summary="Put an incident under legal hold")
async def hold(
    incident_id: IncidentId, body: LegalHoldCreate, retention: RetentionDep, actor: Acting
) -> LegalHoldPublic:
    """Keep the incident, its alerts, their events and its evidence past every retention."""
    return LegalHoldPublic.of(await retention.hold(actor, incident_id, body.reason))


@router.delete("/incidents/{incident_id}/hold", summary="Release an incident's legal hold")
async def release(
    incident_id: IncidentId, retention: RetentionDep, actor: Acting
) -> LegalHoldPublic:
    """Release the hold (409 if there is none); the evidence it locked is unlocked."""
    return LegalHoldPublic.of(await retention.release(actor, incident_id))


@router.get("/audit/checkpoints", summary="List audit checkpoints")
async def checkpoints(
    retention: RetentionDep, limit: Annotated[int, Query(ge=1, le=1000)] = 100
) -> CheckpointList:
    """The signed checkpoints of pruned audit records, newest first."""
    items = await retention.checkpoints(limit)
    return CheckpointList(items=[CheckpointPublic.of(c) for c in items])

"""``/api/v1/alerts/bulk``: acknowledge or dismiss many alerts at once, each by its id.

Every alert goes through the single-alert step (audited and announced as if
taken alone); the answer reports each alert's outcome, so one that moved on
meanwhile fails alone (``services.alert_bulk``).
"""

from __future__ import annotations

from fastapi import APIRouter

from argus.api.deps import AlertsDep
from argus.api.schemas.alert_inbox import AlertBulk, AlertBulkItem, AlertBulkResult
from argus.api.schemas.common import AUTH_RESPONSES, ERROR_RESPONSES
from argus.api.security import Acting
from argus.services.alert_bulk import apply_bulk

__all__ = ["router"]

router = APIRouter(tags=["alerts"], responses={**ERROR_RESPONSES, **AUTH_RESPONSES})


@router.post("/alerts/bulk", summary="Acknowledge or dismiss many alerts")
async def bulk_step(body: AlertBulk, actor: Acting, alerts: AlertsDep) -> AlertBulkResult:
    """Take one step on up to 500 alerts by id; the outcome per alert, in the given order.

    A dismissal (false positive) needs a note, the reason; a waiting alert is
    acknowledged first. An alert the step does not apply to fails alone.
    """
    outcomes = await apply_bulk(alerts, actor, body.ids, body.action, body.note)
    items = [AlertBulkItem.of(o) for o in outcomes]
    done = sum(1 for item in items if item.ok)
    return AlertBulkResult(items=items, done=done, failed=len(items) - done)

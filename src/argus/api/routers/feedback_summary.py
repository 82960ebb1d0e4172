"""``/api/v1/feedback/summary``: operators' verdicts counted per rule and per camera.

The false-positive review page reads it: per rule and per camera, how many
reviewed alerts were dismissed as false positives and how many confirmed,
the false-positive share and the most given reasons. A camera-scoped caller
counts its cameras' alerts only. Viewers may read it (like ``/feedback``).
"""

from __future__ import annotations

from typing import Annotated, Self

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from argus.api.deps import RuntimeDep
from argus.api.schemas.common import AUTH_RESPONSES, ERROR_RESPONSES, Moment
from argus.api.security import Caller
from argus.domain.errors import ValidationError
from argus.services.feedback_summary import FeedbackSummary, VerdictGroup, summarize_feedback

__all__ = ["FeedbackSummaryPublic", "VerdictGroupPublic", "router"]

router = APIRouter(tags=["alerts"], responses={**ERROR_RESPONSES, **AUTH_RESPONSES})


class ReasonCount(BaseModel):
    """A dismissal reason and how often it was given."""

    reason: str = Field(description='The operator\'s note ("" when none was given).')
    count: int


class VerdictGroupPublic(BaseModel):
    """The verdicts on the alerts of one rule or one camera."""

    key: str = Field(description="The rule id or the camera id.")
    name: str = Field(description="The rule's or the camera's name.")
    false_positives: int = Field(description="Alerts dismissed as false positives.")
    confirmed: int = Field(description="Alerts confirmed as real (they opened an incident).")
    reviewed: int = Field(description="Alerts with a verdict.")
    share: float = Field(description="false_positives / reviewed (0 when none).")
    reasons: list[ReasonCount] = Field(description="The most given reasons, most first.")

    @classmethod
    def of(cls, group: VerdictGroup) -> Self:
        """The public view of ``group``."""
        return cls(
            key=group.key,
            name=group.name,
            false_positives=group.false_positives,
            confirmed=group.confirmed,
            reviewed=group.reviewed,
            share=round(group.share, 4),
            reasons=[ReasonCount(reason=r, count=n) for r, n in group.reasons],
        )


class FeedbackSummaryPublic(BaseModel):
    """Verdicts per rule and per camera, most false positives first."""

    false_positives: int
    confirmed: int
    by_rule: list[VerdictGroupPublic]
    by_camera: list[VerdictGroupPublic]
    truncated: bool = Field(description="Too many alerts matched: the newest were counted.")

    @classmethod
    def of(cls, summary: FeedbackSummary) -> Self:
        """The public view of ``summary``."""
        return cls(
            false_positives=summary.false_positives,
            confirmed=summary.confirmed,
            by_rule=[VerdictGroupPublic.of(g) for g in summary.by_rule],
            by_camera=[VerdictGroupPublic.of(g) for g in summary.by_camera],
            truncated=summary.truncated,
        )


@router.get("/feedback/summary", summary="False positives per rule and camera")
async def feedback_summary(
    runtime: RuntimeDep,
    who: Caller,
    since: Annotated[Moment | None, Query(description="Raised at or after (with offset).")] = None,
    until: Annotated[
        Moment | None, Query(description="Raised strictly before (with offset).")
    ] = None,
) -> FeedbackSummaryPublic:
    """Reviewed alerts (dismissed or confirmed) counted per rule and per camera."""
    if since is not None and until is not None and until <= since:
        raise ValidationError("until must be after since")
    summary = await summarize_feedback(
        runtime.database, camera_ids=who.camera_filter(None), since=since, until=until
    )
    return FeedbackSummaryPublic.of(summary)

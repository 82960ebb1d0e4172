"""Schemas of the alert inbox: totals per severity and state, and bulk steps."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field

from argus.api.schemas.alerts import AlertPublic
from argus.api.schemas.common import StrictModel, Text
from argus.domain.alerts import AlertState, Severity
from argus.ports.alerts import AlertSummary
from argus.services.alert_bulk import BULK_MAX, BulkAction, BulkOutcome

__all__ = ["AlertBulk", "AlertBulkItem", "AlertBulkResult", "AlertSummaryPublic"]


def _unique(values: list[str]) -> list[str]:
    if len(set(values)) != len(values):
        raise ValueError("must not hold duplicates")
    return values


class AlertSummaryPublic(BaseModel):
    """How many alerts match the filters: in all, per severity, per state."""

    total: int = Field(description="Alerts matching the filters.")
    by_severity: dict[Severity, int] = Field(description="Matches per severity (zeros included).")
    by_state: dict[AlertState, int] = Field(description="Matches per state (zeros included).")

    @classmethod
    def of(cls, summary: AlertSummary) -> AlertSummaryPublic:
        """The response for a summary."""
        return cls(
            total=summary.total,
            by_severity=dict(summary.by_severity),
            by_state=dict(summary.by_state),
        )


AlertIdList = Annotated[
    list[Annotated[Text, Field(min_length=1, max_length=64)]],
    Field(min_length=1, max_length=BULK_MAX, description="The alerts, by id (no duplicates)."),
    AfterValidator(_unique),
]


class AlertBulk(StrictModel):
    """One step over many alerts, each addressed by its id."""

    ids: AlertIdList
    action: BulkAction = Field(
        description="acknowledge: take waiting alerts; dismiss: close them as false positives "
        "(a waiting alert is acknowledged first)."
    )
    note: Annotated[Text, Field(max_length=2000)] = Field(
        default="", description="Kept in each alert's history; a dismissal needs one (the reason)."
    )


class AlertBulkItem(BaseModel):
    """What the step did to one alert."""

    id: str
    ok: bool
    error: str | None = Field(default=None, description="Why it failed (null when it succeeded).")
    alert: AlertPublic | None = Field(default=None, description="The alert after the step.")

    @classmethod
    def of(cls, outcome: BulkOutcome) -> AlertBulkItem:
        """The response item for one outcome."""
        alert = None if outcome.alert is None else AlertPublic.of(outcome.alert)
        return cls(id=outcome.alert_id, ok=outcome.ok, error=outcome.error, alert=alert)


class AlertBulkResult(BaseModel):
    """The outcome per alert, in the order the ids were given."""

    items: list[AlertBulkItem]
    done: int = Field(description="Alerts the step succeeded on.")
    failed: int = Field(description="Alerts it failed on (see each item's error).")

"""Schemas of trying a draft rule: ``POST /rules/dry-run`` and ``POST /rules/preview``."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from argus.api.schemas.alerts import RiskComponentPublic
from argus.api.schemas.common import Name, StrictModel
from argus.api.schemas.rules import RuleCreate
from argus.domain.alerts import Severity
from argus.services.rule_dry_run import MAX_HOURS, DryRun, Firing, Scenario, SeverityPreview

__all__ = [
    "DryRunFiringPublic",
    "RuleDryRunPublic",
    "RuleDryRunRequest",
    "RulePreviewPublic",
    "RulePreviewRequest",
    "ScenarioPublic",
]


class RuleDryRunRequest(StrictModel):
    """A draft rule (as for ``POST /rules``) and how far back to replay stored events."""

    rule: RuleCreate = Field(description="The rule as it would be stored; nothing is stored.")
    hours: float = Field(
        default=1.0,
        gt=0,
        le=MAX_HOURS,
        allow_inf_nan=False,
        description="Replay the events of this many past hours (at most 24).",
    )


def _text(value: object) -> str | None:
    return None if value is None else str(value)


class DryRunFiringPublic(BaseModel):
    """An event the rule would have fired on, with its alert's would-be severity."""

    event_id: str
    type: str
    timestamp: datetime
    camera_id: str
    line: str | None = Field(description="The event's line, if any.")
    zone: str | None = Field(description="The event's zone, if any.")
    direction: str | None
    class_name: str | None
    track_id: str | None
    window_count: int = Field(description="Matching events in the rule's window.")
    score: float
    severity: Severity
    risk_components: list[RiskComponentPublic]

    @classmethod
    def of(cls, firing: Firing) -> DryRunFiringPublic:
        """The public view of a firing."""
        envelope, payload = firing.envelope, firing.envelope.payload
        return cls(
            event_id=envelope.event_id,
            type=envelope.type,
            timestamp=envelope.timestamp,
            camera_id=envelope.source.camera_id,
            line=_text(payload.get("line")),
            zone=_text(payload.get("zone")),
            direction=_text(payload.get("direction")),
            class_name=_text(payload.get("class_name")),
            track_id=_text(payload.get("track_id")),
            window_count=firing.window_count,
            score=firing.risk.score,
            severity=firing.risk.severity,
            risk_components=[RiskComponentPublic.of(c) for c in firing.risk.components],
        )


class RuleDryRunPublic(BaseModel):
    """What the rule would have done over the period (count window, cooldown, schedule kept)."""

    since: datetime = Field(description="Start of the period replayed.")
    until: datetime = Field(description="Its end (now).")
    scanned: int = Field(description="Stored events replayed.")
    matched: int = Field(description="Events that met the rule's conditions.")
    outside_schedule: int = Field(description="Matching events outside the schedule.")
    held_back: int = Field(description="Matching events the count window or cooldown held back.")
    fired_total: int = Field(description="Alerts the rule would have raised.")
    fired: list[DryRunFiringPublic] = Field(description="The newest 200 of them, newest first.")
    truncated: bool = Field(
        description="More than 20 000 events in the period: only the newest were replayed."
    )
    by_severity: dict[str, int] = Field(description="Alerts it would have raised per severity.")

    @classmethod
    def of(cls, run: DryRun) -> RuleDryRunPublic:
        """The public view of a dry run."""
        fired = [DryRunFiringPublic.of(f) for f in run.fired]
        return cls(
            since=run.since,
            until=run.until,
            scanned=run.scanned,
            matched=run.matched,
            outside_schedule=run.outside_schedule,
            held_back=run.held_back,
            fired_total=run.fired_total,
            fired=fired,
            truncated=run.truncated,
            by_severity=dict(run.by_severity),
        )


class RulePreviewRequest(StrictModel):
    """A draft rule, and optionally the camera and detection confidence to judge it by."""

    rule: RuleCreate = Field(description="The rule as it would be stored; nothing is stored.")
    camera_id: Name | None = Field(
        default=None,
        description="For a rule of every camera: the camera judged (its zone, its time zone); "
        "default: the first camera that has the rule's line or zone.",
    )
    confidence: float = Field(
        default=0.8, ge=0, le=1, allow_inf_nan=False, description="Detection confidence assumed."
    )


class ScenarioPublic(BaseModel):
    """The risk of the rule's alert in one situation."""

    night: bool = Field(description="In the policy's night hours.")
    repeating: bool = Field(description="After enough alerts in the repeat window for full risk.")
    local_time: datetime = Field(description="The moment judged, in the camera's local time.")
    score: float
    severity: Severity
    risk_components: list[RiskComponentPublic]

    @classmethod
    def of(cls, scenario: Scenario) -> ScenarioPublic:
        """The public view of a scenario."""
        return cls(
            night=scenario.night,
            repeating=scenario.repeating,
            local_time=scenario.local_time,
            score=scenario.risk.score,
            severity=scenario.risk.severity,
            risk_components=[RiskComponentPublic.of(c) for c in scenario.risk.components],
        )


class RulePreviewPublic(BaseModel):
    """The severities the rule's alerts get under the risk policy in force."""

    camera_id: str | None = Field(description="The camera judged; null: none registered.")
    timezone: str = Field(description="The zone local time was judged in.")
    zone_criticality: float | None = Field(description="Criticality of the rule's zone there.")
    confidence: float
    scenarios: list[ScenarioPublic] = Field(
        description="By day, then at night (if the policy has night hours): first, repeating."
    )

    @classmethod
    def of(cls, preview: SeverityPreview) -> RulePreviewPublic:
        """The public view of a severity preview."""
        return cls(
            camera_id=preview.camera_id,
            timezone=preview.timezone,
            zone_criticality=preview.zone_criticality,
            confidence=preview.confidence,
            scenarios=[ScenarioPublic.of(s) for s in preview.scenarios],
        )

"""Alert, incident and feedback schemas: risk explained, lifecycle steps, operator input.

Until users exist, the operator who takes a step is named in the request body
(``actor``, ``author``); it is recorded in the alert's or incident's history.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, ClassVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from argus.api.schemas.common import PartialUpdate, StrictModel, Text, non_nullable
from argus.api.schemas.rules import RulePublic
from argus.domain.alerts import (
    Alert,
    AlertState,
    Incident,
    IncidentNote,
    IncidentStatus,
    RiskComponent,
    Severity,
    Transition,
)
from argus.domain.alerts.lifecycle import dismissal_undo_until
from argus.domain.rules import Rule
from argus.services.incidents import IncidentChanges, NewIncident
from argus.services.writes import UNSET

__all__ = [
    "AlertAction",
    "AlertConfirm",
    "AlertConfirmed",
    "AlertList",
    "AlertPublic",
    "FeedbackList",
    "FeedbackPublic",
    "IncidentCreate",
    "IncidentList",
    "IncidentNoteCreate",
    "IncidentNotePublic",
    "IncidentPublic",
    "IncidentStatusChange",
    "IncidentUpdate",
    "RiskComponentPublic",
    "TransitionPublic",
]


def _unique(values: list[str]) -> list[str]:
    if len(set(values)) != len(values):
        raise ValueError("must not hold duplicates")
    return values


Actor = Annotated[
    Text,
    Field(min_length=1, max_length=200, description="The operator taking the step."),
]
Note = Annotated[Text, Field(max_length=2000, description="Why; kept in the history.")]
Title = Annotated[Text, Field(min_length=1, max_length=200, description="Short description.")]
IncidentText = Annotated[Text, Field(max_length=10_000, description="Free text.")]
CameraRef = Annotated[
    Text, Field(min_length=1, max_length=200, description="The camera it happened on.")
]
AlertRef = Annotated[Text, Field(min_length=1, max_length=64)]
AlertIds = Annotated[
    list[AlertRef],
    Field(max_length=1000, description="Linked alerts (each must exist), no duplicates."),
    AfterValidator(_unique),
]
EvidenceRef = Annotated[Text, Field(min_length=1, max_length=2048)]
Evidence = Annotated[
    list[EvidenceRef],
    Field(
        max_length=1000,
        description="References to evidence (event:<id>, clip or snapshot URIs), no duplicates.",
    ),
    AfterValidator(_unique),
]


# --- shared parts ---------------------------------------------------------------------------


class RiskComponentPublic(BaseModel):
    """One explained part of an alert's risk score."""

    name: str = Field(description="rule, confidence, dwell, zone, time_of_day or repeat.")
    value: float = Field(ge=0, le=1, description="The component's value.")
    weight: float = Field(ge=0, description="Its weight in the weighted mean.")
    reason: str = Field(description="Why it has this value.")

    @classmethod
    def of(cls, component: RiskComponent) -> RiskComponentPublic:
        """The public view of a risk component."""
        return cls.model_validate(component, from_attributes=True)


class TransitionPublic(BaseModel):
    """One step of an alert's or incident's history."""

    from_state: str
    to_state: str
    at: datetime
    actor: str = Field(description="The operator, or system.")
    note: str

    @classmethod
    def of(cls, step: Transition) -> TransitionPublic:
        """The public view of a history step."""
        return cls.model_validate(step, from_attributes=True)


# --- alerts ---------------------------------------------------------------------------------


class AlertPublic(BaseModel):
    """A risk-scored alert a rule raised for one event."""

    id: str = Field(description="Alert id (a ULID).")
    rule_id: str
    rule_name: str = Field(description="The rule's name when it fired.")
    camera_id: str
    event_id: str = Field(description="The event that fired the rule.")
    event_type: str
    event_time: datetime
    class_name: str | None
    track_id: int | None
    risk_score: float = Field(ge=0, le=1, description="Weighted mean of the components.")
    severity: Severity = Field(description="low < 0.3 <= medium < 0.7 <= high.")
    risk_components: list[RiskComponentPublic] = Field(description="Why the score is what it is.")
    state: AlertState = Field(
        description="new, notified, escalated, acknowledged, confirmed, false_positive or "
        "cleared (the condition ended by itself)."
    )
    created_at: datetime
    updated_at: datetime
    ack_deadline: datetime | None = Field(
        description="When it escalates unless acknowledged; null when none is pending."
    )
    escalation_level: int = Field(ge=0)
    incident_id: str | None = Field(description="The incident its confirmation opened.")
    history: list[TransitionPublic] = Field(description="Every state change, oldest first.")
    version: int = Field(ge=1, description="Bumped on every change.")
    group_id: str | None = Field(description="The alert group it joined.")
    repeat: bool = Field(description="A repeat in its group: not notified, no deadline.")
    suppressed: str | None = Field(
        description="Why it was not notified (a snooze or maintenance window); null if it was."
    )
    dismissal_undo_until: datetime | None = Field(
        default=None,
        description="A false positive's dismissal may be undone (POST .../undo-dismiss) until "
        "then; null when the alert is not dismissed.",
    )

    @classmethod
    def of(cls, alert: Alert) -> AlertPublic:
        """The public view of an alert."""
        return cls(
            id=alert.id,
            rule_id=alert.rule_id,
            rule_name=alert.rule_name,
            camera_id=alert.camera_id,
            event_id=alert.event_id,
            event_type=alert.event_type,
            event_time=alert.event_time,
            class_name=alert.class_name,
            track_id=alert.track_id,
            risk_score=alert.risk.score,
            severity=alert.severity,
            risk_components=[RiskComponentPublic.of(c) for c in alert.risk.components],
            state=alert.state,
            created_at=alert.created_at,
            updated_at=alert.updated_at,
            ack_deadline=alert.ack_deadline,
            escalation_level=alert.escalation_level,
            incident_id=alert.incident_id,
            history=[TransitionPublic.of(t) for t in alert.history],
            version=alert.version,
            group_id=alert.group_id,
            repeat=alert.repeat,
            suppressed=alert.suppressed,
            dismissal_undo_until=dismissal_undo_until(alert.state, alert.history),
        )


class AlertList(BaseModel):
    """One page of alerts, newest first."""

    items: list[AlertPublic]
    total: int = Field(description="Alerts matching the filters, over all pages.")
    limit: int
    offset: int
    next_cursor: str | None = Field(
        default=None, description="Pass as cursor for the next page; null on the last page."
    )


class AlertAction(StrictModel):
    """Why a lifecycle step is taken (the signed-in user takes it)."""

    note: Note = ""


class AlertConfirm(AlertAction):
    """Confirm an acknowledged alert as real; it closes and opens an incident."""

    title: Title | None = Field(
        default=None, description="The incident's title; the rule and camera when null."
    )


class FeedbackPublic(BaseModel):
    """An alert dismissed as a false positive: feedback for tuning rules and risk."""

    alert: AlertPublic = Field(description="The alert, with its risk components and history.")
    rule: RulePublic | None = Field(description="The rule that fired, as it is now; null if gone.")
    dismissed_by: str = Field(description="The operator who dismissed it.")
    dismissed_at: datetime
    note: str = Field(description="The operator's reason.")

    @classmethod
    def of(cls, alert: Alert, rule: Rule | None) -> FeedbackPublic:
        """The feedback record of a dismissed alert and its rule."""
        step = next(t for t in reversed(alert.history) if t.to_state == "false_positive")
        return cls(
            alert=AlertPublic.of(alert),
            rule=None if rule is None else RulePublic.of(rule),
            dismissed_by=step.actor,
            dismissed_at=step.at,
            note=step.note,
        )


class FeedbackList(BaseModel):
    """One page of false positives, newest alert first."""

    items: list[FeedbackPublic]
    total: int = Field(description="False positives, over all pages.")
    limit: int
    offset: int


# --- incidents ------------------------------------------------------------------------------


class IncidentCreate(StrictModel):
    """An incident to open by hand (confirming an alert opens one by itself)."""

    title: Title
    description: IncidentText = ""
    camera_id: CameraRef | None = None
    alert_ids: AlertIds = Field(default_factory=list)
    evidence: Evidence = Field(default_factory=list)

    def command(self) -> NewIncident:
        """The service's command."""
        return NewIncident(
            title=self.title,
            description=self.description,
            camera_id=self.camera_id,
            alert_ids=tuple(self.alert_ids),
            evidence=tuple(self.evidence),
        )


_NOT_NULL = ("title", "description", "alert_ids", "evidence")


class IncidentUpdate(PartialUpdate):
    """Fields of an incident to change; absent fields keep their value.

    ``alert_ids`` and ``evidence`` replace the whole list (link or unlink).
    """

    model_config = ConfigDict(json_schema_extra=non_nullable(_NOT_NULL))
    not_null: ClassVar[tuple[str, ...]] = _NOT_NULL

    title: Title | None = None
    description: IncidentText | None = None
    camera_id: CameraRef | None = Field(default=None, description="The camera; null clears it.")
    alert_ids: AlertIds | None = None
    evidence: Evidence | None = None

    def command(self) -> IncidentChanges:
        """The service's command: the fields that were sent."""
        sent = self.model_fields_set
        return IncidentChanges(
            title=self.title if "title" in sent and self.title is not None else UNSET,
            description=(
                self.description
                if "description" in sent and self.description is not None
                else UNSET
            ),
            camera_id=self.camera_id if "camera_id" in sent else UNSET,
            alert_ids=(
                tuple(self.alert_ids)
                if "alert_ids" in sent and self.alert_ids is not None
                else UNSET
            ),
            evidence=(
                tuple(self.evidence) if "evidence" in sent and self.evidence is not None else UNSET
            ),
        )


class IncidentStatusChange(StrictModel):
    """Move an incident: open, in_progress, resolved, closed (closed is final)."""

    status: IncidentStatus
    note: Note = ""


class IncidentNoteCreate(StrictModel):
    """An operator's note on an incident."""

    text: Text = Field(min_length=1, max_length=5000, description="The note.")


class IncidentNotePublic(BaseModel):
    """An operator's note."""

    author: str
    text: str
    at: datetime

    @classmethod
    def of(cls, note: IncidentNote) -> IncidentNotePublic:
        """The public view of a note."""
        return cls.model_validate(note, from_attributes=True)


class IncidentPublic(BaseModel):
    """A security incident with its alerts, evidence, notes and status history."""

    id: str = Field(description="Incident id (a ULID).")
    title: str
    status: IncidentStatus = Field(description="open, in_progress, resolved or closed.")
    created_at: datetime
    updated_at: datetime
    camera_id: str | None
    confirmed_by: str | None = Field(description="The operator who confirmed or opened it.")
    description: str
    alert_ids: list[str]
    evidence: list[str]
    notes: list[IncidentNotePublic] = Field(description="Oldest first.")
    history: list[TransitionPublic] = Field(description="Status changes, oldest first.")
    legal_hold: str | None = Field(
        default=None,
        description="Why the incident is under legal hold (its alerts, events and evidence "
        "outlive retention and privacy erasure); null when it is not held.",
    )
    version: int = Field(ge=1, description="Bumped on every change.")

    @classmethod
    def of(cls, incident: Incident) -> IncidentPublic:
        """The public view of an incident."""
        return cls(
            id=incident.id,
            title=incident.title,
            status=incident.status,
            created_at=incident.created_at,
            updated_at=incident.updated_at,
            camera_id=incident.camera_id,
            confirmed_by=incident.confirmed_by,
            description=incident.description,
            alert_ids=list(incident.alert_ids),
            evidence=list(incident.evidence),
            notes=[IncidentNotePublic.of(n) for n in incident.notes],
            history=[TransitionPublic.of(t) for t in incident.history],
            legal_hold=incident.legal_hold,
            version=incident.version,
        )


class IncidentList(BaseModel):
    """One page of incidents, newest first."""

    items: list[IncidentPublic]
    total: int = Field(description="Incidents matching the filters, over all pages.")
    limit: int
    offset: int


class AlertConfirmed(BaseModel):
    """A confirmed alert and the incident its confirmation opened."""

    alert: AlertPublic
    incident: IncidentPublic

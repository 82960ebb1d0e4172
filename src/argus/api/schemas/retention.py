"""Request and response schemas of ``/api/v1/retention``, legal holds and audit checkpoints."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field

from argus.api.schemas.common import StrictModel, Text
from argus.domain.alerts import Incident
from argus.domain.audit import AuditCheckpoint
from argus.domain.retention import MAX_DAYS, RetentionPolicy, SweepReport

__all__ = [
    "CheckpointList",
    "CheckpointPublic",
    "LegalHoldCreate",
    "LegalHoldPublic",
    "RetentionDays",
    "RetentionPublic",
    "RetentionUpdate",
    "SweepPublic",
]

Days = Annotated[
    float, Field(ge=1 / 24, le=MAX_DAYS, description="Days kept (1 hour to 100 years).")
]


class RetentionDays(BaseModel):
    """Days each kind of data is kept."""

    events: float = Field(description="Events, heatmap grids excepted.")
    alerts: float = Field(description="Alerts in a final state, and emptied alert groups.")
    incidents: float = Field(description="Resolved and closed incidents, by their last change.")
    evidence: float = Field(description="Unlocked evidence.")
    audit: float = Field(description="Audit records (pruned behind a signed checkpoint).")
    heatmap: float = Field(description="Heatmap grid events.")
    health: float = Field(description="Edge node health reports.")
    face_decisions: float = Field(description="Workstation face verification decisions.")
    notifications: float = Field(description="Delivered and dead notifications.")

    @classmethod
    def of(cls, policy: RetentionPolicy) -> RetentionDays:
        """The days of a policy."""
        return cls(**policy.to_dict())


class SweepPublic(BaseModel):
    """What one retention sweep deleted."""

    deleted: dict[str, int] = Field(description="Rows or items deleted per kind of data.")
    total: int
    held_incidents: int = Field(description="Incidents under legal hold when it ran.")
    kept: dict[str, int] = Field(
        description="What legal holds keep: alerts and events of held incidents, evidence "
        "items this sweep locked for them."
    )
    errors: dict[str, str] = Field(description="Kinds whose sweep failed, with the reason.")

    @classmethod
    def of(cls, report: SweepReport) -> SweepPublic:
        """The public view of a sweep report."""
        return cls(
            deleted=dict(report.deleted),
            total=report.total,
            held_incidents=report.held_incidents,
            kept=dict(report.kept),
            errors=dict(report.errors),
        )


class RetentionPublic(BaseModel):
    """The retention policy, its defaults, and the latest sweep of this server."""

    policy: RetentionDays
    defaults: RetentionDays = Field(description="The days of kinds never changed.")
    last_sweep: SweepPublic | None = Field(description="This server's latest sweep, if any.")


class RetentionUpdate(StrictModel):
    """Days to change; kinds left out keep theirs."""

    events: Days | None = None
    alerts: Days | None = None
    incidents: Days | None = None
    evidence: Days | None = None
    audit: Days | None = None
    heatmap: Days | None = None
    health: Days | None = None
    face_decisions: Days | None = None
    notifications: Days | None = None


class LegalHoldCreate(StrictModel):
    """Why an incident is put under legal hold."""

    reason: Text = Field(min_length=1, max_length=1000, description="Why (a case, a request).")


class LegalHoldPublic(BaseModel):
    """An incident's legal hold."""

    incident_id: str
    legal_hold: str | None = Field(description="The reason of the hold; null: not held.")
    updated_at: datetime
    version: int

    @classmethod
    def of(cls, incident: Incident) -> LegalHoldPublic:
        """The hold of an incident."""
        return cls(
            incident_id=incident.id,
            legal_hold=incident.legal_hold,
            updated_at=incident.updated_at,
            version=incident.version,
        )


class CheckpointPublic(BaseModel):
    """The signed checkpoint of pruned audit records."""

    seq: int = Field(description="The last pruned record.")
    hash: str = Field(description="Its chain hash: the next record's prev_hash.")
    count: int = Field(description="Records this prune removed.")
    before: datetime = Field(description="Records older than this were pruned.")
    pruned_at: datetime
    signature: str = Field(description="HMAC-SHA256 under the chain key.")

    @classmethod
    def of(cls, checkpoint: AuditCheckpoint) -> CheckpointPublic:
        """The public view of a checkpoint."""
        return cls(
            seq=checkpoint.seq,
            hash=checkpoint.hash,
            count=checkpoint.count,
            before=checkpoint.before,
            pruned_at=checkpoint.pruned_at,
            signature=checkpoint.signature,
        )


class CheckpointList(BaseModel):
    """Audit checkpoints, newest first (verification starts at the first)."""

    items: list[CheckpointPublic]

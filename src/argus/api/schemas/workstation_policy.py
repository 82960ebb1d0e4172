"""Schemas of ``/api/v1/workstations/policy`` (decision thresholds and phone rules)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from argus.api.schemas.common import StrictModel
from argus.services.workstation_policy import Source, WorkstationPolicy

__all__ = [
    "PhoneFields",
    "PhoneValues",
    "PolicySources",
    "PolicyValues",
    "VerificationFields",
    "VerificationValues",
    "WorkstationPolicyPublic",
    "WorkstationPolicyUpdate",
]


class VerificationFields(StrictModel):
    """Decision thresholds; a field left out (or null) takes its default."""

    match_threshold: float | None = Field(
        default=None, gt=0, le=2, description="Largest face descriptor distance accepted."
    )
    liveness_threshold: float | None = Field(
        default=None, gt=0, lt=1, description="Liveness scores below this are spoofs."
    )
    no_face_seconds: float | None = Field(
        default=None, ge=0, le=3600, description="Seconds without a face before locking."
    )
    wrong_user_frames: int | None = Field(
        default=None, ge=1, le=1000, description="Frames of another face in a row before locking."
    )
    spoof_windows: int | None = Field(
        default=None, ge=1, le=1000, description="Spoof verdicts in a row before signing out."
    )
    violations_to_block: int | None = Field(
        default=None, ge=1, le=1000, description="Violations within the span that block a client."
    )
    violation_seconds: float | None = Field(
        default=None, gt=0, le=86_400, description="Span over which violations are counted."
    )


class PhoneFields(StrictModel):
    """When a phone counts as aimed at the screen; a field left out takes its default."""

    min_confidence: float | None = Field(
        default=None, ge=0, le=1, description="Weakest phone detection considered."
    )
    face_reach: float | None = Field(
        default=None,
        gt=0,
        le=20,
        description="A phone is near the face when it overlaps the face box grown by this.",
    )
    window: int | None = Field(default=None, ge=1, le=100, description="Frames remembered.")
    min_hits: int | None = Field(
        default=None,
        ge=1,
        le=100,
        description="Frames of the window that must show a phone (at most window).",
    )


class WorkstationPolicyUpdate(StrictModel):
    """The whole policy: every field left out takes its default (``{}``: all defaults)."""

    verification: VerificationFields = Field(default_factory=VerificationFields)
    phone: PhoneFields = Field(default_factory=PhoneFields)

    def document(self) -> dict[str, dict[str, Any]]:
        """The fields given, by group (the stored document)."""
        return {
            "verification": self.verification.model_dump(exclude_none=True),
            "phone": self.phone.model_dump(exclude_none=True),
        }


class VerificationValues(BaseModel):
    """Decision thresholds in force."""

    match_threshold: float
    liveness_threshold: float
    no_face_seconds: float
    wrong_user_frames: int
    spoof_windows: int
    violations_to_block: int
    violation_seconds: float


class PhoneValues(BaseModel):
    """Phone rules in force."""

    min_confidence: float
    face_reach: float
    window: int
    min_hits: int


class PolicyValues(BaseModel):
    """Both groups of values."""

    verification: VerificationValues
    phone: PhoneValues


class PolicySources(BaseModel):
    """Where each value came from: ``stored`` (set through this API) or ``default``
    (the ``ARGUS_WORKSTATION_*`` settings, else the built-in default)."""

    verification: dict[str, Source]
    phone: dict[str, Source]


class WorkstationPolicyPublic(BaseModel):
    """The policy in force, its defaults, and where each value came from."""

    verification: VerificationValues
    phone: PhoneValues
    defaults: PolicyValues
    sources: PolicySources

    @classmethod
    def of(cls, policy: WorkstationPolicy) -> WorkstationPolicyPublic:
        """The public view of ``policy``."""
        values, defaults = policy.values(), policy.default_values()
        return cls(
            verification=VerificationValues.model_validate(values["verification"]),
            phone=PhoneValues.model_validate(values["phone"]),
            defaults=PolicyValues.model_validate(defaults),
            sources=PolicySources.model_validate(policy.sources()),
        )

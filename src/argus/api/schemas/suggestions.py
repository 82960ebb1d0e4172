"""Request and response schemas of ``/api/v1/suggestions`` (rule suggestions)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field

from argus.services.rule_suggestions import StoredSuggestion

__all__ = ["SuggestionDismiss", "SuggestionEffect", "SuggestionList", "SuggestionPublic"]


class SuggestionEffect(BaseModel):
    """What the change would have done to the recorded history (the reviewed alerts)."""

    false_positives: int = Field(description="Past false positives it would have suppressed.")
    false_positive_total: int = Field(description="The rule's false positives considered.")
    confirmed_lost: int = Field(description="Past confirmed alerts it would have suppressed.")
    confirmed_total: int = Field(description="The rule's confirmed alerts considered.")


class SuggestionPublic(BaseModel):
    """A proposed rule change, its effect on history and its decision."""

    id: str
    kind: Literal["threshold", "schedule", "exclusion_zone"]
    rule_id: str
    rule_name: str
    camera_id: str | None = Field(description="The rule's camera (null: every camera).")
    summary: str = Field(description="The change and its effect in words.")
    change: dict[str, object] = Field(
        description='{"min_confidence": t}, {"schedule": {...}} or {"polygon": [[x, y], ...]} '
        "(normalised frame coordinates)."
    )
    effect: SuggestionEffect
    applicable: bool = Field(
        description="Whether it can be applied (an exclusion zone adds to the rule's "
        "exclude_areas)."
    )
    state: Literal["open", "applied", "dismissed"]
    decided_by: str | None
    decided_at: datetime | None
    computed_at: datetime

    @classmethod
    def of(cls, stored: StoredSuggestion) -> Self:
        """The public view of ``stored``."""
        s = stored.suggestion
        return cls(
            id=s.id,
            kind=s.kind,
            rule_id=s.rule_id,
            rule_name=s.rule_name,
            camera_id=s.camera_id,
            summary=s.summary,
            change=dict(s.change),
            effect=SuggestionEffect(**s.effect.to_dict()),
            applicable=s.applicable,
            state=stored.state,
            decided_by=stored.decided_by,
            decided_at=stored.decided_at,
            computed_at=stored.computed_at,
        )


class SuggestionList(BaseModel):
    """The last computed suggestions, in rule order."""

    items: list[SuggestionPublic]


class SuggestionDismiss(BaseModel):
    """Why a suggestion is dismissed."""

    model_config = ConfigDict(extra="forbid")

    note: str = Field("", max_length=500, description="Why (kept in the audit trail).")

"""Schemas of ``/api/v1/risk-policy`` and ``/api/v1/site``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from argus.api.schemas.alerts import RiskComponentPublic
from argus.api.schemas.common import Moment, Name, StrictModel, Text
from argus.domain.alerts import Risk, RiskPolicy, Severity
from argus.domain.site import Site
from argus.services.risk_policy import RiskPreview

__all__ = [
    "RiskPolicyPublic",
    "RiskPolicyUpdate",
    "RiskPreviewPublic",
    "RiskPreviewRequest",
    "SitePublic",
    "SiteUpdate",
]

Zone = Text
"""An IANA time zone name (checked by the domain)."""


class RiskPolicyUpdate(StrictModel):
    """A risk policy; fields left out take their defaults (the ``ARGUS_RISK_*`` settings)."""

    weights: dict[str, float] | None = Field(
        default=None,
        description="Weight per component (rule, confidence, dwell, zone, time_of_day, "
        "repeat), each in [0, 100]; missing components weigh 0; at least one positive.",
    )
    night_start: int | None = Field(
        default=None, ge=0, le=23, description="Local hour the night starts."
    )
    night_end: int | None = Field(
        default=None, ge=0, le=23, description="Local hour it ends (equal: no night)."
    )
    day_value: float | None = Field(
        default=None, ge=0, le=1, description="Time-of-day value outside the night."
    )
    dwell_full_seconds: float | None = Field(
        default=None, gt=0, le=86_400, description="Dwell that counts as full risk."
    )
    repeat_full: int | None = Field(
        default=None, ge=1, le=10_000, description="Repeats that count as full repeat risk."
    )
    repeat_window_s: float | None = Field(
        default=None, ge=1, le=604_800, description="How far back repeats are counted."
    )
    timezone: Zone | None = Field(
        default=None,
        max_length=64,
        description="One IANA zone for every camera's night hours; null: each camera's "
        "zone, else the site's.",
    )

    def document(self) -> dict[str, Any]:
        """The fields sent, as the stored document's keys."""
        return self.model_dump(exclude_unset=True)


class RiskPolicyPublic(BaseModel):
    """The risk policy in force."""

    weights: dict[str, float]
    night_start: int
    night_end: int
    day_value: float
    dwell_full_seconds: float
    repeat_full: int
    repeat_window_s: float
    timezone: str | None = Field(description="The fixed zone, or null: camera's, else site's.")
    site_timezone: str = Field(description="The site's zone (read only; see /site).")
    defaults: dict[str, Any] = Field(
        description="The policy while none is stored (the ARGUS_RISK_* settings)."
    )

    @classmethod
    def of(cls, policy: RiskPolicy, defaults: RiskPolicy) -> RiskPolicyPublic:
        """The public view of ``policy``."""
        return cls(
            **policy.to_dict(), site_timezone=policy.site_timezone, defaults=defaults.to_dict()
        )


class SiteUpdate(StrictModel):
    """The site's time zone and the zones of cameras elsewhere."""

    timezone: Zone | None = Field(
        default=None,
        max_length=64,
        description="IANA zone of the site; null: ARGUS_SITE_TIMEZONE, else the machine's.",
    )
    camera_timezones: dict[str, str] = Field(
        default_factory=dict, description="Zone per camera id, for cameras elsewhere."
    )

    def document(self) -> dict[str, Any]:
        """The stored document's keys."""
        return self.model_dump()


class SitePublic(BaseModel):
    """The site in force."""

    timezone: str
    camera_timezones: dict[str, str]
    default_timezone: str = Field(description="The zone while none is stored.")

    @classmethod
    def of(cls, site: Site, default: Site) -> SitePublic:
        """The public view of ``site``."""
        return cls(**site.to_dict(), default_timezone=default.timezone)


class RiskPreviewRequest(StrictModel):
    """An event to score, and optionally a draft policy to score it with."""

    rule_id: Name
    camera_id: Name
    at: Moment = Field(strict=False, description="When the event happens (with a UTC offset).")
    confidence: float | None = Field(default=None, ge=0, le=1)
    dwell: float | None = Field(default=None, ge=0, le=86_400, description="Seconds.")
    zone: Text | None = Field(default=None, max_length=200, description="The event's zone.")
    recent_alerts: int = Field(
        default=0, ge=0, le=10_000, description="Earlier alerts in the repeat window."
    )
    policy: RiskPolicyUpdate | None = Field(
        default=None, description="A draft policy; null: the stored one."
    )

    def command(self) -> RiskPreview:
        """The service's request."""
        return RiskPreview(
            rule_id=self.rule_id,
            camera_id=self.camera_id,
            at=self.at,
            confidence=self.confidence,
            dwell=self.dwell,
            zone=self.zone,
            recent_alerts=self.recent_alerts,
        )


class RiskPreviewPublic(BaseModel):
    """The risk a policy gives an event, explained."""

    score: float
    severity: Severity
    floor: Severity | None
    ceiling: Severity | None
    components: list[RiskComponentPublic]
    timezone: str = Field(description="The zone local time was judged in.")
    local_time: datetime = Field(description="The event's local time there.")

    @classmethod
    def of(cls, risk: Risk, policy: RiskPolicy, camera_id: str, at: datetime) -> RiskPreviewPublic:
        """The public view of a previewed risk."""
        return cls(
            score=risk.score,
            severity=risk.severity,
            floor=risk.floor,
            ceiling=risk.ceiling,
            components=[RiskComponentPublic.of(c) for c in risk.components],
            timezone=policy.zone_of(camera_id),
            local_time=policy.local_time(at, camera_id),
        )

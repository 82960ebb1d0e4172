"""Explainable risk: a weighted mean of components in [0, 1], each with its reason.

A component that does not apply to the event (dwell of a line crossing, the
zone of an event outside zones) is kept with weight 0, so it neither raises
nor dilutes the score.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from argus.domain.alerts.lifecycle import Severity, severity_of
from argus.domain.checks import aware_utc, finite, text, unit_interval
from argus.domain.errors import ValidationError
from argus.domain.rules import Match, event_confidence, event_dwell

__all__ = ["Risk", "RiskComponent", "RiskContext", "RiskPolicy", "assess_risk"]


@dataclass(frozen=True, slots=True)
class RiskComponent:
    """One explained part of a risk score.

    Attributes:
        name: ``rule``, ``confidence``, ``dwell``, ``zone``, ``time_of_day`` or ``repeat``.
        value: The component's value in [0, 1].
        weight: Its weight in the mean.
        reason: Why it has this value, for operators.
    """

    name: str
    value: float
    weight: float
    reason: str

    def __post_init__(self) -> None:
        text(self.name, "risk component name", 40)
        object.__setattr__(self, "value", round(unit_interval(self.value, self.name), 4))
        if finite(self.weight, f"{self.name}.weight") < 0:
            raise ValidationError("risk weights must be >= 0")
        text(self.reason, f"{self.name}.reason", 300, empty=True)

    @property
    def contribution(self) -> float:
        """``value * weight``."""
        return self.value * self.weight

    def to_dict(self) -> dict[str, object]:
        """The JSON-ready form."""
        return {
            "name": self.name,
            "value": self.value,
            "weight": self.weight,
            "reason": self.reason,
        }


@dataclass(frozen=True, slots=True)
class Risk:
    """A risk score with the components it was computed from.

    Attributes:
        score: Weighted mean of the components, in [0, 1].
        components: The explained parts.
    """

    score: float
    components: tuple[RiskComponent, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "score", round(unit_interval(self.score, "risk score"), 4))

    @classmethod
    def of(cls, components: tuple[RiskComponent, ...]) -> Risk:
        """The weighted mean of ``components`` (0 when every weight is 0)."""
        total = sum(c.weight for c in components)
        score = sum(c.contribution for c in components) / total if total > 0 else 0.0
        return cls(min(1.0, max(0.0, score)), components)

    @property
    def severity(self) -> Severity:
        """The score's severity."""
        return severity_of(self.score)


@dataclass(frozen=True, slots=True)
class RiskPolicy:
    """Weights and scales of the risk components.

    Attributes:
        weights: Weight per component name.
        dwell_full_seconds: Dwell that counts as full risk (linear below).
        night_start: Local hour the night (full time-of-day risk) starts.
        night_end: Local hour it ends; equal to ``night_start``: no night hours.
        day_value: Time-of-day value outside the night.
        repeat_full: Alerts of the same rule and camera in ``repeat_window``
            that count as full repeat risk.
        repeat_window: How far back repeats are counted.
        timezone: Local time zone for the time of day.
    """

    weights: Mapping[str, float] = field(
        default_factory=lambda: {
            "rule": 0.35,
            "confidence": 0.15,
            "dwell": 0.15,
            "zone": 0.15,
            "time_of_day": 0.10,
            "repeat": 0.10,
        }
    )
    dwell_full_seconds: float = 120.0
    night_start: int = 22
    night_end: int = 6
    day_value: float = 0.2
    repeat_full: int = 5
    repeat_window: timedelta = timedelta(hours=1)
    timezone: str = "UTC"

    def __post_init__(self) -> None:
        for name, weight in self.weights.items():
            if finite(weight, f"weights.{name}") < 0:
                raise ValidationError("risk weights must be >= 0")
        if finite(self.dwell_full_seconds, "dwell_full_seconds") <= 0:
            raise ValidationError("dwell_full_seconds must be positive")
        for name in ("night_start", "night_end"):
            if getattr(self, name) not in range(24):
                raise ValidationError(f"{name} must be an hour 0-23")
        unit_interval(self.day_value, "day_value")
        if self.repeat_full < 1:
            raise ValidationError("repeat_full must be >= 1")
        ZoneInfo(self.timezone)

    def is_night(self, moment: datetime) -> bool:
        """Whether ``moment`` falls in the night hours, local time."""
        hour = aware_utc(moment, "moment").astimezone(ZoneInfo(self.timezone)).hour
        if self.night_start <= self.night_end:
            return self.night_start <= hour < self.night_end
        return hour >= self.night_start or hour < self.night_end


@dataclass(frozen=True, slots=True)
class RiskContext:
    """What the risk of a match depends on beyond the event itself.

    Attributes:
        zone_criticality: Criticality of the event's zone; ``None`` when the
            event names no zone (or the zone is unknown).
        recent_alerts: Alerts of the same rule and camera within the policy's
            repeat window, before this one.
    """

    zone_criticality: float | None = None
    recent_alerts: int = 0


def assess_risk(match: Match, context: RiskContext, policy: RiskPolicy) -> Risk:
    """The explained risk of a rule match."""
    weights = policy.weights
    envelope = match.envelope
    parts: list[RiskComponent] = []

    def add(name: str, value: float, reason: str, *, applies: bool = True) -> None:
        weight = weights.get(name, 0.0) if applies else 0.0
        parts.append(RiskComponent(name, min(1.0, max(0.0, value)), weight, reason))

    add("rule", match.rule.weight, f"rule {match.rule.name!r} weight {match.rule.weight:g}")
    confidence = event_confidence(envelope)
    if confidence is None:
        add("confidence", 0.5, "no detection confidence reported")
    else:
        add("confidence", confidence, f"detection confidence {confidence:.2f}")
    dwell = event_dwell(envelope)
    if dwell is None:
        add("dwell", 0.0, "no dwell reported: not counted", applies=False)
    else:
        add("dwell", dwell / policy.dwell_full_seconds, f"dwell {dwell:.1f} s")
    if context.zone_criticality is None:
        add("zone", 0.0, "no zone: not counted", applies=False)
    else:
        add("zone", context.zone_criticality, f"zone criticality {context.zone_criticality:g}")
    if policy.is_night(envelope.timestamp):
        add("time_of_day", 1.0, f"night ({policy.night_start}:00-{policy.night_end}:00)")
    else:
        add("time_of_day", policy.day_value, "daytime")
    repeats = context.recent_alerts + max(0, match.window_count - 1)
    add("repeat", repeats / policy.repeat_full, f"{repeats} earlier alert(s) or events in window")
    return Risk.of(tuple(parts))

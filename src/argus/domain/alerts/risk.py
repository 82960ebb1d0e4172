"""Explainable risk: a weighted mean of components in [0, 1], each with its reason.

A component that does not apply to the event (dwell of a line crossing, the
zone of an event outside zones) is kept with weight 0, so it neither raises
nor dilutes the score.

The weights and scales are a ``RiskPolicy``: an editable document stored under
``RISK_POLICY_KEY`` (``RiskPolicy.to_dict``), resolved against the site
(``argus.domain.site``) so that the night hours are judged in the local time
of the camera that saw the event (the policy's own zone when it names one).

A rule may bound the severity of its alerts (``Rule.severity_floor`` /
``severity_ceiling``): a kerb line that fires all day is at most ``low``, a
door that must never open is at least ``high``. The weighted mean is then held
inside the bound's band (a ceiling ``low`` keeps the score below 0.3), so the
score, the severity and everything that follows from them (acknowledgement
deadlines, filters, routing) agree, and a ``bounds`` component (weight 0)
records the unbounded mean and why it was held.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo

from argus.domain.alerts.lifecycle import SEVERITIES, Severity, severity_of
from argus.domain.checks import aware_utc, finite, text, unit_interval
from argus.domain.errors import ValidationError
from argus.domain.rules import Match, event_confidence, event_dwell
from argus.domain.site import Site, valid_timezone

__all__ = [
    "COMPONENTS",
    "DEFAULT_WEIGHTS",
    "RISK_POLICY_KEY",
    "Risk",
    "RiskComponent",
    "RiskContext",
    "RiskPolicy",
    "assess_risk",
    "bound_score",
]

RISK_POLICY_KEY = "risk_policy"
"""Settings key of the stored risk policy document."""

COMPONENTS = ("rule", "confidence", "dwell", "zone", "time_of_day", "repeat")
"""The weighted components, in the order an alert lists them."""

DEFAULT_WEIGHTS: Mapping[str, float] = MappingProxyType(
    {
        "rule": 0.35,
        "confidence": 0.15,
        "dwell": 0.15,
        "zone": 0.15,
        "time_of_day": 0.10,
        "repeat": 0.10,
    }
)

_RANK = {severity: rank for rank, severity in enumerate(SEVERITIES)}
_BAND_LOW: Mapping[str, float] = {"low": 0.0, "medium": 0.3, "high": 0.7}
_BAND_HIGH: Mapping[str, float] = {"low": 0.2999, "medium": 0.6999, "high": 1.0}


@dataclass(frozen=True, slots=True)
class RiskComponent:
    """One explained part of a risk score.

    Attributes:
        name: ``rule``, ``confidence``, ``dwell``, ``zone``, ``time_of_day``,
            ``repeat``, or ``bounds`` (the rule's severity bounds, weight 0).
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


def bound_score(score: float, floor: Severity | None, ceiling: Severity | None) -> float:
    """``score`` held inside the band from ``floor``'s lowest to ``ceiling``'s highest score.

    Raises:
        ValidationError: ``floor`` is above ``ceiling``, or either is no severity.
    """
    for name, bound in (("floor", floor), ("ceiling", ceiling)):
        if bound is not None and bound not in _RANK:
            raise ValidationError(f"severity {name} must be one of {', '.join(SEVERITIES)}")
    if floor is not None and ceiling is not None and _RANK[floor] > _RANK[ceiling]:
        raise ValidationError(f"severity floor {floor} is above the ceiling {ceiling}")
    low = _BAND_LOW[floor] if floor is not None else 0.0
    high = _BAND_HIGH[ceiling] if ceiling is not None else 1.0
    return min(high, max(low, score))


@dataclass(frozen=True, slots=True)
class Risk:
    """A risk score with the components it was computed from.

    Attributes:
        score: Weighted mean of the components in [0, 1], held inside the
            severity bounds when there are any.
        components: The explained parts.
        floor: Lowest severity the rule allows (``None``: no floor).
        ceiling: Highest severity the rule allows (``None``: no ceiling).
    """

    score: float
    components: tuple[RiskComponent, ...]
    floor: Severity | None = None
    ceiling: Severity | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "score", round(unit_interval(self.score, "risk score"), 4))
        bound_score(self.score, self.floor, self.ceiling)  # validates the bounds

    @classmethod
    def of(
        cls,
        components: tuple[RiskComponent, ...],
        *,
        floor: Severity | None = None,
        ceiling: Severity | None = None,
    ) -> Risk:
        """The weighted mean of ``components`` (0 when every weight is 0), bounded.

        With a floor or a ceiling a ``bounds`` component (weight 0) is added:
        its value is the unbounded mean, its reason says whether it was held.
        """
        total = sum(c.weight for c in components)
        mean = sum(c.contribution for c in components) / total if total > 0 else 0.0
        mean = round(min(1.0, max(0.0, mean)), 4)
        if floor is None and ceiling is None:
            return cls(mean, components)
        score = bound_score(mean, floor, ceiling)
        band = f"{floor or 'low'}-{ceiling or 'high'}"
        if score == mean:
            reason = f"rule allows {band}: score {mean:.2f} ({severity_of(mean)}) kept"
        else:
            reason = (
                f"rule allows {band}: score {mean:.2f} ({severity_of(mean)}) "
                f"held at {score:.2f} ({severity_of(score)})"
            )
        bounds = RiskComponent("bounds", mean, 0.0, reason)
        return cls(score, (*components, bounds), floor, ceiling)

    @property
    def severity(self) -> Severity:
        """The score's severity, inside the bounds."""
        return severity_of(bound_score(self.score, self.floor, self.ceiling))


@dataclass(frozen=True, slots=True)
class RiskPolicy:
    """Weights and scales of the risk components.

    Attributes:
        weights: Weight per component name (``COMPONENTS``; those missing weigh 0).
        dwell_full_seconds: Dwell that counts as full risk (linear below).
        night_start: Local hour the night (full time-of-day risk) starts.
        night_end: Local hour it ends; equal to ``night_start``: no night hours.
        day_value: Time-of-day value outside the night.
        repeat_full: Alerts of the same rule and camera in ``repeat_window``
            that count as full repeat risk.
        repeat_window: How far back repeats are counted.
        timezone: One zone for the night hours of every camera; ``None``: the
            camera's zone, else the site's (the stored default).
        site_timezone: The site's zone (resolved from the site, not stored here).
        camera_timezones: Zones of cameras elsewhere (resolved from the site).
    """

    weights: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    dwell_full_seconds: float = 120.0
    night_start: int = 22
    night_end: int = 6
    day_value: float = 0.2
    repeat_full: int = 5
    repeat_window: timedelta = timedelta(hours=1)
    timezone: str | None = None
    site_timezone: str = "UTC"
    camera_timezones: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.weights, Mapping):
            raise ValidationError("weights must be an object of component: weight")
        unknown = set(self.weights) - set(COMPONENTS)
        if unknown:
            raise ValidationError(
                f"unknown risk component(s) {', '.join(sorted(map(str, unknown)))}; "
                f"known: {', '.join(COMPONENTS)}"
            )
        weights = {
            name: finite(self.weights.get(name, 0.0), f"weights.{name}") for name in COMPONENTS
        }
        if any(weight < 0 or weight > 100 for weight in weights.values()):
            raise ValidationError("risk weights must be in [0, 100]")
        if sum(weights.values()) <= 0:
            raise ValidationError("at least one risk weight must be positive")
        object.__setattr__(self, "weights", MappingProxyType(weights))
        seconds = finite(self.dwell_full_seconds, "dwell_full_seconds")
        if not 0 < seconds <= 86_400:
            raise ValidationError("dwell_full_seconds must be in (0, 86400]")
        for name in ("night_start", "night_end"):
            hour = getattr(self, name)
            if isinstance(hour, bool) or not isinstance(hour, int) or hour not in range(24):
                raise ValidationError(f"{name} must be an hour 0-23")
        unit_interval(self.day_value, "day_value")
        if isinstance(self.repeat_full, bool) or not isinstance(self.repeat_full, int):
            raise ValidationError("repeat_full must be an integer")
        if not 1 <= self.repeat_full <= 10_000:
            raise ValidationError("repeat_full must be in [1, 10000]")
        if not timedelta(seconds=1) <= self.repeat_window <= timedelta(days=7):
            raise ValidationError("repeat_window must be between 1 s and 7 days")
        if self.timezone is not None:
            valid_timezone(self.timezone, "timezone")
        site = Site(self.site_timezone, self.camera_timezones)
        object.__setattr__(self, "camera_timezones", site.camera_timezones)

    def zone_of(self, camera_id: str | None = None) -> str:
        """The zone the night hours of ``camera_id`` are judged in."""
        if self.timezone is not None:
            return self.timezone
        if camera_id is not None and camera_id in self.camera_timezones:
            return self.camera_timezones[camera_id]
        return self.site_timezone

    def local_time(self, moment: datetime, camera_id: str | None = None) -> datetime:
        """``moment`` in the local time of ``camera_id``."""
        return aware_utc(moment, "moment").astimezone(ZoneInfo(self.zone_of(camera_id)))

    def is_night(self, moment: datetime, camera_id: str | None = None) -> bool:
        """Whether ``moment`` falls in the night hours, local time of ``camera_id``."""
        hour = self.local_time(moment, camera_id).hour
        if self.night_start <= self.night_end:
            return self.night_start <= hour < self.night_end
        return hour >= self.night_start or hour < self.night_end

    def with_site(self, site: Site) -> RiskPolicy:
        """This policy judging local time by ``site``'s zones."""
        return replace(self, site_timezone=site.timezone, camera_timezones=site.camera_timezones)

    def to_dict(self) -> dict[str, Any]:
        """The stored document (the site's zones are not part of it)."""
        return {
            "weights": dict(self.weights),
            "night_start": self.night_start,
            "night_end": self.night_end,
            "day_value": self.day_value,
            "dwell_full_seconds": self.dwell_full_seconds,
            "repeat_full": self.repeat_full,
            "repeat_window_s": self.repeat_window.total_seconds(),
            "timezone": self.timezone,
        }

    @classmethod
    def from_dict(cls, data: object, *, base: RiskPolicy | None = None) -> RiskPolicy:
        """Parse a stored document; missing fields keep ``base``'s (the defaults).

        Raises:
            ValidationError: Not a risk policy document (unknown fields refused).
        """
        if not isinstance(data, Mapping):
            raise ValidationError("the risk policy must be an object")
        base = base if base is not None else cls()
        known = set(base.to_dict())
        unknown = set(data) - known
        if unknown:
            raise ValidationError(
                f"unknown risk policy field(s): {', '.join(sorted(map(str, unknown)))}"
            )
        merged = {**base.to_dict(), **data}
        weights = merged["weights"]
        if not isinstance(weights, Mapping):
            raise ValidationError("weights must be an object of component: weight")
        try:
            return replace(
                base,
                weights=dict(weights),
                night_start=merged["night_start"],
                night_end=merged["night_end"],
                day_value=finite(merged["day_value"], "day_value"),
                dwell_full_seconds=finite(merged["dwell_full_seconds"], "dwell_full_seconds"),
                repeat_full=merged["repeat_full"],
                repeat_window=timedelta(
                    seconds=finite(merged["repeat_window_s"], "repeat_window_s")
                ),
                timezone=merged["timezone"],
            )
        except (OverflowError, TypeError) as exc:
            raise ValidationError(f"invalid risk policy: {exc}") from exc


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
    """The explained risk of a rule match, within its rule's severity bounds."""
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
    camera_id = envelope.source.camera_id
    local = policy.local_time(envelope.timestamp, camera_id)
    when = f"{local:%H:%M} {policy.zone_of(camera_id)}"
    if policy.is_night(envelope.timestamp, camera_id):
        hours = f"{policy.night_start:02d}:00-{policy.night_end:02d}:00"
        add("time_of_day", 1.0, f"night ({when}; night is {hours})")
    else:
        add("time_of_day", policy.day_value, f"daytime ({when})")
    repeats = context.recent_alerts + max(0, match.window_count - 1)
    add("repeat", repeats / policy.repeat_full, f"{repeats} earlier alert(s) or events in window")
    rule = match.rule
    return Risk.of(tuple(parts), floor=rule.severity_floor, ceiling=rule.severity_ceiling)

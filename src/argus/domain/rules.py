"""Alert rules: which events raise an alert, and when.

A ``Rule`` is a validated, stored value: conditions on the event (type,
class, line and direction, zone, dwell, occupancy, confidence), an optional
count over a sliding window, a weekly schedule in a time zone, and a cooldown
per track or per camera. ``RuleEngine`` is the one verb: ``evaluate(envelope)``
returns the rules the event satisfies, in rule order, with the bounded state
that counting windows and cooldowns need.

Times are the events' own UTC timestamps, never the wall clock, so a replayed
stream fires the same alerts.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Literal

from argus.domain.checks import aware_utc, finite, names, text, unit_interval
from argus.domain.codec import field_number
from argus.domain.errors import ValidationError
from argus.domain.event_types import check_event_types
from argus.domain.events import Envelope
from argus.domain.exclusion_areas import Area, check_areas, excluded
from argus.domain.schedule import Schedule

__all__ = [
    "BoundSeverity",
    "CooldownScope",
    "Match",
    "Rule",
    "RuleEngine",
    "Schedule",
    "event_confidence",
    "event_dwell",
    "event_occupancy",
]

CooldownScope = Literal["track", "camera"]
BoundSeverity = Literal["low", "medium", "high"]
"""A severity bound of a rule (``domain.alerts.Severity``; not imported: alerts import rules)."""
_BOUND_ORDER: tuple[BoundSeverity, ...] = ("low", "medium", "high")
_MAX_WINDOW = 7 * 24 * 3600.0
_MAX_COOLDOWN = 7 * 24 * 3600.0
_MAX_WINDOW_EVENTS = 10_000


def event_confidence(envelope: Envelope) -> float | None:
    """The detection confidence an event reports, if any."""
    return field_number(envelope.payload, "confidence")


def event_dwell(envelope: Envelope) -> float | None:
    """The dwell in seconds an event reports (zone exits, loitering), if any."""
    return field_number(envelope.payload, "dwell_seconds")


def event_occupancy(envelope: Envelope) -> int | None:
    """The zone occupancy an event reports (crowding), if any."""
    value = field_number(envelope.payload, "occupancy")
    return None if value is None else int(value)


def _optional_names(value: object, where: str) -> tuple[str, ...]:
    return () if value is None or value == () else names(value, where)


@dataclass(frozen=True, slots=True)
class Rule:
    """A stored alert rule; every set condition must hold (logical AND).

    Attributes:
        id: Stable id.
        name: Display name.
        camera_id: Only events of this camera; all cameras when ``None``.
        event_types: Only these event types (``"zone.loitering"``); any when empty. Each
            must be in the catalogue (``argus.domain.event_types``).
        classes: Only events about these object classes; any when empty.
        line: Only events of the line with this name.
        direction: Only line events in this direction.
        zone: Only events of the zone with this name.
        min_dwell_seconds: The event's dwell is at least this.
        min_occupancy: The event's occupancy is at least this.
        min_confidence: The event's detection confidence is at least this.
        count: Fire when this many matching events fell within ``window_seconds``
            (per camera); every match fires when ``None``.
        window_seconds: The sliding window of ``count``.
        schedule: When the rule is active; always when ``None``.
        cooldown_seconds: After firing, matches in the same scope are ignored
            for this long.
        cooldown_scope: ``"track"`` (per camera and track) or ``"camera"``.
        weight: The rule's share of the risk score, in [0, 1].
        enabled: Disabled rules never fire.
        description: Free text for operators.
        severity_floor: Its alerts are at least this severe (the risk policy applies it).
        severity_ceiling: Its alerts are at most this severe.
        exclude_areas: Polygons of the frame (normalised to [0, 1]) where the event's
            object must not stand: an event whose ``point`` lies in one does not match.
            An event without a point is never excluded (``argus.domain.exclusion_areas``).
        created_at: When it was stored (UTC).
        updated_at: When it was last changed (UTC).
    """

    id: str
    name: str
    created_at: datetime
    updated_at: datetime
    camera_id: str | None = None
    event_types: tuple[str, ...] = ()
    classes: tuple[str, ...] = ()
    line: str | None = None
    direction: Literal["in", "out"] | None = None
    zone: str | None = None
    min_dwell_seconds: float | None = None
    min_occupancy: int | None = None
    min_confidence: float | None = None
    count: int | None = None
    window_seconds: float | None = None
    schedule: Schedule | None = None
    cooldown_seconds: float = 0.0
    cooldown_scope: CooldownScope = "track"
    weight: float = 0.5
    enabled: bool = True
    description: str = ""
    severity_floor: BoundSeverity | None = None
    severity_ceiling: BoundSeverity | None = None
    exclude_areas: tuple[Area, ...] = ()

    def __post_init__(self) -> None:
        text(self.id, "id", 64)
        text(self.name, "name", 200)
        text(self.description, "description", 2000, empty=True)
        object.__setattr__(self, "created_at", aware_utc(self.created_at, "created_at"))
        object.__setattr__(self, "updated_at", aware_utc(self.updated_at, "updated_at"))
        if self.camera_id is not None:
            text(self.camera_id, "camera_id", 64)
        object.__setattr__(
            self,
            "event_types",
            check_event_types(_optional_names(self.event_types, "event_types")),
        )
        object.__setattr__(self, "classes", _optional_names(self.classes, "classes"))
        object.__setattr__(self, "exclude_areas", check_areas(self.exclude_areas))
        for key in ("line", "zone"):
            value = getattr(self, key)
            if value is not None:
                text(value, key, 64)
        self._check_conditions()

    def _check_conditions(self) -> None:
        if self.direction not in (None, "in", "out"):
            raise ValidationError(f"direction must be 'in' or 'out', got {self.direction!r}")
        if self.direction is not None and self.line is None:
            raise ValidationError("direction needs a line")
        if self.line is not None and self.zone is not None:
            raise ValidationError("a rule watches a line or a zone, not both")
        if self.min_dwell_seconds is not None and finite(self.min_dwell_seconds, "dwell") < 0:
            raise ValidationError("min_dwell_seconds must be >= 0")
        for key in ("min_occupancy", "count"):
            value = getattr(self, key)
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, int) or value < 1
            ):
                raise ValidationError(f"{key} must be an int >= 1")
        if self.min_confidence is not None:
            unit_interval(self.min_confidence, "min_confidence")
        if (self.count is None) != (self.window_seconds is None):
            raise ValidationError("count and window_seconds go together")
        if self.window_seconds is not None and not (
            0 < finite(self.window_seconds, "window_seconds") <= _MAX_WINDOW
        ):
            raise ValidationError(f"window_seconds must be in (0, {_MAX_WINDOW:.0f}]")
        self._check_firing()

    def _check_firing(self) -> None:
        if self.count is not None and self.count > _MAX_WINDOW_EVENTS:
            raise ValidationError(f"count must be at most {_MAX_WINDOW_EVENTS}")
        if not 0 <= finite(self.cooldown_seconds, "cooldown_seconds") <= _MAX_COOLDOWN:
            raise ValidationError(f"cooldown_seconds must be in [0, {_MAX_COOLDOWN:.0f}]")
        if self.cooldown_scope not in ("track", "camera"):
            raise ValidationError("cooldown_scope must be 'track' or 'camera'")
        unit_interval(self.weight, "weight")
        if not isinstance(self.enabled, bool):
            raise ValidationError("enabled must be a bool")
        if self.schedule is not None and not isinstance(self.schedule, Schedule):
            raise ValidationError("schedule must be a Schedule")
        for key in ("severity_floor", "severity_ceiling"):
            if getattr(self, key) not in (None, *_BOUND_ORDER):
                raise ValidationError(f"{key} must be one of {_BOUND_ORDER} or null")
        floor, ceiling = self.severity_floor, self.severity_ceiling
        if floor and ceiling and _BOUND_ORDER.index(floor) > _BOUND_ORDER.index(ceiling):
            raise ValidationError("severity_floor must not be above severity_ceiling")

    def to_dict(self) -> dict[str, object]:
        """The JSON-ready form (stores and the API)."""
        schedule = self.schedule
        return {
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "enabled": self.enabled,
            "camera_id": self.camera_id,
            "event_types": list(self.event_types),
            "classes": list(self.classes),
            "line": self.line,
            "direction": self.direction,
            "zone": self.zone,
            "min_dwell_seconds": self.min_dwell_seconds,
            "min_occupancy": self.min_occupancy,
            "min_confidence": self.min_confidence,
            "count": self.count,
            "window_seconds": self.window_seconds,
            "schedule": None if schedule is None else schedule.to_dict(),
            "cooldown_seconds": self.cooldown_seconds,
            "cooldown_scope": self.cooldown_scope,
            "weight": self.weight,
            "severity_floor": self.severity_floor,
            "severity_ceiling": self.severity_ceiling,
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
            # Only when set: a rule without areas stays readable by code that predates them
            # (another replica in a rolling upgrade, a downgrade).
            **(
                {"exclude_areas": [[list(p) for p in area] for area in self.exclude_areas]}
                if self.exclude_areas
                else {}
            ),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> Rule:
        """Parse ``to_dict``'s output (values are validated as on construction).

        Raises:
            ValidationError: ``data`` is not in that form.
        """
        fields = dict(data)
        try:
            raw_schedule = fields.pop("schedule", None)
            for key in ("created_at", "updated_at"):
                fields[key] = datetime.fromisoformat(str(fields[key]))
            for key in ("event_types", "classes"):
                value = fields.get(key) or ()
                if not isinstance(value, list | tuple):
                    raise ValidationError(f"{key} must be a list")
                fields[key] = tuple(value)
            schedule = None if raw_schedule is None else Schedule.from_dict(raw_schedule)
            return cls(schedule=schedule, **fields)  # type: ignore[arg-type]
        except (KeyError, TypeError, ValueError) as exc:
            if isinstance(exc, ValidationError):
                raise
            raise ValidationError(f"not a rule: {exc}") from exc

    def matches(self, envelope: Envelope) -> bool:
        """Whether the event satisfies the rule's conditions (not window, schedule, cooldown)."""
        payload: Mapping[str, object] = envelope.payload
        checks = (
            self.enabled,
            self.camera_id is None or envelope.source.camera_id == self.camera_id,
            not self.event_types or envelope.type in self.event_types,
            not self.classes or payload.get("class_name") in self.classes,
            self.line is None or payload.get("line") == self.line,
            self.direction is None or payload.get("direction") == self.direction,
            self.zone is None or payload.get("zone") == self.zone,
        )
        if not all(checks):
            return False
        return (
            _at_least(event_dwell(envelope), self.min_dwell_seconds)
            and _at_least(event_occupancy(envelope), self.min_occupancy)
            and _at_least(event_confidence(envelope), self.min_confidence)
            and not (self.exclude_areas and excluded(self.exclude_areas, payload))
        )

    def cooldown_key(self, envelope: Envelope) -> tuple[str, ...]:
        """The scope a firing silences: the camera, or the camera's track."""
        camera = envelope.source.camera_id
        track = envelope.payload.get("track_id")
        if self.cooldown_scope == "track" and track is not None:
            return (camera, str(track))
        return (camera,)


def _at_least(value: float | None, threshold: float | None) -> bool:
    """A threshold holds when unset; a set threshold needs a reported value."""
    return threshold is None or (value is not None and value >= threshold)


@dataclass(frozen=True, slots=True)
class Match:
    """A rule an event satisfied.

    Attributes:
        rule: The rule.
        envelope: The event that completed it.
        window_count: Matching events in the rule's window (1 without a window).
    """

    rule: Rule
    envelope: Envelope
    window_count: int = 1


@dataclass(slots=True)
class _RuleState:
    windows: dict[str, deque[datetime]] = field(default_factory=dict)
    cooldowns: dict[tuple[str, ...], datetime] = field(default_factory=dict)


class RuleEngine:
    """Evaluates events against a set of rules, keeping each rule's window and cooldown.

    ``replace_rules`` swaps the rule set and keeps the state of rules that stay
    unchanged (a rule whose definition changed starts afresh). State is bounded:
    windows hold at most ``count`` times, and cooldowns that have expired are
    dropped as they are met and when their number grows past ``max_cooldowns``.
    """

    def __init__(self, rules: Iterable[Rule] = (), *, max_cooldowns: int = 100_000) -> None:
        self._rules: dict[str, Rule] = {}
        self._state: dict[str, _RuleState] = {}
        self._max_cooldowns = max_cooldowns
        self.replace_rules(rules)

    @property
    def rules(self) -> tuple[Rule, ...]:
        """The rules, in the order they were given."""
        return tuple(self._rules.values())

    def replace_rules(self, rules: Iterable[Rule]) -> None:
        """Use ``rules`` from now on; unchanged rules keep their windows and cooldowns."""
        fresh = {rule.id: rule for rule in rules}
        state: dict[str, _RuleState] = {}
        for rule_id, rule in fresh.items():
            old = self._rules.get(rule_id)
            same = old is not None and replace(old, updated_at=rule.updated_at) == rule
            state[rule_id] = self._state[rule_id] if same else _RuleState()
        self._rules, self._state = fresh, state

    def evaluate(self, envelope: Envelope) -> list[Match]:
        """The rules ``envelope`` fires, in rule order; updates windows and cooldowns."""
        out: list[Match] = []
        moment = envelope.timestamp
        for rule in self._rules.values():
            if not rule.matches(envelope):
                continue
            if rule.schedule is not None and not rule.schedule.active(moment):
                continue
            state = self._state[rule.id]
            key = rule.cooldown_key(envelope)
            until = state.cooldowns.get(key)
            if until is not None:
                if moment < until:
                    continue
                del state.cooldowns[key]
            count = 1
            if rule.count is not None and rule.window_seconds is not None:
                camera = envelope.source.camera_id
                window = state.windows.setdefault(camera, deque(maxlen=rule.count))
                window.append(moment)
                horizon = moment - timedelta(seconds=rule.window_seconds)
                while window and window[0] <= horizon:
                    window.popleft()
                count = len(window)
                if count < rule.count:
                    continue
                window.clear()
            if rule.cooldown_seconds > 0:
                state.cooldowns[key] = moment + timedelta(seconds=rule.cooldown_seconds)
                if len(state.cooldowns) > self._max_cooldowns:
                    state.cooldowns = {k: t for k, t in state.cooldowns.items() if t > moment}
            out.append(Match(rule, envelope, count))
        return out

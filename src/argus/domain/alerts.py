"""Alerts: explainable risk, the alert lifecycle, escalation, and incidents.

Risk is a weighted mean of components in [0, 1], each kept with the alert
(``RiskComponent``: value, weight, and a one-line reason), so an operator can
see why an alert is high. A component that does not apply to the event (dwell
of a line crossing, the zone of an event outside zones) is kept with weight 0,
so it neither raises nor dilutes the score. Severity follows the score: low < 0.3 ≤ medium <
0.7 ≤ high.

The lifecycle is a state machine; ``Alert.transition`` refuses what
``ALERT_TRANSITIONS`` does not allow (``InvalidTransitionError``, a conflict)::

    new ─► notified ─► acknowledged ─► confirmed        (creates an incident)
     │        │   ▲          ▲      └─► false_positive  (closed, kept as feedback)
     │        ▼   │          │
     └────► escalated ───────┘   (repeats up to the policy's limit)

An alert awaiting acknowledgement has an ``ack_deadline`` (stored, so timers
survive a restart); ``EscalationPolicy.escalate`` moves a due alert to
``escalated`` and sets the next deadline, until ``max_escalations``.

Every change bumps ``version``; stores update only the version they read
(optimistic concurrency), so two servers never both escalate one alert.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Literal, get_args
from zoneinfo import ZoneInfo

from argus.domain.checks import aware_utc, finite, text, unit_interval
from argus.domain.errors import ConflictError, ValidationError
from argus.domain.events import Envelope
from argus.domain.rules import Match, event_confidence, event_dwell

__all__ = [
    "ALERT_TRANSITIONS",
    "INCIDENT_TRANSITIONS",
    "OPEN_ALERT_STATES",
    "Alert",
    "AlertState",
    "EscalationPolicy",
    "Incident",
    "IncidentNote",
    "IncidentStatus",
    "InvalidTransitionError",
    "Risk",
    "RiskComponent",
    "RiskContext",
    "RiskPolicy",
    "Severity",
    "Transition",
    "assess_risk",
    "new_alert",
    "severity_of",
]

Severity = Literal["low", "medium", "high"]
AlertState = Literal["new", "notified", "acknowledged", "escalated", "confirmed", "false_positive"]
IncidentStatus = Literal["open", "in_progress", "resolved", "closed"]

SEVERITIES: tuple[Severity, ...] = get_args(Severity)
ALERT_STATES: tuple[AlertState, ...] = get_args(AlertState)
INCIDENT_STATUSES: tuple[IncidentStatus, ...] = get_args(IncidentStatus)

ALERT_TRANSITIONS: Mapping[AlertState, frozenset[AlertState]] = {
    "new": frozenset({"notified", "escalated"}),
    "notified": frozenset({"acknowledged", "escalated"}),
    "escalated": frozenset({"escalated", "acknowledged"}),
    "acknowledged": frozenset({"confirmed", "false_positive"}),
    "confirmed": frozenset(),
    "false_positive": frozenset(),
}
"""Which state each state may move to."""

OPEN_ALERT_STATES: frozenset[AlertState] = frozenset({"new", "notified", "escalated"})
"""States that wait for an operator (and can escalate)."""

INCIDENT_TRANSITIONS: Mapping[IncidentStatus, frozenset[IncidentStatus]] = {
    "open": frozenset({"in_progress", "resolved", "closed"}),
    "in_progress": frozenset({"open", "resolved", "closed"}),
    "resolved": frozenset({"in_progress", "closed"}),
    "closed": frozenset(),
}


class InvalidTransitionError(ConflictError):
    """A lifecycle change the state machine does not allow."""


def severity_of(score: float) -> Severity:
    """Severity of a risk score: low < 0.3 ≤ medium < 0.7 ≤ high."""
    if score >= 0.7:
        return "high"
    return "medium" if score >= 0.3 else "low"


# --- risk -----------------------------------------------------------------------------------


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


# --- alerts ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Transition:
    """One step of an alert's or incident's history.

    Attributes:
        from_state: State before.
        to_state: State after.
        at: When (UTC).
        actor: Who did it (a user, or ``"system"``).
        note: Optional reason.
    """

    from_state: str
    to_state: str
    at: datetime
    actor: str
    note: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "at", aware_utc(self.at, "at"))
        text(self.actor, "actor", 200)
        text(self.note, "note", 2000, empty=True)

    def to_dict(self) -> dict[str, object]:
        """The JSON-ready form."""
        return {
            "from_state": self.from_state,
            "to_state": self.to_state,
            "at": _iso(self.at),
            "actor": self.actor,
            "note": self.note,
        }


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="microseconds").replace("+00:00", "Z")


@dataclass(frozen=True, slots=True)
class Alert:
    """A risk-scored alert raised by a rule for one event.

    Attributes:
        id: Stable id (a ULID).
        rule_id: The rule that fired.
        rule_name: Its name at the time.
        camera_id: The camera of the event.
        event_id: The event that fired the rule; one alert per rule and event.
        event_type: The event's type.
        class_name: The object class, if the event names one.
        track_id: The track, if the event names one.
        event_time: When the event happened (UTC).
        risk: Score and components.
        state: Lifecycle state.
        created_at: When it was raised (UTC).
        updated_at: When it last changed (UTC).
        ack_deadline: When it escalates unless acknowledged; ``None`` when no
            escalation is pending.
        escalation_level: How many times it escalated.
        incident_id: The incident a confirmation created.
        history: Every transition, oldest first.
        version: Bumped on every change (optimistic concurrency).
    """

    id: str
    rule_id: str
    rule_name: str
    camera_id: str
    event_id: str
    event_type: str
    event_time: datetime
    risk: Risk
    created_at: datetime
    updated_at: datetime
    state: AlertState = "new"
    class_name: str | None = None
    track_id: int | None = None
    ack_deadline: datetime | None = None
    escalation_level: int = 0
    incident_id: str | None = None
    history: tuple[Transition, ...] = ()
    version: int = 1

    def __post_init__(self) -> None:
        for key in ("id", "rule_id", "camera_id", "event_id"):
            text(getattr(self, key), key, 200)
        if self.state not in ALERT_TRANSITIONS:
            raise ValidationError(f"unknown alert state {self.state!r}")
        for key in ("event_time", "created_at", "updated_at"):
            object.__setattr__(self, key, aware_utc(getattr(self, key), key))
        if self.ack_deadline is not None:
            object.__setattr__(self, "ack_deadline", aware_utc(self.ack_deadline, "ack_deadline"))
        if self.escalation_level < 0 or self.version < 1:
            raise ValidationError("escalation_level must be >= 0 and version >= 1")

    @property
    def severity(self) -> Severity:
        """The severity of the risk score."""
        return self.risk.severity

    def transition(
        self,
        to: AlertState,
        at: datetime,
        actor: str,
        note: str = "",
        **changes: object,
    ) -> Alert:
        """Move to ``to``, recording the step; other fields change as given.

        Raises:
            InvalidTransitionError: The state machine does not allow the move.
        """
        if to not in ALERT_TRANSITIONS.get(self.state, frozenset()):
            raise InvalidTransitionError(f"alert {self.id} cannot go from {self.state} to {to}")
        step = Transition(self.state, to, at, actor, note)
        return replace(
            self,
            state=to,
            updated_at=step.at,
            history=(*self.history, step),
            version=self.version + 1,
            **changes,  # type: ignore[arg-type]
        )

    def is_due(self, now: datetime) -> bool:
        """Whether it waits for acknowledgement past its deadline."""
        return (
            self.state in OPEN_ALERT_STATES
            and self.ack_deadline is not None
            and self.ack_deadline <= now
        )

    def to_dict(self) -> dict[str, object]:
        """The JSON-ready form (what the bus and the API carry)."""
        return {
            "id": self.id,
            "rule_id": self.rule_id,
            "rule_name": self.rule_name,
            "camera_id": self.camera_id,
            "event_id": self.event_id,
            "event_type": self.event_type,
            "event_time": _iso(self.event_time),
            "class_name": self.class_name,
            "track_id": self.track_id,
            "risk_score": self.risk.score,
            "severity": self.severity,
            "risk_components": [c.to_dict() for c in self.risk.components],
            "state": self.state,
            "created_at": _iso(self.created_at),
            "updated_at": _iso(self.updated_at),
            "ack_deadline": None if self.ack_deadline is None else _iso(self.ack_deadline),
            "escalation_level": self.escalation_level,
            "incident_id": self.incident_id,
            "history": [t.to_dict() for t in self.history],
            "version": self.version,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> Alert:
        """Parse ``to_dict``'s output.

        Raises:
            ValidationError: ``data`` is not in that form.
        """
        try:
            components = tuple(
                RiskComponent(str(c["name"]), _num(c["value"]), _num(c["weight"]), str(c["reason"]))
                for c in _dicts(data["risk_components"])
            )
            history = _history(data["history"])
            deadline = data["ack_deadline"]
            track = data["track_id"]
            return cls(
                id=str(data["id"]),
                rule_id=str(data["rule_id"]),
                rule_name=str(data["rule_name"]),
                camera_id=str(data["camera_id"]),
                event_id=str(data["event_id"]),
                event_type=str(data["event_type"]),
                event_time=_time(data["event_time"]),
                class_name=_optional_str(data["class_name"]),
                track_id=None if track is None else int(_num(track)),
                risk=Risk(_num(data["risk_score"]), components),
                state=_state(data["state"]),
                created_at=_time(data["created_at"]),
                updated_at=_time(data["updated_at"]),
                ack_deadline=None if deadline is None else _time(deadline),
                escalation_level=int(_num(data["escalation_level"])),
                incident_id=_optional_str(data["incident_id"]),
                history=history,
                version=int(_num(data["version"])),
            )
        except (KeyError, TypeError, ValueError) as exc:
            if isinstance(exc, ValidationError):
                raise
            raise ValidationError(f"not an alert: {exc}") from exc


def _dicts(value: object) -> list[Mapping[str, object]]:
    if not isinstance(value, list | tuple) or not all(isinstance(v, Mapping) for v in value):
        raise ValidationError("expected a list of objects")
    return list(value)


def _num(value: object) -> float:
    return finite(value, "number")


def _time(value: object) -> datetime:
    if not isinstance(value, str):
        raise ValidationError(f"expected an ISO 8601 time, got {value!r}")
    return aware_utc(datetime.fromisoformat(value), "time")


def _state(value: object) -> AlertState:
    for state in ALERT_STATES:
        if value == state:
            return state
    raise ValidationError(f"unknown alert state {value!r}")


def new_alert(
    alert_id: str, match: Match, risk: Risk, now: datetime, *, rule_name: str | None = None
) -> Alert:
    """A ``new`` alert for a rule match."""
    envelope: Envelope = match.envelope
    class_name = envelope.payload.get("class_name")
    track = envelope.payload.get("track_id")
    return Alert(
        id=alert_id,
        rule_id=match.rule.id,
        rule_name=rule_name or match.rule.name,
        camera_id=envelope.source.camera_id,
        event_id=envelope.event_id,
        event_type=envelope.type,
        event_time=envelope.timestamp,
        class_name=class_name if isinstance(class_name, str) else None,
        track_id=track if isinstance(track, int) and not isinstance(track, bool) else None,
        risk=risk,
        created_at=now,
        updated_at=now,
    )


@dataclass(frozen=True, slots=True)
class EscalationPolicy:
    """How long each severity may wait for acknowledgement, and how often to re-escalate.

    Attributes:
        ack_deadlines: Seconds to acknowledge, per severity.
        repeat_seconds: Seconds between repeated escalations, per severity.
        max_escalations: Escalations after which the alert stops escalating
            (it stays ``escalated`` until acknowledged).
    """

    ack_deadlines: Mapping[Severity, float] = field(
        default_factory=lambda: {"high": 60.0, "medium": 300.0, "low": 900.0}
    )
    repeat_seconds: Mapping[Severity, float] = field(
        default_factory=lambda: {"high": 120.0, "medium": 600.0, "low": 1800.0}
    )
    max_escalations: int = 3

    def __post_init__(self) -> None:
        for table in (self.ack_deadlines, self.repeat_seconds):
            if set(table) != set(SEVERITIES):
                raise ValidationError(f"deadlines need exactly the severities {SEVERITIES}")
            for severity, seconds in table.items():
                if finite(seconds, severity) <= 0:
                    raise ValidationError("deadlines must be positive")
        if not 1 <= self.max_escalations <= 100:
            raise ValidationError("max_escalations must be in [1, 100]")

    def deadline(self, alert: Alert, now: datetime) -> datetime:
        """When an alert raised ``now`` escalates unless acknowledged."""
        return now + timedelta(seconds=self.ack_deadlines[alert.severity])

    def escalate(self, alert: Alert, now: datetime) -> Alert:
        """Escalate a due alert one level; the next deadline, or none at the limit.

        Raises:
            InvalidTransitionError: The alert is not waiting, or not due yet.
        """
        if not alert.is_due(now):
            raise InvalidTransitionError(f"alert {alert.id} is not due for escalation")
        level = alert.escalation_level + 1
        deadline = (
            now + timedelta(seconds=self.repeat_seconds[alert.severity])
            if level < self.max_escalations
            else None
        )
        return alert.transition(
            "escalated",
            now,
            "system",
            f"not acknowledged: escalation {level} of {self.max_escalations}",
            escalation_level=level,
            ack_deadline=deadline,
        )


# --- incidents ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class IncidentNote:
    """An operator's note on an incident.

    Attributes:
        author: Who wrote it.
        text: The note.
        at: When (UTC).
    """

    author: str
    text: str
    at: datetime

    def __post_init__(self) -> None:
        text(self.author, "author", 200)
        text(self.text, "text", 5000)
        object.__setattr__(self, "at", aware_utc(self.at, "at"))

    def to_dict(self) -> dict[str, object]:
        """The JSON-ready form."""
        return {"author": self.author, "text": self.text, "at": _iso(self.at)}


@dataclass(frozen=True, slots=True)
class Incident:
    """A confirmed security incident, with its alerts, evidence and notes.

    Attributes:
        id: Stable id.
        title: Short description.
        status: ``open``, ``in_progress``, ``resolved`` or ``closed``.
        created_at: When it was opened (UTC).
        updated_at: When it last changed (UTC).
        camera_id: The camera it happened on, if one.
        confirmed_by: The operator who confirmed it.
        description: Free text.
        alert_ids: Linked alerts.
        evidence: References to evidence (ids or URIs).
        notes: Operator notes, oldest first.
        history: Status changes, oldest first.
        version: Bumped on every change.
    """

    id: str
    title: str
    created_at: datetime
    updated_at: datetime
    status: IncidentStatus = "open"
    camera_id: str | None = None
    confirmed_by: str | None = None
    description: str = ""
    alert_ids: tuple[str, ...] = ()
    evidence: tuple[str, ...] = ()
    notes: tuple[IncidentNote, ...] = ()
    history: tuple[Transition, ...] = ()
    version: int = 1

    def __post_init__(self) -> None:
        text(self.id, "id", 64)
        text(self.title, "title", 200)
        text(self.description, "description", 10_000, empty=True)
        if self.status not in INCIDENT_TRANSITIONS:
            raise ValidationError(f"unknown incident status {self.status!r}")
        if self.camera_id is not None:
            text(self.camera_id, "camera_id", 200)
        for key in ("created_at", "updated_at"):
            object.__setattr__(self, key, aware_utc(getattr(self, key), key))
        for key in ("alert_ids", "evidence"):
            values = tuple(getattr(self, key))
            for i, value in enumerate(values):
                text(value, f"{key}[{i}]", 2048)
            if len(set(values)) != len(values):
                raise ValidationError(f"{key} holds duplicates")
            object.__setattr__(self, key, values)
        if self.version < 1:
            raise ValidationError("version must be >= 1")

    def with_status(self, to: IncidentStatus, at: datetime, actor: str, note: str = "") -> Incident:
        """Move to status ``to``.

        Raises:
            InvalidTransitionError: The move is not allowed.
        """
        if to not in INCIDENT_TRANSITIONS.get(self.status, frozenset()):
            raise InvalidTransitionError(f"incident {self.id} cannot go from {self.status} to {to}")
        step = Transition(self.status, to, at, actor, note)
        return replace(
            self,
            status=to,
            updated_at=step.at,
            history=(*self.history, step),
            version=self.version + 1,
        )

    def changed(self, at: datetime, **changes: object) -> Incident:
        """A copy with ``changes`` applied, ``updated_at`` and ``version`` bumped."""
        return replace(self, updated_at=at, version=self.version + 1, **changes)  # type: ignore[arg-type]

    def to_dict(self) -> dict[str, object]:
        """The JSON-ready form."""
        return {
            "id": self.id,
            "title": self.title,
            "status": self.status,
            "created_at": _iso(self.created_at),
            "updated_at": _iso(self.updated_at),
            "camera_id": self.camera_id,
            "confirmed_by": self.confirmed_by,
            "description": self.description,
            "alert_ids": list(self.alert_ids),
            "evidence": list(self.evidence),
            "notes": [n.to_dict() for n in self.notes],
            "history": [t.to_dict() for t in self.history],
            "version": self.version,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> Incident:
        """Parse ``to_dict``'s output.

        Raises:
            ValidationError: ``data`` is not in that form.
        """
        try:
            return cls(
                id=str(data["id"]),
                title=str(data["title"]),
                status=_incident_status(data["status"]),
                created_at=_time(data["created_at"]),
                updated_at=_time(data["updated_at"]),
                camera_id=_optional_str(data["camera_id"]),
                confirmed_by=_optional_str(data["confirmed_by"]),
                description=str(data["description"]),
                alert_ids=tuple(str(v) for v in _list(data["alert_ids"])),
                evidence=tuple(str(v) for v in _list(data["evidence"])),
                notes=tuple(
                    IncidentNote(str(n["author"]), str(n["text"]), _time(n["at"]))
                    for n in _dicts(data["notes"])
                ),
                history=_history(data["history"]),
                version=int(_num(data["version"])),
            )
        except (KeyError, TypeError, ValueError) as exc:
            if isinstance(exc, ValidationError):
                raise
            raise ValidationError(f"not an incident: {exc}") from exc


def _incident_status(value: object) -> IncidentStatus:
    for status in INCIDENT_STATUSES:
        if value == status:
            return status
    raise ValidationError(f"unknown incident status {value!r}")


def _optional_str(value: object) -> str | None:
    return None if value is None else str(value)


def _list(value: object) -> list[object]:
    if not isinstance(value, list | tuple):
        raise ValidationError("expected a list")
    return list(value)


def _history(value: object) -> tuple[Transition, ...]:
    return tuple(
        Transition(
            str(t["from_state"]),
            str(t["to_state"]),
            _time(t["at"]),
            str(t["actor"]),
            str(t["note"]),
        )
        for t in _dicts(value)
    )

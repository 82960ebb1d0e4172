"""Alerts: the risk-scored alert a rule match raises, its lifecycle, and escalation.

An alert awaiting acknowledgement has an ``ack_deadline`` (stored, so timers
survive a restart); ``EscalationPolicy.escalate`` moves a due alert to
``escalated`` and sets the next deadline, until ``max_escalations``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from argus.domain.alerts.lifecycle import (
    ALERT_STATES,
    ALERT_TRANSITIONS,
    OPEN_ALERT_STATES,
    SEVERITIES,
    AlertState,
    InvalidTransitionError,
    Severity,
    Transition,
    history_of,
)
from argus.domain.alerts.risk import Risk, RiskComponent
from argus.domain.checks import aware_utc, finite, text
from argus.domain.codec import choice, iso_z, iso_z_or_none, object_list, optional_str, parse_time
from argus.domain.errors import ValidationError
from argus.domain.events import Envelope
from argus.domain.rules import Match

__all__ = ["Alert", "EscalationPolicy", "new_alert"]


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
        group_id: The alert group it joined (``domain.alerts.groups``).
        repeat: It joined a group that was already notified at this severity or
            above: it is not notified and has no deadline of its own.
        suppressed: Why it was not notified (a snooze or a maintenance window);
            ``None`` when it was not suppressed. A suppressed alert never escalates.
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
    group_id: str | None = None
    repeat: bool = False
    suppressed: str | None = None

    def __post_init__(self) -> None:
        for key in ("id", "rule_id", "camera_id", "event_id"):
            text(getattr(self, key), key, 200)
        if self.group_id is not None:
            text(self.group_id, "group_id", 64)
        if self.suppressed is not None:
            text(self.suppressed, "suppressed", 500)
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
            "event_time": iso_z(self.event_time),
            "class_name": self.class_name,
            "track_id": self.track_id,
            "risk_score": self.risk.score,
            "severity": self.severity,
            "risk_components": [c.to_dict() for c in self.risk.components],
            "state": self.state,
            "created_at": iso_z(self.created_at),
            "updated_at": iso_z(self.updated_at),
            "ack_deadline": iso_z_or_none(self.ack_deadline),
            "escalation_level": self.escalation_level,
            "incident_id": self.incident_id,
            "history": [t.to_dict() for t in self.history],
            "version": self.version,
            "group_id": self.group_id,
            "repeat": self.repeat,
            "suppressed": self.suppressed,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> Alert:
        """Parse ``to_dict``'s output.

        Raises:
            ValidationError: ``data`` is not in that form.
        """
        try:
            components = tuple(
                RiskComponent(
                    str(c["name"]),
                    finite(c["value"], "risk_components.value"),
                    finite(c["weight"], "risk_components.weight"),
                    str(c["reason"]),
                )
                for c in object_list(data["risk_components"], "risk_components")
            )
            history = history_of(data["history"])
            deadline = data["ack_deadline"]
            track = data["track_id"]
            return cls(
                id=str(data["id"]),
                rule_id=str(data["rule_id"]),
                rule_name=str(data["rule_name"]),
                camera_id=str(data["camera_id"]),
                event_id=str(data["event_id"]),
                event_type=str(data["event_type"]),
                event_time=parse_time(data["event_time"], "event_time"),
                class_name=optional_str(data["class_name"]),
                track_id=None if track is None else int(finite(track, "track_id")),
                risk=Risk(finite(data["risk_score"], "risk_score"), components),
                state=choice(data["state"], ALERT_STATES, "alert state"),
                created_at=parse_time(data["created_at"], "created_at"),
                updated_at=parse_time(data["updated_at"], "updated_at"),
                ack_deadline=None if deadline is None else parse_time(deadline, "ack_deadline"),
                escalation_level=int(finite(data["escalation_level"], "escalation_level")),
                incident_id=optional_str(data["incident_id"]),
                history=history,
                version=int(finite(data["version"], "version")),
                # Alerts stored before groups existed have none of these three.
                group_id=optional_str(data.get("group_id")),
                repeat=data.get("repeat") is True,
                suppressed=optional_str(data.get("suppressed")),
            )
        except (KeyError, TypeError, ValueError) as exc:
            if isinstance(exc, ValidationError):
                raise
            raise ValidationError(f"not an alert: {exc}") from exc


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

"""The alert and incident lifecycles: states, allowed moves, severities and history steps."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, get_args

from argus.domain.checks import aware_utc, text
from argus.domain.codec import iso_z, object_list, parse_time
from argus.domain.errors import ConflictError

__all__ = [
    "ALERT_STATES",
    "ALERT_TRANSITIONS",
    "CLEARABLE_ALERT_STATES",
    "DISMISSAL_UNDO_WINDOW",
    "INCIDENT_STATUSES",
    "INCIDENT_TRANSITIONS",
    "OPEN_ALERT_STATES",
    "SEVERITIES",
    "AlertState",
    "IncidentStatus",
    "InvalidTransitionError",
    "Severity",
    "Transition",
    "dismissal_undo_until",
    "history_of",
    "severity_of",
]


Severity = Literal["low", "medium", "high"]
AlertState = Literal[
    "new", "notified", "acknowledged", "escalated", "confirmed", "false_positive", "cleared"
]
IncidentStatus = Literal["open", "in_progress", "resolved", "closed"]

SEVERITIES: tuple[Severity, ...] = get_args(Severity)
ALERT_STATES: tuple[AlertState, ...] = get_args(AlertState)
INCIDENT_STATUSES: tuple[IncidentStatus, ...] = get_args(IncidentStatus)

ALERT_TRANSITIONS: Mapping[AlertState, frozenset[AlertState]] = {
    "new": frozenset({"notified", "escalated", "cleared"}),
    "notified": frozenset({"acknowledged", "escalated", "cleared"}),
    "escalated": frozenset({"escalated", "acknowledged", "cleared"}),
    "acknowledged": frozenset({"confirmed", "false_positive", "cleared"}),
    "confirmed": frozenset(),
    "false_positive": frozenset({"acknowledged"}),
    "cleared": frozenset(),
}
"""Which state each state may move to.

``false_positive`` → ``acknowledged`` is the undo of a dismissal, allowed only
until ``dismissal_undo_until`` (the service checks it): a mistaken click is
put right, while feedback older than that stays final.

``cleared`` is terminal: the condition an alert reported ended by itself (a
clearing event such as ``node.online`` arrived) before an operator closed it.
"""

CLEARABLE_ALERT_STATES: frozenset[AlertState] = frozenset(
    {"new", "notified", "escalated", "acknowledged"}
)
"""States a clearing event closes (every state that may move to ``cleared``)."""

OPEN_ALERT_STATES: frozenset[AlertState] = frozenset({"new", "notified", "escalated"})
"""States that wait for an operator (and can escalate)."""

DISMISSAL_UNDO_WINDOW = timedelta(minutes=10)
"""How long after a dismissal an operator may undo it (back to ``acknowledged``)."""

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
            "at": iso_z(self.at),
            "actor": self.actor,
            "note": self.note,
        }


def history_of(value: object) -> tuple[Transition, ...]:
    """Parse a list of ``Transition.to_dict`` outputs.

    Raises:
        ValidationError: ``value`` is not such a list.
    """
    return tuple(
        Transition(
            str(t["from_state"]),
            str(t["to_state"]),
            parse_time(t["at"], "history.at"),
            str(t["actor"]),
            str(t["note"]),
        )
        for t in object_list(value, "history")
    )


def dismissal_undo_until(
    state: str, history: tuple[Transition, ...], window: timedelta = DISMISSAL_UNDO_WINDOW
) -> datetime | None:
    """Until when a dismissed alert's dismissal may be undone; ``None`` if it is not dismissed.

    The window runs from the dismissal (the last step into ``false_positive``).
    """
    if state != "false_positive":
        return None
    step = next((t for t in reversed(history) if t.to_state == "false_positive"), None)
    return None if step is None else step.at + window

"""Repository ports of the alerting side: rules, alerts and incidents.

The conventions of ``argus.ports.repositories`` hold: every method is one
transaction; unknown ids raise ``NotFoundError``; taken ids ``ConflictError``;
a failing database ``StorageError``; offset lists report ``total``.

Alerts and incidents are updated optimistically: ``update`` stores the given
value only if the stored one has ``version - 1`` (the version it was derived
from) and raises ``ConflictError`` otherwise, so concurrent servers cannot
overwrite each other's transitions. Alerts are unique per ``(rule_id,
event_id)``: a redelivered event never raises a second alert.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable

from argus.domain.alerts import Alert, AlertState, Incident, IncidentStatus, Severity
from argus.domain.alerts.triage import AlertOrder
from argus.domain.errors import ValidationError
from argus.domain.rules import Rule
from argus.ports.paging import Page

__all__ = [
    "AlertFilter",
    "AlertOrder",
    "AlertRepository",
    "AlertSummary",
    "IncidentRepository",
    "RuleRepository",
]


@dataclass(frozen=True, slots=True)
class AlertFilter:
    """Which alerts a query returns; ``None`` fields do not filter.

    Attributes:
        camera_id: Alerts of this camera.
        rule_id: Alerts raised by this rule.
        states: Alerts in any of these states.
        severities: Alerts of any of these severities.
        since: Created at or after this time (timezone-aware).
        until: Created strictly before this time (timezone-aware).
        camera_ids: Alerts of any of these cameras (a caller's camera scope).
        group_id: Alerts of this alert group.
    """

    camera_id: str | None = None
    rule_id: str | None = None
    states: tuple[AlertState, ...] | None = None
    severities: tuple[Severity, ...] | None = None
    since: datetime | None = None
    until: datetime | None = None
    camera_ids: tuple[str, ...] | None = None
    group_id: str | None = None

    def __post_init__(self) -> None:
        for name in ("since", "until"):
            moment = getattr(self, name)
            if moment is not None and (moment.tzinfo is None or moment.utcoffset() is None):
                raise ValidationError(f"{name} must be timezone-aware")
        for name in ("states", "severities"):
            values = getattr(self, name)
            if values is not None and not values:
                raise ValidationError(f"{name} must be None or name at least one value")


@dataclass(frozen=True, slots=True)
class AlertSummary:
    """How many alerts match a filter, in all and per severity and per state.

    Attributes:
        total: Every match.
        by_severity: Matches per severity (every severity present, zeros included).
        by_state: Matches per state (every state present, zeros included).
    """

    total: int
    by_severity: Mapping[Severity, int]
    by_state: Mapping[AlertState, int]


@runtime_checkable
class RuleRepository(Protocol):
    """Stored alert rules."""

    async def add(self, rule: Rule) -> None:
        """Store a new rule (``ConflictError`` if its id exists)."""
        ...

    async def get(self, rule_id: str) -> Rule:
        """Return a rule (``NotFoundError`` if unknown)."""
        ...

    async def list(
        self,
        *,
        limit: int = 100,
        offset: int = 0,
        camera_id: str | None = None,
        enabled: bool | None = None,
    ) -> Page[Rule]:
        """Rules in creation order (then id).

        ``camera_id`` keeps the rules of that camera and those of every camera
        (``rule.camera_id is None``); ``enabled`` keeps only (not) enabled ones.
        """
        ...

    async def update(self, rule: Rule) -> None:
        """Replace a stored rule by id (``NotFoundError`` if unknown)."""
        ...

    async def delete(self, rule_id: str) -> None:
        """Delete a rule (``NotFoundError`` if unknown); its alerts stay."""
        ...


@runtime_checkable
class AlertRepository(Protocol):
    """Alerts, unique per rule and event, updated optimistically."""

    async def add(self, alert: Alert) -> bool:
        """Store a new alert; ``False`` (nothing stored) if its rule already alerted on its event.

        Raises:
            ConflictError: The alert id is taken.
        """
        ...

    async def get(self, alert_id: str) -> Alert:
        """Return an alert (``NotFoundError`` if unknown)."""
        ...

    async def find(self, rule_id: str, event_id: str) -> Alert | None:
        """The alert ``rule_id`` raised for ``event_id``, if any."""
        ...

    async def list(
        self,
        where: AlertFilter | None = None,
        *,
        limit: int = 100,
        offset: int = 0,
        cursor: str | None = None,
        order: AlertOrder = "newest",
    ) -> Page[Alert]:
        """Matching alerts, newest first (by ``created_at``, then id descending).

        Pages by ``offset`` or by ``cursor`` (the ``next_cursor`` of the page
        before; then ``offset`` must be 0). ``next_cursor`` is set whenever more
        alerts follow the page, ``total`` counts every match.

        ``order="triage"`` sorts by ``domain.alerts.triage.triage_key``
        (severity, attention, oldest first) and pages by offset only: no
        ``next_cursor``, and a cursor is refused.

        Raises:
            ValidationError: A malformed cursor, a cursor with an offset, or a
                cursor in triage order.
        """
        ...

    async def summary(self, where: AlertFilter | None = None) -> AlertSummary:
        """How many alerts match, in all, per severity and per state."""
        ...

    async def update(self, alert: Alert) -> None:
        """Store ``alert`` over the stored version ``alert.version - 1``.

        Raises:
            NotFoundError: Unknown id.
            ConflictError: The stored version is not ``alert.version - 1``.
        """
        ...

    async def due(self, now: datetime, *, limit: int = 100) -> Sequence[Alert]:
        """Alerts waiting for acknowledgement whose ``ack_deadline`` is at or before ``now``.

        Oldest deadline first. States ``new``, ``notified`` and ``escalated`` only.
        """
        ...

    async def count_since(self, rule_id: str, camera_id: str, since: datetime) -> int:
        """How many alerts ``rule_id`` raised on ``camera_id`` at or after ``since``."""
        ...


@runtime_checkable
class IncidentRepository(Protocol):
    """Incidents, updated optimistically."""

    async def add(self, incident: Incident) -> None:
        """Store a new incident (``ConflictError`` if its id exists)."""
        ...

    async def get(self, incident_id: str) -> Incident:
        """Return an incident (``NotFoundError`` if unknown)."""
        ...

    async def list(
        self,
        *,
        limit: int = 100,
        offset: int = 0,
        status: IncidentStatus | None = None,
        camera_id: str | None = None,
        camera_ids: tuple[str, ...] | None = None,
    ) -> Page[Incident]:
        """Incidents, newest first (by ``created_at``, then id descending); ``camera_ids``
        keeps those of any of these cameras (an incident of no camera is left out)."""
        ...

    async def update(self, incident: Incident) -> None:
        """Store ``incident`` over the stored version ``incident.version - 1``.

        Raises:
            NotFoundError: Unknown id.
            ConflictError: The stored version is not ``incident.version - 1``.
        """
        ...

    async def delete(self, incident_id: str) -> None:
        """Delete an incident (``NotFoundError`` if unknown)."""
        ...

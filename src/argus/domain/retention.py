"""How long each kind of data is kept: the retention policy, and the counts of one sweep.

A ``RetentionPolicy`` names a number of days per kind of data (``RETENTION_KINDS``):

* ``events``: stored events except heatmap grids (which follow ``heatmap``);
* ``alerts``: alerts in a final state (confirmed, false positive, cleared), and alert
  groups with no alert left;
* ``incidents``: resolved and closed incidents, by their last change;
* ``evidence``: unlocked evidence items (locked ones stay until unlocked);
* ``audit``: audit records, pruned behind a signed checkpoint so the chain still verifies;
* ``heatmap``: the ``heatmap.minute`` grids;
* ``health``: the health time series of edge nodes;
* ``face_decisions``: the decision history of workstation face verification;
* ``notifications``: delivered and dead notifications with their delivery attempts.

An incident under legal hold keeps itself, its alerts, their events and its evidence,
whatever the policy says. The policy is stored as a JSON document in the database's
settings under ``RETENTION_KEY`` and edited through ``/api/v1/retention``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Literal, get_args

from argus.domain.errors import ValidationError

__all__ = [
    "HEATMAP_EVENT_TYPE",
    "MAX_DAYS",
    "RETENTION_KEY",
    "RETENTION_KINDS",
    "RetentionKind",
    "RetentionPolicy",
    "SweepReport",
]

RETENTION_KEY = "retention"
"""The settings document holding the policy (``RetentionPolicy.to_dict``)."""

RetentionKind = Literal[
    "events",
    "alerts",
    "incidents",
    "evidence",
    "audit",
    "heatmap",
    "health",
    "face_decisions",
    "notifications",
]
"""A kind of data with a retention of its own (see the module docstring)."""

RETENTION_KINDS: tuple[RetentionKind, ...] = get_args(RetentionKind)

HEATMAP_EVENT_TYPE = "heatmap.minute"
"""The event type of heatmap grids, kept for ``heatmap`` days instead of ``events`` days."""

MAX_DAYS = 36_500.0
"""The longest retention (100 years); the shortest is one hour (audit: ``MIN_AUDIT_DAYS``)."""

_MIN_DAYS = 1 / 24
MIN_AUDIT_DAYS = 30.0
"""The shortest audit retention: an administrator (or a stolen admin key) cannot set the
audit log to an hour and sweep away the record of what they did, their own
``retention.update`` included, behind a checkpoint that only counts the records."""


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    """Days each kind of data is kept (fractions allowed, one hour to 100 years).

    Attributes:
        events: Events (heatmap grids excepted).
        alerts: Alerts in a final state, and emptied alert groups.
        incidents: Resolved and closed incidents (by ``updated_at``).
        evidence: Unlocked evidence.
        audit: Audit records (7 years by default).
        heatmap: Heatmap grid events.
        health: Edge node health reports.
        face_decisions: Workstation verification decisions.
        notifications: Delivered and dead notifications.
    """

    events: float = 90.0
    alerts: float = 365.0
    incidents: float = 730.0
    evidence: float = 30.0
    audit: float = 2555.0
    heatmap: float = 90.0
    health: float = 30.0
    face_decisions: float = 90.0
    notifications: float = 90.0

    def __post_init__(self) -> None:
        for kind in RETENTION_KINDS:
            value = getattr(self, kind)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValidationError(f"retention of {kind} must be a number of days")
            days = float(value)
            if not (math.isfinite(days) and _MIN_DAYS <= days <= MAX_DAYS):
                raise ValidationError(
                    f"retention of {kind} must be between 1 hour and {MAX_DAYS:g} days, got {value}"
                )
            if kind == "audit" and days < MIN_AUDIT_DAYS:
                raise ValidationError(
                    f"retention of audit must be at least {MIN_AUDIT_DAYS:g} days, got {value}"
                )
            object.__setattr__(self, kind, days)

    def days(self, kind: RetentionKind) -> float:
        """The days ``kind`` is kept."""
        return float(getattr(self, kind))

    def to_dict(self) -> dict[str, float]:
        """The JSON-ready form: days by kind."""
        return {kind: self.days(kind) for kind in RETENTION_KINDS}

    def merged(self, changes: Mapping[str, object]) -> RetentionPolicy:
        """A copy with the days ``changes`` names (a partial document).

        Raises:
            ValidationError: An unknown kind or a bad number of days.
        """
        unknown = sorted(set(changes) - set(RETENTION_KINDS))
        if unknown:
            raise ValidationError(f"unknown retention kind(s): {', '.join(unknown)}")
        return replace(self, **changes)  # type: ignore[arg-type]

    @classmethod
    def from_dict(
        cls, data: Mapping[str, object] | None, *, defaults: RetentionPolicy | None = None
    ) -> RetentionPolicy:
        """Parse a stored document over ``defaults`` (kinds it lacks keep their default).

        Raises:
            ValidationError: An unknown kind or a bad number of days.
        """
        base = defaults if defaults is not None else cls()
        return base if not data else base.merged(data)


@dataclass(frozen=True, slots=True)
class SweepReport:
    """What one retention sweep deleted, per kind, and what it kept under legal hold.

    Attributes:
        deleted: Rows (or items) deleted per kind; every kind is named, 0 when none.
        held_incidents: Incidents under legal hold when the sweep ran.
        kept: Things past their retention kept because of a legal hold, per kind.
        errors: Kinds whose sweep failed, with the reason (the others still ran).
    """

    deleted: Mapping[str, int]
    held_incidents: int = 0
    kept: Mapping[str, int] = field(default_factory=dict)
    errors: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        counts = {kind: int(self.deleted.get(kind, 0)) for kind in RETENTION_KINDS}
        object.__setattr__(self, "deleted", counts)

    @property
    def total(self) -> int:
        """Everything deleted."""
        return sum(self.deleted.values())

    def to_dict(self) -> dict[str, object]:
        """The JSON-ready form (also the details of the ``retention.sweep`` audit record)."""
        return {
            "deleted": dict(self.deleted),
            "total": self.total,
            "held_incidents": self.held_incidents,
            "kept": dict(self.kept),
            "errors": dict(self.errors),
        }

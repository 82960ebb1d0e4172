"""Alert groups: an alert storm collapsed into one record with a count.

Alerts of the same rule and camera about the same zone or line (the group
``key``, ``group_key``) raised within ``window`` of the group's last alert join
one ``AlertGroup``: its count, first and last seen, the latest alert, the
highest severity so far. A joining alert is a *repeat* (``is_repeat``) when the
group was already notified at its severity or above: it is stored and shown
but neither notified nor escalated on its own, so a storm notifies once, and
again only when it gets worse. A group whose alerts were all suppressed (a
snooze, a maintenance window) was never notified, so the first alert after the
suppression ends is notified as a first alert.

A group is ``open`` while any of its alerts is unresolved (waiting or
acknowledged, ``UNRESOLVED_ALERT_STATES``) and ``closed`` once none is; a
closed group takes no new alerts (the next alert opens a new group).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Literal, get_args

from argus.domain.alerts.alert import Alert
from argus.domain.alerts.lifecycle import SEVERITIES, AlertState, Severity
from argus.domain.checks import aware_utc, finite, text
from argus.domain.codec import choice, iso_z, parse_time
from argus.domain.errors import ValidationError

__all__ = [
    "DEFAULT_GROUP_WINDOW",
    "GROUP_STATES",
    "UNRESOLVED_ALERT_STATES",
    "AlertGroup",
    "GroupState",
    "group_key",
    "new_group",
    "severity_rank",
    "subject_of",
]

GroupState = Literal["open", "closed"]
GROUP_STATES: tuple[GroupState, ...] = get_args(GroupState)

DEFAULT_GROUP_WINDOW = timedelta(minutes=10)
"""How long after a group's last alert a matching alert still joins it."""

UNRESOLVED_ALERT_STATES: frozenset[AlertState] = frozenset(
    {"new", "notified", "escalated", "acknowledged"}
)
"""Alert states that keep a group open."""


def severity_rank(severity: Severity) -> int:
    """Low 0, medium 1, high 2."""
    return SEVERITIES.index(severity)


def subject_of(payload: Mapping[str, object]) -> str:
    """What in the camera an event is about: its zone or line name, else ``""``."""
    for key in ("zone", "line"):
        value = payload.get(key)
        if isinstance(value, str) and value:
            return value
    return ""


def group_key(rule_id: str, camera_id: str, subject: str) -> str:
    """The key alerts of one storm share: ``rule|camera|subject``."""
    return f"{rule_id}|{camera_id}|{subject}"


@dataclass(frozen=True, slots=True)
class AlertGroup:
    """Alerts of one rule, camera and zone or line raised close together.

    Attributes:
        id: Stable id (a ULID).
        key: ``group_key(rule_id, camera_id, subject)``.
        rule_id: The rule.
        rule_name: Its name when the group opened.
        camera_id: The camera.
        subject: The zone or line name, or ``""``.
        first_seen: When its first alert was raised (UTC).
        last_seen: When its latest alert was raised (UTC).
        count: Alerts in it.
        open_count: Its unresolved alerts.
        latest_alert_id: Its newest alert (the latest evidence).
        first_alert_id: Its first alert.
        max_severity: The highest severity of its alerts.
        notified_severity: The highest severity it was notified at; ``None``
            while every alert in it was suppressed.
        state: ``open`` while any alert in it is unresolved.
        version: Bumped on every change (optimistic concurrency).
    """

    id: str
    key: str
    rule_id: str
    rule_name: str
    camera_id: str
    subject: str
    first_seen: datetime
    last_seen: datetime
    count: int
    open_count: int
    latest_alert_id: str
    first_alert_id: str
    max_severity: Severity
    notified_severity: Severity | None = None
    state: GroupState = "open"
    version: int = 1

    def __post_init__(self) -> None:
        for key in ("id", "rule_id", "camera_id", "latest_alert_id", "first_alert_id"):
            text(getattr(self, key), key, 200)
        text(self.key, "key", 600)
        text(self.subject, "subject", 200, empty=True)
        for key in ("first_seen", "last_seen"):
            object.__setattr__(self, key, aware_utc(getattr(self, key), key))
        if self.last_seen < self.first_seen:
            raise ValidationError("last_seen must not be before first_seen")
        if self.count < 1 or not 0 <= self.open_count <= self.count or self.version < 1:
            raise ValidationError("need count >= 1, 0 <= open_count <= count, version >= 1")
        if self.max_severity not in SEVERITIES or self.notified_severity not in (
            None,
            *SEVERITIES,
        ):
            raise ValidationError("unknown severity")
        if self.state not in GROUP_STATES:
            raise ValidationError(f"unknown group state {self.state!r}")

    def takes(self, at: datetime, window: timedelta) -> bool:
        """Whether an alert of its key raised ``at`` joins it (open, and within ``window``)."""
        return self.state == "open" and at - self.last_seen <= window

    def is_repeat(self, severity: Severity) -> bool:
        """Whether a joining alert of ``severity`` is a repeat (see the module docstring)."""
        notified = self.notified_severity
        return notified is not None and severity_rank(severity) <= severity_rank(notified)

    def join(self, alert: Alert) -> AlertGroup:
        """The group with ``alert`` (stored with its final ``repeat``/``suppressed``) added."""
        severity = alert.severity
        return replace(
            self,
            last_seen=max(self.last_seen, alert.created_at),
            count=self.count + 1,
            open_count=self.open_count + 1,
            latest_alert_id=alert.id,
            max_severity=_higher(self.max_severity, severity),
            notified_severity=self._notified_after(alert),
            state="open",
            version=self.version + 1,
        )

    def _notified_after(self, alert: Alert) -> Severity | None:
        if alert.repeat or alert.suppressed is not None:
            return self.notified_severity
        if self.notified_severity is None:
            return alert.severity
        return _higher(self.notified_severity, alert.severity)

    def with_open(self, open_count: int) -> AlertGroup:
        """The group with ``open_count`` unresolved alerts (closed at zero)."""
        return replace(
            self,
            open_count=open_count,
            state="open" if open_count else "closed",
            version=self.version + 1,
        )

    def to_dict(self) -> dict[str, object]:
        """The JSON-ready form (what the bus and the API carry)."""
        return {
            "id": self.id,
            "key": self.key,
            "rule_id": self.rule_id,
            "rule_name": self.rule_name,
            "camera_id": self.camera_id,
            "subject": self.subject,
            "first_seen": iso_z(self.first_seen),
            "last_seen": iso_z(self.last_seen),
            "count": self.count,
            "open_count": self.open_count,
            "latest_alert_id": self.latest_alert_id,
            "first_alert_id": self.first_alert_id,
            "max_severity": self.max_severity,
            "notified_severity": self.notified_severity,
            "state": self.state,
            "version": self.version,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> AlertGroup:
        """Parse ``to_dict``'s output.

        Raises:
            ValidationError: ``data`` is not in that form.
        """
        try:
            notified = data["notified_severity"]
            return cls(
                id=str(data["id"]),
                key=str(data["key"]),
                rule_id=str(data["rule_id"]),
                rule_name=str(data["rule_name"]),
                camera_id=str(data["camera_id"]),
                subject=str(data["subject"]),
                first_seen=parse_time(data["first_seen"], "first_seen"),
                last_seen=parse_time(data["last_seen"], "last_seen"),
                count=int(finite(data["count"], "count")),
                open_count=int(finite(data["open_count"], "open_count")),
                latest_alert_id=str(data["latest_alert_id"]),
                first_alert_id=str(data["first_alert_id"]),
                max_severity=choice(data["max_severity"], SEVERITIES, "severity"),
                notified_severity=(
                    None if notified is None else choice(notified, SEVERITIES, "severity")
                ),
                state=choice(data["state"], GROUP_STATES, "group state"),
                version=int(finite(data["version"], "version")),
            )
        except (KeyError, TypeError, ValueError) as exc:
            if isinstance(exc, ValidationError):
                raise
            raise ValidationError(f"not an alert group: {exc}") from exc


def _higher(a: Severity, b: Severity) -> Severity:
    return a if severity_rank(a) >= severity_rank(b) else b


def new_group(group_id: str, alert: Alert, subject: str) -> AlertGroup:
    """A group opened by ``alert`` (stored with its final ``repeat``/``suppressed``)."""
    return AlertGroup(
        id=group_id,
        key=group_key(alert.rule_id, alert.camera_id, subject),
        rule_id=alert.rule_id,
        rule_name=alert.rule_name,
        camera_id=alert.camera_id,
        subject=subject,
        first_seen=alert.created_at,
        last_seen=alert.created_at,
        count=1,
        open_count=1,
        latest_alert_id=alert.id,
        first_alert_id=alert.id,
        max_severity=alert.severity,
        notified_severity=None if alert.suppressed is not None else alert.severity,
    )

"""Snoozes and maintenance windows: when alerts are stored but not notified.

An operator snoozes a rule, a camera, or a rule on one camera until a time
(``Snooze``); an administrator sets maintenance windows for some cameras or
all of them (``MaintenanceWindow``: a UTC range, optionally only at weekly local hours
inside it, such as "Tuesdays 02:00-04:00 Europe/Berlin" for a year). An alert raised while
either applies is still stored, with ``suppressed`` saying why, so nothing is
lost; it gets no acknowledgement deadline, so it neither escalates nor is
notified. ``suppression_reason`` picks the first that applies.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from argus.domain.checks import aware_utc, names, text
from argus.domain.codec import iso_z, optional_str, parse_time, value_list
from argus.domain.errors import ValidationError
from argus.domain.schedule import Schedule

__all__ = ["MaintenanceWindow", "Snooze", "suppression_reason"]

MAX_REASON = 500


@dataclass(frozen=True, slots=True)
class Snooze:
    """Alerts of a rule and/or camera are not notified until ``until``.

    Attributes:
        id: Stable id (a ULID).
        rule_id: Alerts of this rule (any rule when ``None``).
        camera_id: Alerts of this camera (any camera when ``None``).
        until: When it ends (UTC).
        reason: Why (free text).
        created_by: Who set it.
        created_at: When (UTC).
    """

    id: str
    rule_id: str | None
    camera_id: str | None
    until: datetime
    reason: str
    created_by: str
    created_at: datetime

    def __post_init__(self) -> None:
        text(self.id, "id", 64)
        if self.rule_id is None and self.camera_id is None:
            raise ValidationError("a snooze names a rule, a camera, or both")
        for key in ("rule_id", "camera_id"):
            if getattr(self, key) is not None:
                text(getattr(self, key), key, 64)
        text(self.reason, "reason", MAX_REASON, empty=True)
        text(self.created_by, "created_by", 200)
        for key in ("until", "created_at"):
            object.__setattr__(self, key, aware_utc(getattr(self, key), key))
        if self.until <= self.created_at:
            raise ValidationError("a snooze must end after it is set")

    def applies(self, rule_id: str, camera_id: str, at: datetime) -> bool:
        """Whether it silences an alert of ``rule_id`` on ``camera_id`` raised ``at``."""
        return (
            at < self.until
            and self.rule_id in (None, rule_id)
            and self.camera_id in (None, camera_id)
        )

    def to_dict(self) -> dict[str, object]:
        """The JSON-ready form."""
        return {
            "id": self.id,
            "rule_id": self.rule_id,
            "camera_id": self.camera_id,
            "until": iso_z(self.until),
            "reason": self.reason,
            "created_by": self.created_by,
            "created_at": iso_z(self.created_at),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> Snooze:
        """Parse ``to_dict``'s output (``ValidationError`` if it is not in that form)."""
        try:
            return cls(
                id=str(data["id"]),
                rule_id=optional_str(data["rule_id"]),
                camera_id=optional_str(data["camera_id"]),
                until=parse_time(data["until"], "until"),
                reason=str(data["reason"]),
                created_by=str(data["created_by"]),
                created_at=parse_time(data["created_at"], "created_at"),
            )
        except (KeyError, TypeError) as exc:
            raise ValidationError(f"not a snooze: {exc}") from exc


@dataclass(frozen=True, slots=True)
class MaintenanceWindow:
    """Cameras under maintenance from ``start`` to ``end``: their alerts are not notified.

    Attributes:
        id: Stable id (a ULID).
        name: Display name (named in the suppressed alerts).
        camera_ids: The cameras; every camera when empty.
        start: When it begins (UTC, inclusive).
        end: When it ends (UTC, exclusive).
        reason: Why (free text).
        created_by: Who set it.
        created_at: When (UTC).
        recurrence: Only at these weekly local hours within ``start``..``end``;
            the whole range when ``None``.
    """

    id: str
    name: str
    camera_ids: tuple[str, ...]
    start: datetime
    end: datetime
    reason: str
    created_by: str
    created_at: datetime
    recurrence: Schedule | None = None

    def __post_init__(self) -> None:
        text(self.id, "id", 64)
        text(self.name, "name", 200)
        if self.recurrence is not None and not isinstance(self.recurrence, Schedule):
            raise ValidationError("recurrence must be a Schedule")
        cameras = names(self.camera_ids, "camera_ids", 64) if self.camera_ids else ()
        object.__setattr__(self, "camera_ids", tuple(dict.fromkeys(cameras)))
        if len(self.camera_ids) > 1000:
            raise ValidationError("a window names at most 1000 cameras")
        text(self.reason, "reason", MAX_REASON, empty=True)
        text(self.created_by, "created_by", 200)
        for key in ("start", "end", "created_at"):
            object.__setattr__(self, key, aware_utc(getattr(self, key), key))
        if self.end <= self.start:
            raise ValidationError("a maintenance window must end after it starts")

    def applies(self, camera_id: str, at: datetime) -> bool:
        """Whether it silences an alert on ``camera_id`` raised ``at``."""
        return (
            self.start <= at < self.end
            and (not self.camera_ids or camera_id in self.camera_ids)
            and (self.recurrence is None or self.recurrence.active(at))
        )

    def to_dict(self) -> dict[str, object]:
        """The JSON-ready form."""
        return {
            "id": self.id,
            "name": self.name,
            "camera_ids": list(self.camera_ids),
            "start": iso_z(self.start),
            "end": iso_z(self.end),
            "reason": self.reason,
            "created_by": self.created_by,
            "created_at": iso_z(self.created_at),
            "recurrence": None if self.recurrence is None else self.recurrence.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> MaintenanceWindow:
        """Parse ``to_dict``'s output (``ValidationError`` if it is not in that form)."""
        try:
            recurrence = data.get("recurrence")
            return cls(
                id=str(data["id"]),
                name=str(data["name"]),
                camera_ids=tuple(str(c) for c in value_list(data["camera_ids"], "camera_ids")),
                start=parse_time(data["start"], "start"),
                end=parse_time(data["end"], "end"),
                reason=str(data["reason"]),
                created_by=str(data["created_by"]),
                created_at=parse_time(data["created_at"], "created_at"),
                recurrence=None if recurrence is None else Schedule.from_dict(recurrence),
            )
        except (KeyError, TypeError) as exc:
            raise ValidationError(f"not a maintenance window: {exc}") from exc


def suppression_reason(
    rule_id: str,
    rule_name: str,
    camera_id: str,
    at: datetime,
    *,
    snoozes: Iterable[Snooze],
    windows: Iterable[MaintenanceWindow],
) -> str | None:
    """Why an alert raised ``at`` is not notified, or ``None`` if nothing suppresses it.

    A maintenance window wins over a snooze (it is the broader statement).
    """
    for window in windows:
        if window.applies(camera_id, at):
            return f"maintenance: {window.name}"[:MAX_REASON]
    for snooze in snoozes:
        if snooze.applies(rule_id, camera_id, at):
            what = (
                f"rule {rule_name} on camera {camera_id}"
                if snooze.rule_id is not None and snooze.camera_id is not None
                else f"rule {rule_name}"
                if snooze.rule_id is not None
                else f"camera {camera_id}"
            )
            until = snooze.until.isoformat(timespec="seconds").replace("+00:00", "Z")
            return f"snoozed: {what} until {until}"[:MAX_REASON]
    return None

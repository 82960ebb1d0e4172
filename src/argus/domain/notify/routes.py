"""Notification routes: which alerts go to which channels and recipients, and when.

A ``Route`` is data only: filters (rules, cameras, a minimum severity), a
weekly ``Schedule`` in local time, quiet hours during which only severe alerts
go out, and ``Target`` s (a channel and recipients) per escalation level.
Level 0 targets get an alert when it is raised; targets of level ``L >= 1`` get
it when it escalates to level ``L`` (the greatest level at most the
escalation's wins). Matching lives in ``argus.domain.notify.routing``.

Recipients are addresses or ``group:<name>``, a named list kept in the
settings document ``RECIPIENT_GROUPS_KEY`` (``{"groups": {name: [address, ...]}}``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from argus.domain.alerts import SEVERITIES, Severity
from argus.domain.checks import aware_utc, text
from argus.domain.errors import ValidationError
from argus.domain.notify.channels import check_address

__all__ = [
    "GROUP_PREFIX",
    "MAX_LEVEL",
    "RECIPIENT_GROUPS_KEY",
    "Route",
    "Schedule",
    "Target",
    "check_groups",
]

RECIPIENT_GROUPS_KEY = "notify.recipient_groups"
"""Settings key of the recipient groups document ``{"groups": {name: [address, ...]}}``."""

GROUP_PREFIX = "group:"
MAX_LEVEL = 10
"""Highest escalation level a target may name."""

_CLOCK = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$|^24:00$")
_GROUP_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_MAX_IDS = 500


def _recipient(value: object, where: str) -> str:
    item = text(value, where, 254)
    if item.startswith(GROUP_PREFIX):
        if not _GROUP_NAME.fullmatch(item[len(GROUP_PREFIX) :]):
            raise ValidationError(f"{where}: {item!r} does not name a recipient group")
        return item
    return check_address(item, where)


def _ids(value: object, where: str) -> tuple[str, ...]:
    if not isinstance(value, tuple | list) or len(value) > _MAX_IDS:
        raise ValidationError(f"{where} must be a list of at most {_MAX_IDS} ids")
    return tuple(text(item, f"{where}[{i}]", 64) for i, item in enumerate(value))


def check_groups(data: object) -> dict[str, tuple[str, ...]]:
    """Validate a recipient groups mapping ``{name: [address, ...]}``."""
    if not isinstance(data, Mapping) or len(data) > 200:
        raise ValidationError("groups must be an object of at most 200 groups")
    groups: dict[str, tuple[str, ...]] = {}
    for name, members in data.items():
        if not isinstance(name, str) or not _GROUP_NAME.fullmatch(name):
            raise ValidationError(f"group name {name!r} must be letters, digits, . _ -")
        if not isinstance(members, list | tuple) or len(members) > 500:
            raise ValidationError(f"group {name} must list at most 500 addresses")
        groups[name] = tuple(
            check_address(item, f"groups.{name}[{i}]") for i, item in enumerate(members)
        )
    return groups


@dataclass(frozen=True, slots=True)
class Target:
    """Who gets an alert at one escalation level.

    Attributes:
        channel_id: The channel that delivers.
        level: Escalation level (0 = when raised).
        to: Addresses or ``group:<name>``; empty means the channel's default
            recipients (e-mail) or none needed (webhook, MQTT).
    """

    channel_id: str
    level: int = 0
    to: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        text(self.channel_id, "target.channel_id", 64)
        level = self.level
        if isinstance(level, bool) or not isinstance(level, int) or not 0 <= level <= MAX_LEVEL:
            raise ValidationError(f"target.level must be in [0, {MAX_LEVEL}], got {level!r}")
        if not isinstance(self.to, tuple | list) or len(self.to) > 100:
            raise ValidationError("target.to must be a list of at most 100 recipients")
        to = tuple(_recipient(item, f"target.to[{i}]") for i, item in enumerate(self.to))
        object.__setattr__(self, "to", to)

    def to_dict(self) -> dict[str, object]:
        """The JSON-ready form."""
        return {"channel_id": self.channel_id, "level": self.level, "to": list(self.to)}


@dataclass(frozen=True, slots=True)
class Schedule:
    """Days of the week and a daily local time range.

    Attributes:
        days: Weekdays the range starts on, Monday = 0 to Sunday = 6.
        start: Start of the range, local ``HH:MM`` (inclusive).
        end: End of the range, local ``HH:MM`` (exclusive, ``24:00`` allowed);
            ``start > end`` wraps past midnight into the next day.
    """

    days: tuple[int, ...] = (0, 1, 2, 3, 4, 5, 6)
    start: str = "00:00"
    end: str = "24:00"

    def __post_init__(self) -> None:
        if not isinstance(self.days, tuple | list) or not self.days:
            raise ValidationError("schedule.days must list at least one day")
        if any(isinstance(d, bool) or d not in range(7) for d in self.days):
            raise ValidationError("schedule.days must be 0 (Monday) to 6 (Sunday)")
        object.__setattr__(self, "days", tuple(sorted(set(self.days))))
        for name in ("start", "end"):
            value = getattr(self, name)
            if not isinstance(value, str) or not _CLOCK.fullmatch(value):
                raise ValidationError(f"schedule.{name} must be HH:MM, got {value!r}")
        if self.start == "24:00":
            raise ValidationError("schedule.start must be before 24:00")
        if self.start_minute == self.end_minute:
            raise ValidationError("schedule.start and schedule.end must differ")

    @property
    def start_minute(self) -> int:
        """Minutes after local midnight where the range starts."""
        hours, minutes = self.start.split(":")
        return int(hours) * 60 + int(minutes)

    @property
    def end_minute(self) -> int:
        """Minutes after local midnight where the range ends (up to 1440)."""
        hours, minutes = self.end.split(":")
        return int(hours) * 60 + int(minutes)

    def to_dict(self) -> dict[str, object]:
        """The JSON-ready form."""
        return {"days": list(self.days), "start": self.start, "end": self.end}

    @classmethod
    def from_dict(cls, data: object) -> Schedule:
        """Rebuild from ``to_dict`` output."""
        if not isinstance(data, Mapping):
            raise ValidationError("schedule must be an object")
        days = data.get("days", list(range(7)))
        return cls(
            days=tuple(days) if isinstance(days, list | tuple) else days,
            start=data.get("start", "00:00"),
            end=data.get("end", "24:00"),
        )


def _optional_schedule(value: object) -> Schedule | None:
    return None if value is None else Schedule.from_dict(value)


@dataclass(frozen=True, slots=True)
class Route:
    """A stored notification route.

    Attributes:
        id: Stable id.
        name: Display name (at most 100 characters).
        created_at: When it was created (UTC).
        updated_at: When it was last changed (UTC).
        targets: Channels and recipients per escalation level (at least one).
        enabled: Disabled routes match nothing.
        rule_ids: Only alerts of these rules; any rule when empty.
        camera_ids: Only alerts of these cameras; any camera when empty.
        min_severity: Only alerts at least this severe.
        schedule: When the route applies, in local time; always when ``None``.
        quiet_hours: Inside them only alerts of at least ``quiet_min_severity`` go out.
        quiet_min_severity: See ``quiet_hours``.
        timezone: IANA zone of the schedule; ``None`` = the camera's, else the site's.
        version: Bumped by every update (optimistic concurrency).
    """

    id: str
    name: str
    created_at: datetime
    updated_at: datetime
    targets: tuple[Target, ...]
    enabled: bool = True
    rule_ids: tuple[str, ...] = ()
    camera_ids: tuple[str, ...] = ()
    min_severity: Severity = "low"
    schedule: Schedule | None = None
    quiet_hours: Schedule | None = None
    quiet_min_severity: Severity = "high"
    timezone: str | None = None
    version: int = 1

    def __post_init__(self) -> None:
        text(self.id, "route.id", 64)
        text(self.name, "route.name", 100)
        object.__setattr__(self, "created_at", aware_utc(self.created_at, "route.created_at"))
        object.__setattr__(self, "updated_at", aware_utc(self.updated_at, "route.updated_at"))
        if not isinstance(self.targets, tuple | list) or not 1 <= len(self.targets) <= 50:
            raise ValidationError("route.targets must list 1 to 50 targets")
        if not all(isinstance(t, Target) for t in self.targets):
            raise ValidationError("route.targets must be Targets")
        object.__setattr__(self, "targets", tuple(self.targets))
        if not isinstance(self.enabled, bool):
            raise ValidationError("route.enabled must be a boolean")
        object.__setattr__(self, "rule_ids", _ids(self.rule_ids, "route.rule_ids"))
        object.__setattr__(self, "camera_ids", _ids(self.camera_ids, "route.camera_ids"))
        for name in ("min_severity", "quiet_min_severity"):
            if getattr(self, name) not in SEVERITIES:
                raise ValidationError(f"route.{name} must be one of {', '.join(SEVERITIES)}")
        for name in ("schedule", "quiet_hours"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, Schedule):
                raise ValidationError(f"route.{name} must be a Schedule or None")
        if self.timezone is not None:
            text(self.timezone, "route.timezone", 64)
            try:
                ZoneInfo(self.timezone)
            except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
                raise ValidationError(f"route.timezone {self.timezone!r} is not known") from exc
        if isinstance(self.version, bool) or not isinstance(self.version, int) or self.version < 1:
            raise ValidationError("route.version must be a positive integer")

    def to_dict(self) -> dict[str, object]:
        """The JSON-ready form."""
        return {
            "id": self.id,
            "name": self.name,
            "enabled": self.enabled,
            "targets": [target.to_dict() for target in self.targets],
            "rule_ids": list(self.rule_ids),
            "camera_ids": list(self.camera_ids),
            "min_severity": self.min_severity,
            "schedule": None if self.schedule is None else self.schedule.to_dict(),
            "quiet_hours": None if self.quiet_hours is None else self.quiet_hours.to_dict(),
            "quiet_min_severity": self.quiet_min_severity,
            "timezone": self.timezone,
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
            "version": self.version,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> Route:
        """Rebuild a route from ``to_dict`` output."""
        targets = data.get("targets")
        if not isinstance(targets, list | tuple):
            raise ValidationError("route.targets must be a list")
        built: list[Target] = []
        for item in targets:
            if not isinstance(item, Mapping):
                raise ValidationError("route.targets must be objects")
            to = item.get("to", ())
            built.append(
                Target(
                    channel_id=cast(str, item.get("channel_id")),
                    level=cast(int, item.get("level", 0)),
                    to=tuple(to) if isinstance(to, list | tuple) else cast(tuple[str, ...], to),
                )
            )
        return cls(
            id=str(data["id"]),
            name=str(data["name"]),
            created_at=datetime.fromisoformat(str(data["created_at"])),
            updated_at=datetime.fromisoformat(str(data["updated_at"])),
            targets=tuple(built),
            enabled=bool(data.get("enabled", True)),
            rule_ids=tuple(cast(list[str], data.get("rule_ids", []))),
            camera_ids=tuple(cast(list[str], data.get("camera_ids", []))),
            min_severity=cast(Severity, data.get("min_severity", "low")),
            schedule=_optional_schedule(data.get("schedule")),
            quiet_hours=_optional_schedule(data.get("quiet_hours")),
            quiet_min_severity=cast(Severity, data.get("quiet_min_severity", "high")),
            timezone=cast("str | None", data.get("timezone")),
            version=int(cast(int, data.get("version", 1))),
        )

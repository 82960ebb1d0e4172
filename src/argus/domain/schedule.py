"""Weekly schedules: days of the week and a daily time range in a time zone."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from argus.domain.checks import aware_utc, text
from argus.domain.errors import ValidationError

__all__ = ["Schedule"]

_DAYS = frozenset(range(7))


@dataclass(frozen=True, slots=True)
class Schedule:
    """When a rule is active: days of the week and a daily time range in a time zone.

    Attributes:
        days: ISO weekdays the range starts on, Monday = 0 to Sunday = 6.
        start: Start of the daily range (inclusive), local time.
        end: End of the daily range (exclusive), local time. ``end <= start``
            means the range runs past midnight (22:00-06:00); ``start == end``
            means all day.
        timezone: IANA time zone name, e.g. ``"Europe/Berlin"``.
    """

    days: frozenset[int] = _DAYS
    start: time = time(0, 0)
    end: time = time(0, 0)
    timezone: str = "UTC"

    def __post_init__(self) -> None:
        days = frozenset(self.days)
        if not days or not days <= _DAYS:
            raise ValidationError("schedule.days must be a non-empty set of 0 (Mon) to 6 (Sun)")
        for name in ("start", "end"):
            value = getattr(self, name)
            if not isinstance(value, time) or value.tzinfo is not None:
                raise ValidationError(f"schedule.{name} must be a naive local time")
        text(self.timezone, "schedule.timezone", 64)
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
            # OSError: a key naming a folder of the database ("America") is no zone.
            raise ValidationError(f"schedule.timezone {self.timezone!r} is not known") from exc
        object.__setattr__(self, "days", days)

    def to_dict(self) -> dict[str, object]:
        """The JSON-ready form; times as ``HH:MM``."""
        return {
            "days": sorted(self.days),
            "start": self.start.strftime("%H:%M"),
            "end": self.end.strftime("%H:%M"),
            "timezone": self.timezone,
        }

    @classmethod
    def from_dict(cls, data: object) -> Schedule:
        """Parse ``to_dict``'s output.

        Raises:
            ValidationError: ``data`` is not in that form.
        """
        if not isinstance(data, Mapping):
            raise ValidationError("schedule must be an object")
        try:
            days = data.get("days", sorted(_DAYS))
            return cls(
                days=frozenset(int(d) for d in days),
                start=time.fromisoformat(str(data.get("start", "00:00"))),
                end=time.fromisoformat(str(data.get("end", "00:00"))),
                timezone=str(data.get("timezone", "UTC")),
            )
        except (TypeError, ValueError) as exc:
            if isinstance(exc, ValidationError):
                raise
            raise ValidationError(f"invalid schedule: {exc}") from exc

    def active(self, moment: datetime) -> bool:
        """Whether the schedule covers ``moment`` (timezone-aware)."""
        local = aware_utc(moment, "moment").astimezone(ZoneInfo(self.timezone))
        now = local.time().replace(tzinfo=None)
        if self.start == self.end:
            return local.weekday() in self.days
        if self.start < self.end:
            return local.weekday() in self.days and self.start <= now < self.end
        # Past midnight: the range belongs to the day it started on.
        if now >= self.start:
            return local.weekday() in self.days
        if now < self.end:
            return (local.weekday() - 1) % 7 in self.days
        return False

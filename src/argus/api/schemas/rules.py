"""Alert rule schemas: conditions on events, a count window, a weekly schedule, a cooldown.

Every set condition of a rule must hold for an event to match it (logical
AND). Cross-field invariants (``direction`` needs a ``line``, a rule watches a
line or a zone, ``count`` and ``window_seconds`` go together) are checked on
create here and on update by the domain, after the change is merged.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, ClassVar, Literal, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from argus.api.schemas.common import (
    Name,
    PartialUpdate,
    StrictModel,
    Text,
    non_nullable,
)
from argus.domain.rules import BoundSeverity, CooldownScope, Rule, Schedule
from argus.services.alert_rules import NewRule, RuleChanges

__all__ = [
    "RuleCreate",
    "RuleList",
    "RulePublic",
    "RuleUpdate",
    "ScheduleIn",
    "SchedulePublic",
]

MAX_WINDOW_SECONDS = 7 * 24 * 3600
"""Longest count window and cooldown (a week), as the domain bounds them."""

_TZ_NAME = r"^[A-Za-z][A-Za-z0-9_+\-]*(/[A-Za-z0-9_+\-]+)*$"
_HH_MM = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"


def _known_time_zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        # OSError: a key naming a folder of the database ("America") is not a zone.
        raise ValueError(f"{name!r} is not a known IANA time zone") from None
    return name


Day = Annotated[int, Field(ge=0, le=6)]
LocalTime = Annotated[str, Field(pattern=_HH_MM, description="Local time, HH:MM (24 h).")]
TimeZoneName = Annotated[
    str,
    Field(min_length=1, max_length=64, pattern=_TZ_NAME, examples=["Europe/Berlin"]),
    AfterValidator(_known_time_zone),
]
RuleName = Annotated[Text, Field(min_length=1, max_length=200, description="Display name.")]
Description = Annotated[Text, Field(max_length=2000, description="Free text for operators.")]
CameraRef = Annotated[
    Text, Field(min_length=1, max_length=64, description="Only events of this camera.")
]
# Event types are dotted names (line.crossed, zone.loitering, behaviour.running).
EventType = Annotated[str, Field(min_length=3, max_length=64, pattern=r"^[a-z_]+(\.[a-z_]+)+$")]
EventTypes = Annotated[
    list[EventType],
    Field(max_length=50, description="Only events of these types; any type when empty."),
]
Classes = Annotated[
    list[Name],
    Field(max_length=100, description="Only events about these classes; any when empty."),
]
LineName = Annotated[Name, Field(description="Only events of the line with this name.")]
ZoneName = Annotated[Name, Field(description="Only events of the zone with this name.")]
Direction = Annotated[
    Literal["in", "out"], Field(description="Only line events in this direction (needs line).")
]
MinDwell = Annotated[
    float,
    Field(ge=0, le=MAX_WINDOW_SECONDS, allow_inf_nan=False, description="Dwell of at least this."),
]
MinOccupancy = Annotated[
    int, Field(ge=1, le=10_000, description="Zone occupancy of at least this (crowding).")
]
Coordinate = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]
Corner = Annotated[list[Coordinate], Field(min_length=2, max_length=2, description="[x, y]")]
ExcludeAreas = Annotated[
    list[Annotated[list[Corner], Field(min_length=3, max_length=64)]],
    Field(
        max_length=16,
        description="Polygons of [x, y] corners in [0, 1] of the frame: an event whose object "
        "stands inside one (its payload's foot point) does not match. Events without a "
        "point are never excluded.",
        examples=[[[[0.0, 0.0], [0.3, 0.0], [0.3, 0.2], [0.0, 0.2]]]],
    ),
]
MinConfidence = Annotated[
    float,
    Field(ge=0, le=1, allow_inf_nan=False, description="Detection confidence of at least this."),
]
Count = Annotated[
    int,
    Field(
        ge=1,
        le=10_000,
        description="Fire when this many matches fell within window_seconds (per camera).",
    ),
]
WindowSeconds = Annotated[
    float,
    Field(
        gt=0,
        le=MAX_WINDOW_SECONDS,
        allow_inf_nan=False,
        description="The sliding window of count.",
    ),
]
CooldownSeconds = Annotated[
    float,
    Field(
        ge=0,
        le=MAX_WINDOW_SECONDS,
        allow_inf_nan=False,
        description="After firing, matches in the same scope are ignored for this long.",
    ),
]
Scope = Annotated[
    CooldownScope, Field(description="What a cooldown silences: the track or the whole camera.")
]
Weight = Annotated[
    float,
    Field(ge=0, le=1, allow_inf_nan=False, description="The rule's share of the risk score."),
]
Enabled = Annotated[bool, Field(description="Disabled rules never fire.")]
SeverityBound = Annotated[
    BoundSeverity,
    Field(description="Its alerts are at least (floor) or at most (ceiling) this severe."),
]


def _all_days() -> list[int]:
    return list(range(7))


class ScheduleIn(StrictModel):
    """When a rule is active: weekdays and a daily local time range in a time zone."""

    days: list[Day] = Field(
        default_factory=_all_days,
        min_length=1,
        max_length=7,
        description="Weekdays the range starts on, Monday = 0 to Sunday = 6.",
    )
    start: LocalTime = Field(default="00:00", description="Start of the range (inclusive).")
    end: LocalTime = Field(
        default="00:00",
        description="End (exclusive); before start runs past midnight, equal means all day.",
    )
    timezone: TimeZoneName = Field(default="UTC", description="IANA time zone name.")


class SchedulePublic(BaseModel):
    """A rule's weekly schedule."""

    days: list[int] = Field(description="Weekdays, Monday = 0 to Sunday = 6.")
    start: str = Field(description="HH:MM, local time.")
    end: str = Field(description="HH:MM, local time.")
    timezone: str

    @classmethod
    def of(cls, schedule: Schedule) -> SchedulePublic:
        """The public view of a schedule."""
        return cls.model_validate(schedule.to_dict())


def _check_conditions(rule: RuleCreate) -> None:
    if rule.direction is not None and rule.line is None:
        raise ValueError("direction needs a line")
    if rule.line is not None and rule.zone is not None:
        raise ValueError("a rule watches a line or a zone, not both")
    if (rule.count is None) != (rule.window_seconds is None):
        raise ValueError("count and window_seconds go together")
    order = ("low", "medium", "high")
    floor, ceiling = rule.severity_floor, rule.severity_ceiling
    if floor and ceiling and order.index(floor) > order.index(ceiling):
        raise ValueError("severity_floor must not be above severity_ceiling")


class RuleCreate(StrictModel):
    """An alert rule to store; every condition given must hold."""

    name: RuleName
    description: Description = ""
    enabled: Enabled = True
    camera_id: CameraRef | None = Field(default=None, description="Only this camera; all if null.")
    event_types: EventTypes = Field(default_factory=list)
    classes: Classes = Field(default_factory=list)
    line: LineName | None = None
    direction: Direction | None = None
    zone: ZoneName | None = None
    min_dwell_seconds: MinDwell | None = None
    min_occupancy: MinOccupancy | None = None
    min_confidence: MinConfidence | None = None
    count: Count | None = None
    window_seconds: WindowSeconds | None = None
    schedule: ScheduleIn | None = Field(default=None, description="When active; always if null.")
    cooldown_seconds: CooldownSeconds = 0.0
    cooldown_scope: Scope = "track"
    weight: Weight = 0.5
    severity_floor: SeverityBound | None = None
    severity_ceiling: SeverityBound | None = None
    exclude_areas: ExcludeAreas = Field(default_factory=list)

    @model_validator(mode="after")
    def _conditions(self) -> Self:
        _check_conditions(self)
        return self

    def command(self) -> NewRule:
        """The service's command."""
        return NewRule(**_command_fields(self.model_dump()))


_NOT_NULL: tuple[str, ...] = ("name", "description", "enabled", "event_types", "classes")
_NOT_NULL += ("cooldown_seconds", "cooldown_scope", "weight", "exclude_areas")


class RuleUpdate(PartialUpdate):
    """Fields of a rule to change; absent fields keep their value, null clears a condition.

    The rule's count window and cooldowns restart.
    """

    model_config = ConfigDict(json_schema_extra=non_nullable(_NOT_NULL))
    not_null: ClassVar[tuple[str, ...]] = _NOT_NULL

    name: RuleName | None = None
    description: Description | None = None
    enabled: Enabled | None = None
    camera_id: CameraRef | None = None
    event_types: EventTypes | None = None
    classes: Classes | None = None
    line: LineName | None = None
    direction: Direction | None = None
    zone: ZoneName | None = None
    min_dwell_seconds: MinDwell | None = None
    min_occupancy: MinOccupancy | None = None
    min_confidence: MinConfidence | None = None
    count: Count | None = None
    window_seconds: WindowSeconds | None = None
    schedule: ScheduleIn | None = None
    cooldown_seconds: CooldownSeconds | None = None
    cooldown_scope: Scope | None = None
    weight: Weight | None = None
    severity_floor: SeverityBound | None = None
    severity_ceiling: SeverityBound | None = None
    exclude_areas: ExcludeAreas | None = None

    def command(self) -> RuleChanges:
        """The service's command: the fields that were sent (null clears a condition)."""
        return RuleChanges(**_command_fields(self.changes()))


def _command_fields(values: dict[str, Any]) -> dict[str, Any]:
    """Request fields as the domain holds them: lists as tuples, the schedule a ``Schedule``."""
    fields = {k: tuple(v) if isinstance(v, list) else v for k, v in values.items()}
    if fields.get("schedule") is not None:
        fields["schedule"] = Schedule.from_dict(fields["schedule"])
    return fields


class RulePublic(BaseModel):
    """A stored alert rule."""

    id: str = Field(description="Rule id (a ULID).")
    name: str
    description: str
    enabled: bool
    camera_id: str | None = Field(description="Only this camera; all cameras when null.")
    event_types: list[str] = Field(description="Event types matched; any when empty.")
    classes: list[str] = Field(description="Object classes matched; any when empty.")
    line: str | None
    direction: Literal["in", "out"] | None
    zone: str | None
    min_dwell_seconds: float | None
    min_occupancy: int | None
    min_confidence: float | None
    count: int | None
    window_seconds: float | None
    schedule: SchedulePublic | None = Field(description="When active; always when null.")
    cooldown_seconds: float
    cooldown_scope: CooldownScope
    weight: float
    severity_floor: BoundSeverity | None = Field(description="Alerts at least this severe.")
    severity_ceiling: BoundSeverity | None = Field(description="Alerts at most this severe.")
    exclude_areas: list[list[tuple[float, float]]] = Field(
        description="Polygons of the frame where the event's object must not stand."
    )
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, rule: Rule) -> RulePublic:
        """The public view of a rule."""
        return cls(
            id=rule.id,
            name=rule.name,
            description=rule.description,
            enabled=rule.enabled,
            camera_id=rule.camera_id,
            event_types=list(rule.event_types),
            classes=list(rule.classes),
            line=rule.line,
            direction=rule.direction,
            zone=rule.zone,
            min_dwell_seconds=rule.min_dwell_seconds,
            min_occupancy=rule.min_occupancy,
            min_confidence=rule.min_confidence,
            count=rule.count,
            window_seconds=rule.window_seconds,
            schedule=None if rule.schedule is None else SchedulePublic.of(rule.schedule),
            cooldown_seconds=rule.cooldown_seconds,
            cooldown_scope=rule.cooldown_scope,
            weight=rule.weight,
            severity_floor=rule.severity_floor,
            severity_ceiling=rule.severity_ceiling,
            exclude_areas=[list(area) for area in rule.exclude_areas],
            created_at=rule.created_at,
            updated_at=rule.updated_at,
        )


class RuleList(BaseModel):
    """One page of rules, in creation order."""

    items: list[RulePublic]
    total: int = Field(description="Rules matching the filters, over all pages.")
    limit: int
    offset: int

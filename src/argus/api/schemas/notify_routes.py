"""Schemas of ``/api/v1/routes`` and ``/api/v1/recipient-groups``.

A route's targets name channels and recipients (addresses or ``group:<name>``)
per escalation level; schedules are local ``HH:MM`` ranges (start > end wraps
past midnight). The domain (``argus.domain.notify.routes``) checks every value
again, so a body that passes here may still answer 422 with its reason.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from argus.api.schemas.common import PartialUpdate, StrictModel, Text, non_nullable
from argus.domain.alerts import Severity
from argus.domain.notify import Route, Schedule, Target
from argus.services.notify_commands import NewRoute, RouteChanges

__all__ = [
    "RecipientGroups",
    "RouteCreate",
    "RouteList",
    "RoutePublic",
    "RouteUpdate",
]

RouteName = Annotated[Text, Field(min_length=1, max_length=100, description="Display name.")]
Address = Annotated[Text, Field(min_length=3, max_length=254, description="E-mail address.")]
Id = Annotated[Text, Field(min_length=1, max_length=64)]
Recipient = Annotated[
    Text, Field(min_length=1, max_length=254, description="Address or group:<name>.")
]
Clock = Annotated[str, Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$|^24:00$", description="HH:MM")]


class TargetIn(StrictModel):
    """Who gets an alert at one escalation level."""

    channel_id: Id
    level: Annotated[int, Field(ge=0, le=10, description="0 = when raised.")] = 0
    to: Annotated[list[Recipient], Field(max_length=100)] = Field(
        default_factory=list, description="Empty: the channel's default recipients."
    )

    def value(self) -> Target:
        """The domain value."""
        return Target(channel_id=self.channel_id, level=self.level, to=tuple(self.to))


class ScheduleIn(StrictModel):
    """Days (Monday = 0) and a local time range; start > end wraps past midnight."""

    days: Annotated[list[Annotated[int, Field(ge=0, le=6)]], Field(min_length=1, max_length=7)] = (
        Field(default_factory=lambda: list(range(7)))
    )
    start: Clock = "00:00"
    end: Clock = "24:00"

    def value(self) -> Schedule:
        """The domain value."""
        return Schedule(days=tuple(self.days), start=self.start, end=self.end)


Ids = Annotated[list[Id], Field(max_length=500)]
Targets = Annotated[list[TargetIn], Field(min_length=1, max_length=50)]
Zone = Annotated[Text, Field(min_length=1, max_length=64, description="IANA time zone.")]


def _route_fields(model: BaseModel, names: set[str]) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for name in names:
        value = getattr(model, name)
        if name == "targets":
            value = tuple(t.value() for t in value)
        elif name in ("schedule", "quiet_hours"):
            value = None if value is None else value.value()
        elif isinstance(value, list):
            value = tuple(value)
        fields[name] = value
    return fields


class RouteCreate(StrictModel):
    """A route: which alerts go to which targets, and when."""

    name: RouteName
    targets: Targets
    enabled: bool = True
    rule_ids: Ids = Field(default_factory=list, description="Empty: any rule.")
    camera_ids: Ids = Field(default_factory=list, description="Empty: any camera.")
    min_severity: Severity = "low"
    schedule: ScheduleIn | None = Field(default=None, description="Always when null.")
    quiet_hours: ScheduleIn | None = Field(default=None, description="None when null.")
    quiet_min_severity: Severity = "high"
    timezone: Zone | None = Field(default=None, description="Null: the camera's or the site's.")

    def command(self) -> NewRoute:
        """The service's command."""
        return NewRoute(**_route_fields(self, set(type(self).model_fields)))


_ROUTE_NOT_NULL = (
    "name",
    "targets",
    "enabled",
    "rule_ids",
    "camera_ids",
    "min_severity",
    "quiet_min_severity",
)


class RouteUpdate(PartialUpdate):
    """Fields of a route to change; null clears the schedule, quiet hours or time zone."""

    model_config = ConfigDict(json_schema_extra=non_nullable(_ROUTE_NOT_NULL))
    not_null: ClassVar[tuple[str, ...]] = _ROUTE_NOT_NULL

    name: RouteName | None = None
    targets: Targets | None = None
    enabled: bool | None = None
    rule_ids: Ids | None = None
    camera_ids: Ids | None = None
    min_severity: Severity | None = None
    schedule: ScheduleIn | None = None
    quiet_hours: ScheduleIn | None = None
    quiet_min_severity: Severity | None = None
    timezone: Zone | None = None

    def command(self) -> RouteChanges:
        """The service's command: the fields that were sent."""
        return RouteChanges(**_route_fields(self, set(self.model_fields_set)))


class RoutePublic(BaseModel):
    """A stored route (the fields of ``RouteCreate``, with ids, times and version)."""

    id: str
    name: str
    enabled: bool
    targets: list[dict[str, Any]] = Field(description='[{"channel_id", "level", "to"}]')
    rule_ids: list[str]
    camera_ids: list[str]
    min_severity: Severity
    schedule: dict[str, Any] | None
    quiet_hours: dict[str, Any] | None
    quiet_min_severity: Severity
    timezone: str | None
    created_at: datetime
    updated_at: datetime
    version: int

    @classmethod
    def of(cls, route: Route) -> RoutePublic:
        """The public view of a route."""
        return cls.model_validate(route.to_dict())


class RouteList(BaseModel):
    """A page of routes."""

    items: list[RoutePublic]
    total: int
    limit: int
    offset: int


class RecipientGroups(StrictModel):
    """Named recipient lists, used by targets as ``group:<name>``."""

    groups: Annotated[
        dict[Annotated[str, Field(max_length=64)], Annotated[list[Address], Field(max_length=500)]],
        Field(max_length=200),
    ]

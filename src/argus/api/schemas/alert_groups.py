"""Alert group, snooze and maintenance window schemas.

A group collapses an alert storm (one rule, camera and zone or line); its
alerts are paged by cursor. Snoozes and maintenance windows keep alerts from
being notified while still storing them (``suppressed`` on the alert says why).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Self

from pydantic import BaseModel, Field, model_validator

from argus.api.schemas.alerts import AlertPublic
from argus.api.schemas.common import Moment, StrictModel, Text
from argus.api.schemas.rules import ScheduleIn, SchedulePublic
from argus.domain.alerts import Severity
from argus.domain.alerts.groups import AlertGroup, GroupState
from argus.domain.alerts.suppression import MaintenanceWindow, Snooze
from argus.domain.schedule import Schedule
from argus.services.suppression import NewSnooze, NewWindow

__all__ = [
    "AlertGroupAction",
    "AlertGroupDismiss",
    "AlertGroupList",
    "AlertGroupPublic",
    "AlertGroupStep",
    "GroupAlertList",
    "MaintenanceWindowCreate",
    "MaintenanceWindowList",
    "MaintenanceWindowPublic",
    "SnoozeCreate",
    "SnoozeList",
    "SnoozePublic",
]

Reason = Annotated[Text, Field(max_length=500, description="Why (free text, audited).")]
Ref = Annotated[Text, Field(min_length=1, max_length=64)]
NextCursor = Field(description="Pass as cursor for the next page; null on the last page.")


class AlertGroupPublic(BaseModel):
    """Alerts of one rule, camera and zone or line raised close together."""

    id: str = Field(description="Group id (a ULID).")
    key: str = Field(description="rule_id|camera_id|subject: what its alerts share.")
    rule_id: str
    rule_name: str = Field(description="The rule's name when the group opened.")
    camera_id: str
    subject: str = Field(description="The zone or line name; empty when neither.")
    first_seen: datetime
    last_seen: datetime
    count: int = Field(ge=1, description="Alerts in the group.")
    open_count: int = Field(ge=0, description="Alerts in it not resolved yet.")
    latest_alert_id: str = Field(description="Its newest alert (the latest evidence).")
    first_alert_id: str
    max_severity: Severity
    notified_severity: Severity | None = Field(
        description="The highest severity it was notified at; null while all were suppressed."
    )
    state: GroupState = Field(description="open while any alert in it is unresolved.")
    version: int = Field(ge=1)

    @classmethod
    def of(cls, group: AlertGroup) -> AlertGroupPublic:
        """The public view of a group."""
        return cls.model_validate(group.to_dict())


class AlertGroupList(BaseModel):
    """One page of groups, newest last_seen first."""

    items: list[AlertGroupPublic]
    next_cursor: str | None = NextCursor
    total: int = Field(description="Groups matching the filters, over all pages.")


class GroupAlertList(BaseModel):
    """One page of a group's alerts, newest first."""

    items: list[AlertPublic]
    next_cursor: str | None = NextCursor
    total: int = Field(description="Alerts of the group.")


class AlertGroupAction(StrictModel):
    """Why a group step is taken (the signed-in user takes it)."""

    note: Annotated[Text, Field(max_length=2000, description="Kept in each alert's history.")] = ""


class AlertGroupDismiss(StrictModel):
    """Dismiss a group's acknowledged alerts as false positives."""

    note: Annotated[
        Text, Field(min_length=1, max_length=2000, description="Why they are false positives.")
    ]


class AlertGroupStep(BaseModel):
    """A group after a step, and the alerts the step moved."""

    group: AlertGroupPublic
    alerts: list[str] = Field(description="Ids of the alerts it moved, newest first.")


class SnoozeCreate(StrictModel):
    """Silence a rule, a camera, or a rule on one camera until a time."""

    rule_id: Ref | None = Field(default=None, description="The rule; any rule when null.")
    camera_id: Ref | None = Field(default=None, description="The camera; any camera when null.")
    until: Moment = Field(strict=False, description="When it ends (at most 30 days ahead).")
    reason: Reason = ""

    @model_validator(mode="after")
    def _names_something(self) -> Self:
        if self.rule_id is None and self.camera_id is None:
            raise ValueError("a snooze names a rule, a camera, or both")
        return self

    def command(self) -> NewSnooze:
        """The service's command."""
        return NewSnooze(
            until=self.until, rule_id=self.rule_id, camera_id=self.camera_id, reason=self.reason
        )


class SnoozePublic(BaseModel):
    """A snooze: alerts it covers are stored but not notified until it ends."""

    id: str
    rule_id: str | None
    camera_id: str | None
    until: datetime
    reason: str
    created_by: str
    created_at: datetime

    @classmethod
    def of(cls, snooze: Snooze) -> SnoozePublic:
        """The public view of a snooze."""
        return cls.model_validate(snooze.to_dict())


class SnoozeList(BaseModel):
    """One page of snoozes, latest end first."""

    items: list[SnoozePublic]
    total: int
    limit: int
    offset: int


class MaintenanceWindowCreate(StrictModel):
    """Cameras under maintenance for a time: their alerts are stored but not notified."""

    name: Annotated[Text, Field(min_length=1, max_length=200, description="Display name.")]
    camera_ids: list[Ref] = Field(
        default_factory=list, max_length=1000, description="The cameras; every camera when empty."
    )
    start: Moment = Field(strict=False, description="When it begins.")
    end: Moment = Field(
        strict=False, description="When it ends (after start, at most a year later)."
    )
    reason: Reason = ""
    recurrence: ScheduleIn | None = Field(
        default=None,
        description="Only at these weekly local hours between start and end; "
        "the whole range when null.",
    )

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.end <= self.start:
            raise ValueError("end must be after start")
        return self

    def command(self) -> NewWindow:
        """The service's command."""
        return NewWindow(
            name=self.name,
            start=self.start,
            end=self.end,
            camera_ids=tuple(dict.fromkeys(self.camera_ids)),
            reason=self.reason,
            recurrence=(
                None
                if self.recurrence is None
                else Schedule.from_dict(self.recurrence.model_dump())
            ),
        )


class MaintenanceWindowPublic(BaseModel):
    """A maintenance window."""

    id: str
    name: str
    camera_ids: list[str] = Field(description="The cameras; every camera when empty.")
    start: datetime
    end: datetime
    reason: str
    created_by: str
    created_at: datetime
    recurrence: SchedulePublic | None = Field(description="Weekly local hours; null: always.")

    @classmethod
    def of(cls, window: MaintenanceWindow) -> MaintenanceWindowPublic:
        """The public view of a window."""
        return cls.model_validate(window.to_dict())


class MaintenanceWindowList(BaseModel):
    """One page of maintenance windows, latest start first."""

    items: list[MaintenanceWindowPublic]
    total: int
    limit: int
    offset: int

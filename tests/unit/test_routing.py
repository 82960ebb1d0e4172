"""Routing of alert notifications: filters, schedules, quiet hours, time zones, levels."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from argus.domain.alerts import Severity
from argus.domain.errors import ValidationError
from argus.domain.notify.routes import Route, Schedule, Target
from argus.domain.notify.routing import (
    AlertFacts,
    facts_of,
    in_schedule,
    resolve_recipients,
    select,
    skip_reason,
)

T0 = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
"""Monday 7 December 2026, 12:00 UTC (13:00 in Berlin)."""
BERLIN = "Europe/Berlin"


def route(route_id: str = "r1", *targets: Target, **changes: Any) -> Route:
    return Route(
        id=route_id,
        name=f"route {route_id}",
        created_at=T0,
        updated_at=T0,
        targets=targets or (Target("mail"),),
        **changes,
    )


def alert(
    severity: Severity = "medium", *, rule: str = "rule-1", camera: str = "cam-1", level: int = 0
) -> AlertFacts:
    return AlertFacts("alert-1", rule, camera, severity, level)


def site(_camera: str) -> str:
    return "UTC"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


# --- filters ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "facts", "reason"),
    [
        ({}, alert(), None),
        ({"enabled": False}, alert(), "route disabled"),
        ({"rule_ids": ("rule-2",)}, alert(), "rule rule-1 not routed"),
        ({"rule_ids": ("rule-2", "rule-1")}, alert(), None),
        ({"camera_ids": ("cam-9",)}, alert(), "camera cam-1 not routed"),
        ({"camera_ids": ("cam-1",)}, alert(), None),
        ({"min_severity": "high"}, alert("medium"), "medium is below high"),
        ({"min_severity": "medium"}, alert("medium"), None),
        ({"min_severity": "medium"}, alert("high"), None),
        ({"min_severity": "medium"}, alert("low"), "low is below medium"),
    ],
    ids=[
        "any",
        "disabled",
        "other-rule",
        "listed-rule",
        "other-camera",
        "listed-camera",
        "below-min",
        "at-min",
        "above-min",
        "low-below-medium",
    ],
)
def test_route_filters(changes: dict[str, Any], facts: AlertFacts, reason: str | None) -> None:
    assert skip_reason(route(**changes), facts, T0, site) == reason


# --- schedules -------------------------------------------------------------------------------

OFFICE = Schedule(days=(0, 1, 2, 3, 4), start="08:00", end="18:00")
FRIDAY_NIGHT = Schedule(days=(4,), start="22:00", end="06:00")
MORNING = Schedule(start="08:00", end="09:00")
SMALL_HOURS = Schedule(start="02:00", end="03:00")


@pytest.mark.parametrize(
    ("schedule", "moment", "zone", "inside"),
    [
        (OFFICE, "2026-12-07T08:00:00+01:00", BERLIN, True),  # Monday, first minute
        (OFFICE, "2026-12-07T07:59:59+01:00", BERLIN, False),
        (OFFICE, "2026-12-07T17:59:00+01:00", BERLIN, True),
        (OFFICE, "2026-12-07T18:00:00+01:00", BERLIN, False),  # end is exclusive
        (OFFICE, "2026-12-12T12:00:00+01:00", BERLIN, False),  # Saturday
        (OFFICE, "2026-12-07T07:30:00+00:00", BERLIN, True),  # 07:30 UTC is 08:30 in Berlin
        (OFFICE, "2026-12-07T07:30:00+00:00", "UTC", False),
        # Across midnight: the range belongs to the day it starts on (Friday).
        (FRIDAY_NIGHT, "2026-12-11T23:00:00+01:00", BERLIN, True),  # Friday 23:00
        (FRIDAY_NIGHT, "2026-12-12T03:00:00+01:00", BERLIN, True),  # Saturday 03:00
        (FRIDAY_NIGHT, "2026-12-12T06:00:00+01:00", BERLIN, False),  # Saturday 06:00
        (FRIDAY_NIGHT, "2026-12-11T03:00:00+01:00", BERLIN, False),  # Friday 03:00: Thursday's
        (FRIDAY_NIGHT, "2026-12-12T23:00:00+01:00", BERLIN, False),  # Saturday 23:00
        (Schedule(start="18:00", end="24:00"), "2026-12-07T23:59:00+01:00", BERLIN, True),
        (Schedule(start="18:00", end="24:00"), "2026-12-08T00:00:00+01:00", BERLIN, False),
        # Daylight saving: wall-clock time, summer and winter alike.
        (MORNING, "2026-03-28T07:30:00+00:00", BERLIN, True),  # Saturday, CET: 08:30
        (MORNING, "2026-03-30T07:30:00+00:00", BERLIN, False),  # Monday, CEST: 09:30
        (MORNING, "2026-03-30T06:30:00+00:00", BERLIN, True),  # Monday, CEST: 08:30
        (SMALL_HOURS, "2026-03-29T01:30:00+00:00", BERLIN, False),  # 02:30 never happens
        (SMALL_HOURS, "2026-10-25T00:30:00+00:00", BERLIN, True),  # 02:30 CEST ...
        (SMALL_HOURS, "2026-10-25T01:30:00+00:00", BERLIN, True),  # ... and 02:30 CET
        (SMALL_HOURS, "2026-10-25T02:30:00+00:00", BERLIN, False),  # 03:30 CET
    ],
)
def test_schedules_are_local_wall_clock_time(
    schedule: Schedule, moment: str, zone: str, inside: bool
) -> None:
    assert in_schedule(schedule, at(moment), zone) is inside


def test_a_route_outside_its_schedule_is_skipped() -> None:
    office = route(schedule=OFFICE)
    assert skip_reason(office, alert(), at("2026-12-07T09:00:00+01:00"), lambda _: BERLIN) is None
    saturday = at("2026-12-12T09:00:00+01:00")
    assert skip_reason(office, alert(), saturday, lambda _: BERLIN) == (
        "outside the schedule (Europe/Berlin)"
    )


def test_the_camera_zone_is_used_unless_the_route_names_one() -> None:
    """07:30 UTC: 08:30 in Berlin (inside office hours), 02:30 in New York (outside)."""
    moment = at("2026-12-07T07:30:00+00:00")
    zones = {"cam-berlin": BERLIN, "cam-ny": "America/New_York"}
    office = route(schedule=OFFICE)
    assert skip_reason(office, alert(camera="cam-berlin"), moment, zones.__getitem__) is None
    assert skip_reason(office, alert(camera="cam-ny"), moment, zones.__getitem__) is not None
    fixed = route(schedule=OFFICE, timezone=BERLIN)
    assert skip_reason(fixed, alert(camera="cam-ny"), moment, zones.__getitem__) is None


@pytest.mark.parametrize(
    ("moment", "severity", "sent"),
    [
        ("2026-12-07T23:00:00+01:00", "medium", False),  # Monday night: quiet
        ("2026-12-08T06:59:00+01:00", "medium", False),  # still quiet, past midnight
        ("2026-12-08T07:00:00+01:00", "medium", True),  # quiet hours over
        ("2026-12-07T23:00:00+01:00", "high", True),  # severe enough for the night
        ("2026-12-07T12:00:00+01:00", "low", True),  # daytime
    ],
)
def test_quiet_hours_across_midnight(moment: str, severity: Severity, sent: bool) -> None:
    quiet = route(quiet_hours=Schedule(start="22:00", end="07:00"), quiet_min_severity="high")
    reason = skip_reason(quiet, alert(severity), at(moment), lambda _: BERLIN)
    assert (reason is None) is sent
    if not sent:
        assert reason is not None
        assert reason.startswith("quiet hours (Europe/Berlin)")


# --- escalation levels -----------------------------------------------------------------------

LADDER = route(
    "ladder",
    Target("mail", 0),
    Target("webhook", 0),
    Target("mail", 1, ("supervisor@example.org",)),
    Target("mail", 3, ("group:managers",)),
)


@pytest.mark.parametrize(
    ("kind", "level", "expected"),
    [
        ("alert.created", 0, [("mail", 0), ("webhook", 0)]),
        ("alert.escalated", 1, [("mail", 1)]),
        ("alert.escalated", 2, [("mail", 1)]),  # greatest level <= 2 is 1
        ("alert.escalated", 3, [("mail", 3)]),
        ("alert.escalated", 7, [("mail", 3)]),
        ("alert.escalated", 0, []),
        ("alert.updated", 0, []),
        ("test", 0, []),
    ],
)
def test_escalation_levels_map_to_targets(
    kind: str, level: int, expected: list[tuple[str, int]]
) -> None:
    chosen = select(alert(level=level), kind, level, [LADDER], now=T0, tz_of=site)
    assert [(target.channel_id, target.level) for _, target in chosen] == expected


def test_a_route_without_escalation_targets_says_nothing_on_escalation() -> None:
    plain = route("plain", Target("mail", 0))
    assert select(alert(), "alert.escalated", 1, [plain], now=T0, tz_of=site) == []
    assert len(select(alert(), "alert.created", 0, [plain], now=T0, tz_of=site)) == 1


def test_select_keeps_route_order_and_skips_non_matching_routes() -> None:
    routes = [
        route("a", Target("mail")),
        route("b", Target("hook"), min_severity="high"),
        route("c", Target("mqtt"), rule_ids=("rule-1",)),
    ]
    chosen = select(alert("medium"), "alert.created", 0, routes, now=T0, tz_of=site)
    assert [(r.id, t.channel_id) for r, t in chosen] == [("a", "mail"), ("c", "mqtt")]


def test_select_takes_the_alert_form_the_bus_carries() -> None:
    payload: dict[str, object] = {
        "id": "alert-9",
        "rule_id": "rule-1",
        "camera_id": "cam-1",
        "severity": "high",
        "escalation_level": 2,
    }
    assert facts_of(payload) == AlertFacts("alert-9", "rule-1", "cam-1", "high", 2)
    chosen = select(payload, "alert.escalated", 2, [LADDER], now=T0, tz_of=site)
    assert [t.level for _, t in chosen] == [1]


@pytest.mark.parametrize(
    "payload",
    [{"id": "a"}, {"id": "a", "rule_id": "r", "camera_id": "c", "severity": "urgent"}],
    ids=["missing-fields", "unknown-severity"],
)
def test_a_payload_that_is_no_alert_is_refused(payload: dict[str, object]) -> None:
    with pytest.raises(ValidationError, match="not an alert"):
        facts_of(payload)


# --- recipients ------------------------------------------------------------------------------


def test_recipients_expand_groups_dedupe_and_fall_back_to_the_channel_default() -> None:
    groups = {"night-shift": ("a@example.org", "b@example.org")}
    target = Target("mail", 0, ("group:night-shift", "a@example.org", "group:gone"))
    assert resolve_recipients(target, ("d@example.org",), groups) == (
        ("a@example.org", "b@example.org"),
        ("gone",),
    )
    assert resolve_recipients(Target("mail"), ("d@example.org",), groups) == (
        ("d@example.org",),
        (),
    )
    assert resolve_recipients(Target("hook"), (), groups) == ((), ())

"""Which routes and targets an alert notification goes to: pure matching.

``select`` takes an alert (``Alert`` or its ``to_dict`` form, as the bus
carries it), what happened to it (``alert.created``, ``alert.escalated``), its
escalation level and the stored routes, and answers the ``(Route, Target)``
pairs to notify. A route matches when it is enabled, names the alert's rule
and camera (or none), the alert is at least its ``min_severity``, the moment
is inside its ``schedule`` (if any) and, inside its ``quiet_hours``, the alert
is at least ``quiet_min_severity``.

Schedules and quiet hours are local wall-clock times in the route's time zone,
else the camera's (``tz_of``, which knows the site). A range whose start is
after its end runs past midnight and belongs to the day it started on
(Friday 22:00-06:00 covers Saturday 03:00). Wall-clock time makes daylight
saving changes behave as people expect: 08:00-18:00 is 08:00-18:00 local in
summer and winter; a time the spring change skips never happens, one the
autumn change repeats is inside a range both times.

Escalation levels: level 0 targets get ``alert.created``; an
``alert.escalated`` to level ``L`` goes to the targets of the greatest level
``1 <= l <= L`` the route has, so a route with levels 1 and 3 tells level 1
about the first two escalations and level 3 from the third on; a route with
no level >= 1 targets says nothing on escalation (its alert was already sent).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from argus.domain.alerts import SEVERITIES, Alert, Severity
from argus.domain.checks import aware_utc
from argus.domain.errors import ValidationError
from argus.domain.notify.routes import GROUP_PREFIX, Route, Schedule, Target

__all__ = [
    "AlertFacts",
    "facts_of",
    "in_schedule",
    "levels_for",
    "resolve_recipients",
    "select",
    "skip_reason",
]

_RANK: dict[str, int] = {severity: rank for rank, severity in enumerate(SEVERITIES)}


@dataclass(frozen=True, slots=True)
class AlertFacts:
    """What routing looks at in an alert.

    Attributes:
        alert_id: The alert.
        rule_id: Its rule.
        camera_id: Its camera.
        severity: Its severity.
        escalation_level: How many times it escalated.
    """

    alert_id: str
    rule_id: str
    camera_id: str
    severity: Severity
    escalation_level: int = 0


def facts_of(alert: AlertFacts | Alert | Mapping[str, object]) -> AlertFacts:
    """The routing facts of an alert or its ``to_dict`` form.

    Raises:
        ValidationError: A mapping that is not an alert's form.
    """
    if isinstance(alert, AlertFacts):
        return alert
    if isinstance(alert, Alert):
        return AlertFacts(
            alert.id, alert.rule_id, alert.camera_id, alert.severity, alert.escalation_level
        )
    try:
        severity = alert["severity"]
        level = alert.get("escalation_level", 0)
        if severity not in _RANK or isinstance(level, bool) or not isinstance(level, int):
            raise ValidationError(f"not an alert: severity {severity!r}, level {level!r}")
        return AlertFacts(
            str(alert["id"]),
            str(alert["rule_id"]),
            str(alert["camera_id"]),
            SEVERITIES[_RANK[str(severity)]],
            level,
        )
    except KeyError as exc:
        raise ValidationError(f"not an alert: missing {exc}") from exc


def in_schedule(schedule: Schedule, moment: datetime, zone: str) -> bool:
    """Whether ``moment`` falls inside ``schedule``, in local wall-clock time of ``zone``."""
    local = aware_utc(moment, "moment").astimezone(ZoneInfo(zone))
    minute = local.hour * 60 + local.minute
    start, end = schedule.start_minute, schedule.end_minute
    if start < end:
        return local.weekday() in schedule.days and start <= minute < end
    # Past midnight: the range belongs to the day it started on.
    if minute >= start:
        return local.weekday() in schedule.days
    return minute < end and (local.weekday() - 1) % 7 in schedule.days


def skip_reason(
    route: Route, facts: AlertFacts, now: datetime, tz_of: Callable[[str], str]
) -> str | None:
    """Why ``route`` does not take the alert now; ``None`` when it does."""
    return _filter_reason(route, facts) or _time_reason(route, facts, now, tz_of)


def _filter_reason(route: Route, facts: AlertFacts) -> str | None:
    if not route.enabled:
        return "route disabled"
    if route.rule_ids and facts.rule_id not in route.rule_ids:
        return f"rule {facts.rule_id} not routed"
    if route.camera_ids and facts.camera_id not in route.camera_ids:
        return f"camera {facts.camera_id} not routed"
    if _RANK[facts.severity] < _RANK[route.min_severity]:
        return f"{facts.severity} is below {route.min_severity}"
    return None


def _time_reason(
    route: Route, facts: AlertFacts, now: datetime, tz_of: Callable[[str], str]
) -> str | None:
    zone = route.timezone if route.timezone is not None else tz_of(facts.camera_id)
    if route.schedule is not None and not in_schedule(route.schedule, now, zone):
        return f"outside the schedule ({zone})"
    quiet = route.quiet_hours
    if (
        quiet is not None
        and _RANK[facts.severity] < _RANK[route.quiet_min_severity]
        and in_schedule(quiet, now, zone)
    ):
        return f"quiet hours ({zone}): {facts.severity} is below {route.quiet_min_severity}"
    return None


def levels_for(route: Route, kind: str, level: int) -> tuple[Target, ...]:
    """The targets of ``route`` for a ``kind`` notification at escalation ``level``."""
    if kind == "alert.created":
        return tuple(t for t in route.targets if t.level == 0)
    if kind != "alert.escalated" or level < 1:
        return ()
    reachable = [t.level for t in route.targets if 1 <= t.level <= level]
    if not reachable:
        return ()
    chosen = max(reachable)
    return tuple(t for t in route.targets if t.level == chosen)


def select(
    alert: AlertFacts | Alert | Mapping[str, object],
    kind: str,
    level: int,
    routes: Iterable[Route],
    *,
    now: datetime,
    tz_of: Callable[[str], str],
) -> list[tuple[Route, Target]]:
    """The ``(route, target)`` pairs an alert's ``kind`` notification goes to, in route order.

    Args:
        alert: The alert (its facts, or its ``to_dict`` form).
        kind: ``alert.created`` or ``alert.escalated`` (anything else: none).
        level: The escalation level (the alert's ``escalation_level``).
        routes: The stored routes.
        now: When the notification goes out (schedules and quiet hours).
        tz_of: The time zone of a camera (its own, else the site's).

    Raises:
        ValidationError: ``alert`` is a mapping that is not an alert's form.
    """
    facts = facts_of(alert)
    chosen: list[tuple[Route, Target]] = []
    for route in routes:
        targets = levels_for(route, kind, level)
        if targets and skip_reason(route, facts, now, tz_of) is None:
            chosen.extend((route, target) for target in targets)
    return chosen


def resolve_recipients(
    target: Target, default: Iterable[str], groups: Mapping[str, Iterable[str]]
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """A target's addresses: its ``to`` (``group:<name>`` expanded), else ``default``.

    Returns:
        The addresses (deduplicated, in order) and the names of unknown groups.
    """
    wanted = target.to if target.to else tuple(default)
    addresses: list[str] = []
    missing: list[str] = []
    for item in wanted:
        if item.startswith(GROUP_PREFIX):
            name = item[len(GROUP_PREFIX) :]
            if name in groups:
                addresses.extend(groups[name])
            else:
                missing.append(name)
        else:
            addresses.append(item)
    return tuple(dict.fromkeys(addresses)), tuple(missing)

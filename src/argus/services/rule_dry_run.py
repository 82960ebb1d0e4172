"""Trying a rule before it is saved: a dry run over stored events, and a severity preview.

``RuleTrial.dry_run`` replays the stored events of the last hours through a
fresh ``RuleEngine`` holding only the draft rule, oldest first, so its count
window, cooldown and schedule act exactly as they would have live (the engine
judges by the events' own timestamps). Each firing is scored with the risk
policy in force now: the zone's criticality as stored, and as repeats the
draft's own earlier firings on that camera within the policy's repeat window
(the alert store knows nothing of a rule that was never saved). At most
``MAX_SCAN`` events are replayed: with more in the period, the newest are, and
the answer says so.

``RuleTrial.preview`` answers what severity the draft's alerts get under the
current policy by day and at night, for a first alert and one that repeats,
so the editor shows the effect of zone criticality, time of day and repeats
instead of a rule of thumb about the weight.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from argus.domain.actor import Actor
from argus.domain.alerts import Risk, RiskContext, RiskPolicy, assess_risk
from argus.domain.cameras import utc_now
from argus.domain.errors import ValidationError
from argus.domain.events import Envelope
from argus.domain.rules import Rule, RuleEngine
from argus.ports.paging import MAX_PAGE, all_pages
from argus.ports.repositories import Database, EventFilter
from argus.services.alert_rules import NewRule
from argus.services.risk_policy import RiskPolicyService, score_hypothetical, zone_criticality
from argus.services.rule_scene import scene_names
from argus.services.writes import require_camera, set_fields

__all__ = [
    "MAX_HOURS",
    "MAX_SCAN",
    "MAX_SHOWN",
    "DryRun",
    "Firing",
    "RuleTrial",
    "Scenario",
    "SeverityPreview",
]

MAX_HOURS = 24.0
"""Longest period a dry run replays."""
MAX_SCAN = 20_000
"""Most events a dry run replays (the newest of the period)."""
MAX_SHOWN = 200
"""Most firings a dry run lists (the newest; the total is counted in full)."""
DRAFT_ID = "draft"


@dataclass(frozen=True, slots=True)
class Firing:
    """An event the draft rule would have fired on, with the risk its alert would get.

    Attributes:
        envelope: The event.
        window_count: Matching events in the rule's window (1 without a window).
        risk: The explained risk under the current policy.
    """

    envelope: Envelope
    window_count: int
    risk: Risk


@dataclass(frozen=True, slots=True)
class DryRun:
    """What a rule would have done over a past period.

    Attributes:
        since: Start of the period replayed (UTC).
        until: Its end (now).
        scanned: Events replayed.
        matched: Of those, events that met the rule's conditions.
        outside_schedule: Matching events outside the rule's schedule.
        held_back: Matching events in schedule that the count window or the
            cooldown held back.
        fired_total: Alerts the rule would have raised.
        fired: The newest ``MAX_SHOWN`` of them, newest first.
        by_severity: Alerts it would have raised per severity (all of them).
        truncated: The period held more than ``MAX_SCAN`` events; only the
            newest were replayed (``since`` is then the oldest one's time).
    """

    since: datetime
    until: datetime
    scanned: int
    matched: int
    outside_schedule: int
    held_back: int
    fired_total: int
    fired: tuple[Firing, ...]
    truncated: bool
    by_severity: dict[str, int]


@dataclass(frozen=True, slots=True)
class Scenario:
    """The risk of the draft's alert in one situation.

    Attributes:
        night: Whether the event happens in the policy's night hours.
        repeating: Whether the rule already alerted ``repeat_full`` times on
            the camera within the repeat window (full repeat risk).
        local_time: The moment judged, in the camera's local time.
        risk: The explained risk.
    """

    night: bool
    repeating: bool
    local_time: datetime
    risk: Risk


@dataclass(frozen=True, slots=True)
class SeverityPreview:
    """The severities a draft rule's alerts get under the current policy.

    Attributes:
        camera_id: The camera judged (its zone, its time zone); ``None`` when
            no camera could be chosen (the site's time zone then).
        timezone: The zone local time was judged in.
        zone_criticality: Criticality of the rule's zone on that camera, if any.
        confidence: The detection confidence assumed.
        scenarios: Day and night (when the policy has night hours), each first
            and repeating.
    """

    camera_id: str | None
    timezone: str
    zone_criticality: float | None
    confidence: float
    scenarios: tuple[Scenario, ...]


def draft_rule(command: NewRule, now: datetime) -> Rule:
    """The command as an enabled rule (a dry run shows what it would do switched on)."""
    fields = {**set_fields(command), "enabled": True}
    return Rule(id=DRAFT_ID, created_at=now, updated_at=now, **fields)


class RuleTrial:
    """Dry runs and severity previews of draft rules; reads only, writes nothing.

    Args:
        database: The store (events, cameras, zones).
        policies: The risk policy in force (``RiskPolicyService.get``).
        clock: Current UTC time.
    """

    def __init__(
        self,
        database: Database,
        policies: RiskPolicyService,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._db = database
        self._policies = policies
        self._clock = clock

    async def dry_run(self, actor: Actor, command: NewRule, hours: float = 1.0) -> DryRun:
        """Replay the last ``hours`` of stored events through the draft rule.

        Raises:
            PermissionDeniedError: The rule's camera (or every camera) is outside the scope.
            ValidationError: A draft that breaks a rule's invariants, or ``hours``
                outside (0, ``MAX_HOURS``].
        """
        require_camera(actor, command.camera_id)
        if not 0 < hours <= MAX_HOURS:
            raise ValidationError(f"hours must be in (0, {MAX_HOURS:g}]")
        until = self._clock()
        since = until - timedelta(hours=hours)
        rule = draft_rule(command, until)
        events, truncated = await self._events(rule, since, until)
        policy = await self._policies.get()
        engine = RuleEngine([rule])
        criticality: dict[str, dict[str, float]] = {}
        fired: list[Firing] = []
        # Per camera, the times of the draft's firings still in the repeat window
        # (events come oldest first): counting them stays linear in the firings.
        repeats: dict[str, deque[datetime]] = {}
        matched = outside = held = 0
        for envelope in events:
            if not rule.matches(envelope):
                continue
            matched += 1
            if rule.schedule is not None and not rule.schedule.active(envelope.timestamp):
                outside += 1
                continue
            matches = engine.evaluate(envelope)
            if not matches:
                held += 1
                continue
            camera_id = envelope.source.camera_id
            zone = envelope.payload.get("zone")
            zones = criticality.get(camera_id)
            if zones is None:
                zones = criticality[camera_id] = await zone_criticality(self._db, camera_id)
            horizon = envelope.timestamp - policy.repeat_window
            times = repeats.setdefault(camera_id, deque())
            while times and times[0] <= horizon:
                times.popleft()
            context = RiskContext(zones.get(str(zone)) if zone is not None else None, len(times))
            times.append(envelope.timestamp)
            match = matches[0]
            risk = assess_risk(match, context, policy)
            fired.append(Firing(envelope, match.window_count, risk))
        start = events[0].timestamp if truncated and events else since
        return DryRun(
            since=start,
            until=until,
            scanned=len(events),
            matched=matched,
            outside_schedule=outside,
            held_back=held,
            fired_total=len(fired),
            fired=tuple(reversed(fired[-MAX_SHOWN:])),
            truncated=truncated,
            by_severity={
                severity: sum(1 for f in fired if f.risk.severity == severity)
                for severity in ("low", "medium", "high")
            },
        )

    async def _events(
        self, rule: Rule, since: datetime, until: datetime
    ) -> tuple[list[Envelope], bool]:
        """The period's events the rule could match, oldest first; whether some were left out."""
        where = EventFilter(
            camera_id=rule.camera_id,
            types=rule.event_types or None,
            class_name=rule.classes[0] if len(rule.classes) == 1 else None,
            since=since,
            until=until,
        )
        newest_first: list[Envelope] = []
        cursor: str | None = None
        while len(newest_first) < MAX_SCAN:
            limit = min(MAX_PAGE, MAX_SCAN - len(newest_first))
            page = await self._db.events.query(where, limit=limit, cursor=cursor)
            newest_first += page.items
            cursor = page.next_cursor
            if cursor is None or not page.items:
                return sorted(newest_first, key=_order), False
        return sorted(newest_first, key=_order), cursor is not None

    async def preview(
        self,
        actor: Actor,
        command: NewRule,
        *,
        camera_id: str | None = None,
        confidence: float = 0.8,
    ) -> SeverityPreview:
        """The severity of the draft's alerts by day and night, first and repeating.

        The camera judged is the rule's, else ``camera_id``, else the first
        registered camera that has the rule's zone (or line), else the first
        camera. Dwell is the rule's minimum dwell, when it sets one.

        Raises:
            PermissionDeniedError: The rule's camera is outside the actor's scope.
            ValidationError: A draft that breaks a rule's invariants, or a
                confidence outside [0, 1].
        """
        require_camera(actor, command.camera_id)
        if not 0 <= confidence <= 1:
            raise ValidationError("confidence must be in [0, 1]")
        now = self._clock()
        rule = draft_rule(command, now)
        camera = rule.camera_id or camera_id or await self._camera_for(rule)
        if camera is not None and rule.camera_id is None:
            require_camera(actor, camera)
        policy = await self._policies.get()
        criticality = None
        if rule.zone is not None and camera is not None:
            criticality = (await zone_criticality(self._db, camera)).get(rule.zone)
        payload: dict[str, object] = {"confidence": confidence}
        for key, value in (("line", rule.line), ("zone", rule.zone)):
            if value is not None:
                payload[key] = value
        if rule.min_dwell_seconds is not None:
            payload["dwell_seconds"] = rule.min_dwell_seconds
        scenarios: list[Scenario] = []
        for night in (False, True):
            moment = _moment(policy, camera, now, night=night)
            if moment is None:
                continue
            for repeating in (False, True):
                recent = policy.repeat_full if repeating else 0
                context = RiskContext(criticality, recent)
                risk = score_hypothetical(
                    rule,
                    camera or "preview",
                    moment,
                    payload,
                    context=context,
                    policy=policy,
                    window_count=rule.count or 1,
                )
                local = policy.local_time(moment, camera)
                scenarios.append(Scenario(night, repeating, local, risk))
        return SeverityPreview(
            camera_id=camera,
            timezone=policy.zone_of(camera),
            zone_criticality=criticality,
            confidence=confidence,
            scenarios=tuple(scenarios),
        )

    async def _camera_for(self, rule: Rule) -> str | None:
        cameras = await all_pages(lambda skip: self._db.cameras.list(limit=MAX_PAGE, offset=skip))
        for camera in cameras:
            lines, zones = await scene_names(self._db, camera.id)
            if (rule.line is None or rule.line in lines) and (
                rule.zone is None or rule.zone in zones
            ):
                return camera.id
        return cameras[0].id if cameras else None


def _order(envelope: Envelope) -> tuple[datetime, str]:
    return envelope.timestamp, envelope.event_id


def _moment(
    policy: RiskPolicy, camera: str | None, now: datetime, *, night: bool
) -> datetime | None:
    """A moment today (the camera's local date) in the day or the night hours; ``None`` if none."""
    zone = ZoneInfo(policy.zone_of(camera))
    today = now.astimezone(zone).date()
    # Midday first for the day, the night's first hour first for the night.
    start = policy.night_start if night else 12
    for offset in range(24):
        hour = (start + offset) % 24
        moment = datetime.combine(today, time(hour, 30), tzinfo=zone)
        if policy.is_night(moment, camera) == night:
            return moment.astimezone(UTC)
    return None

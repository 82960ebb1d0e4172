"""Alerting as a use case: rules → risk-scored alerts → the operator lifecycle → incidents.

``AlertService`` is what entry points call (one method per request): alert
queries and transitions (acknowledge, confirm, dismiss), and the two
background steps ``on_event`` (evaluate an event against the rules and raise
alerts) and ``escalate_due`` (escalate alerts whose acknowledgement deadline
passed). Its ``rules`` (``alert_rules.RuleService``) and ``incidents``
(``incidents.IncidentService``) are the write boundaries of rules and
incidents. ``alerting.AlertWorker`` runs the two background steps: a durable
bus consumer on the event subject and a timer.

The operator's steps on one alert live in ``alert_steps.AlertSteps`` (mixed
in); on a group of alerts in ``alerts.groups`` (``alert_groups.AlertGroups``);
snoozes and maintenance windows in ``alerts.suppression``
(``suppression.SuppressionService``).

Alert storms: a raised alert is stored in one unit of work with its alert
group (``AlertGroups.place``). An alert that repeats a group already notified
at its severity (``repeat``), or one raised while a snooze or a maintenance
window applies (``suppressed``), is stored and announced like any other but
gets no acknowledgement deadline: it never escalates, and the notifier skips
it. A repeat more severe than its group so far is a first alert again.

Every alert change is stored first, then published on ``ALERTS_SUBJECT`` as an
envelope (``alert.created`` once it is ``notified``, ``alert.updated``,
``alert.escalated``) whose payload is ``Alert.to_dict()``, and every group
change as ``alert_group.updated`` (``AlertGroup.to_dict()``); every server's
WebSocket hub fans them out to its clients. A failed publish is logged and
the stored change stands: clients catch up from the REST API.

Exactly-once alerting over an at-least-once bus: an alert is unique per rule
and event in the store, so a redelivered event raises nothing new.

A storage outage loses no alert. The rule engine's windows and cooldowns
change when an event is evaluated, so an event is evaluated once: the
matches whose alerts are not stored yet are remembered per event id
(boundedly), and a retry or a redelivery of that event stores those same
matches instead of evaluating it again (which its own cooldown would
silence). Storing an alert is idempotent by rule and event: one stored but
not yet notified (the write after it failed) is completed, not raised twice.
``AlertWorker`` retries an event the store refused with backoff, a bounded
number of times, then leaves it unacknowledged for the bus to deliver again;
its ``check`` reports the outage until an alert is stored.
Acknowledgement deadlines are stored with the alert, so escalation timers
survive a restart; optimistic versions stop two servers escalating one alert
twice.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from argus.domain.alerts import (
    Alert,
    EscalationPolicy,
    Incident,
    RiskContext,
    RiskPolicy,
    assess_risk,
    new_alert,
)
from argus.domain.alerts.groups import DEFAULT_GROUP_WINDOW, AlertGroup, subject_of
from argus.domain.cameras import new_id, utc_now
from argus.domain.errors import ConflictError
from argus.domain.events import Envelope, EventSource, new_event_id
from argus.domain.rules import Match
from argus.ports.repositories import Database
from argus.services.alert_clearing import clear_alerts
from argus.services.alert_groups import GROUP_UPDATED, AlertGroups
from argus.services.alert_overlay import AlertOverlays
from argus.services.alert_rules import RuleService
from argus.services.alert_steps import AlertSteps
from argus.services.incidents import IncidentService
from argus.services.risk_policy import zone_criticality
from argus.services.suppression import SuppressionService

__all__ = [
    "ALERTS_SUBJECT",
    "ALERT_DURABLE_NAME",
    "AlertPublisher",
    "AlertService",
]

log = logging.getLogger(__name__)

ALERTS_SUBJECT = "alerts"
"""Fan-out subject of alert changes."""

ALERT_DURABLE_NAME = "argus-alerting"
"""Durable consumer of the event subject shared by every server (they split the work)."""

AlertPublisher = Callable[[str, Envelope], Awaitable[None]]
"""Publishes an envelope on a subject (``EventBus.publish``)."""

RiskSource = Callable[[], Awaitable[RiskPolicy]]
"""The risk policy in force now (``RiskPolicyService``), read for every raised alert."""

GROUP_CONFLICT_TRIES = 5
"""Tries to store an alert whose group another server changed meanwhile."""

UNFINISHED_EVENTS = 10_000
"""Most events whose matched alerts are remembered while the store refuses them."""


@dataclass(slots=True)
class _ZoneCache:
    loaded_at: float
    criticality: dict[str, float] = field(default_factory=dict)


class _AlreadyStoredError(Exception):
    """The rule alerted on the event meanwhile: the unit storing it again rolls back."""


class AlertService(AlertSteps):
    """Rules, alerts, alert groups and incidents over one store.

    Args:
        database: The store.
        publish: Publishes alert changes (``bus.publish``).
        node_id: This server's id, the ``edge_node_id`` of published envelopes.
        escalation: Acknowledgement deadlines and repeats.
        risk: Risk weights, when ``risk_source`` is not given.
        risk_source: Reads the risk policy in force for every raised alert
            (``RiskPolicyService.get``, which caches it); ``None`` uses ``risk``.
        clock: The current UTC time (tests pass a fake clock).
        rules_refresh_seconds: How stale the cached rule set (and the active
            snoozes and maintenance windows) may get before ``on_event``
            reloads it (changed on another server).
        group_window: How long after a group's last alert a matching alert joins it.
        on_confirmed: Runs once a confirmation committed (attaches the alert's evidence).
    """

    def __init__(
        self,
        database: Database,
        publish: AlertPublisher,
        *,
        node_id: str = "argus",
        escalation: EscalationPolicy | None = None,
        risk: RiskPolicy | None = None,
        risk_source: RiskSource | None = None,
        clock: Callable[[], datetime] = utc_now,
        rules_refresh_seconds: float = 2.0,
        group_window: timedelta = DEFAULT_GROUP_WINDOW,
        on_confirmed: Callable[[Alert, Incident], Awaitable[Incident]] | None = None,
    ) -> None:
        self._db = database
        self.on_confirmed = on_confirmed
        self._publish = publish
        self._node_id = node_id
        self.escalation = escalation if escalation is not None else EscalationPolicy()
        self.risk = risk if risk is not None else RiskPolicy()
        self._risk_source = risk_source
        self._clock = clock
        self._refresh_seconds = rules_refresh_seconds
        self.rules = RuleService(database, clock, rules_refresh_seconds)
        """Stored rules and the engine ``on_event`` evaluates them with."""
        self.incidents = IncidentService(database, clock)
        """Incidents (confirming an alert opens one here too)."""
        self.groups = AlertGroups(
            database, self._announce, self._announce_group, clock=clock, window=group_window
        )
        """Alert groups: grouping raised alerts, and the operator's group steps."""
        self.suppression = SuppressionService(database, clock, rules_refresh_seconds)
        """Snoozes and maintenance windows."""
        self.overlays = AlertOverlays(database, clock)
        """What to draw over an alert's snapshot and clip (box, path, line or zone)."""
        self._zones: dict[str, _ZoneCache] = {}
        self.publish_failures = 0
        """Alert changes that were stored but could not be published."""
        self._unfinished: OrderedDict[str, tuple[Match, ...]] = OrderedDict()

    # --- raising alerts ---------------------------------------------------------------------

    async def on_event(self, envelope: Envelope) -> list[Alert]:
        """Evaluate one event against the rules and raise (store, publish) its alerts.

        An event whose alerts the store refused before is not evaluated again:
        the matches remembered then are stored now (see the module docstring).

        Returns:
            The alerts raised now; none for an event already alerted on.

        Raises:
            StorageError: The store refused an alert; calling again with the
                same event stores the rest and raises nothing twice.
        """
        matches = self._unfinished.pop(envelope.event_id, None)
        if matches is None:
            matches = await self.rules.evaluate(envelope)
        raised: list[Alert] = []
        for done, match in enumerate(matches):
            try:
                alert = await self._raise_once(match)
            except BaseException:  # remember what is left, whatever stopped us, and re-raise
                self._remember(envelope.event_id, matches[done:])
                raise
            if alert is not None:
                raised.append(alert)
        return raised

    def _remember(self, event_id: str, matches: tuple[Match, ...]) -> None:
        self._unfinished[event_id] = matches
        self._unfinished.move_to_end(event_id)
        while len(self._unfinished) > UNFINISHED_EVENTS:
            forgotten, _ = self._unfinished.popitem(last=False)
            log.warning("forgetting the unstored matches of event %s (too many)", forgotten)

    @property
    def unfinished(self) -> int:
        """Events whose matched alerts the store has not taken yet."""
        return len(self._unfinished)

    async def _raise_once(self, match: Match) -> Alert | None:
        """Raise the match's alert unless its rule already alerted on its event."""
        stored = await self._db.alerts.find(match.rule.id, match.envelope.event_id)
        if stored is None:
            return await self._raise(match)
        # A redelivery or a retry: finish an alert stored before a later write failed.
        return await self._notify(stored) if stored.state == "new" else None

    async def _raise(self, match: Match) -> Alert | None:
        now = self._clock()
        envelope = match.envelope
        camera_id = envelope.source.camera_id
        zone = envelope.payload.get("zone")
        criticality = await self._zone_criticality(camera_id, zone) if zone else None
        policy = await self._risk_source() if self._risk_source is not None else self.risk
        recent = await self._db.alerts.count_since(
            match.rule.id, camera_id, now - policy.repeat_window
        )
        risk = assess_risk(match, RiskContext(criticality, recent), policy)
        alert = new_alert(new_id(), match, risk, now)
        suppressed = await self.suppression.reason(alert.rule_id, alert.rule_name, camera_id, now)
        alert = dataclasses.replace(alert, suppressed=suppressed)
        subject = subject_of(envelope.payload)
        for attempt in range(GROUP_CONFLICT_TRIES):
            try:
                stored, group = await self._store_grouped(alert, subject, now)
                break
            except _AlreadyStoredError:
                # Stored meanwhile (another server, or a write whose answer was lost).
                found = await self._db.alerts.find(match.rule.id, envelope.event_id)
                return await self._notify(found) if found and found.state == "new" else None
            except ConflictError:  # the group changed meanwhile: place the alert again
                if attempt == GROUP_CONFLICT_TRIES - 1:
                    raise
        notified = await self._notify(stored)
        await self._announce_group(group)
        return notified

    async def _store_grouped(
        self, alert: Alert, subject: str, now: datetime
    ) -> tuple[Alert, AlertGroup]:
        """Store the alert and its group in one unit (``_AlreadyStoredError`` if a duplicate)."""
        async with self._db.unit_of_work() as unit:
            placed, group, created = await self.groups.place(unit, alert, subject)
            waits = not placed.repeat and placed.suppressed is None
            deadline = self.escalation.deadline(placed, now) if waits else None
            placed = dataclasses.replace(placed, ack_deadline=deadline)
            if not await unit.alerts.add(placed):
                raise _AlreadyStoredError
            await self.groups.store(unit, group, created=created)
        return placed, group

    async def _notify(self, alert: Alert) -> Alert | None:
        """Move a stored new alert to notified and announce it (``None`` if it moved on)."""
        # Notified before it is announced, so an operator who sees it can acknowledge it.
        notified = alert.transition("notified", self._clock(), "system")
        try:
            await self._db.alerts.update(notified)
        except ConflictError:
            return None  # escalated or notified by another server meanwhile
        await self._announce("alert.created", notified)
        return notified

    async def _zone_criticality(self, camera_id: str, zone: object) -> float | None:
        cache = self._zones.get(camera_id)
        if cache is None or time.monotonic() - cache.loaded_at > self._refresh_seconds:
            criticality = await zone_criticality(self._db, camera_id)
            cache = _ZoneCache(time.monotonic(), criticality)
            self._zones[camera_id] = cache
        return cache.criticality.get(str(zone))

    async def _announce(self, kind: str, alert: Alert) -> None:
        envelope = Envelope(
            event_id=new_event_id(),
            type=kind,
            timestamp=alert.updated_at,
            source=EventSource(self._node_id, alert.camera_id),
            payload=alert.to_dict(),
        )
        try:
            await self._publish(ALERTS_SUBJECT, envelope)
        except Exception:  # the change is stored; live clients catch up over REST
            self.publish_failures += 1
            log.exception("could not publish %s for alert %s", kind, alert.id)

    async def _announce_group(self, group: AlertGroup) -> None:
        envelope = Envelope(
            event_id=new_event_id(),
            type=GROUP_UPDATED,
            timestamp=self._clock(),
            source=EventSource(self._node_id, group.camera_id),
            payload=group.to_dict(),
        )
        try:
            await self._publish(ALERTS_SUBJECT, envelope)
        except Exception:  # the change is stored; live clients catch up over REST
            self.publish_failures += 1
            log.exception("could not publish %s for group %s", GROUP_UPDATED, group.id)

    async def clear_by(self, envelope: Envelope) -> list[Alert]:
        """Clear (store, audit, announce) the alerts a clearing event ends (``alert_clearing``)."""
        cleared = await clear_alerts(self._db, envelope, self._clock())
        for alert in cleared:
            await self._announce("alert.updated", alert)
        await self.groups.refresh(alert.group_id for alert in cleared)
        return cleared

    # --- escalation ------------------------------------------------------------------------

    async def escalate_due(self, *, limit: int = 100) -> list[Alert]:
        """Escalate every alert whose acknowledgement deadline has passed.

        An alert another server escalated first (a version conflict) is skipped.
        """
        now = self._clock()
        escalated: list[Alert] = []
        for alert in await self._db.alerts.due(now, limit=limit):
            try:
                step = self.escalation.escalate(alert, now)
                await self._db.alerts.update(step)
            except ConflictError:
                continue
            escalated.append(step)
            await self._announce("alert.escalated", step)
        return escalated

"""Alerting as a use case: rules → risk-scored alerts → the operator lifecycle → incidents.

``AlertService`` is what entry points call (one method per request): alert
queries and transitions (acknowledge, confirm, dismiss), and the two
background steps ``on_event`` (evaluate an event against the rules and raise
alerts) and ``escalate_due`` (escalate alerts whose acknowledgement deadline
passed). Its ``rules`` (``alert_rules.RuleService``) and ``incidents``
(``incidents.IncidentService``) are the write boundaries of rules and
incidents. ``alerting.AlertWorker`` runs the two background steps: a durable
bus consumer on the event subject and a timer.

An operator's step takes the acting ``Actor``: the alert must be in its camera
scope (another answers as an unknown id), and the change and its audit record
commit in one unit of work; confirming commits the new incident with them.

Every alert change is stored first, then published on ``ALERTS_SUBJECT`` as an
envelope (``alert.created`` once it is ``notified``, ``alert.updated``,
``alert.escalated``) whose
payload is ``Alert.to_dict()``; every server's WebSocket hub fans it out to its
clients. A failed publish is logged and the stored change stands: clients
catch up from the REST API.

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
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from argus.domain.actor import Actor
from argus.domain.alerts import (
    Alert,
    AlertState,
    EscalationPolicy,
    Incident,
    RiskContext,
    RiskPolicy,
    assess_risk,
    new_alert,
)
from argus.domain.cameras import new_id, utc_now
from argus.domain.errors import ConflictError, NotFoundError
from argus.domain.events import Envelope, EventSource, new_event_id
from argus.domain.rules import Match, Rule
from argus.ports.alerts import AlertFilter
from argus.ports.paging import MAX_PAGE, Page, all_pages
from argus.ports.repositories import Database
from argus.services.alert_clearing import clear_alerts
from argus.services.alert_rules import RuleService
from argus.services.incidents import IncidentService
from argus.services.writes import record, require_visible

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

UNFINISHED_EVENTS = 10_000
"""Most events whose matched alerts are remembered while the store refuses them."""


@dataclass(slots=True)
class _ZoneCache:
    loaded_at: float
    criticality: dict[str, float] = field(default_factory=dict)


class AlertService:
    """Rules, alerts and incidents over one store.

    Args:
        database: The store.
        publish: Publishes alert changes (``bus.publish``).
        node_id: This server's id, the ``edge_node_id`` of published envelopes.
        escalation: Acknowledgement deadlines and repeats.
        risk: Risk weights.
        clock: The current UTC time (tests pass a fake clock).
        rules_refresh_seconds: How stale the cached rule set may get before
            ``on_event`` reloads it (rules changed on another server).
    """

    def __init__(
        self,
        database: Database,
        publish: AlertPublisher,
        *,
        node_id: str = "argus",
        escalation: EscalationPolicy | None = None,
        risk: RiskPolicy | None = None,
        clock: Callable[[], datetime] = utc_now,
        rules_refresh_seconds: float = 2.0,
    ) -> None:
        self._db = database
        self._publish = publish
        self._node_id = node_id
        self.escalation = escalation if escalation is not None else EscalationPolicy()
        self.risk = risk if risk is not None else RiskPolicy()
        self._clock = clock
        self._refresh_seconds = rules_refresh_seconds
        self.rules = RuleService(database, clock, rules_refresh_seconds)
        """Stored rules and the engine ``on_event`` evaluates them with."""
        self.incidents = IncidentService(database, clock)
        """Incidents (confirming an alert opens one here too)."""
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
        recent = await self._db.alerts.count_since(
            match.rule.id, camera_id, now - self.risk.repeat_window
        )
        risk = assess_risk(match, RiskContext(criticality, recent), self.risk)
        alert = new_alert(new_id(), match, risk, now)
        alert = dataclasses.replace(alert, ack_deadline=self.escalation.deadline(alert, now))
        if not await self._db.alerts.add(alert):
            # Stored meanwhile (another server, or a write whose answer was lost).
            stored = await self._db.alerts.find(match.rule.id, envelope.event_id)
            return await self._notify(stored) if stored and stored.state == "new" else None
        return await self._notify(alert)

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
            zones = await all_pages(
                lambda skip: self._db.zones.list(camera_id, limit=MAX_PAGE, offset=skip)
            )
            cache = _ZoneCache(time.monotonic(), {z.name: z.criticality for z in zones})
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

    async def clear_by(self, envelope: Envelope) -> list[Alert]:
        """Clear (store, audit, announce) the alerts a clearing event ends (``alert_clearing``)."""
        cleared = await clear_alerts(self._db, envelope, self._clock())
        for alert in cleared:
            await self._announce("alert.updated", alert)
        return cleared

    # --- the lifecycle ----------------------------------------------------------------------

    async def get_alert(self, alert_id: str, actor: Actor | None = None) -> Alert:
        """An alert (``NotFoundError`` if unknown, or outside the scope of ``actor`` if given)."""
        alert = await self._db.alerts.get(alert_id)
        if actor is not None:
            require_visible(actor, alert.camera_id, f"alert {alert_id}")
        return alert

    async def list_alerts(
        self, where: AlertFilter | None = None, *, limit: int = 100, offset: int = 0
    ) -> Page[Alert]:
        """Alerts, newest first."""
        return await self._db.alerts.list(where, limit=limit, offset=offset)

    async def list_feedback(
        self, *, limit: int = 100, offset: int = 0, camera_ids: tuple[str, ...] | None = None
    ) -> Page[tuple[Alert, Rule | None]]:
        """Alerts dismissed as false positives, newest first, each with its rule.

        The rule is ``None`` when it was deleted since (the alert keeps its id and name).
        """
        page = await self._db.alerts.list(
            AlertFilter(states=("false_positive",), camera_ids=camera_ids),
            limit=limit,
            offset=offset,
        )
        rules: dict[str, Rule | None] = {}
        for rule_id in {alert.rule_id for alert in page.items}:  # a page names few rules
            try:
                rules[rule_id] = await self._db.rules.get(rule_id)
            except NotFoundError:
                rules[rule_id] = None
        items = tuple((alert, rules[alert.rule_id]) for alert in page.items)
        return Page(items, page.total, page.next_cursor)

    async def acknowledge(
        self, actor: Actor, alert_id: str, note: str = "", *, via: str | None = None
    ) -> Alert:
        """The actor takes the alert (audited ``alert.acknowledge``); its escalation stops.

        ``via`` names the channel in the audit record's details (``ws``) when
        it is not the REST API.

        Raises:
            NotFoundError: Unknown alert, or one outside the actor's scope.
            InvalidTransitionError: It is not waiting for acknowledgement.
            ConflictError: It changed concurrently (retry).
        """
        channel = {"via": via} if via is not None else {}
        return await self._step(
            actor, alert_id, "acknowledge", "acknowledged", note=note, details=channel
        )

    async def dismiss(self, actor: Actor, alert_id: str, note: str = "") -> Alert:
        """Close an acknowledged alert as a false positive (audited; kept as feedback).

        Raises:
            NotFoundError: Unknown alert, or one outside the actor's scope.
            InvalidTransitionError: The alert is not acknowledged.
        """
        return await self._step(actor, alert_id, "dismiss", "false_positive", note=note, details={})

    async def _step(
        self,
        actor: Actor,
        alert_id: str,
        verb: str,
        to: AlertState,
        *,
        note: str,
        details: Mapping[str, Any],
    ) -> Alert:
        async with self._db.unit_of_work() as unit:
            alert = await unit.alerts.get(alert_id)
            require_visible(actor, alert.camera_id, f"alert {alert_id}")
            extra = {"ack_deadline": None} if to == "acknowledged" else {}
            moved = alert.transition(to, self._clock(), actor.audit_name, note, **extra)
            await unit.alerts.update(moved)
            await record(unit.audit, actor, f"alert.{verb}", f"alert:{alert_id}", **details)
        await self._announce("alert.updated", moved)
        return moved

    async def confirm(
        self, actor: Actor, alert_id: str, note: str = "", *, title: str | None = None
    ) -> tuple[Alert, Incident]:
        """Confirm an acknowledged alert as real: it closes and opens an incident.

        The incident, the alert's change and the audit record (``alert.confirm``)
        commit in one unit of work: a conflict keeps none of them.

        Raises:
            NotFoundError: Unknown alert, or one outside the actor's scope.
            InvalidTransitionError: The alert is not acknowledged.
            ConflictError: It changed concurrently (nothing is kept).
        """
        who = actor.audit_name
        async with self._db.unit_of_work() as unit:
            alert = await unit.alerts.get(alert_id)
            require_visible(actor, alert.camera_id, f"alert {alert_id}")
            now = self._clock()
            alert.transition("confirmed", now, who, note)  # check before creating anything
            incident = Incident(
                id=new_id(),
                title=title or f"{alert.rule_name} on camera {alert.camera_id}",
                created_at=now,
                updated_at=now,
                camera_id=alert.camera_id,
                confirmed_by=who,
                description=note,
                alert_ids=(alert.id,),
                evidence=(f"event:{alert.event_id}",),
            )
            await unit.incidents.add(incident)
            confirmed = alert.transition("confirmed", now, who, note, incident_id=incident.id)
            await unit.alerts.update(confirmed)
            target = f"alert:{alert_id}"
            await record(unit.audit, actor, "alert.confirm", target, incident=incident.id)
        await self._announce("alert.updated", confirmed)
        return confirmed, incident

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

"""Alerting as a use case: rules → risk-scored alerts → the operator lifecycle → incidents.

``AlertService`` is what entry points call (one method per request): rule
CRUD, alert queries and transitions (acknowledge, confirm, dismiss), incident
CRUD, and the two background steps ``on_event`` (evaluate an event against the
rules and raise alerts) and ``escalate_due`` (escalate alerts whose
acknowledgement deadline passed). ``AlertWorker`` runs those two steps: a
durable bus consumer on the event subject and a timer.

Every alert change is stored first, then published on ``ALERTS_SUBJECT`` as an
envelope (``alert.created`` once it is ``notified``, ``alert.updated``,
``alert.escalated``) whose
payload is ``Alert.to_dict()``; every server's WebSocket hub fans it out to its
clients. A failed publish is logged and the stored change stands: clients
catch up from the REST API.

Exactly-once alerting over an at-least-once bus: an alert is unique per rule
and event in the store, so a redelivered event raises nothing new.
Acknowledgement deadlines are stored with the alert, so escalation timers
survive a restart; optimistic versions stop two servers escalating one alert
twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from argus.domain.alerts import (
    Alert,
    EscalationPolicy,
    Incident,
    IncidentNote,
    IncidentStatus,
    RiskContext,
    RiskPolicy,
    assess_risk,
    new_alert,
)
from argus.domain.cameras import new_id, utc_now
from argus.domain.errors import ConflictError, NotFoundError, ValidationError
from argus.domain.events import Envelope, EventSource, new_event_id
from argus.domain.rules import Match, Rule, RuleEngine, Schedule
from argus.ports.alerts import AlertFilter
from argus.ports.bus import EventBus, Subscription
from argus.ports.repositories import MAX_PAGE, Database, Page
from argus.services.consumers import ConsumerState, IdempotentConsumer, consume_resubscribing
from argus.services.paging import all_pages

__all__ = [
    "ALERTS_SUBJECT",
    "ALERT_DURABLE_NAME",
    "AlertPublisher",
    "AlertService",
    "AlertWorker",
]

log = logging.getLogger(__name__)

ALERTS_SUBJECT = "alerts"
"""Fan-out subject of alert changes."""

ALERT_DURABLE_NAME = "argus-alerting"
"""Durable consumer of the event subject shared by every server (they split the work)."""

AlertPublisher = Callable[[str, Envelope], Awaitable[None]]
"""Publishes an envelope on a subject (``EventBus.publish``)."""

_RULE_FIELDS = frozenset(f.name for f in dataclasses.fields(Rule)) - {
    "id",
    "created_at",
    "updated_at",
}
_INCIDENT_EDITABLE = frozenset({"title", "description", "camera_id", "evidence", "alert_ids"})


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
        self._engine = RuleEngine()
        self._rules_loaded_at: float | None = None
        self._zones: dict[str, _ZoneCache] = {}
        self.publish_failures = 0
        """Alert changes that were stored but could not be published."""

    # --- rules ------------------------------------------------------------------------------

    async def create_rule(self, fields: Mapping[str, Any]) -> Rule:
        """Store a new rule.

        Raises:
            ValidationError: Unknown fields, or values that break the rule's invariants.
        """
        now = self._clock()
        rule = Rule(id=new_id(), created_at=now, updated_at=now, **_rule_fields(fields))
        await self._db.rules.add(rule)
        await self.refresh_rules(force=True)
        return rule

    async def get_rule(self, rule_id: str) -> Rule:
        """A rule (``NotFoundError`` if unknown)."""
        return await self._db.rules.get(rule_id)

    async def list_rules(
        self,
        *,
        limit: int = 100,
        offset: int = 0,
        camera_id: str | None = None,
        enabled: bool | None = None,
    ) -> Page[Rule]:
        """Rules in creation order."""
        return await self._db.rules.list(
            limit=limit, offset=offset, camera_id=camera_id, enabled=enabled
        )

    async def update_rule(self, rule_id: str, changes: Mapping[str, Any]) -> Rule:
        """Change some fields of a rule (its count window and cooldowns restart)."""
        current = await self._db.rules.get(rule_id)
        values = {**current.to_dict(), **_rule_fields(changes)}
        values["updated_at"] = self._clock().isoformat()
        if "schedule" in changes:
            schedule = changes["schedule"]
            values["schedule"] = None if schedule is None else _schedule_dict(schedule)
        rule = Rule.from_dict(values)
        await self._db.rules.update(rule)
        await self.refresh_rules(force=True)
        return rule

    async def delete_rule(self, rule_id: str) -> None:
        """Delete a rule; the alerts it raised stay."""
        await self._db.rules.delete(rule_id)
        await self.refresh_rules(force=True)

    async def refresh_rules(self, *, force: bool = False) -> None:
        """Reload the enabled rules into the engine when stale (or ``force``)."""
        loaded = self._rules_loaded_at
        if not force and loaded is not None and time.monotonic() - loaded < self._refresh_seconds:
            return
        rules = await all_pages(
            lambda skip: self._db.rules.list(limit=MAX_PAGE, offset=skip, enabled=True)
        )
        self._engine.replace_rules(rules)
        self._rules_loaded_at = time.monotonic()

    # --- raising alerts ---------------------------------------------------------------------

    async def on_event(self, envelope: Envelope) -> list[Alert]:
        """Evaluate one event against the rules and raise (store, publish) its alerts.

        Returns:
            The alerts raised now; none for an event already alerted on.
        """
        await self.refresh_rules()
        raised: list[Alert] = []
        for match in self._engine.evaluate(envelope):
            if await self._db.alerts.find(match.rule.id, envelope.event_id) is not None:
                continue  # a redelivery: this rule already alerted on this event
            alert = await self._raise(match)
            if alert is not None:
                raised.append(alert)
        return raised

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
            return None
        # Notified before it is announced, so an operator who sees it can acknowledge it.
        notified = alert.transition("notified", self._clock(), "system")
        await self._db.alerts.update(notified)
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

    # --- the lifecycle ----------------------------------------------------------------------

    async def get_alert(self, alert_id: str) -> Alert:
        """An alert (``NotFoundError`` if unknown)."""
        return await self._db.alerts.get(alert_id)

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

    async def acknowledge(self, alert_id: str, actor: str, note: str = "") -> Alert:
        """An operator took the alert; its escalation timer stops.

        Raises:
            InvalidTransitionError: It is not waiting for acknowledgement.
            ConflictError: It changed concurrently (retry).
        """
        alert = await self._db.alerts.get(alert_id)
        acked = alert.transition("acknowledged", self._clock(), actor, note, ack_deadline=None)
        await self._db.alerts.update(acked)
        await self._announce("alert.updated", acked)
        return acked

    async def confirm(
        self, alert_id: str, actor: str, note: str = "", *, title: str | None = None
    ) -> tuple[Alert, Incident]:
        """Confirm an acknowledged alert as real: it closes and opens an incident.

        Raises:
            InvalidTransitionError: The alert is not acknowledged.
            ConflictError: It changed concurrently (nothing is kept).
        """
        alert = await self._db.alerts.get(alert_id)
        now = self._clock()
        alert.transition("confirmed", now, actor, note)  # check before creating anything
        incident = Incident(
            id=new_id(),
            title=title or f"{alert.rule_name} on camera {alert.camera_id}",
            created_at=now,
            updated_at=now,
            camera_id=alert.camera_id,
            confirmed_by=actor,
            description=note,
            alert_ids=(alert.id,),
            evidence=(f"event:{alert.event_id}",),
        )
        await self._db.incidents.add(incident)
        confirmed = alert.transition("confirmed", now, actor, note, incident_id=incident.id)
        try:
            await self._db.alerts.update(confirmed)
        except (ConflictError, NotFoundError):
            await self._db.incidents.delete(incident.id)
            raise
        await self._announce("alert.updated", confirmed)
        return confirmed, incident

    async def dismiss(self, alert_id: str, actor: str, note: str = "") -> Alert:
        """Close an acknowledged alert as a false positive (kept as feedback).

        Raises:
            InvalidTransitionError: The alert is not acknowledged.
        """
        alert = await self._db.alerts.get(alert_id)
        closed = alert.transition("false_positive", self._clock(), actor, note)
        await self._db.alerts.update(closed)
        await self._announce("alert.updated", closed)
        return closed

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

    # --- incidents --------------------------------------------------------------------------

    async def create_incident(self, fields: Mapping[str, Any], actor: str) -> Incident:
        """Open an incident by hand (confirmations open theirs through ``confirm``)."""
        now = self._clock()
        values = _incident_fields(fields)
        incident = Incident(
            id=new_id(), created_at=now, updated_at=now, confirmed_by=actor, **values
        )
        await self._check_alerts(incident.alert_ids)
        await self._db.incidents.add(incident)
        return incident

    async def get_incident(self, incident_id: str) -> Incident:
        """An incident (``NotFoundError`` if unknown)."""
        return await self._db.incidents.get(incident_id)

    async def list_incidents(
        self,
        *,
        limit: int = 100,
        offset: int = 0,
        status: IncidentStatus | None = None,
        camera_id: str | None = None,
        camera_ids: tuple[str, ...] | None = None,
    ) -> Page[Incident]:
        """Incidents, newest first; ``camera_ids`` limits them to those cameras."""
        return await self._db.incidents.list(
            limit=limit, offset=offset, status=status, camera_id=camera_id, camera_ids=camera_ids
        )

    async def update_incident(self, incident_id: str, changes: Mapping[str, Any]) -> Incident:
        """Change the title, description, camera, evidence or linked alerts."""
        current = await self._db.incidents.get(incident_id)
        values = _incident_fields(changes)
        incident = current.changed(self._clock(), **values)
        await self._check_alerts(incident.alert_ids)
        await self._db.incidents.update(incident)
        return incident

    async def set_incident_status(
        self, incident_id: str, status: IncidentStatus, actor: str, note: str = ""
    ) -> Incident:
        """Move an incident to ``status`` (``InvalidTransitionError`` if not allowed)."""
        current = await self._db.incidents.get(incident_id)
        incident = current.with_status(status, self._clock(), actor, note)
        await self._db.incidents.update(incident)
        return incident

    async def add_incident_note(self, incident_id: str, author: str, text: str) -> Incident:
        """Append an operator's note."""
        current = await self._db.incidents.get(incident_id)
        now = self._clock()
        incident = current.changed(now, notes=(*current.notes, IncidentNote(author, text, now)))
        await self._db.incidents.update(incident)
        return incident

    async def delete_incident(self, incident_id: str) -> None:
        """Delete an incident."""
        await self._db.incidents.delete(incident_id)

    async def _check_alerts(self, alert_ids: Sequence[str]) -> None:
        for alert_id in alert_ids:
            try:
                await self._db.alerts.get(alert_id)
            except NotFoundError as exc:
                raise ValidationError(f"alert_ids: no alert {alert_id!r}") from exc


def _incident_fields(fields: Mapping[str, Any]) -> dict[str, Any]:
    unknown = set(fields) - _INCIDENT_EDITABLE
    if unknown:
        raise ValidationError(f"unknown incident fields {sorted(unknown)}")
    return {k: tuple(v) if k in ("evidence", "alert_ids") else v for k, v in fields.items()}


def _rule_fields(fields: Mapping[str, Any]) -> dict[str, Any]:
    unknown = set(fields) - _RULE_FIELDS
    if unknown:
        raise ValidationError(f"unknown rule fields {sorted(unknown)}")
    values = dict(fields)
    for key in ("event_types", "classes"):
        if key in values and values[key] is not None:
            values[key] = tuple(values[key])
    if "schedule" in values and values["schedule"] is not None:
        values["schedule"] = Schedule.from_dict(_schedule_dict(values["schedule"]))
    return values


def _schedule_dict(value: object) -> Mapping[str, object]:
    if isinstance(value, Schedule):
        return value.to_dict()
    if isinstance(value, Mapping):
        return value
    raise ValidationError("schedule must be an object")


# --- the background worker ------------------------------------------------------------------


class AlertWorker:
    """Raises alerts from the event subject and escalates due alerts, in the background.

    Args:
        service: The alert service.
        bus: The event bus.
        subject: The subject pipelines publish events on.
        escalation_tick: Seconds between escalation sweeps.
        on_alert: Called with each raised alert (metrics: latency from the event).
    """

    def __init__(
        self,
        service: AlertService,
        bus: EventBus,
        subject: str,
        *,
        escalation_tick: float = 1.0,
        on_alert: Callable[[Alert], None] | None = None,
    ) -> None:
        self._service = service
        self._bus = bus
        self._subject = subject
        self._tick = escalation_tick
        self._on_alert = on_alert
        self._tasks: list[asyncio.Task[None]] = []
        self._consumer = IdempotentConsumer(self._raise_alerts)
        self.state = ConsumerState()

    def start(self) -> None:
        """Start both loops (once)."""
        if not self._tasks:
            self._tasks = [
                asyncio.create_task(self._consume_forever(), name="argus-alerting"),
                asyncio.create_task(self._escalate_forever(), name="argus-escalation"),
            ]

    async def _consume_forever(self) -> None:
        await consume_resubscribing(
            lambda: self._bus.subscribe(self._subject, durable=ALERT_DURABLE_NAME),
            self._consume,
            self.state,
            what="alerting consumer",
        )

    async def _consume(self, subscription: Subscription) -> None:
        # Replays the in-memory set misses are no-ops too: alerts are unique per rule and event.
        async for delivery in subscription:
            await self._consumer.process(delivery)

    async def _raise_alerts(self, envelope: Envelope) -> None:
        for alert in await self._service.on_event(envelope):
            if self._on_alert is not None:
                self._on_alert(alert)

    async def _escalate_forever(self) -> None:
        while True:
            try:
                await self._service.escalate_due()
            except asyncio.CancelledError:
                raise
            except Exception:  # top of a task loop: log and try again next tick
                log.exception("escalation sweep failed")
            await asyncio.sleep(self._tick)

    def check(self) -> tuple[bool, str]:
        """Whether alerting is consuming, and a one-line reason."""
        if not self._tasks:
            return False, "alerting not started"
        if any(task.done() for task in self._tasks):
            return False, f"alerting stopped: {self.state.last_error or 'finished'}"
        if not self.state.subscribed:
            return False, f"alerting not subscribed: {self.state.last_error or 'starting'}"
        return True, f"alerting on {self._subject!r}"

    async def stop(self) -> None:
        """Cancel both loops and wait for them."""
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

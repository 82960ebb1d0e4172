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

import asyncio
import contextlib
import dataclasses
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
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
from argus.domain.backoff import Backoff, BackoffPolicy
from argus.domain.cameras import new_id, utc_now
from argus.domain.errors import ConflictError, NotFoundError, StorageError, ValidationError
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
        self._engine = RuleEngine()
        self._rules_loaded_at: float | None = None
        self._zones: dict[str, _ZoneCache] = {}
        self.publish_failures = 0
        """Alert changes that were stored but could not be published."""
        self._unfinished: OrderedDict[str, tuple[Match, ...]] = OrderedDict()

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
            await self.refresh_rules()
            matches = tuple(self._engine.evaluate(envelope))
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

    async def create_incident(
        self, fields: Mapping[str, Any], actor: str, *, cameras: Collection[str] | None = None
    ) -> Incident:
        """Open an incident by hand (confirmations open theirs through ``confirm``).

        Args:
            fields: The incident's editable fields.
            actor: Who opens it.
            cameras: The caller's camera scope (``None``: every camera). A linked
                alert of another camera is refused exactly like an unknown id.

        Raises:
            ValidationError: A linked alert does not exist or is outside ``cameras``.
        """
        now = self._clock()
        values = _incident_fields(fields)
        incident = Incident(
            id=new_id(), created_at=now, updated_at=now, confirmed_by=actor, **values
        )
        await self._check_alerts(incident.alert_ids, cameras)
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

    async def update_incident(
        self,
        incident_id: str,
        changes: Mapping[str, Any],
        *,
        cameras: Collection[str] | None = None,
    ) -> Incident:
        """Change the title, description, camera, evidence or linked alerts.

        Args:
            incident_id: The incident.
            changes: The fields to change.
            cameras: The caller's camera scope (``None``: every camera). A newly
                linked alert of another camera is refused exactly like an unknown
                id; alerts linked before (by someone who sees them) may stay.

        Raises:
            NotFoundError: No such incident.
            ValidationError: A newly linked alert does not exist or is outside ``cameras``.
        """
        current = await self._db.incidents.get(incident_id)
        values = _incident_fields(changes)
        incident = current.changed(self._clock(), **values)
        linked_before = set(current.alert_ids)
        await self._check_alerts([a for a in incident.alert_ids if a not in linked_before], cameras)
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

    async def _check_alerts(
        self, alert_ids: Sequence[str], cameras: Collection[str] | None = None
    ) -> None:
        """Refuse unknown alerts, and alerts outside ``cameras`` with the very same error.

        A scoped caller must not learn from the answer whether another camera's
        alert id exists.
        """
        for alert_id in alert_ids:
            try:
                alert = await self._db.alerts.get(alert_id)
            except NotFoundError:
                alert = None
            if alert is None or (cameras is not None and alert.camera_id not in cameras):
                raise ValidationError(f"alert_ids: no alert {alert_id!r}")


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
        retry_attempts: Tries of an event whose alerts the store refuses before it
            is left unacknowledged for the bus to deliver again.
        retry_max_delay: Longest wait between two tries, in seconds.
    """

    def __init__(
        self,
        service: AlertService,
        bus: EventBus,
        subject: str,
        *,
        escalation_tick: float = 1.0,
        on_alert: Callable[[Alert], None] | None = None,
        retry_attempts: int = 30,
        retry_max_delay: float = 5.0,
    ) -> None:
        if retry_attempts < 1:
            raise ValidationError(f"retry_attempts must be at least 1, got {retry_attempts}")
        self._service = service
        self._bus = bus
        self._subject = subject
        self._tick = escalation_tick
        self._on_alert = on_alert
        self._tasks: list[asyncio.Task[None]] = []
        self._consumer = IdempotentConsumer(self._raise_alerts)
        self._attempts = retry_attempts
        self._retry = Backoff(
            BackoffPolicy(initial=min(0.2, retry_max_delay), max_delay=retry_max_delay)
        )
        self.state = ConsumerState()
        self.store_error: str | None = None
        """Why the store refused the latest alert; ``None`` once one is stored again."""

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
        alerts = await self._raise_retrying(envelope)
        for alert in alerts:
            if self._on_alert is not None:
                self._on_alert(alert)

    async def _raise_retrying(self, envelope: Envelope) -> list[Alert]:
        """``on_event``, tried again with backoff while the store refuses the alerts.

        Raises:
            StorageError: The store refused every try; the delivery stays
                unacknowledged and the service remembers the event's matches.
        """
        tries = 0
        while True:
            try:
                alerts = await self._service.on_event(envelope)
            except StorageError as exc:
                self.store_error = str(exc) or type(exc).__name__
                tries += 1
                if tries >= self._attempts:
                    raise
                delay = self._retry.next_delay()
                log.warning(
                    "storing the alerts of event %s failed (%s); retrying in %.2f s",
                    envelope.event_id,
                    self.store_error,
                    delay,
                )
                await asyncio.sleep(delay)
                continue
            self._retry.reset()
            self.store_error = None
            return alerts

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
        if self.store_error is not None:
            waiting = self._service.unfinished
            return False, (
                f"alerts cannot be stored ({self.store_error}); "
                f"{waiting} event(s) waiting, retrying"
            )
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

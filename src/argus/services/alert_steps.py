"""The operator's steps on one alert: queries, acknowledge, dismiss (and its undo), confirm.

``AlertSteps`` is the part of ``AlertService`` (``services.alerts``) that
entry points call for one alert. An operator's step takes the acting
``Actor``: the alert must be in its camera scope (another answers as an
unknown id), and the change, its group's open count and the audit record
commit in one unit of work; confirming commits the new incident with them.
The change is announced once the unit has committed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from typing import Any

from argus.domain.actor import Actor
from argus.domain.alerts import Alert, AlertState, Incident, InvalidTransitionError
from argus.domain.alerts.lifecycle import DISMISSAL_UNDO_WINDOW, dismissal_undo_until
from argus.domain.alerts.triage import AlertOrder
from argus.domain.cameras import new_id
from argus.domain.errors import NotFoundError
from argus.domain.rules import Rule
from argus.ports.alerts import AlertFilter, AlertSummary
from argus.ports.paging import Page
from argus.ports.repositories import Database
from argus.services.alert_groups import AlertGroups
from argus.services.writes import record, require_visible

__all__ = ["AlertSteps"]


class AlertSteps:
    """Queries and operator steps on single alerts (mixed into ``AlertService``)."""

    _db: Database
    _clock: Callable[[], datetime]
    groups: AlertGroups
    on_confirmed: Callable[[Alert, Incident], Awaitable[Incident]] | None
    """Runs once a confirmation committed (``IncidentEvidence.on_confirmed``); its incident."""

    async def _announce(self, kind: str, alert: Alert) -> None:
        raise NotImplementedError

    # --- the lifecycle ----------------------------------------------------------------------

    async def get_alert(self, alert_id: str, actor: Actor | None = None) -> Alert:
        """An alert (``NotFoundError`` if unknown, or outside the scope of ``actor`` if given)."""
        alert = await self._db.alerts.get(alert_id)
        if actor is not None:
            require_visible(actor, alert.camera_id, f"alert {alert_id}")
        return alert

    async def list_alerts(
        self,
        where: AlertFilter | None = None,
        *,
        limit: int = 100,
        offset: int = 0,
        cursor: str | None = None,
        order: AlertOrder = "newest",
    ) -> Page[Alert]:
        """Alerts, newest first or in triage order (``AlertRepository.list``)."""
        return await self._db.alerts.list(
            where, limit=limit, offset=offset, cursor=cursor, order=order
        )

    async def summarize_alerts(self, where: AlertFilter | None = None) -> AlertSummary:
        """How many alerts match, in all, per severity and per state."""
        return await self._db.alerts.summary(where)

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

    async def undo_dismissal(self, actor: Actor, alert_id: str, note: str = "") -> Alert:
        """Take a dismissal back: the alert is ``acknowledged`` again (``alert.undo_dismiss``).

        Allowed for ``DISMISSAL_UNDO_WINDOW`` after the dismissal, by any operator
        (a colleague may spot the mistake); later the feedback is final.

        Raises:
            NotFoundError: Unknown alert, or one outside the actor's scope.
            InvalidTransitionError: The alert is not dismissed, or the window has passed.
        """
        async with self._db.unit_of_work() as unit:
            alert = await unit.alerts.get(alert_id)
            require_visible(actor, alert.camera_id, f"alert {alert_id}")
            now = self._clock()
            until = dismissal_undo_until(alert.state, alert.history)
            if until is None:
                raise InvalidTransitionError(f"alert {alert_id} is not dismissed ({alert.state})")
            if now > until:
                raise InvalidTransitionError(
                    f"alert {alert_id} was dismissed more than "
                    f"{int(DISMISSAL_UNDO_WINDOW.total_seconds() // 60)} minutes ago: "
                    "the dismissal is final"
                )
            moved = alert.transition("acknowledged", now, actor.audit_name, note)
            await unit.alerts.update(moved)
            group = await self.groups.recount(unit, moved.group_id)
            await record(unit.audit, actor, "alert.undo_dismiss", f"alert:{alert_id}")
        await self._announce("alert.updated", moved)
        await self.groups.announce(group)
        return moved

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
            if alert.state == "false_positive":
                # Only ``undo_dismissal`` takes a dismissal back, and only within its window.
                raise InvalidTransitionError(
                    f"alert {alert_id} cannot go from false_positive to {to}"
                )
            extra = {"ack_deadline": None} if to == "acknowledged" else {}
            moved = alert.transition(to, self._clock(), actor.audit_name, note, **extra)
            await unit.alerts.update(moved)
            group = await self.groups.recount(unit, moved.group_id)
            await record(unit.audit, actor, f"alert.{verb}", f"alert:{alert_id}", **details)
        await self._announce("alert.updated", moved)
        await self.groups.announce(group)
        return moved

    async def _incident_title(self, alert: Alert) -> str:
        """The title of the incident that confirming ``alert`` opens: its rule and camera name."""
        try:
            where = (await self._db.cameras.get(alert.camera_id)).name
        except NotFoundError:  # the camera was removed meanwhile
            where = f"camera {alert.camera_id}"
        return f"{alert.rule_name} on {where}"

    async def confirm(
        self, actor: Actor, alert_id: str, note: str = "", *, title: str | None = None
    ) -> tuple[Alert, Incident]:
        """Confirm an acknowledged alert as real: it closes and opens an incident.

        The incident, the alert's change and the audit record (``alert.confirm``)
        commit in one unit of work: a conflict keeps none of them. Then
        ``on_confirmed`` attaches the alert's evidence to the incident.

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
                title=title or await self._incident_title(alert),
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
            group = await self.groups.recount(unit, confirmed.group_id)
            target = f"alert:{alert_id}"
            await record(unit.audit, actor, "alert.confirm", target, incident=incident.id)
        await self._announce("alert.updated", confirmed)
        await self.groups.announce(group)
        if self.on_confirmed is not None:
            incident = await self.on_confirmed(confirmed, incident)
        return confirmed, incident

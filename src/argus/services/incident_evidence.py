"""An incident opened by confirming an alert holds that alert's evidence, both ways.

Confirming an alert opens an incident (``AlertSteps.confirm``); then
``IncidentEvidence.on_confirmed`` attaches every evidence item of the alert
to it (each row's ``incident_id``, signed again: ``evidence_links``) and names
the items in ``Incident.evidence`` after its ``event:<id>``. Evidence stored
for the alert later (a clip still being written when the operator confirmed)
is attached as it is stored (``on_stored``, called by ``EvidenceService.store``).

Whichever runs second sees the other's write: the confirmation commits before
it lists the alert's evidence, and a store adds its row before it reads the
alert's incident, so an item stored during a confirmation is attached by one
of them (or both: attaching is idempotent). Linking runs after the
confirmation committed, as Argus (``system``); a failure is logged and
audited, and never undoes the confirmation or the store.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime

from argus.domain.actor import SYSTEM_ACTOR
from argus.domain.alerts import Alert, Incident
from argus.domain.errors import ArgusError, ConflictError, NotFoundError
from argus.domain.evidence import EvidenceItem
from argus.ports.repositories import Database
from argus.services.evidence import EvidenceService
from argus.services.writes import record

__all__ = ["IncidentEvidence"]

log = logging.getLogger(__name__)

_TRIES = 5
"""Tries to name items in an incident that another writer changed meanwhile."""


class IncidentEvidence:
    """Keeps a confirmed alert's evidence and its incident linked (see the module docstring).

    Args:
        database: The store (alerts and incidents).
        evidence: The evidence service (attaches items).
        clock: The current UTC time.
    """

    def __init__(
        self, database: Database, evidence: EvidenceService, clock: Callable[[], datetime]
    ) -> None:
        self._db = database
        self._evidence = evidence
        self._clock = clock

    async def on_confirmed(self, alert: Alert, incident: Incident) -> Incident:
        """Attach the alert's stored evidence to the incident its confirmation opened.

        Returns:
            The incident naming the attached items (as it was, if linking failed).
        """
        try:
            items, failed = await self._evidence.attach_alert(alert.id, incident.id)
            if failed:
                log.warning(
                    "evidence %s of alert %s failed its check and was not attached to incident %s",
                    ", ".join(failed),
                    alert.id,
                    incident.id,
                )
            return await self._name(incident.id, [item.id for item in items])
        except ArgusError:
            log.exception("attaching the evidence of alert %s to %s failed", alert.id, incident.id)
            return incident

    async def on_stored(self, item: EvidenceItem) -> EvidenceItem:
        """Attach a new item of an alert already confirmed to that alert's incident.

        Returns:
            The item as stored now (as it was, when there is nothing to attach or linking failed).
        """
        if item.alert_id is None or item.incident_id is not None:
            return item
        try:
            alert = await self._db.alerts.get(item.alert_id)
        except NotFoundError:
            return item  # evidence of an alert not stored here (or deleted meanwhile)
        if alert.incident_id is None:
            return item
        try:
            attached = await self._evidence.attach(item.id, alert.incident_id)
            await self._name(alert.incident_id, [attached.id])
        except ArgusError:
            log.exception("attaching evidence %s to %s failed", item.id, alert.incident_id)
            return item
        return attached

    async def _name(self, incident_id: str, evidence_ids: Sequence[str]) -> Incident:
        """Add ``evidence_ids`` to the incident's ``evidence`` (those it lacks), audited."""
        for attempt in range(_TRIES):
            try:
                async with self._db.unit_of_work() as unit:
                    current = await unit.incidents.get(incident_id)
                    new = [e for e in evidence_ids if e not in current.evidence]
                    if not new:
                        return current
                    incident = current.changed(self._clock(), evidence=(*current.evidence, *new))
                    await unit.incidents.update(incident)  # a conflict rolls the unit back
                    target = f"incident:{incident_id}"
                    await record(
                        unit.audit, SYSTEM_ACTOR, "incident.evidence", target, evidence=new
                    )
            except ConflictError:
                if attempt == _TRIES - 1:
                    raise
                continue
            return incident
        raise AssertionError("unreachable")  # pragma: no cover

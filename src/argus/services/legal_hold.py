"""Legal hold: an incident kept, with its alerts, their events and its evidence, past retention.

An admin puts an incident under hold with a reason (``Incident.legal_hold``)
and releases it later; both are audited (``incident.legal_hold``,
``incident.legal_hold_release``) in the unit of work that changes the
incident. A held incident cannot be deleted.

What the hold keeps:

* the incident itself and its alerts: the retention sweep passes their ids
  as ``keep`` to the store's deletes;
* the events those alerts were raised on: likewise;
* its evidence (items attached to the incident, to its alerts, or named in
  ``Incident.evidence``): locked under the actor ``legal-hold:<incident>``
  (``EvidenceService.lock``), so neither retention nor a deletion removes them.
  The sweep locks them again before it purges evidence, so an item captured
  after the hold, or unlocked by hand, is protected too. Releasing the hold
  unlocks the items it locked (those locked by a person stay locked).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from argus.domain.actor import SYSTEM_ACTOR, Actor
from argus.domain.alerts import Incident
from argus.domain.errors import ConflictError, NotFoundError, ValidationError
from argus.domain.evidence import EvidenceItem
from argus.ports.evidence import EvidenceFilter
from argus.ports.paging import MAX_PAGE, all_pages
from argus.ports.repositories import Database
from argus.services.evidence import EvidenceService
from argus.services.writes import record, require_visible

__all__ = ["HOLD_LOCKER", "HoldSet", "LegalHoldService", "held_incidents"]

HOLD_LOCKER = "legal-hold:"
"""The prefix of ``EvidenceItem.locked_by`` for items a hold locked (then the incident id)."""

_MAX_REASON = 1000


async def held_incidents(database: Database) -> list[Incident]:
    """Every incident under legal hold (incidents are read a page at a time)."""
    incidents = await all_pages(
        lambda offset: database.incidents.list(limit=MAX_PAGE, offset=offset)
    )
    return [incident for incident in incidents if incident.legal_hold is not None]


@dataclass(frozen=True, slots=True)
class HoldSet:
    """What legal holds keep, by id, at one moment.

    Attributes:
        incidents: Held incidents.
        alerts: Their alerts.
        events: The events of those alerts.
    """

    incidents: frozenset[str] = frozenset()
    alerts: frozenset[str] = frozenset()
    events: frozenset[str] = frozenset()


class LegalHoldService:
    """Sets and clears legal holds, and protects what they keep.

    Args:
        database: The store.
        evidence: The evidence service (locks and unlocks items).
        clock: The current time (UTC).
    """

    def __init__(
        self, database: Database, evidence: EvidenceService, clock: Callable[[], datetime]
    ) -> None:
        self._db = database
        self._evidence = evidence
        self._clock = clock

    async def hold(self, actor: Actor, incident_id: str, reason: str) -> Incident:
        """Put an incident under legal hold (or change the reason of its hold); audited.

        Returns:
            The held incident.

        Raises:
            NotFoundError: No such incident (or the actor may not see it).
            ValidationError: An empty or too long reason.
        """
        reason = reason.strip()
        if not 1 <= len(reason) <= _MAX_REASON:
            raise ValidationError(f"a legal hold needs a reason of 1 to {_MAX_REASON} characters")
        async with self._db.unit_of_work() as unit:
            current = await unit.incidents.get(incident_id)
            require_visible(actor, current.camera_id, f"incident {incident_id}")
            incident = current.changed(self._clock(), legal_hold=reason)
            await unit.incidents.update(incident)
            await record(
                unit.audit, actor, "incident.legal_hold", f"incident:{incident_id}", reason=reason
            )
        await self.protect(incident)
        return incident

    async def release(self, actor: Actor, incident_id: str) -> Incident:
        """Release an incident's legal hold and unlock the evidence it locked; audited.

        Raises:
            NotFoundError: No such incident (or the actor may not see it).
            ConflictError: The incident is not under legal hold.
        """
        async with self._db.unit_of_work() as unit:
            current = await unit.incidents.get(incident_id)
            require_visible(actor, current.camera_id, f"incident {incident_id}")
            if current.legal_hold is None:
                raise ConflictError(f"incident {incident_id} is not under legal hold")
            incident = current.changed(self._clock(), legal_hold=None)
            await unit.incidents.update(incident)
            await record(
                unit.audit,
                actor,
                "incident.legal_hold_release",
                f"incident:{incident_id}",
                reason=current.legal_hold,
            )
        locker = _locker(incident_id)
        for item in await self.evidence_of(incident):
            if item.locked and item.locked_by == locker:
                await self._evidence.unlock(item.id, actor=SYSTEM_ACTOR)
        return incident

    async def keep_set(self, held: list[Incident] | None = None) -> HoldSet:
        """The ids every current hold keeps (``held``: the held incidents, if already read)."""
        incidents = held if held is not None else await held_incidents(self._db)
        alert_ids = {alert_id for incident in incidents for alert_id in incident.alert_ids}
        events: set[str] = set()
        for alert_id in sorted(alert_ids):
            try:
                events.add((await self._db.alerts.get(alert_id)).event_id)
            except NotFoundError:
                continue  # a dangling link: nothing to keep
        return HoldSet(frozenset(i.id for i in incidents), frozenset(alert_ids), frozenset(events))

    async def protect(self, incident: Incident) -> int:
        """Lock every evidence item of a held incident not locked yet; how many it locked."""
        if incident.legal_hold is None:
            return 0
        locker = Actor(principal=None, name=_locker(incident.id))
        locked = 0
        for item in await self.evidence_of(incident):
            if not item.locked:
                await self._evidence.lock(item.id, actor=locker)
                locked += 1
        return locked

    async def evidence_of(self, incident: Incident) -> list[EvidenceItem]:
        """The evidence items of an incident: attached to it, to its alerts, or named by it."""
        found: dict[str, EvidenceItem] = {}
        filters = [EvidenceFilter(incident_id=incident.id)]
        filters += [EvidenceFilter(alert_id=alert_id) for alert_id in incident.alert_ids]
        repository = self._db.evidence
        for where in filters:
            offset = 0
            while True:
                page = await repository.list(where, limit=MAX_PAGE, offset=offset)
                found.update((item.id, item) for item in page.items)
                offset += len(page.items)
                if not page.items or offset >= page.total:
                    break
        for reference in incident.evidence:
            if reference not in found:
                try:
                    found[reference] = await repository.get(reference)
                except (NotFoundError, ValidationError):
                    continue  # a URI or an item already gone
        return list(found.values())


def _locker(incident_id: str) -> str:
    return f"{HOLD_LOCKER}{incident_id}"

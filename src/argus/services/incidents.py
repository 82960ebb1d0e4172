"""Incidents as a use case: opened by hand or by confirming an alert, then worked.

``IncidentService`` is the write boundary of incidents: each write and its
audit record (``incident.create``, ``incident.update``, ``incident.status``,
``incident.note``, ``incident.delete``) commit in one unit of work. A
camera-scoped actor sees the incidents of its cameras only (another answers
as an unknown id), and may link only alerts of its cameras: another camera's
alert is refused exactly like an unknown id, so the answer does not tell
whether it exists.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from argus.domain.actor import Actor
from argus.domain.alerts import Incident, IncidentNote, IncidentStatus
from argus.domain.cameras import new_id
from argus.domain.errors import ConflictError, NotFoundError, ValidationError
from argus.ports.alerts import AlertRepository
from argus.ports.paging import Page
from argus.ports.repositories import Database
from argus.services.writes import UNSET, Unset, record, require_camera, require_visible, set_fields

__all__ = ["IncidentChanges", "IncidentService", "NewIncident"]


@dataclass(frozen=True, slots=True)
class NewIncident:
    """An incident to open by hand (see ``Incident`` for the fields)."""

    title: str
    description: str = ""
    camera_id: str | None = None
    alert_ids: tuple[str, ...] = ()
    evidence: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class IncidentChanges:
    """Fields of an incident to change; ``UNSET`` keeps one; the lists replace the whole list."""

    title: str | Unset = UNSET
    description: str | Unset = UNSET
    camera_id: str | Unset | None = UNSET
    alert_ids: tuple[str, ...] | Unset = UNSET
    evidence: tuple[str, ...] | Unset = UNSET


class IncidentService:
    """Incidents over one store (see the module docstring).

    Args:
        database: The store.
        clock: The current UTC time.
    """

    def __init__(self, database: Database, clock: Callable[[], datetime]) -> None:
        self._db = database
        self._clock = clock

    async def create(self, actor: Actor, command: NewIncident) -> Incident:
        """Open an incident by hand (audited); confirmations open theirs with the alert.

        Raises:
            PermissionDeniedError: Its camera (or no camera) is outside the actor's scope.
            ValidationError: A linked alert does not exist or is outside the actor's scope.
        """
        require_camera(actor, command.camera_id)
        now = self._clock()
        incident = Incident(
            id=new_id(),
            created_at=now,
            updated_at=now,
            confirmed_by=actor.audit_name,
            **set_fields(command),
        )
        async with self._db.unit_of_work() as unit:
            await _check_alerts(unit.alerts, incident.alert_ids, _scope(actor))
            await unit.incidents.add(incident)
            await record(unit.audit, actor, "incident.create", f"incident:{incident.id}")
        return incident

    async def get(self, actor: Actor, incident_id: str) -> Incident:
        """An incident the actor may see (``NotFoundError`` if unknown or outside its scope)."""
        incident = await self._db.incidents.get(incident_id)
        require_visible(actor, incident.camera_id, f"incident {incident_id}")
        return incident

    async def list(
        self,
        *,
        limit: int = 100,
        offset: int = 0,
        status: IncidentStatus | None = None,
        camera_ids: tuple[str, ...] | None = None,
    ) -> Page[Incident]:
        """Incidents, newest first; ``camera_ids`` limits them to those cameras."""
        return await self._db.incidents.list(
            limit=limit, offset=offset, status=status, camera_ids=camera_ids
        )

    async def update(self, actor: Actor, incident_id: str, changes: IncidentChanges) -> Incident:
        """Change the title, description, camera, evidence or linked alerts (audited).

        A newly linked alert outside the actor's scope is refused exactly like
        an unknown id; alerts linked before (by someone who sees them) may stay.

        Raises:
            NotFoundError: No such incident, or one outside the actor's scope.
            PermissionDeniedError: The new camera is outside the actor's scope.
            ValidationError: A newly linked alert does not exist or is outside the scope.
        """
        given = set_fields(changes)
        async with self._db.unit_of_work() as unit:
            current = await unit.incidents.get(incident_id)
            require_visible(actor, current.camera_id, f"incident {incident_id}")
            if "camera_id" in given:
                require_camera(actor, given["camera_id"])
            incident = current.changed(self._clock(), **given)
            before = set(current.alert_ids)
            added = [a for a in incident.alert_ids if a not in before]
            await _check_alerts(unit.alerts, added, _scope(actor))
            await unit.incidents.update(incident)
            target = f"incident:{incident_id}"
            await record(unit.audit, actor, "incident.update", target, fields=sorted(given))
        return incident

    async def set_status(
        self, actor: Actor, incident_id: str, status: IncidentStatus, note: str = ""
    ) -> Incident:
        """Move an incident to ``status`` (audited; ``InvalidTransitionError`` if not allowed)."""
        async with self._db.unit_of_work() as unit:
            current = await unit.incidents.get(incident_id)
            require_visible(actor, current.camera_id, f"incident {incident_id}")
            incident = current.with_status(status, self._clock(), actor.audit_name, note)
            await unit.incidents.update(incident)
            target = f"incident:{incident_id}"
            await record(unit.audit, actor, "incident.status", target, status=status)
        return incident

    async def add_note(self, actor: Actor, incident_id: str, text: str) -> Incident:
        """Append the actor's note (audited)."""
        async with self._db.unit_of_work() as unit:
            current = await unit.incidents.get(incident_id)
            require_visible(actor, current.camera_id, f"incident {incident_id}")
            now = self._clock()
            note = IncidentNote(actor.audit_name, text, now)
            incident = current.changed(now, notes=(*current.notes, note))
            await unit.incidents.update(incident)
            await record(unit.audit, actor, "incident.note", f"incident:{incident_id}")
        return incident

    async def delete(self, actor: Actor, incident_id: str) -> None:
        """Delete an incident (audited); its alerts stay.

        Raises:
            ConflictError: The incident is under legal hold (release it first).
        """
        async with self._db.unit_of_work() as unit:
            current = await unit.incidents.get(incident_id)
            require_visible(actor, current.camera_id, f"incident {incident_id}")
            if current.legal_hold is not None:
                raise ConflictError(f"incident {incident_id} is under legal hold; release it first")
            await unit.incidents.delete(incident_id)
            await record(unit.audit, actor, "incident.delete", f"incident:{incident_id}")


def _scope(actor: Actor) -> frozenset[str] | None:
    return actor.principal.cameras if actor.principal is not None else None


async def _check_alerts(
    alerts: AlertRepository, alert_ids: Sequence[str], cameras: Collection[str] | None
) -> None:
    """Refuse unknown alerts, and alerts outside ``cameras`` with the very same error."""
    for alert_id in alert_ids:
        try:
            alert = await alerts.get(alert_id)
        except NotFoundError:
            alert = None
        if alert is None or (cameras is not None and alert.camera_id not in cameras):
            raise ValidationError(f"alert_ids: no alert {alert_id!r}")

"""Listing evidence and evidence gaps as an actor sees them.

A principal limited to some cameras sees only their evidence and gaps: its
lists are filtered row by row (then paged), so ``total`` counts what it may
see. A row that contradicts itself (``TamperedEvidence``) is shown only to
actors who see every camera it names.
"""

from __future__ import annotations

from datetime import UTC, datetime

from argus.domain.actor import Actor
from argus.domain.alerts import Incident
from argus.domain.evidence_status import EvidenceEntry, EvidenceGap, TamperedEvidence
from argus.ports.evidence import EvidenceFilter, EvidenceRepository
from argus.ports.paging import MAX_PAGE, Page, all_pages

__all__ = ["browse", "gaps", "of_incident", "sees"]


def _scoped(actor: Actor) -> bool:
    return actor.principal is not None and actor.principal.cameras is not None


def sees(actor: Actor, entry: EvidenceEntry) -> bool:
    """Whether ``actor`` may see ``entry`` (a tampered row: every camera it names)."""
    principal = actor.principal
    if principal is None:
        return True
    if isinstance(entry, TamperedEvidence):
        return all(principal.sees_camera(camera) for camera in entry.cameras)
    return principal.sees_camera(entry.camera_id)


def _created(entry: EvidenceEntry) -> tuple[datetime, str]:
    if isinstance(entry, TamperedEvidence):
        return entry.created_at or datetime.min.replace(tzinfo=UTC), entry.id
    return entry.created_at, entry.id


async def browse(
    repository: EvidenceRepository, where: EvidenceFilter, actor: Actor, *, limit: int, offset: int
) -> Page[EvidenceEntry]:
    """What ``actor`` sees of ``repository.browse(where)``, oldest first."""
    if not _scoped(actor):
        return await repository.browse(where, limit=limit, offset=offset)
    everything = await all_pages(lambda skip: repository.browse(where, limit=MAX_PAGE, offset=skip))
    seen = [entry for entry in everything if sees(actor, entry)]
    return Page(tuple(seen[offset : offset + limit]), len(seen))


async def of_incident(
    repository: EvidenceRepository, incident: Incident, actor: Actor, *, limit: int, offset: int
) -> Page[EvidenceEntry]:
    """What ``actor`` sees of the evidence attached to ``incident`` and of its alerts."""
    attached = EvidenceFilter(incident_id=incident.id)
    found: dict[str, EvidenceEntry] = {
        entry.id: entry
        for entry in await all_pages(
            lambda skip: repository.browse(attached, limit=MAX_PAGE, offset=skip)
        )
    }
    for alert_id in incident.alert_ids:
        of_alert = EvidenceFilter(alert_id=alert_id)
        for entry in (await repository.browse(of_alert, limit=MAX_PAGE)).items:
            found[entry.id] = entry
    seen = [entry for entry in sorted(found.values(), key=_created) if sees(actor, entry)]
    return Page(tuple(seen[offset : offset + limit]), len(seen))


async def gaps(
    repository: EvidenceRepository,
    alert_id: str | None,
    camera_id: str | None,
    actor: Actor,
    *,
    limit: int,
    offset: int,
) -> Page[EvidenceGap]:
    """What ``actor`` sees of the recorded evidence gaps, newest first."""
    principal = actor.principal
    if principal is None or principal.cameras is None:
        return await repository.gaps(
            alert_id=alert_id, camera_id=camera_id, limit=limit, offset=offset
        )
    everything = await all_pages(
        lambda skip: repository.gaps(
            alert_id=alert_id, camera_id=camera_id, limit=MAX_PAGE, offset=skip
        )
    )
    seen = [gap for gap in everything if principal.sees_camera(gap.camera_id)]
    return Page(tuple(seen[offset : offset + limit]), len(seen))

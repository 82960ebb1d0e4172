"""What privacy requests keep and return: legal holds, kept items, erasure results.

``held_incidents`` is the one place privacy requests learn about legal holds
(``Incident.legal_hold``); ``Holds`` indexes what those incidents keep (their
alerts, the alerts' events, their evidence) with the reason of each.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from argus.domain.alerts import Incident
from argus.domain.errors import NotFoundError
from argus.domain.evidence import EvidenceItem
from argus.ports.paging import MAX_PAGE, all_pages
from argus.ports.repositories import Database
from argus.services.recording_erasure import RecordingsErased

__all__ = ["Holds", "Kept", "RangeErasure", "SubjectErasure", "held_incidents", "holds_of"]


@dataclass(frozen=True, slots=True)
class Kept:
    """Something a request did not erase, and why.

    Attributes:
        kind: ``evidence``, ``decision``, ``event`` or ``recording`` (a segment).
        id: Its id.
        reason: Why it stays (a legal hold and its reason, or a lock).
    """

    kind: str
    id: str
    reason: str

    def to_dict(self) -> dict[str, str]:
        """Return the JSON-ready form."""
        return {"kind": self.kind, "id": self.id, "reason": self.reason}


@dataclass(frozen=True, slots=True)
class Holds:
    """What legal holds keep, by id, with the reason of each.

    Attributes:
        alerts: Alert ids of held incidents.
        events: Event ids of those alerts.
        evidence: Evidence ids attached to held incidents.
        incidents: Held incident ids.
    """

    alerts: dict[str, str] = field(default_factory=dict)
    events: dict[str, str] = field(default_factory=dict)
    evidence: dict[str, str] = field(default_factory=dict)
    incidents: dict[str, str] = field(default_factory=dict)

    def of_evidence(self, item: EvidenceItem) -> str | None:
        """Why ``item`` is held, or ``None`` when it is not."""
        if item.id in self.evidence:
            return self.evidence[item.id]
        if item.incident_id is not None and item.incident_id in self.incidents:
            return self.incidents[item.incident_id]
        if item.alert_id is not None and item.alert_id in self.alerts:
            return self.alerts[item.alert_id]
        return None


@dataclass(frozen=True, slots=True)
class SubjectErasure:
    """What erasing a face subject did."""

    request_id: str
    subject_id: str
    descriptors: int
    decisions: int
    evidence: int
    kept: tuple[Kept, ...]

    def to_dict(self) -> dict[str, object]:
        """Return the JSON-ready form."""
        return {
            "request_id": self.request_id,
            "subject_id": self.subject_id,
            "erased": {
                "descriptors": self.descriptors,
                "decisions": self.decisions,
                "evidence": self.evidence,
            },
            "kept": [k.to_dict() for k in self.kept],
        }


@dataclass(frozen=True, slots=True)
class RangeErasure:
    """What erasing a camera's time range did (``recordings``: its continuous
    recordings, ``None`` where the server has none set up)."""

    request_id: str
    camera_id: str
    since: datetime
    until: datetime
    events: int
    evidence: int
    kept: tuple[Kept, ...]
    recordings: RecordingsErased | None = None


async def held_incidents(database: Database) -> list[Incident]:
    """The incidents under legal hold (``Incident.legal_hold`` set).

    The one place privacy requests learn about holds: switch it to the legal
    hold service's own query if one is added.
    """
    incidents = await all_pages(lambda skip: database.incidents.list(limit=MAX_PAGE, offset=skip))
    return [i for i in incidents if i.legal_hold]


async def holds_of(database: Database) -> Holds:
    """What the incidents under legal hold keep."""
    holds = Holds()
    for incident in await held_incidents(database):
        why = f"legal hold on incident {incident.id}: {incident.legal_hold}"
        holds.incidents[incident.id] = why
        for evidence_id in incident.evidence:
            holds.evidence[evidence_id] = why
        for alert_id in incident.alert_ids:
            holds.alerts[alert_id] = why
            try:
                alert = await database.alerts.get(alert_id)
            except NotFoundError:
                continue
            holds.events[alert.event_id] = why
    return holds

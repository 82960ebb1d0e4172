"""Incidents: confirmed security incidents, with their alerts, evidence, notes and history."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime

from argus.domain.alerts.lifecycle import (
    INCIDENT_STATUSES,
    INCIDENT_TRANSITIONS,
    IncidentStatus,
    InvalidTransitionError,
    Transition,
    history_of,
)
from argus.domain.checks import aware_utc, finite, text
from argus.domain.codec import choice, iso_z, object_list, optional_str, parse_time, value_list
from argus.domain.errors import ValidationError

__all__ = ["Incident", "IncidentNote"]


@dataclass(frozen=True, slots=True)
class IncidentNote:
    """An operator's note on an incident.

    Attributes:
        author: Who wrote it.
        text: The note.
        at: When (UTC).
    """

    author: str
    text: str
    at: datetime

    def __post_init__(self) -> None:
        text(self.author, "author", 200)
        text(self.text, "text", 5000)
        object.__setattr__(self, "at", aware_utc(self.at, "at"))

    def to_dict(self) -> dict[str, object]:
        """The JSON-ready form."""
        return {"author": self.author, "text": self.text, "at": iso_z(self.at)}


@dataclass(frozen=True, slots=True)
class Incident:
    """A confirmed security incident, with its alerts, evidence and notes.

    Attributes:
        id: Stable id.
        title: Short description.
        status: ``open``, ``in_progress``, ``resolved`` or ``closed``.
        created_at: When it was opened (UTC).
        updated_at: When it last changed (UTC).
        camera_id: The camera it happened on, if one.
        confirmed_by: The operator who confirmed it.
        description: Free text.
        alert_ids: Linked alerts.
        evidence: References to evidence (ids or URIs).
        notes: Operator notes, oldest first.
        history: Status changes, oldest first.
        version: Bumped on every change.
        legal_hold: Why the incident is under legal hold, ``None`` when it is not:
            a held incident, its alerts, their events and its evidence are kept
            whatever the retention policy says.
    """

    id: str
    title: str
    created_at: datetime
    updated_at: datetime
    status: IncidentStatus = "open"
    camera_id: str | None = None
    confirmed_by: str | None = None
    description: str = ""
    alert_ids: tuple[str, ...] = ()
    evidence: tuple[str, ...] = ()
    notes: tuple[IncidentNote, ...] = ()
    history: tuple[Transition, ...] = ()
    version: int = 1
    legal_hold: str | None = None

    def __post_init__(self) -> None:
        text(self.id, "id", 64)
        if self.legal_hold is not None:
            text(self.legal_hold, "legal_hold", 1000)
        text(self.title, "title", 200)
        text(self.description, "description", 10_000, empty=True)
        if self.status not in INCIDENT_TRANSITIONS:
            raise ValidationError(f"unknown incident status {self.status!r}")
        if self.camera_id is not None:
            text(self.camera_id, "camera_id", 200)
        for key in ("created_at", "updated_at"):
            object.__setattr__(self, key, aware_utc(getattr(self, key), key))
        for key in ("alert_ids", "evidence"):
            values = tuple(getattr(self, key))
            for i, value in enumerate(values):
                text(value, f"{key}[{i}]", 2048)
            if len(set(values)) != len(values):
                raise ValidationError(f"{key} holds duplicates")
            object.__setattr__(self, key, values)
        if self.version < 1:
            raise ValidationError("version must be >= 1")

    def with_status(self, to: IncidentStatus, at: datetime, actor: str, note: str = "") -> Incident:
        """Move to status ``to``.

        Raises:
            InvalidTransitionError: The move is not allowed.
        """
        if to not in INCIDENT_TRANSITIONS.get(self.status, frozenset()):
            raise InvalidTransitionError(f"incident {self.id} cannot go from {self.status} to {to}")
        step = Transition(self.status, to, at, actor, note)
        return replace(
            self,
            status=to,
            updated_at=step.at,
            history=(*self.history, step),
            version=self.version + 1,
        )

    def changed(self, at: datetime, **changes: object) -> Incident:
        """A copy with ``changes`` applied, ``updated_at`` and ``version`` bumped."""
        return replace(self, updated_at=at, version=self.version + 1, **changes)  # type: ignore[arg-type]

    def to_dict(self) -> dict[str, object]:
        """The JSON-ready form."""
        return {
            "id": self.id,
            "title": self.title,
            "status": self.status,
            "created_at": iso_z(self.created_at),
            "updated_at": iso_z(self.updated_at),
            "camera_id": self.camera_id,
            "confirmed_by": self.confirmed_by,
            "description": self.description,
            "alert_ids": list(self.alert_ids),
            "evidence": list(self.evidence),
            "notes": [n.to_dict() for n in self.notes],
            "history": [t.to_dict() for t in self.history],
            "version": self.version,
            "legal_hold": self.legal_hold,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> Incident:
        """Parse ``to_dict``'s output.

        Raises:
            ValidationError: ``data`` is not in that form.
        """
        try:
            return cls(
                id=str(data["id"]),
                title=str(data["title"]),
                status=choice(data["status"], INCIDENT_STATUSES, "incident status"),
                created_at=parse_time(data["created_at"], "created_at"),
                updated_at=parse_time(data["updated_at"], "updated_at"),
                camera_id=optional_str(data["camera_id"]),
                confirmed_by=optional_str(data["confirmed_by"]),
                description=str(data["description"]),
                alert_ids=tuple(str(v) for v in value_list(data["alert_ids"], "alert_ids")),
                evidence=tuple(str(v) for v in value_list(data["evidence"], "evidence")),
                notes=tuple(
                    IncidentNote(str(n["author"]), str(n["text"]), parse_time(n["at"], "notes.at"))
                    for n in object_list(data["notes"], "notes")
                ),
                history=history_of(data["history"]),
                version=int(finite(data["version"], "version")),
                legal_hold=optional_str(data.get("legal_hold")),
            )
        except (KeyError, TypeError, ValueError) as exc:
            if isinstance(exc, ValidationError):
                raise
            raise ValidationError(f"not an incident: {exc}") from exc

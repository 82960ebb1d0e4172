"""What a subject export holds: the zip inside ``privacy_bundle``'s envelope.

The zip has ``manifest.json`` (who exported what, when, and the counts),
``subject.json``, ``descriptors.json`` (each face descriptor with its model and
vector) with ``faces/<id>.jpg`` (the face thumbnail kept with a descriptor, where
one is), ``decisions.json`` (the workstation decisions that named the subject),
``clients.json`` (the workstation clients that allow the subject),
``audit.json`` (the audit records whose target is the subject) and
``evidence/<id>.<ext>`` with ``evidence.json`` (the decrypted frames of those
decisions and their metadata). Frames that could not be read are listed in the
manifest under ``missing`` with the reason.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from argus.domain.audit import AuditRecord
from argus.domain.codec import iso_z
from argus.domain.evidence import EvidenceItem
from argus.domain.workstations import DecisionRecord, FaceEmbedding, FaceSubject, VerifyClient

__all__ = ["SubjectHoldings", "pack_subject"]

_EXTENSIONS: Mapping[str, str] = {"image/jpeg": "jpg", "image/png": "png", "video/mp4": "mp4"}


@dataclass(frozen=True, slots=True)
class SubjectHoldings:
    """Everything held about one face subject, gathered for an export.

    Attributes:
        subject_id: The subject's id.
        subject: The subject, when it still exists.
        descriptors: Its face descriptors.
        decisions: Workstation decisions that named it.
        clients: Workstation clients that allow it.
        audit: Audit records whose target is the subject.
        evidence: The decisions' frames that could be read, with their bytes.
        missing: Frames that could not be read: evidence id to the reason.
    """

    subject_id: str
    subject: FaceSubject | None
    descriptors: tuple[FaceEmbedding, ...]
    decisions: tuple[DecisionRecord, ...]
    clients: tuple[VerifyClient, ...]
    audit: tuple[AuditRecord, ...]
    evidence: tuple[tuple[EvidenceItem, bytes], ...]
    missing: Mapping[str, str] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        """How many of each kind the export holds."""
        return {
            "descriptors": len(self.descriptors),
            "decisions": len(self.decisions),
            "clients": len(self.clients),
            "audit_records": len(self.audit),
            "evidence": len(self.evidence),
        }


def _json(value: object) -> bytes:
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True).encode()


def _decision(record: DecisionRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "client_id": record.client_id,
        "action": record.action,
        "reasons": list(record.reasons),
        "scores": dict(record.scores),
        "at": iso_z(record.at),
        "frame_seq": record.frame_seq,
        "subject": record.subject,
        "evidence_id": record.evidence_id,
    }


def _descriptor(embedding: FaceEmbedding) -> dict[str, Any]:
    return {
        "id": embedding.id,
        "model": embedding.model,
        "created_at": iso_z(embedding.created_at),
        "vector": [round(float(x), 7) for x in embedding.vector],
        "thumbnail": None if embedding.thumbnail is None else f"faces/{embedding.id}.jpg",
    }


def _client(client: VerifyClient) -> dict[str, Any]:
    return {"id": client.id, "name": client.name, "created_at": iso_z(client.created_at)}


def _evidence(item: EvidenceItem) -> dict[str, Any]:
    return {
        "id": item.id,
        "kind": item.kind,
        "content_type": item.content_type,
        "created_at": iso_z(item.created_at),
        "size": item.size,
        "sha256": item.sha256,
        "camera_id": item.camera_id,
        "alert_id": item.alert_id,
        "incident_id": item.incident_id,
    }


def pack_subject(
    holdings: SubjectHoldings, *, exported_by: str, exported_at: datetime, reason: str = ""
) -> bytes:
    """The export's zip (see the module docstring)."""
    subject = holdings.subject
    manifest = {
        "format": "argus-subject-export/1",
        "subject_id": holdings.subject_id,
        "exported_at": iso_z(exported_at),
        "exported_by": exported_by,
        "reason": reason,
        "counts": holdings.counts(),
        "missing": dict(holdings.missing),
        "photos": "enrolment photos are never stored; their descriptors and face thumbnails are",
    }
    files: list[tuple[str, bytes]] = [
        ("manifest.json", _json(manifest)),
        (
            "subject.json",
            _json(
                None
                if subject is None
                else {
                    "id": subject.id,
                    "name": subject.name,
                    "created_at": iso_z(subject.created_at),
                }
            ),
        ),
        ("descriptors.json", _json([_descriptor(e) for e in holdings.descriptors])),
        ("decisions.json", _json([_decision(r) for r in holdings.decisions])),
        ("clients.json", _json([_client(c) for c in holdings.clients])),
        ("audit.json", _json([r.to_dict() for r in holdings.audit])),
        ("evidence.json", _json([_evidence(item) for item, _ in holdings.evidence])),
    ]
    files += [
        (f"evidence/{item.id}.{_EXTENSIONS.get(item.content_type, 'bin')}", data)
        for item, data in holdings.evidence
    ]
    files += [(f"faces/{e.id}.jpg", e.thumbnail) for e in holdings.descriptors if e.thumbnail]
    return _zip(files)


def _zip(files: Sequence[tuple[str, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in files:
            archive.writestr(name, data)
    return buffer.getvalue()

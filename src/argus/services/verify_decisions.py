"""Recording a workstation's non-allow decisions: evidence frame, history, audit, violation.

The frame is stored as the client sent it (JPEG or PNG bytes), encrypted by the
evidence service, with ``camera_id`` ``workstation:<client id>`` so that it can
be listed per workstation and stays invisible to camera-scoped users.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

from argus.domain.audit import AuditEntry
from argus.domain.cameras import new_id
from argus.domain.workstations import DecisionRecord
from argus.ports.audit import AuditLog
from argus.ports.repositories import Database
from argus.services.evidence import EvidenceService
from argus.services.verification import Analysis
from argus.services.verify_pipeline import Frame

__all__ = ["DecisionRecorder", "finite_scores"]


def finite_scores(scores: dict[str, float]) -> dict[str, float]:
    """The finite scores, rounded to 4 decimals (JSON and the audit chain take no NaN)."""
    return {k: round(float(v), 4) for k, v in scores.items() if math.isfinite(v)}


def _content_type(data: bytes) -> str:
    return "image/png" if data.startswith(b"\x89PNG") else "image/jpeg"


class DecisionRecorder:
    """Stores what a non-allow decision leaves behind.

    Args:
        database: Decision history and violation counts.
        evidence: Encrypted evidence (``None``: decisions are recorded without a frame).
        audit: The audit trail.
    """

    def __init__(
        self, database: Database, evidence: EvidenceService | None, audit: AuditLog
    ) -> None:
        self._db = database
        self._evidence = evidence
        self._audit = audit

    async def record(
        self, client_id: str, frame: Frame, analysis: Analysis, *, episode: bool
    ) -> DecisionRecord:
        """Evidence frame, decision record and audit record; a violation when ``episode``
        (the decision starts a non-allow episode)."""
        decision = analysis.decision
        evidence_id = None
        if self._evidence is not None:
            item = await self._evidence.store(
                frame.data,
                "frame",
                _content_type(frame.data),
                actor="system",
                camera_id=f"workstation:{client_id}",
            )
            evidence_id = item.id
        now = datetime.now(UTC)
        scores = finite_scores(decision.scores)
        record = DecisionRecord(
            id=new_id(),
            client_id=client_id,
            action=decision.action.value,
            reasons=tuple(r.value for r in decision.reasons),
            at=now,
            frame_seq=frame.seq,
            subject=analysis.identity,
            evidence_id=evidence_id,
            scores=scores,
        )
        await self._db.verify_decisions.add(record)
        await self._audit.append(
            AuditEntry(
                action="workstation.decision",
                actor="system",
                at=now,
                target=f"verify-client:{client_id}",
                outcome="denied",
                details={
                    "action": record.action,
                    "reasons": list(record.reasons),
                    "scores": scores,
                    "frame_seq": frame.seq,
                    "subject": record.subject,
                    "evidence": evidence_id,
                },
            )
        )
        if episode:
            await self._db.verify_clients.add_violation(client_id)
        return record

"""What follows a workstation's decision: the client's message and, for a non-allow
decision, the evidence frame, history, audit record and violation (and blocking).

The frame is stored as the client sent it (JPEG or PNG bytes), encrypted by the
evidence service, with ``camera_id`` ``workstation:<client id>`` so that it can
be listed per workstation and stays invisible to camera-scoped users.
"""

from __future__ import annotations

import logging
import math
from datetime import UTC, datetime

from argus.domain.actor import SYSTEM_ACTOR
from argus.domain.audit import AuditEntry
from argus.domain.cameras import new_id
from argus.domain.errors import ArgusError
from argus.domain.verification import Action
from argus.domain.workstations import DecisionRecord
from argus.ports.audit import AuditLog
from argus.ports.repositories import Database
from argus.services.evidence import EvidenceService
from argus.services.verification import Analysis
from argus.services.verify_outcomes import Ending, VerifyDecision, VerifyRejected
from argus.services.verify_pipeline import Frame, VerifySession
from argus.services.workstations import WorkstationService

__all__ = ["DecisionFollowUp", "DecisionRecorder", "finite_scores"]

log = logging.getLogger(__name__)


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
                actor=SYSTEM_ACTOR,
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


class DecisionFollowUp:
    """Acts on each analysed frame of a session (a pipeline's ``decided`` callback).

    The client gets a ``VerifyDecision``. A non-allow decision that starts an
    episode (the action changed), and one every ``evidence_repeat_seconds``
    while the episode lasts, is recorded; a ``block`` decision blocks the
    client (and ends the session at once when that fails).

    Args:
        recorder: Stores what non-allow decisions leave behind.
        registry: Blocks clients.
        evidence_repeat_seconds: Evidence interval while a non-allow episode lasts.
    """

    def __init__(
        self,
        recorder: DecisionRecorder,
        registry: WorkstationService,
        *,
        evidence_repeat_seconds: float,
    ) -> None:
        self._recorder = recorder
        self._registry = registry
        self._repeat = evidence_repeat_seconds

    async def __call__(self, session: VerifySession, frame: Frame, analysis: Analysis) -> None:
        """Tell the client, record the evidence, block when the decision says so."""
        decision = analysis.decision
        session.send(
            VerifyDecision(
                action=decision.action,
                reasons=tuple(decision.reasons),
                scores=finite_scores(decision.scores),
                frame_seq=frame.seq,
                subject=analysis.identity,
                dropped_frames=session.dropped,
            )
        )
        previous, session.last_action = session.last_action, decision.action
        if decision.action is Action.ALLOW:
            return
        episode = decision.action is not previous
        if episode or frame.received - session.last_evidence >= self._repeat:
            session.last_evidence = frame.received
            try:
                await self._recorder.record(session.client_id, frame, analysis, episode=episode)
            except ArgusError:
                log.exception("could not record a decision of client %s", session.client_id)
        if decision.action is Action.BLOCK and session.client.status == "active":
            try:
                await self._registry.set_status(SYSTEM_ACTOR, session.client_id, "blocked")
            except ArgusError:
                log.exception("could not block client %s", session.client_id)
                session.end(Ending.REFUSED, "blocked", VerifyRejected("blocked"))

"""``PrivacyService``: erasure and export requests about a person or a camera's time range.

Three requests, each audited and listed (``requests``):

* **Erase a face subject** (``privacy.erase_subject``): the subject and its
  face descriptors (enrolment photos are never stored), the workstation
  decisions that named it, and the evidence frames of those decisions. A frame
  under legal hold (an incident that holds it or its alert; D's
  ``Incident.legal_hold``) or locked stays, and so does the decision that
  explains it: each kept item is returned and audited with its reason.
* **Export a face subject** (``privacy.export_subject``): everything held
  about the subject (``argus.services.privacy_export``) as a zip sealed under
  the requester's passphrase (``argus.services.privacy_bundle``); the
  passphrase is neither stored nor audited.
* **Erase a camera's time range** (``privacy.erase_range``): its events in
  ``[since, until)``, in batches of ``ERASE_BATCH`` per transaction (ingest
  keeps flowing between them), its hard examples captured in that range with
  their frames, its evidence created in that range, and its continuous
  recordings there (``argus.services.recording_erasure``: segments inside the
  range deleted, those across its edges cut at keyframes). Events of held
  alerts, held or locked evidence and the recording around held alerts stay,
  with the reason. Alerts are operational records and stay (the retention
  policy ages them out).

Every deletion of evidence goes through ``EvidenceService.delete``, so each
object is removed from the blob store and audited as ``evidence.delete`` too.
A request is not one transaction (evidence lives in a blob store, events are
deleted in batches); one interrupted midway is simply made again: what is
already gone is skipped, and a subject's remaining decisions are found by the
subject id even after the subject itself was deleted.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Collection
from datetime import datetime

from argus.domain.actor import Actor
from argus.domain.audit import AuditEntry, AuditRecord
from argus.domain.cameras import new_id, utc_now
from argus.domain.checks import aware_utc, text
from argus.domain.errors import ConflictError, NotFoundError, ValidationError
from argus.domain.workstations import FaceSubject
from argus.ports.audit import AuditFilter
from argus.ports.evidence import EvidenceFilter
from argus.ports.hard_examples import ExampleFilter
from argus.ports.paging import MAX_PAGE, Page, all_pages
from argus.ports.privacy import ERASE_BATCH
from argus.ports.repositories import Database
from argus.ports.search_items import SearchErasure
from argus.services.evidence import EvidenceService
from argus.services.hard_example_upkeep import drop_frame
from argus.services.privacy_bundle import MIN_PASSPHRASE, seal_bundle
from argus.services.privacy_export import SubjectHoldings, pack_subject
from argus.services.privacy_results import (
    Holds,
    Kept,
    RangeErasure,
    SubjectErasure,
    holds_of,
)
from argus.services.recording_erasure import RecordingErasure
from argus.services.workstations import WorkstationService

__all__ = ["PRIVACY_ACTIONS", "PrivacyService"]

PRIVACY_ACTIONS = ("privacy.erase_subject", "privacy.export_subject", "privacy.erase_range")
"""The audit actions of privacy requests (``GET /privacy/requests`` lists them)."""

_AUDITED_KEPT = 100
"""Kept items listed in one audit record (the count is always complete)."""


def _reason(value: str) -> str:
    return text(value.strip(), "reason", 1000)


class PrivacyService:
    """Privacy requests (see the module docstring).

    Args:
        database: The store (``database.privacy`` deletes events and decisions).
        evidence: Encrypted evidence (reads for exports, deletes for erasures).
        workstations: Deletes subjects with their descriptors, and tells verify clients.
        clock: The current UTC time.
        search: Search in words, told which events an erasure deleted.
        recordings: Erases continuous recordings in a range (``None``: none are kept here).
    """

    def __init__(
        self,
        database: Database,
        evidence: EvidenceService,
        workstations: WorkstationService,
        *,
        clock: Callable[[], datetime] = utc_now,
        search: SearchErasure | None = None,
        recordings: RecordingErasure | None = None,
    ) -> None:
        self._db = database
        self._evidence = evidence
        self._workstations = workstations
        self._clock = clock
        self._search = search
        self._recordings = recordings

    async def _audit(
        self, action: str, actor: Actor, target: str, details: dict[str, object]
    ) -> None:
        await self._db.audit.append(
            AuditEntry(
                action=action,
                actor=actor.audit_name,
                at=self._clock(),
                target=target,
                details=details,
                ip=actor.ip,
            )
        )

    async def _subject(self, subject_id: str) -> FaceSubject | None:
        try:
            return await self._db.face_subjects.get(subject_id)
        except NotFoundError:
            return None

    async def _erase_evidence(
        self, actor: Actor, ids: Collection[str], holds: Holds, kept: list[Kept]
    ) -> tuple[int, set[str]]:
        """Delete what is neither held nor locked; return the count and the ids that stay."""
        erased, staying = 0, set()
        for evidence_id in dict.fromkeys(ids):
            try:
                item = await self._db.evidence.get(evidence_id)
            except NotFoundError:
                continue
            why = holds.of_evidence(item)
            if why is None and item.locked:
                why = f"locked by {item.locked_by}; unlock it to erase it"
            if why is not None:
                kept.append(Kept("evidence", item.id, why))
                staying.add(item.id)
                continue
            try:
                await self._evidence.delete(item.id, actor=actor)
            except NotFoundError:
                continue
            except ConflictError as exc:  # locked between the read and the delete
                kept.append(Kept("evidence", item.id, str(exc)))
                staying.add(item.id)
                continue
            erased += 1
        return erased, staying

    async def erase_subject(self, actor: Actor, subject_id: str, reason: str) -> SubjectErasure:
        """Erase a face subject and what was recorded about it (audited).

        Raises:
            NotFoundError: No subject has the id and no decision names it.
            ValidationError: The reason is empty or longer than 1000 characters.
        """
        why = _reason(reason)
        subject = await self._subject(subject_id)
        decisions = await self._db.privacy.subject_decisions(subject_id)
        if subject is None and not decisions:
            raise NotFoundError(f"no subject {subject_id} and no decision naming it")
        holds = await holds_of(self._db)
        kept: list[Kept] = []
        frames = [d.evidence_id for d in decisions if d.evidence_id is not None]
        evidence, staying = await self._erase_evidence(actor, frames, holds, kept)
        doomed = []
        for decision in decisions:
            if decision.evidence_id is not None and decision.evidence_id in staying:
                kept.append(
                    Kept("decision", decision.id, f"explains kept evidence {decision.evidence_id}")
                )
            else:
                doomed.append(decision.id)
        erased_decisions = await self._db.privacy.delete_decisions(doomed)
        descriptors = 0
        if subject is not None:
            descriptors = await self._workstations.delete_subject(actor, subject_id)
        result = SubjectErasure(
            new_id(), subject_id, descriptors, erased_decisions, evidence, tuple(kept)
        )
        await self._audit(
            "privacy.erase_subject",
            actor,
            f"subject:{subject_id}",
            {
                "request_id": result.request_id,
                "reason": why,
                "erased": result.to_dict()["erased"],
                "kept_count": len(kept),
                "kept": [k.to_dict() for k in kept[:_AUDITED_KEPT]],
            },
        )
        return result

    async def export_subject(
        self, actor: Actor, subject_id: str, passphrase: str, reason: str = ""
    ) -> bytes:
        """Everything held about a subject, sealed under ``passphrase`` (audited).

        Raises:
            NotFoundError: No subject has the id and no decision names it.
            ValidationError: The passphrase is too short.
        """
        # Refused before any read is audited; a length check, not a trial seal: scrypt would
        # hold the event loop for a tenth of a second per request.
        if len(passphrase) < MIN_PASSPHRASE:
            raise ValidationError(f"the passphrase must have at least {MIN_PASSPHRASE} characters")
        subject = await self._subject(subject_id)
        decisions = await self._db.privacy.subject_decisions(subject_id)
        if subject is None and not decisions:
            raise NotFoundError(f"no subject {subject_id} and no decision naming it")
        descriptors = await self._db.face_subjects.embeddings([subject_id])
        clients = await all_pages(
            lambda skip: self._db.verify_clients.list(limit=MAX_PAGE, offset=skip)
        )
        audit = await all_pages(
            lambda skip: self._db.audit.list(
                limit=MAX_PAGE, offset=skip, where=AuditFilter(target=f"subject:{subject_id}")
            )
        )
        frames, missing = [], {}
        for decision in decisions:
            if decision.evidence_id is None:
                continue
            try:
                frames.append(await self._evidence.read(decision.evidence_id, actor=actor))
            except NotFoundError:
                missing[decision.evidence_id] = "erased or expired"
            except ValidationError as exc:
                missing[decision.evidence_id] = str(exc)
        holdings = SubjectHoldings(
            subject_id=subject_id,
            subject=subject,
            descriptors=descriptors,
            decisions=decisions,
            clients=tuple(c for c in clients if subject_id in c.subjects),
            audit=tuple(audit),
            evidence=tuple(frames),
            missing=missing,
        )
        now = self._clock()
        packed = pack_subject(
            holdings, exported_by=actor.audit_name, exported_at=now, reason=reason
        )
        sealed = await asyncio.to_thread(seal_bundle, packed, passphrase)
        await self._audit(
            "privacy.export_subject",
            actor,
            f"subject:{subject_id}",
            {"counts": holdings.counts(), "bytes": len(sealed), "reason": reason[:1000]},
        )
        return sealed

    async def erase_range(
        self, actor: Actor, camera_id: str, since: datetime, until: datetime, reason: str
    ) -> RangeErasure:
        """Erase a camera's events, evidence and recordings in ``[since, until)`` (audited).

        Raises:
            ValidationError: ``since`` is not before ``until``, either is naive, or
                the reason is empty.
        """
        why = _reason(reason)
        since, until = aware_utc(since, "since"), aware_utc(until, "until")
        if since >= until:
            raise ValidationError("since must be before until")
        holds = await holds_of(self._db)
        kept: list[Kept] = []
        events = 0
        while True:
            gone = await self._db.privacy.delete_events(
                camera_id, since, until, keep=holds.events.keys(), limit=ERASE_BATCH
            )
            events += gone
            if gone < ERASE_BATCH:
                break
            await asyncio.sleep(0)  # let ingest and readers in between two batches
        if self._search is not None:  # search in words forgets the erased events too
            await self._search.erase_range(camera_id, since, until, holds.events.keys())
        kept += await self._kept_events(camera_id, since, until, holds)
        # Hard examples captured in the range go with their frames (locked by their example).
        examples, frames = 0, 0
        captured = ExampleFilter(camera_ids=(camera_id,), since=since, until=until)
        while batch := await self._db.hard_examples.purge(captured, limit=MAX_PAGE):
            examples += len(batch)
            for example in batch:
                frames += await drop_frame(self._evidence, example, actor)
        items = await all_pages(
            lambda skip: self._db.evidence.list(
                EvidenceFilter(camera_id=camera_id, created_before=until),
                limit=MAX_PAGE,
                offset=skip,
            )
        )
        ids = [item.id for item in items if item.created_at >= since]
        evidence, _ = await self._erase_evidence(actor, ids, holds, kept)
        evidence += frames
        recordings = None
        if self._recordings is not None:
            recordings = await self._recordings.erase(camera_id, since, until, holds.alerts)
            kept += [Kept("recording", name, why) for name, why in recordings.kept]
        result = RangeErasure(
            new_id(), camera_id, since, until, events, evidence, tuple(kept), recordings
        )
        await self._audit(
            "privacy.erase_range",
            actor,
            f"camera:{camera_id}",
            {
                "request_id": result.request_id,
                "reason": why,
                "since": since.isoformat(),
                "until": until.isoformat(),
                "erased": {
                    "events": events,
                    "evidence": evidence,
                    **({"examples": examples} if examples else {}),
                },
                **({} if recordings is None else {"recordings": recordings.to_dict(_AUDITED_KEPT)}),
                "kept_count": len(kept),
                "kept": [k.to_dict() for k in kept[:_AUDITED_KEPT]],
            },
        )
        return result

    async def _kept_events(
        self, camera_id: str, since: datetime, until: datetime, holds: Holds
    ) -> list[Kept]:
        kept = []
        for event_id, why in holds.events.items():
            try:
                event = await self._db.events.get(event_id)
            except NotFoundError:
                continue
            if event.source.camera_id == camera_id and since <= event.timestamp < until:
                kept.append(Kept("event", event_id, why))
        return kept

    async def requests(self, *, limit: int = 50, offset: int = 0) -> Page[AuditRecord]:
        """The privacy requests made, newest first (their audit records)."""
        return await self._db.audit.list(
            limit=limit, offset=offset, where=AuditFilter(action="privacy.")
        )

"""Privacy requests on every store: subject erasure, subject export, camera range erasure.

``PrivacyService`` runs over the parametrised store (memory, SQLite,
PostgreSQL), real evidence (the file keyring's envelope crypto on a
filesystem blob store) and the store's own audit trail. Legal holds are
incidents with ``legal_hold`` set; locks are evidence locks. Each case checks
what was erased, what was kept and why, the count rollups, and the audit.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from argus.adapters.evidence.crypto import Keyring
from argus.adapters.evidence.fs import FileBlobStore
from argus.adapters.evidence.signing import Ed25519Signer
from argus.domain.actor import SYSTEM_ACTOR, Actor
from argus.domain.alerts import Alert, Incident, Risk, RiskComponent
from argus.domain.cameras import new_id
from argus.domain.errors import NotFoundError, ValidationError
from argus.domain.event_payloads import LineCrossed
from argus.domain.events import Envelope, EventSource
from argus.domain.workstations import DecisionRecord, FaceEmbedding, FaceSubject, VerifyClient
from argus.ports.audit import AuditFilter
from argus.ports.repositories import EventFilter
from argus.services.evidence import EvidenceService
from argus.services.privacy import PrivacyService
from argus.services.privacy_bundle import open_bundle
from argus.services.workstations import WorkstationService
from tests.integration import test_repositories_contract as contract
from tests.integration.test_repositories_contract import T0, Store

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

# The parametrised store (memory, SQLite, PostgreSQL) and the anyio backend, shared as is.
store = contract.store

SECRET = b"privacy-test-secret-0123456789ab"
ADMIN = Actor(principal=None, ip="192.0.2.7", name="dpo")
FRAME = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 4
PASSPHRASE = "correct horse battery staple"


@dataclass
class Kit:
    """The service under test and handles on what it works on."""

    store: Store
    evidence: EvidenceService
    privacy: PrivacyService


def _no_models() -> tuple[object, object]:
    raise AssertionError("enrolment is not used here")


def _no_decode(_: bytes) -> object:
    raise AssertionError("enrolment is not used here")


@pytest.fixture
async def kit(store: Store, tmp_path: Path) -> AsyncIterator[Kit]:
    db = store.db
    evidence = EvidenceService(
        db.evidence,
        FileBlobStore(tmp_path / "evidence"),
        Keyring({"k1": bytes(range(32))}),
        db.audit,
        Ed25519Signer.from_secret(SECRET),
        clock=lambda: T0 + timedelta(minutes=1),  # inside the erased ranges below
    )
    workstations = WorkstationService(db, db.audit, _no_models, _no_decode)  # type: ignore[arg-type]
    try:
        yield Kit(store, evidence, PrivacyService(db, evidence, workstations))
    finally:
        await evidence.close()


async def _subject(kit: Kit, name: str, *, descriptors: int = 2) -> FaceSubject:
    db = kit.store.db
    subject = FaceSubject(id=new_id(), name=name, created_at=T0)
    await db.face_subjects.add(subject)
    vectors = [
        FaceEmbedding(
            id=new_id(),
            subject_id=subject.id,
            model="dlib-resnet@1",
            vector=np.full(128, 0.01 * (n + 1), dtype=np.float32),
            created_at=T0,
        )
        for n in range(descriptors)
    ]
    await db.face_subjects.add_embeddings(vectors)
    return subject


async def _decision(kit: Kit, subject_id: str, n: int, *, frame: bool = True) -> DecisionRecord:
    evidence_id = None
    if frame:
        item = await kit.evidence.store(
            FRAME + bytes([n]), "frame", "image/jpeg", camera_id="workstation:ws-1"
        )
        evidence_id = item.id
    record = DecisionRecord(
        id=new_id(),
        client_id="ws-1",
        action="lock_screen",
        reasons=("unknown_face",),
        at=T0 + timedelta(seconds=n),
        subject=subject_id,
        evidence_id=evidence_id,
        scores={"distance": 0.7},
    )
    await kit.store.db.verify_decisions.add(record)
    return record


def _held(n: int, reason: str, **changes: object) -> Incident:
    incident = Incident(
        id=f"inc-{n}", title="Held", created_at=T0, updated_at=T0, legal_hold=reason
    )
    return replace(incident, **changes)  # type: ignore[arg-type]


async def _actions(kit: Kit, prefix: str) -> list[str]:
    page = await kit.store.db.audit.list(limit=100, where=AuditFilter(action=prefix))
    return [r.entry.action for r in page.items]


async def test_erasing_a_subject_keeps_only_what_a_hold_or_a_lock_keeps(kit: Kit) -> None:
    db = kit.store.db
    subject = await _subject(kit, "Ada")
    other = await _subject(kit, "Bob")
    free = await _decision(kit, subject.id, 1)
    held = await _decision(kit, subject.id, 2)
    locked = await _decision(kit, subject.id, 3)
    frameless = await _decision(kit, subject.id, 4, frame=False)
    theirs = await _decision(kit, other.id, 5)
    assert held.evidence_id is not None
    assert locked.evidence_id is not None
    await db.incidents.add(_held(1, "court order 17/2026", evidence=(held.evidence_id,)))
    await kit.evidence.lock(locked.evidence_id, actor=SYSTEM_ACTOR)

    result = await kit.privacy.erase_subject(ADMIN, subject.id, "GDPR art. 17 request 41")

    assert (result.descriptors, result.decisions, result.evidence) == (2, 2, 1)
    kept = {(k.kind, k.id): k.reason for k in result.kept}
    assert set(kept) == {
        ("evidence", held.evidence_id),
        ("decision", held.id),
        ("evidence", locked.evidence_id),
        ("decision", locked.id),
    }
    assert (
        "legal hold on incident inc-1: court order 17/2026" in kept[("evidence", held.evidence_id)]
    )
    assert "locked by system" in kept[("evidence", locked.evidence_id)]
    with pytest.raises(NotFoundError):
        await db.face_subjects.get(subject.id)
    assert await db.face_subjects.embeddings([subject.id]) == ()
    assert {d.id for d in await db.privacy.subject_decisions(subject.id)} == {held.id, locked.id}
    assert free.evidence_id is not None
    with pytest.raises(NotFoundError):
        await db.evidence.get(free.evidence_id)
    assert frameless.id not in {d.id for d in await db.privacy.subject_decisions(subject.id)}
    # Another person's records are untouched.
    assert [d.id for d in await db.privacy.subject_decisions(other.id)] == [theirs.id]
    assert await db.face_subjects.count_embeddings(other.id) == 2

    records = await db.audit.list(limit=10, where=AuditFilter(action="privacy.erase_subject"))
    (record,) = records.items
    assert record.entry.target == f"subject:{subject.id}"
    assert record.entry.details["erased"] == {"descriptors": 2, "decisions": 2, "evidence": 1}
    assert record.entry.details["kept_count"] == 4
    assert record.entry.details["reason"] == "GDPR art. 17 request 41"
    assert await _actions(kit, "evidence.delete") == ["evidence.delete"]
    assert (await db.audit.verify()).ok


async def test_erasing_an_unknown_subject_is_not_found(kit: Kit) -> None:
    with pytest.raises(NotFoundError):
        await kit.privacy.erase_subject(ADMIN, "nobody", "request 1")
    with pytest.raises(ValidationError):
        await kit.privacy.erase_subject(ADMIN, "nobody", "   ")


async def test_a_deleted_subjects_remaining_decisions_can_still_be_erased(kit: Kit) -> None:
    subject = await _subject(kit, "Cleo", descriptors=1)
    await _decision(kit, subject.id, 1)
    await kit.store.db.face_subjects.delete(subject.id)

    result = await kit.privacy.erase_subject(ADMIN, subject.id, "request 2")

    assert (result.descriptors, result.decisions, result.evidence) == (0, 1, 1)
    assert await kit.store.db.privacy.subject_decisions(subject.id) == ()


async def test_a_subject_export_opens_only_with_its_passphrase_and_holds_everything(
    kit: Kit,
) -> None:
    db = kit.store.db
    subject = await _subject(kit, "Dana")
    decision = await _decision(kit, subject.id, 1)
    await db.verify_clients.add(
        VerifyClient(
            id="ws-1", name="Front desk", key_hash="0" * 64, subjects=(subject.id,), created_at=T0
        )
    )

    sealed = await kit.privacy.export_subject(ADMIN, subject.id, PASSPHRASE, "access request 9")

    assert b"Dana" not in sealed
    assert FRAME not in sealed
    with pytest.raises(ValidationError, match="wrong passphrase"):
        open_bundle(sealed, "not the passphrase")
    archive = zipfile.ZipFile(io.BytesIO(open_bundle(sealed, PASSPHRASE)))
    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["subject_id"] == subject.id
    assert manifest["exported_by"] == "dpo"
    assert manifest["counts"] == {
        "descriptors": 2,
        "decisions": 1,
        "clients": 1,
        "audit_records": 0,
        "evidence": 1,
    }
    assert json.loads(archive.read("subject.json"))["name"] == "Dana"
    descriptors = json.loads(archive.read("descriptors.json"))
    assert len(descriptors) == 2
    assert len(descriptors[0]["vector"]) == 128
    assert json.loads(archive.read("decisions.json"))[0]["id"] == decision.id
    assert json.loads(archive.read("clients.json"))[0]["name"] == "Front desk"
    assert archive.read(f"evidence/{decision.evidence_id}.jpg") == FRAME + bytes([1])
    assert await _actions(kit, "privacy.") == ["privacy.export_subject"]
    (record,) = (await db.audit.list(where=AuditFilter(action="privacy.export"))).items
    assert PASSPHRASE not in json.dumps(record.entry.details)


async def test_an_export_refuses_a_short_passphrase_before_reading_anything(kit: Kit) -> None:
    subject = await _subject(kit, "Eve")
    await _decision(kit, subject.id, 1)
    with pytest.raises(ValidationError, match="at least 12"):
        await kit.privacy.export_subject(ADMIN, subject.id, "short")
    assert await _actions(kit, "evidence.read") == []


def _crossing(camera_id: str, second: int) -> Envelope:
    event = LineCrossed(
        line="door",
        track_id=second,
        class_id=0,
        class_name="person",
        direction="in",
        timestamp=float(second),
        confidence=0.9,
    )
    moment = T0 + timedelta(seconds=second)
    return Envelope.wrap(event, EventSource("edge-1", camera_id), moment)


def _alert_of(event: Envelope) -> Alert:
    return Alert(
        id=new_id(),
        rule_id="rule-1",
        rule_name="Door",
        camera_id=event.source.camera_id,
        event_id=event.event_id,
        event_type=event.type,
        event_time=event.timestamp,
        risk=Risk(0.5, (RiskComponent("rule", 0.5, 1.0, "rule 'door'"),)),
        created_at=event.timestamp,
        updated_at=event.timestamp,
    )


async def _counted(kit: Kit, camera_id: str) -> int:
    where = EventFilter(
        camera_id=camera_id, since=T0 - timedelta(days=1), until=T0 + timedelta(days=1)
    )
    buckets = await kit.store.db.events.counts(where, interval="day")
    return sum(b.count for b in buckets)


async def test_erasing_a_camera_range_respects_holds_and_keeps_counts_true(kit: Kit) -> None:
    db = kit.store.db
    inside = [_crossing("cam-1", s) for s in range(10, 2510)]  # more than one batch
    before = [_crossing("cam-1", s) for s in range(10)]
    elsewhere = [_crossing("cam-2", s) for s in range(10, 20)]
    for chunk in range(0, len(inside), 500):
        await db.events.add_many(inside[chunk : chunk + 500])
    await db.events.add_many([*before, *elsewhere])
    alert = _alert_of(inside[5])
    await db.alerts.add(alert)
    await db.incidents.add(_held(2, "insurance claim", alert_ids=(alert.id,)))
    clip = await kit.evidence.store(FRAME, "clip", "video/mp4", camera_id="cam-1")
    kept_clip = await kit.evidence.store(
        FRAME, "snapshot", "image/jpeg", camera_id="cam-1", alert_id=alert.id
    )
    since, until = T0 + timedelta(seconds=10), T0 + timedelta(hours=2)

    result = await kit.privacy.erase_range(ADMIN, "cam-1", since, until, "request 7")

    assert (result.events, result.evidence) == (len(inside) - 1, 1)
    assert {(k.kind, k.id) for k in result.kept} == {
        ("event", inside[5].event_id),
        ("evidence", kept_clip.id),
    }
    assert all("legal hold on incident inc-2: insurance claim" in k.reason for k in result.kept)
    left = await db.events.query(EventFilter(camera_id="cam-1"), limit=1000)
    assert {e.event_id for e in left.items} == {
        inside[5].event_id,
        *(e.event_id for e in before),
    }
    assert (await db.events.query(EventFilter(camera_id="cam-2"))).total == 10
    assert await _counted(kit, "cam-1") == 11  # the rollups lost exactly the erased events
    assert await _counted(kit, "cam-2") == 10
    with pytest.raises(NotFoundError):
        await db.evidence.get(clip.id)
    (record,) = (await db.audit.list(where=AuditFilter(action="privacy.erase_range"))).items
    assert record.entry.target == "camera:cam-1"
    assert record.entry.details["erased"] == {"events": len(inside) - 1, "evidence": 1}
    listed = await kit.privacy.requests()
    assert [r.entry.action for r in listed.items] == ["privacy.erase_range"]


async def test_a_range_must_be_ordered(kit: Kit) -> None:
    with pytest.raises(ValidationError, match="before"):
        await kit.privacy.erase_range(ADMIN, "cam-1", T0, T0, "request 8")
    with pytest.raises(ValidationError):
        await kit.privacy.erase_range(ADMIN, "cam-1", T0, datetime(2026, 3, 2), "request 8")


async def test_the_erasure_store_deletes_in_batches_and_checks_its_arguments(kit: Kit) -> None:
    erasure = kit.store.db.privacy
    events = [_crossing("cam-9", s) for s in range(5)]
    await kit.store.db.events.add_many(events)
    end = T0 + timedelta(minutes=1)
    keep = {events[0].event_id}
    assert await erasure.delete_events("cam-9", T0, end, keep=keep, limit=3) == 3
    assert await erasure.delete_events("cam-9", T0, end, keep=keep, limit=3) == 1
    assert await erasure.delete_events("cam-9", T0, end, keep=keep, limit=3) == 0
    assert (await kit.store.db.events.query(EventFilter(camera_id="cam-9"))).total == 1
    with pytest.raises(ValidationError):
        await erasure.delete_events("cam-9", T0, end, limit=0)
    with pytest.raises(ValidationError):
        await erasure.delete_events("cam-9", datetime(2026, 3, 1), end)
    assert await erasure.delete_decisions(["no-such-decision"]) == 0
    assert await erasure.subject_decisions("no-such-subject") == ()

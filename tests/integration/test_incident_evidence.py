"""Confirming an alert attaches its evidence to the incident it opens, on every store.

The same cases run against the in-memory store, SQLite and PostgreSQL (the
``store`` fixture of the repository contract), over a real evidence service
(files on disk) wired as ``bootstrap`` wires it: ``IncidentEvidence`` on the
alert service's confirmations and on the evidence service's stores.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

import pytest

from argus.adapters.evidence.crypto import Keyring
from argus.adapters.evidence.fs import FileBlobStore
from argus.adapters.evidence.signing import Ed25519Signer
from argus.domain.actor import Actor
from argus.domain.alerts import Alert
from argus.domain.errors import IntegrityError
from argus.domain.events import Envelope
from argus.ports.audit import AuditFilter
from argus.ports.evidence import EvidenceFilter
from argus.services.alerts import AlertService
from argus.services.evidence import EvidenceService, verify_bundle
from argus.services.incident_evidence import IncidentEvidence
from tests.integration import test_repositories_contract as contract
from tests.integration.test_alerts_contract import _alert
from tests.integration.test_repositories_contract import SECRET, T0, Store

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

store = contract.store

ANN = Actor(principal=None, name="ann")
JPEG = b"\xff\xd8\xff\xe0snapshot"
MP4 = b"\x00\x00\x00\x18ftypmp42clip"


@dataclass
class Clock:
    now: datetime = T0

    def __call__(self) -> datetime:
        return self.now


async def _no_publish(subject: str, envelope: Envelope) -> None:
    del subject, envelope


@dataclass
class Kit:
    store: Store
    alerts: AlertService
    evidence: EvidenceService


@pytest.fixture
async def kit(store: Store, tmp_path: Path) -> AsyncIterator[Kit]:
    clock = Clock()
    evidence = EvidenceService(
        store.db.evidence,
        FileBlobStore(tmp_path / "evidence"),
        Keyring({"k1": bytes(range(32))}),
        store.db.audit,
        Ed25519Signer.from_secret(SECRET),
        clock=clock,
    )
    links = IncidentEvidence(store.db, evidence, clock)
    evidence.on_stored = links.on_stored
    alerts = AlertService(store.db, _no_publish, clock=clock, on_confirmed=links.on_confirmed)
    try:
        yield Kit(store, alerts, evidence)
    finally:
        await evidence.close()


async def _acknowledged(kit: Kit) -> Alert:
    alert = _alert(0, state="notified")
    assert await kit.store.db.alerts.add(alert)
    return await kit.alerts.acknowledge(ANN, alert.id)


async def test_confirming_attaches_the_snapshot_and_clip_and_the_incident_names_them(
    kit: Kit,
) -> None:
    alert = await _acknowledged(kit)
    snapshot = await kit.evidence.store(
        JPEG, "snapshot", "image/jpeg", alert_id=alert.id, camera_id=alert.camera_id
    )
    clip = await kit.evidence.store(
        MP4, "clip", "video/mp4", alert_id=alert.id, camera_id=alert.camera_id
    )
    assert snapshot.incident_id is None

    confirmed, incident = await kit.alerts.confirm(ANN, alert.id, "real")

    assert confirmed.incident_id == incident.id
    assert incident.evidence == (f"event:{alert.event_id}", snapshot.id, clip.id)
    stored = await kit.store.db.incidents.get(incident.id)
    assert stored.evidence == incident.evidence
    attached = await kit.evidence.list(EvidenceFilter(incident_id=incident.id))
    assert {item.id for item in attached.items} == {snapshot.id, clip.id}
    for item in attached.items:  # signed again: the check passes with the new incident_id
        assert (await kit.evidence.verify(item.id)).incident_id == incident.id
    audit = await kit.store.db.audit.list(where=AuditFilter(action="evidence.attach"))
    assert {r.entry.target for r in audit.items} == {
        f"evidence:{snapshot.id}",
        f"evidence:{clip.id}",
    }


async def test_a_clip_stored_after_the_confirmation_is_attached_too(kit: Kit) -> None:
    alert = await _acknowledged(kit)
    snapshot = await kit.evidence.store(
        JPEG, "snapshot", "image/jpeg", alert_id=alert.id, camera_id=alert.camera_id
    )
    _, incident = await kit.alerts.confirm(ANN, alert.id)

    # The clip was still being written when the operator confirmed.
    clip = await kit.evidence.store(
        MP4, "clip", "video/mp4", alert_id=alert.id, camera_id=alert.camera_id
    )

    assert clip.incident_id == incident.id
    assert (await kit.evidence.verify(clip.id)).incident_id == incident.id
    stored = await kit.store.db.incidents.get(incident.id)
    assert stored.evidence == (f"event:{alert.event_id}", snapshot.id, clip.id)
    bundle = await kit.evidence.export([snapshot.id, clip.id], actor=ANN)
    report = verify_bundle(bundle)
    assert report.ok, report


async def test_a_clip_stored_while_the_alert_is_confirmed_ends_attached(kit: Kit) -> None:
    for _ in range(3):
        alert = await _acknowledged(kit)
        stored, (_, incident) = await asyncio.gather(
            kit.evidence.store(MP4, "clip", "video/mp4", alert_id=alert.id),
            kit.alerts.confirm(ANN, alert.id),
        )
        item = await kit.evidence.verify(stored.id)
        assert item.incident_id == incident.id
        named = (await kit.store.db.incidents.get(incident.id)).evidence
        assert stored.id in named


async def test_evidence_of_an_unconfirmed_or_unknown_alert_stays_unattached(kit: Kit) -> None:
    alert = await _acknowledged(kit)
    waiting = await kit.evidence.store(JPEG, "snapshot", "image/jpeg", alert_id=alert.id)
    stray = await kit.evidence.store(JPEG, "snapshot", "image/jpeg", alert_id="no-such-alert")
    assert waiting.incident_id is None
    assert stray.incident_id is None
    assert (await kit.evidence.verify(stray.id)).incident_id is None


async def test_a_tampered_item_is_not_signed_again_and_the_rest_is_attached(kit: Kit) -> None:
    alert = await _acknowledged(kit)
    good = await kit.evidence.store(JPEG, "snapshot", "image/jpeg", alert_id=alert.id)
    bad = await kit.evidence.store(MP4, "clip", "video/mp4", alert_id=alert.id)
    # Swap the clip's recorded digest for another: the row no longer matches its HMAC.
    forged = replace(bad, sha256="0" * 64, version=bad.version + 1)
    await kit.store.db.evidence.update(forged)

    _, incident = await kit.alerts.confirm(ANN, alert.id)

    assert incident.evidence == (f"event:{alert.event_id}", good.id)
    assert (await kit.store.db.evidence.get(bad.id)).incident_id is None
    with pytest.raises(IntegrityError):
        await kit.evidence.verify(bad.id)
    failures = await kit.store.db.audit.list(
        where=AuditFilter(action="evidence.attach", outcome="failure")
    )
    assert [r.entry.target for r in failures.items] == [f"evidence:{bad.id}"]

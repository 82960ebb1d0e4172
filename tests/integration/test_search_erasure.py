"""Search in words forgets what privacy erasure and retention delete.

Over memory, SQLite and PostgreSQL (the repository contract's ``store``):
events, alerts and incidents are indexed with the real MiniLM encoder, then a
camera's range is erased or a retention sweep runs; a search afterwards
returns only what is still stored, and held items stay searchable.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path

import pytest

from argus.adapters.evidence.crypto import Keyring
from argus.adapters.evidence.fs import FileBlobStore
from argus.adapters.evidence.signing import Ed25519Signer
from argus.adapters.search import MemoryVectorIndex
from argus.bootstrap.search_items import search_erasure, search_item_store
from argus.domain.actor import SYSTEM_ACTOR
from argus.domain.site import Site
from argus.services.event_search import EventSearch
from argus.services.event_search_index import SearchIndexer
from argus.services.evidence import EvidenceService
from argus.services.legal_hold import LegalHoldService
from argus.services.privacy import PrivacyService
from argus.services.retention import RetentionPolicies, RetentionSweeper
from argus.services.workstations import WorkstationService
from tests.integration import test_privacy as privacy
from tests.integration import test_repositories_contract as contract
from tests.integration.test_alerts_contract import _incident
from tests.integration.test_event_search import encoder
from tests.integration.test_privacy import ADMIN
from tests.integration.test_repositories_contract import SECRET, T0, Store, _event
from tests.integration.test_retention import DAY, Clock, _old_final

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

store = contract.store


async def site() -> Site:
    return Site("UTC")


@dataclass
class Rig:
    store: Store
    clock: Clock
    evidence: EvidenceService
    search: EventSearch
    privacy: PrivacyService
    sweeper: RetentionSweeper
    holds: LegalHoldService


@pytest.fixture
async def rig(store: Store, tmp_path: Path) -> AsyncIterator[Rig]:
    db = store.db
    clock = Clock(T0 + timedelta(minutes=1))
    evidence = EvidenceService(
        db.evidence,
        FileBlobStore(tmp_path / "evidence"),
        Keyring({"k1": bytes(range(32))}),
        db.audit,
        Ed25519Signer.from_secret(SECRET),
        clock=clock,
    )
    workstations = WorkstationService(db, db.audit, privacy._no_models, privacy._no_decode)  # type: ignore[arg-type]
    model = encoder()
    indexer = SearchIndexer(db, search_item_store(db), MemoryVectorIndex(model.dim), model, site)
    holds = LegalHoldService(db, evidence, clock)
    policies = RetentionPolicies(db, clock)
    sweeper = RetentionSweeper(
        db,
        evidence.purge_expired,
        clock,
        policies.get,
        holds=holds,
        batch=3,
        search=search_erasure(db),
    )
    try:
        yield Rig(
            store,
            clock,
            evidence,
            EventSearch(indexer, site, clock),
            PrivacyService(db, evidence, workstations, clock=clock, search=search_erasure(db)),
            sweeper,
            holds,
        )
    finally:
        await evidence.close()


async def _found(rig: Rig, question: str) -> set[tuple[str, str]]:
    result = await rig.search.search(None, question, limit=100)
    return {(hit.item.kind, hit.item.item_id) for hit in result.hits}


async def test_an_erased_camera_range_is_no_longer_found(rig: Rig) -> None:
    db = rig.store.db
    inside = [_event(60.0 * m) for m in (5, 10, 15)]
    after = _event(7200.0)
    elsewhere = _event(600.0, camera="cam-2")
    await db.events.add_many([*inside, after, elsewhere])
    assert await rig.search.indexer.backfill() == 5
    every = {("event", e.event_id) for e in (*inside, after, elsewhere)}
    assert await _found(rig, "person crossing the gate line") == every

    await rig.privacy.erase_range(ADMIN, "cam-1", T0, T0 + timedelta(hours=1), "request 21")

    left = {("event", after.event_id), ("event", elsewhere.event_id)}
    assert await _found(rig, "person crossing the gate line") == left
    items = rig.search.indexer.items
    assert not any([await items.has("event", e.event_id) for e in inside])


async def test_a_retention_sweep_is_no_longer_found_but_held_items_are(rig: Rig) -> None:
    db = rig.store.db
    events = [_event(float(i)) for i in range(4)]
    await db.events.add_many(events)
    held_alert = _old_final(0, events[0], state="confirmed")
    gone_alert = _old_final(1, events[1])
    open_alert = replace(_old_final(2, events[2]), state="new", version=1)
    for alert in (held_alert, gone_alert, open_alert):
        await db.alerts.add(alert)
    held = _incident(0, status="closed", alert_ids=(held_alert.id,))
    closed = _incident(1, status="closed", alert_ids=(gone_alert.id,))
    for incident in (held, closed):
        await db.incidents.add(incident)
    await rig.holds.hold(SYSTEM_ACTOR, held.id, "court order 21")
    assert await rig.search.indexer.backfill() == 9
    items = rig.search.indexer.items

    rig.clock.now = T0 + 3000 * DAY
    report = await rig.sweeper.sweep()

    assert report.errors == {}
    assert (report.deleted["events"], report.deleted["alerts"]) == (3, 1)
    assert report.deleted["incidents"] == 1
    stored = {
        kind: [await items.has(kind, i) for i in ids]  # type: ignore[arg-type]
        for kind, ids in (
            ("event", [e.event_id for e in events]),
            ("alert", [held_alert.id, gone_alert.id, open_alert.id]),
            ("incident", [held.id, closed.id]),
        )
    }
    assert stored == {
        "event": [True, False, False, False],
        "alert": [True, False, True],
        "incident": [True, False],
    }
    found = await _found(rig, "person")
    assert ("event", events[1].event_id) not in found
    assert ("alert", gone_alert.id) not in found
    assert ("event", events[0].event_id) in found

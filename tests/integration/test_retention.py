"""Retention on every store: batched deletes, audit pruning behind a checkpoint, the sweep.

The same cases run against the in-memory store, SQLite and PostgreSQL through
the ``store`` fixture of the repository contract. The sweep runs over a real
evidence service (files on disk) with a settable clock, so nothing waits.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from argus.adapters.db.audit_memory import MemoryAuditLog
from argus.adapters.evidence.crypto import Keyring
from argus.adapters.evidence.fs import FileBlobStore
from argus.adapters.evidence.signing import Ed25519Signer
from argus.domain.actor import SYSTEM_ACTOR
from argus.domain.alerts import Alert, AlertState
from argus.domain.alerts.groups import new_group
from argus.domain.audit import AuditCheckpoint, AuditEntry
from argus.domain.errors import ConflictError, ValidationError
from argus.domain.events import Envelope
from argus.domain.retention import RETENTION_KEY, RetentionPolicy
from argus.domain.workstations import DecisionRecord
from argus.ports.audit import AuditFilter
from argus.ports.evidence import EvidenceFilter
from argus.services.evidence import EvidenceService
from argus.services.incidents import IncidentService
from argus.services.legal_hold import LegalHoldService
from argus.services.retention import RetentionPolicies, RetentionSweeper
from tests.integration import test_repositories_contract as contract
from tests.integration.test_alerts_contract import _alert, _incident
from tests.integration.test_repositories_contract import SECRET, T0, Store, _event

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

store = contract.store

DAY = timedelta(days=1)
HEATMAP = "heatmap.minute"


def _old_final(
    offset_s: float, event: Envelope | None = None, *, state: AlertState = "cleared"
) -> Alert:
    alert = _alert(offset_s, state=state, version=2)
    return alert if event is None else replace(alert, event_id=event.event_id)


async def _event_ids(store: Store) -> set[str]:
    page = await store.db.events.query(limit=1000)
    return {e.event_id for e in page.items}


# --- the store's batched deletes -------------------------------------------------------------


async def test_events_go_oldest_first_in_batches_keeping_what_is_held(store: Store) -> None:
    events = [_event(i) for i in range(8)]
    heatmaps = [_event(i, type_=HEATMAP) for i in range(2)]
    await store.db.events.add_many([*events, *heatmaps])
    retention, cutoff = store.db.retention, T0 + timedelta(seconds=5)
    kept = {events[1].event_id}

    def delete(limit: int) -> Awaitable[int]:
        return retention.delete_events(cutoff, limit=limit, exclude_types=(HEATMAP,), keep=kept)

    assert await delete(2) == 2
    assert await _event_ids(store) == {e.event_id for e in [*events[1:2], *events[3:], *heatmaps]}
    assert await delete(10) == 2
    assert await delete(10) == 0
    assert await retention.delete_events(cutoff, limit=10, types=(HEATMAP,)) == 2
    assert await _event_ids(store) == {e.event_id for e in [events[1], *events[5:]]}
    with pytest.raises(ValidationError):
        await retention.delete_events(cutoff.replace(tzinfo=None), limit=1)
    with pytest.raises(ValidationError):
        await retention.delete_events(cutoff, limit=0)


async def test_only_alerts_in_a_final_state_go_and_groups_after_their_alerts(store: Store) -> None:
    db = store.db
    waiting = _alert(0)
    held = _old_final(1, state="confirmed")
    gone = [_old_final(2), _old_final(3, state="false_positive")]
    recent = _old_final(3 * 86_400)
    for alert in (waiting, held, *gone, recent):
        assert await db.alerts.add(alert)
    cutoff = T0 + DAY
    assert await db.retention.delete_alerts(cutoff, limit=1, keep={held.id}) == 1
    assert await db.retention.delete_alerts(cutoff, limit=10, keep={held.id}) == 1
    remaining = {a.id for a in (await db.alerts.list()).items}
    assert remaining == {waiting.id, held.id, recent.id}

    empty = replace(new_group("g-empty", gone[0], "gate"), state="closed", open_count=0)
    member = replace(new_group("g-member", held, "gate"), state="closed", open_count=0)
    still_open = new_group("g-open", gone[1], "gate")
    for group in (empty, member, still_open):
        await db.alert_groups.add(group)
    await db.alerts.update(replace(held, group_id="g-member", version=held.version + 1))
    assert await db.retention.delete_alert_groups(cutoff, limit=10) == 1
    assert {g.id for g in (await db.alert_groups.list()).items} == {"g-member", "g-open"}


async def test_closed_incidents_and_old_decisions_go(store: Store) -> None:
    db = store.db
    incidents = [
        _incident(0, status="resolved"),
        _incident(1, status="closed", legal_hold="case 2026-17"),
        _incident(2, status="open"),
        replace(_incident(3, status="closed"), updated_at=T0 + 2 * DAY),
    ]
    for incident in incidents:
        await db.incidents.add(incident)
    assert await db.retention.delete_incidents(T0 + DAY, limit=10, keep={incidents[1].id}) == 1
    left = {i.id for i in (await db.incidents.list()).items}
    assert left == {i.id for i in incidents[1:]}
    assert (await db.incidents.get(incidents[1].id)).legal_hold == "case 2026-17"

    for n in range(3):
        record = DecisionRecord(f"d-{n}", "client-1", "lock_screen", ("no_face",), T0 + n * DAY)
        await db.verify_decisions.add(record)
    assert await db.retention.delete_decisions(T0 + 1.5 * DAY, limit=1) == 1
    assert await db.retention.delete_decisions(T0 + 1.5 * DAY, limit=5) == 1
    assert [r.id for r in (await db.verify_decisions.list()).items] == ["d-2"]


# --- the audit log pruned behind a signed checkpoint -----------------------------------------


async def _append(store: Store, count: int) -> None:
    for n in range(count):
        entry = AuditEntry("test.action", "user:admin", T0 + timedelta(minutes=n), f"thing:{n}")
        await store.db.audit.append(entry)


async def test_pruned_audit_log_still_verifies_and_keeps_its_head(store: Store) -> None:
    audit = store.db.audit
    await _append(store, 10)
    head = await audit.head()
    assert await audit.prune_before(T0 + timedelta(minutes=5), limit=3, at=T0 + DAY) == 3
    report = await audit.verify(expected_head=head)
    assert report.ok, report.problems
    assert (report.records, report.start[0], report.head) == (7, 3, head)
    assert await audit.prune_before(T0 + timedelta(minutes=5), limit=100, at=T0 + DAY) == 2
    assert await audit.prune_before(T0 + timedelta(minutes=5), limit=100, at=T0 + DAY) == 0
    # Everything is old now, but the head stays: the next append chains to it.
    assert await audit.prune_before(T0 + 30 * DAY, limit=100, at=T0 + 30 * DAY) == 4
    assert [r.seq for r in await audit.records()] == [10]
    assert await audit.head() == head
    await _append(store, 1)
    report = await audit.verify(expected_head=head)
    assert report.ok, report.problems
    assert (report.records, report.head[0]) == (2, 11)
    checkpoints = await audit.checkpoints()
    assert [(c.seq, c.count) for c in checkpoints] == [(9, 4), (5, 2), (3, 3)]
    assert await audit.count() == 2


async def test_a_forged_checkpoint_is_reported(store: Store) -> None:
    audit = store.db.audit
    await _append(store, 6)
    assert await audit.prune_before(T0 + timedelta(minutes=2), limit=10, at=T0 + DAY) == 2
    (genuine,) = await audit.checkpoints()
    # Someone deletes two more records and writes a checkpoint over them without the key.
    records = await audit.records()
    forged = AuditCheckpoint(
        seq=4,
        hash=records[1].hash,
        count=2,
        before=genuine.before,
        pruned_at=genuine.pruned_at,
        signature="ab" * 32,
    )
    if isinstance(audit, MemoryAuditLog):
        records_table, checkpoints_table = audit.tables()
        del records_table[:2]
        checkpoints_table.append(forged)
    else:
        async with store.sql.engine.begin() as connection:
            await connection.execute(sa.text("DELETE FROM audit_log WHERE seq <= 4"))
            await connection.execute(
                sa.text(
                    "INSERT INTO audit_checkpoints (seq, hash, count, before, pruned_at, signature)"
                    " VALUES (4, :hash, 2, :before, :at, :signature)"
                ),
                {
                    "hash": forged.hash,
                    "before": forged.before,
                    "at": forged.pruned_at,
                    "signature": forged.signature,
                },
            )
    kinds = [(p.seq, p.kind) for p in (await audit.verify()).problems]
    assert (4, "forged") in kinds
    assert (1, "deleted") in kinds


# --- the sweep -------------------------------------------------------------------------------


class Clock:
    """A settable clock."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Sweep:
    """A sweeper over a store, with its evidence service and clock."""

    sweeper: RetentionSweeper
    holds: LegalHoldService
    evidence: EvidenceService
    policies: RetentionPolicies
    clock: Clock


@pytest.fixture
async def sweep(store: Store, tmp_path: Path) -> AsyncIterator[Sweep]:
    clock = Clock(T0)
    evidence = EvidenceService(
        store.db.evidence,
        FileBlobStore(tmp_path / "evidence"),
        Keyring({"k1": bytes(range(32))}),
        store.db.audit,
        Ed25519Signer.from_secret(SECRET),
        clock=clock,
    )
    policies = RetentionPolicies(store.db, clock)
    holds = LegalHoldService(store.db, evidence, clock)
    sweeper = RetentionSweeper(
        store.db, evidence.purge_expired, clock, policies.get, holds=holds, batch=3
    )
    try:
        yield Sweep(sweeper, holds, evidence, policies, clock)
    finally:
        await evidence.close()


async def test_the_sweep_deletes_what_is_past_retention_and_keeps_what_is_held(
    store: Store, sweep: Sweep
) -> None:
    db = store.db
    events = [_event(i) for i in range(10)]
    await db.events.add_many(events)
    held_alert = _old_final(0, events[0], state="confirmed")
    other = _old_final(1, events[1])
    for alert in (held_alert, other):
        await db.alerts.add(alert)
    incident = _incident(0, status="closed", alert_ids=(held_alert.id,))
    await db.incidents.add(incident)
    kept_items = [
        await sweep.evidence.store(b"frame", "snapshot", "image/jpeg", alert_id=held_alert.id),
        await sweep.evidence.store(b"frame", "snapshot", "image/jpeg", incident_id=incident.id),
    ]
    await sweep.evidence.store(b"frame", "snapshot", "image/jpeg", alert_id=other.id)
    await sweep.holds.hold(SYSTEM_ACTOR, incident.id, "court order 17")
    with pytest.raises(ConflictError, match="legal hold"):
        await IncidentService(db, sweep.clock).delete(SYSTEM_ACTOR, incident.id)

    sweep.clock.now = T0 + 3000 * DAY
    report = await sweep.sweeper.sweep()
    assert report.errors == {}
    assert report.deleted["events"] == 9
    assert report.deleted["alerts"] == 1
    assert report.deleted["incidents"] == 0
    assert report.deleted["evidence"] == 1
    assert report.deleted["audit"] > 0
    assert report.held_incidents == 1
    assert await _event_ids(store) == {events[0].event_id}
    assert (await db.alerts.get(held_alert.id)).id == held_alert.id
    held_items = (await db.evidence.list(EvidenceFilter(locked=True))).items
    assert {i.id for i in held_items} == {i.id for i in kept_items}
    report_record = (await db.audit.records(where=AuditFilter(action="retention.sweep")))[-1]
    assert report_record.entry.details["deleted"]["events"] == 9
    assert (await db.audit.verify()).ok

    await sweep.holds.release(SYSTEM_ACTOR, incident.id)
    assert (await db.evidence.list(EvidenceFilter(locked=True))).total == 0
    report = await sweep.sweeper.sweep()
    assert (report.deleted["alerts"], report.deleted["events"]) == (1, 1)
    assert (report.deleted["evidence"], report.held_incidents) == (2, 0)
    # Releasing the hold changed the incident: it is kept 730 days from then.
    assert report.deleted["incidents"] == 0
    sweep.clock.now += 731 * DAY
    assert (await sweep.sweeper.sweep()).deleted["incidents"] == 1
    assert (await db.audit.verify()).ok


async def test_the_policy_is_stored_partially_and_audited(store: Store, sweep: Sweep) -> None:
    assert await sweep.policies.get() == RetentionPolicy()
    updated = await sweep.policies.update(SYSTEM_ACTOR, {"events": 7, "audit": 365})
    assert (updated.events, updated.audit, updated.alerts) == (7.0, 365.0, 365.0)
    assert await sweep.policies.get() == updated
    assert (await store.db.settings.get(RETENTION_KEY) or {})["events"] == 7.0
    record = (await store.db.audit.records(where=AuditFilter(action="retention.update")))[-1]
    assert record.entry.details["changed"]["events"] == {"from": 90.0, "to": 7.0}
    with pytest.raises(ValidationError, match="unknown"):
        await sweep.policies.update(SYSTEM_ACTOR, {"eventz": 7})


async def test_ingest_keeps_flowing_between_batches(store: Store, sweep: Sweep) -> None:
    db = store.db
    await db.events.add_many([_event(i) for i in range(30)])
    sweep.clock.now = T0 + 100 * DAY
    done = asyncio.Event()
    during: list[str] = []

    async def ingest() -> None:
        n = 0
        while not done.is_set():
            fresh = _event(100 * 86_400 + n)
            await db.events.add(fresh)
            during.append(fresh.event_id)
            n += 1
            await asyncio.sleep(0)

    async with asyncio.TaskGroup() as tasks:
        task = tasks.create_task(ingest())
        await asyncio.sleep(0)
        report = await sweep.sweeper.sweep()
        done.set()
    assert task.done()
    assert report.deleted["events"] == 30
    assert len(during) > 1  # events went in while the sweep ran, between its batches
    assert await _event_ids(store) == set(during)

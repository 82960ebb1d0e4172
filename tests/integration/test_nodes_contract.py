"""The edge node store's contract: registrations, health time series, offline flag, links.

The same cases run against the in-memory store, SQLite (a temporary file) and
PostgreSQL (a fresh schema per test), through the ``store`` fixture of the
repository contract (``test_repositories_contract``). Cameras assigned to a
node (``Camera.edge_node_id``) are covered here too.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from argus.adapters.db import migrate
from argus.adapters.db.sql import SqlDatabase
from argus.adapters.db.tables import rules
from argus.adapters.db.tables_edge import edge_nodes
from argus.domain.cameras import Camera
from argus.domain.edge import CameraHealth, EdgeNode, NodeHealth
from argus.domain.errors import NotFoundError, StorageError, ValidationError
from argus.domain.events import new_event_id
from argus.domain.rules import Rule
from argus.ports.nodes import NodeRepository
from argus.services.edge_nodes import NodeService
from tests.integration import test_repositories_contract as contract
from tests.integration.test_repositories_contract import POSTGRES_URL, SECRET, T0, Store

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

# The parametrised store (memory, SQLite, PostgreSQL) and the anyio backend, shared as is.
store = contract.store

KEY = bytes(range(32))


def _node(node_id: str = "node-1", **changes: Any) -> EdgeNode:
    base: dict[str, Any] = {
        "node_id": node_id,
        "key_id": "key-1",
        "version": "0.17.0",
        "models": ("yolov7-tiny@1",),
        "capabilities": ("tamper", "evidence"),
        "hostname": "edge-host",
        "registered_at": T0,
        "evidence_key": KEY,
    }
    return EdgeNode(**{**base, **changes})


def _report(at: datetime, node_id: str = "node-1", **changes: Any) -> NodeHealth:
    camera = CameraHealth(
        camera_id="cam-1",
        state="online",
        fps_in=25.0,
        fps_analysed=4.5,
        decode_errors=2,
        reconnects=0,
        last_frame_age_s=0.125,
        tamper="covered",
        tamper_score=0.75,
    )
    base: dict[str, Any] = {
        "report_id": new_event_id(at),
        "node_id": node_id,
        "at": at,
        "state": "online",
        "cpu_percent": 12.5,
        "memory_percent": 40.0,
        "disk_free_bytes": 5 * 10**10,
        "disk_total_bytes": 10**11,
        "temperature_c": 55.5,
        "outbox_items": 0,
        "outbox_bytes": 0,
        "outbox_oldest_age_s": None,
        "outbox_dropped": {"health": 1},
        "quarantined": 0,
        "clock_offset_s": -0.5,
        "versions": {"argus": "0.17.0"},
        "cameras": (camera,),
    }
    return NodeHealth(**{**base, **changes})


async def test_a_node_is_registered_once_and_keeps_its_key(store: Store) -> None:
    nodes: NodeRepository = store.db.nodes
    assert isinstance(nodes, NodeRepository)
    assert await nodes.get("node-1") is None
    assert await nodes.list() == []
    first = await nodes.upsert_registration(_node())
    assert first == _node()
    assert await nodes.get("node-1") == first
    again = _node(
        key_id="key-2",
        evidence_key=bytes(32),
        registered_at=T0 + timedelta(days=1),
        version="0.18.0",
        models=("yolov7@2",),
        capabilities=("rtsp",),
        hostname="",
    )
    stored = await nodes.upsert_registration(again)
    assert stored.key_id == "key-1"
    assert stored.evidence_key == KEY
    assert stored.registered_at == T0
    assert (stored.version, stored.models, stored.capabilities, stored.hostname) == (
        "0.18.0",
        ("yolov7@2",),
        ("rtsp",),
        "",
    )
    assert await nodes.get("node-1") == stored
    await nodes.upsert_registration(_node("node-0"))
    assert [n.node_id for n in await nodes.list()] == ["node-0", "node-1"]


async def test_reports_are_stored_once_and_the_newest_stays_on_the_node(store: Store) -> None:
    nodes = store.db.nodes
    with pytest.raises(NotFoundError):
        await nodes.record_report(_report(T0), T0)
    await nodes.upsert_registration(_node())
    newer, older = _report(T0 + timedelta(seconds=30)), _report(T0)
    seen = T0 + timedelta(seconds=31)
    assert await nodes.record_report(newer, seen) is True
    node = await nodes.get("node-1")
    assert node is not None
    assert node.last_report == newer
    assert node.last_seen_at == seen
    assert await nodes.record_report(newer, seen + timedelta(seconds=5)) is False
    assert await nodes.get("node-1") == node
    # A backlog synced late: stored in the series, but neither the last report nor seen time
    # moves backwards.
    assert await nodes.record_report(older, seen - timedelta(seconds=10)) is True
    assert await nodes.get("node-1") == node
    assert await nodes.history("node-1", T0, 10) == [older, newer]


async def test_offline_is_a_compare_and_set(store: Store) -> None:
    nodes = store.db.nodes
    with pytest.raises(NotFoundError):
        await nodes.set_offline("node-1", True)
    await nodes.upsert_registration(_node())
    assert await nodes.set_offline("node-1", True) is True
    assert await nodes.set_offline("node-1", True) is False
    node = await nodes.get("node-1")
    assert node is not None
    assert node.offline
    assert await nodes.set_offline("node-1", False) is True
    assert await nodes.set_offline("node-1", False) is False
    winners = await asyncio.gather(*(nodes.set_offline("node-1", True) for _ in range(5)))
    assert sorted(winners) == [False, False, False, False, True]
    assert await nodes.record_report(_report(T0), T0) is True
    node = await nodes.get("node-1")
    assert node is not None
    assert not node.offline
    # Re-registering leaves the flag to the watch.
    await nodes.set_offline("node-1", True)
    assert (await nodes.upsert_registration(_node())).offline is True


async def test_history_is_a_bounded_time_series(store: Store) -> None:
    nodes = store.db.nodes
    await nodes.upsert_registration(_node())
    await nodes.upsert_registration(_node("node-2"))
    reports = [_report(T0 + timedelta(seconds=30 * i)) for i in range(6)]
    for report in reversed(reports):
        await nodes.record_report(report, T0)
    await nodes.record_report(_report(T0 + timedelta(seconds=45), "node-2"), T0)
    assert await nodes.history("node-1", T0, 100) == reports
    assert await nodes.history("node-1", T0 + timedelta(seconds=60), 2) == reports[2:4]
    assert await nodes.history("node-9", T0, 10) == []
    with pytest.raises(ValidationError):
        await nodes.history("node-1", T0, 0)
    with pytest.raises(ValidationError):
        await nodes.history("node-1", T0.replace(tzinfo=None), 10)
    assert await nodes.purge_reports(T0 + timedelta(seconds=60)) == 3  # two of node-1, one of 2
    assert await nodes.history("node-1", T0, 100) == reports[2:]
    assert await nodes.history("node-2", T0, 100) == []
    assert await nodes.purge_reports(T0) == 0
    node = await nodes.get("node-1")
    assert node is not None
    assert node.last_report == reports[-1]
    assert await nodes.purge_reports(T0 + timedelta(days=1)) == 4
    node = await nodes.get("node-1")
    assert node is not None
    assert node.last_report == reports[-1]


async def test_evidence_links(store: Store) -> None:
    nodes = store.db.nodes
    event, clip, snap = new_event_id(T0), new_event_id(T0), new_event_id(T0)
    assert await nodes.evidence_for(event) == []
    await nodes.link_evidence(event, snap, "snapshot")
    await nodes.link_evidence(event, clip, "clip")
    await nodes.link_evidence(event, clip, "clip")
    await nodes.link_evidence(clip, clip, "clip")
    assert await nodes.evidence_for(event) == sorted([(snap, "snapshot"), (clip, "clip")])
    assert await nodes.evidence_for(clip) == [(clip, "clip")]
    with pytest.raises(ValidationError):
        await nodes.link_evidence(event, snap, "k" * 33)


async def test_the_evidence_key_is_encrypted_at_rest(store: Store) -> None:
    db = store.sql
    await db.nodes.upsert_registration(_node())
    async with db.engine.connect() as connection:
        raw = (await connection.execute(sa.select(edge_nodes.c.evidence_key))).scalar_one()
        await connection.execute(sa.update(edge_nodes).values(node_id="node-2"))
        await connection.commit()
    assert KEY not in bytes(raw)
    with pytest.raises(StorageError):  # bound to its node: a row moved does not decrypt
        await db.nodes.get("node-2")


async def test_another_secret_cannot_read_the_evidence_key(store: Store) -> None:
    db = store.sql
    await db.nodes.upsert_registration(_node())
    other = await store.reopen(b"another-secret-key-0123456789abcd")
    try:
        with pytest.raises(StorageError):
            await other.nodes.get("node-1")
    finally:
        await other.close()


async def test_two_servers_race_for_offline(store: Store) -> None:
    db = store.sql
    await db.nodes.upsert_registration(_node())
    other: SqlDatabase = await store.reopen()
    try:
        results = await asyncio.gather(
            db.nodes.set_offline("node-1", True), other.nodes.set_offline("node-1", True)
        )
        assert sorted(results) == [False, True]
        report = _report(T0)
        stored = await asyncio.gather(
            db.nodes.record_report(report, T0), other.nodes.record_report(report, T0)
        )
        assert sorted(stored) == [False, True]
    finally:
        await other.close()


async def test_cameras_carry_their_edge_node(store: Store) -> None:
    cameras = store.db.cameras
    local = Camera(id="cam-a", name="A", stream_url="rtsp://a/1", created_at=T0, updated_at=T0)
    remote = replace(local, id="cam-b", name="B", edge_node_id="node-1")
    later = replace(local, id="cam-c", created_at=T0 + timedelta(seconds=1), edge_node_id="node-1")
    for camera in (local, remote, later):
        await cameras.add(camera)
    assert await cameras.get("cam-b") == remote
    page = await cameras.list(edge_node_id="node-1")
    assert page.items == (remote, later)
    assert page.total == 2
    assert (await cameras.list(edge_node_id="node-2")).total == 0
    assert (await cameras.list()).total == 3
    await cameras.update(replace(remote, edge_node_id=None))
    assert (await cameras.get("cam-b")).edge_node_id is None
    assert (await cameras.list(edge_node_id="node-1", limit=1, offset=0)).items == (later,)
    with pytest.raises(ValidationError):
        replace(local, edge_node_id="Not A Node")


async def test_an_edge_cameras_status_shows_its_nodes_inference_grant(store: Store) -> None:
    await store.db.nodes.upsert_registration(_node())
    saturated = replace(_report(T0).cameras[0], target_fps=10.0, granted_fps=4.5, saturated=True)
    other = replace(
        saturated, camera_id="cam-2", target_fps=None, granted_fps=None, saturated=False
    )
    await store.db.nodes.record_report(_report(T0, cameras=(saturated, other)), T0)
    camera = Camera(
        id="cam-1",
        name="Gate",
        stream_url="rtsp://a/1",
        created_at=T0,
        updated_at=T0,
        edge_node_id="node-1",
    )
    service = NodeService(store.db)
    status = await service.camera_status(camera)
    assert status is not None
    assert (status.target_fps, status.granted_fps, status.saturated) == (10.0, 4.5, True)
    assert status.fps_detected == 4.5
    status = await service.camera_status(replace(camera, id="cam-2"))
    assert status is not None
    assert (status.target_fps, status.granted_fps, status.saturated) == (None, None, False)


async def test_a_report_stored_before_the_grant_fields_still_reads(store: Store) -> None:
    db = store.sql
    await db.nodes.upsert_registration(_node())
    report = _report(T0)
    await db.nodes.record_report(report, T0)
    old = report.to_dict()
    old["cameras"] = [
        {k: v for k, v in c.to_dict().items() if k in CameraHealth.KEYS_BEFORE_GRANTS}
        for c in report.cameras
    ]
    async with db.engine.connect() as connection:
        await connection.execute(sa.update(edge_nodes).values(last_report=old))
        await connection.commit()
    node = await db.nodes.get("node-1")
    assert node is not None
    assert node.last_report == report
    assert node.last_report.cameras[0].granted_fps is None


def _rule_row(rule_id: str, types: list[str], description: str = "") -> dict[str, Any]:
    rule = Rule(id=rule_id, name=rule_id, created_at=T0, updated_at=T0, description=description)
    definition = {**rule.to_dict(), "event_types": types}
    return {
        "id": rule_id,
        "name": rule_id,
        "camera_id": None,
        "enabled": True,
        "created_at": T0,
        "updated_at": T0,
        "definition": definition,
    }


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
async def test_the_upgrade_fixes_rules_of_unknown_event_types(tmp_path: Path, kind: str) -> None:
    schema = f"t_{uuid.uuid4().hex[:12]}" if kind == "postgresql" else None
    url = POSTGRES_URL if schema else f"sqlite:///{tmp_path / 'old.db'}"
    old = await SqlDatabase.open(url, secret_key=SECRET, schema=schema, run_migrations=False)
    try:
        await migrate.upgrade(old.engine, "0007")
        async with old.engine.begin() as connection:
            await connection.execute(
                sa.insert(rules),
                [
                    _rule_row("fine", ["line.crossed"]),
                    _rule_row("mixed", ["zone.exit", "zone.entered"]),
                    _rule_row("never", ["camera.exploded"], "Watch the door."),
                    _rule_row("any", []),
                ],
            )
        await old.migrate()
        stored = {rule.id: rule for rule in (await old.rules.list(limit=10)).items}
        assert stored["fine"].event_types == ("line.crossed",)
        assert stored["fine"].enabled
        assert stored["mixed"].event_types == ("zone.entered",)
        assert stored["mixed"].enabled
        assert stored["never"].event_types == ()
        assert not stored["never"].enabled
        assert stored["never"].description.startswith("Watch the door. [disabled by upgrade")
        assert "camera.exploded" in stored["never"].description
        assert (await old.rules.list(limit=10, enabled=True)).total == 3
        assert stored["any"].enabled
    finally:
        await old.close()
        if schema is not None:
            await contract._drop_schema(schema)

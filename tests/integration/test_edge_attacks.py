"""Attacks on what ``argus edge`` opened to the network: ``/api/v1/edge/*`` and ``/api/v1/nodes``.

Each test performs one attack as a hostile key or node would, over the real
API, and asserts the refusal: keys without ``edge``, one node's key speaking
for another node, forged node-level and server-derived events, evidence
forged or aimed at another camera's alerts, oversized and malformed batches,
clock-offset abuse, node id tricks, camera-scoped keys, the configuration
long poll (its bound per key, and a key revoked while it waits), a flood of
syncs, a tampered configuration cache on the node, and an ``ingest`` key
posting node and health events through ``/api/v1/events`` to clear edge alerts.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import json
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from argus.adapters.crypto.seal import seal
from argus.adapters.edge.sealed_file import SealedFile
from argus.domain.codec import iso_z
from argus.domain.edge import EdgeEvidence
from argus.domain.events import Envelope, EventSource, new_event_id
from argus.services.edge_registry import MAX_CONFIG_WAITS_PER_KEY
from tests.auth_support import settings_for
from tests.integration.api_support import STORES, Api, api, eventually
from tests.integration.edge_api_support import (
    as_key,
    crossing,
    edge_camera,
    edge_key,
    items,
    key_bytes,
    register,
    sync,
)
from tests.node_support import NOON, camera_health, node_health

pytestmark = pytest.mark.anyio

JPEG = b"\xff\xd8\xff\xe0 evidence \xff\xd9"
CONFIG = "/api/v1/edge/config?node_id="


@pytest.fixture(params=STORES)
async def app(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Api]:
    async with api(request.param, tmp_path) as running:
        yield running


def event(kind: str, node_id: str, camera_id: str, at: datetime = NOON) -> Envelope:
    """An event of any type, as a (possibly hostile) node makes it."""
    payload: dict[str, object] = {"kind": "covered", "score": 0.9, "state": "raised"}
    return Envelope(new_event_id(at), kind, at, EventSource(node_id, camera_id), payload)


def sealed(
    key: bytes,
    node_id: str,
    camera_id: str,
    event_ids: tuple[str, ...],
    data: bytes = JPEG,
) -> EdgeEvidence:
    """A snapshot sealed under ``key`` for ``node_id``'s ``camera_id``."""
    evidence_id = new_event_id(NOON)
    aad = f"{evidence_id}|{node_id}|{camera_id}|snapshot".encode()
    return EdgeEvidence(
        evidence_id=evidence_id,
        node_id=node_id,
        camera_id=camera_id,
        event_ids=event_ids,
        kind="snapshot",
        content_type="image/jpeg",
        captured_at=NOON,
        blob=seal(key, data, aad),
    )


async def results(app: Api, key: str, batch: list[dict[str, object]], node: str) -> list[Any]:
    answer = await sync(app, key, batch, node_id=node)
    assert answer.status_code == 200, answer.text
    found: list[Any] = answer.json()["results"]
    return found


async def two_nodes(app: Api) -> tuple[str, str, str, str, bytes, bytes]:
    """node-a and node-b with one camera each: keys, cameras, evidence keys (a, then b)."""
    _, key_a = await edge_key(app, "a")
    _, key_b = await edge_key(app, "b")
    reg_a, reg_b = await register(app, key_a, "node-a"), await register(app, key_b, "node-b")
    assert reg_a.status_code == reg_b.status_code == 200
    cam_a = await edge_camera(app, "gate", node_id="node-a")
    cam_b = await edge_camera(app, "yard", node_id="node-b")
    return key_a, key_b, cam_a, cam_b, key_bytes(reg_a), key_bytes(reg_b)


async def alerts_of(app: Api, event_id: str) -> list[dict[str, Any]]:
    page = (await app.client.get("/api/v1/alerts?limit=200")).json()["items"]
    return [a for a in page if a["event_id"] == event_id]


async def raised(app: Api, event_id: str) -> dict[str, Any]:
    found: list[dict[str, Any]] = []

    async def check() -> bool:
        found[:] = await alerts_of(app, event_id)
        return bool(found)

    await eventually(check, f"the alert of {event_id}")
    return found[0]


async def evidence_of(app: Api, alert_id: str) -> list[dict[str, Any]]:
    listed: list[dict[str, Any]] = (
        await app.client.get(f"/api/v1/evidence?alert_id={alert_id}")
    ).json()["items"]
    return listed


# --- Who may call /edge at all, and for which node ---


async def test_keys_without_the_edge_permission_are_refused(app: Api) -> None:
    _, owner = await edge_key(app)
    await register(app, owner)
    for permission in ("view", "operate", "ingest", "configure"):
        made = await app.client.post(
            "/api/v1/api-keys", json={"name": permission, "permissions": [permission]}
        )
        key = made.json()["key"]
        assert (await register(app, key, "node-9")).status_code == 403
        config = await app.client.get(CONFIG + "node-1", headers=as_key(key))
        assert config.status_code == 403
        assert (await sync(app, key, [])).status_code == 403
    anonymous = await app.client.post(
        "/api/v1/edge/sync", json={}, headers={"Authorization": "Bearer ak_nope.nope"}
    )
    assert anonymous.status_code == 401


async def test_one_nodes_key_cannot_speak_for_another_node(app: Api) -> None:
    key_a, _, cam_a, cam_b, seal_a, seal_b = await two_nodes(app)
    # Replayed registration of node-b by key a: refused, and node-b's evidence key not shown.
    stolen = await register(app, key_a, "node-b")
    assert stolen.status_code == 403
    assert base64.b64encode(seal_b).decode() not in stolen.text
    assert (await app.client.get(CONFIG + "node-b", headers=as_key(key_a))).status_code == 403
    assert (
        await sync(app, key_a, items(crossing(cam_b, node_id="node-b")), "node-b")
    ).status_code == 403
    # Through its own node: another node's camera, source and reports are rejected one by one.
    batch = items(
        crossing(cam_b, node_id="node-a"),  # a camera of node-b
        crossing(cam_b, node_id="node-b"),  # ... claiming to come from node-b
        crossing(cam_a, node_id="node-b"),  # its own camera, as node-b
        event("camera.tamper", "node-a", "node:node-b"),  # node-b's node-level id
        event("camera.tamper", "node-b", "node:node-b"),
        node_health(node_id="node-b"),
        sealed(seal_a, "node-a", cam_b, ()),  # evidence of node-b's camera
        sealed(seal_b, "node-b", cam_b, ()),  # node-b's own evidence, replayed by node-a
    )
    found = await results(app, key_a, batch, "node-a")
    assert [r["status"] for r in found] == ["rejected"] * len(batch)
    events = (await app.client.get(f"/api/v1/events?camera_id={cam_b}")).json()["items"]
    assert events == []


async def test_a_key_cannot_claim_a_second_node_id(app: Api) -> None:
    key_a, _, _, _, seal_a, _ = await two_nodes(app)
    # An admin assigns a camera to a node that has not registered yet: node-a's key
    # (or whoever stole it) cannot squat that id and read the camera's credentials.
    await edge_camera(app, "dock", node_id="node-c")
    squat = await register(app, key_a, "node-c")
    assert squat.status_code == 403
    assert "node-a" in squat.text
    assert (await app.client.get(CONFIG + "node-c", headers=as_key(key_a))).status_code in (
        403,
        404,
    )
    again = await register(app, key_a, "node-a")  # its own node: still fine, same key
    assert again.status_code == 200
    assert key_bytes(again) == seal_a


async def test_a_node_cannot_clear_the_alerts_of_another_nodes_cameras(app: Api) -> None:
    key_a, key_b, _, cam_b, _, _ = await two_nodes(app)
    rule = {"name": "tamper", "event_types": ["camera.tamper", "node.offline"]}
    assert (await app.client.post("/api/v1/rules", json=rule)).status_code == 201
    tamper = event("camera.tamper", "node-b", cam_b)
    assert [r["status"] for r in await results(app, key_b, items(tamper), "node-b")] == ["stored"]
    alert = await raised(app, tamper.event_id)
    later = NOON + timedelta(minutes=5)
    forged = items(
        event("camera.tamper_cleared", "node-a", cam_b, later),
        event("camera.tamper_cleared", "node-b", cam_b, later),
        event("node.online", "node-a", "node:node-b", later),
    )
    found = await results(app, key_a, forged, "node-a")
    assert [r["status"] for r in found] == ["rejected"] * 3
    still = (await app.client.get(f"/api/v1/alerts/{alert['id']}")).json()
    assert still["state"] != "cleared"


@pytest.mark.parametrize(
    "kind", ["node.offline", "node.online", "camera.online", "node.disk_ok", "node.clock_ok"]
)
async def test_a_node_cannot_send_the_events_only_the_control_plane_derives(
    app: Api, kind: str
) -> None:
    _, key = await edge_key(app)
    await register(app, key)
    camera = await edge_camera(app, "gate")
    target = camera if kind.startswith("camera.") else "node:node-1"
    [result] = await results(app, key, items(event(kind, "node-1", target)), "node-1")
    assert result["status"] == "rejected"
    assert "derived by the control plane" in result["reason"]
    # What the node itself emits (tamper) still passes.
    tamper = event("camera.tamper_cleared", "node-1", camera)
    assert [r["status"] for r in await results(app, key, items(tamper), "node-1")] == ["stored"]


# --- Evidence ---


async def test_forged_seals_are_rejected(app: Api) -> None:
    _, key = await edge_key(app)
    sealing = key_bytes(await register(app, key))
    camera = await edge_camera(app, "gate")
    good, other = sealed(sealing, "node-1", camera, ()), sealed(sealing, "node-1", camera, ())
    wrong_hash = dataclasses.replace(good, blob=dataclasses.replace(good.blob, sha256="0" * 64))
    swapped = dataclasses.replace(good, blob=other.blob)  # the aad binds the evidence id
    wrong_key = sealed(bytes(32), "node-1", camera, ())
    flipped = base64.b64decode(good.blob.ciphertext)
    tampered = dataclasses.replace(
        good,
        blob=dataclasses.replace(
            good.blob,
            ciphertext=base64.b64encode(bytes([flipped[0] ^ 1]) + flipped[1:]).decode(),
        ),
    )
    found = await results(app, key, items(wrong_hash, swapped, wrong_key, tampered), "node-1")
    assert [r["status"] for r in found] == ["rejected"] * 4
    assert all("does not open" in r["reason"] for r in found)
    listed = (await app.client.get(f"/api/v1/evidence?camera_id={camera}")).json()["items"]
    assert listed == []


async def test_evidence_cannot_reach_the_alerts_of_another_camera(app: Api) -> None:
    key_a, key_b, cam_a, cam_b, seal_a, seal_b = await two_nodes(app)
    rule = {"name": "crossing", "event_types": ["line.crossed"]}
    assert (await app.client.post("/api/v1/rules", json=rule)).status_code == 201
    # After the alert: node-a's evidence names node-b's event.
    victim = crossing(cam_b, node_id="node-b")
    assert [r["status"] for r in await results(app, key_b, items(victim), "node-b")] == ["stored"]
    alert = await raised(app, victim.event_id)
    planted = sealed(seal_a, "node-a", cam_a, (victim.event_id,), b"planted")
    assert [r["status"] for r in await results(app, key_a, items(planted), "node-a")] == ["stored"]
    assert await evidence_of(app, alert["id"]) == []
    # Before the alert: planted first, then node-b's own evidence and event.
    later = crossing(cam_b, NOON + timedelta(seconds=9), node_id="node-b")
    first = sealed(seal_a, "node-a", cam_a, (later.event_id,), b"planted")
    assert [r["status"] for r in await results(app, key_a, items(first), "node-a")] == ["stored"]
    own = sealed(seal_b, "node-b", cam_b, (later.event_id,), JPEG)
    stored = await results(app, key_b, items(own, later), "node-b")
    assert [r["status"] for r in stored] == ["stored", "stored"]
    second = await raised(app, later.event_id)
    held: list[dict[str, Any]] = []

    async def attached() -> bool:
        held[:] = await evidence_of(app, second["id"])
        return bool(held)

    await eventually(attached, "node-b's own evidence on its alert")
    assert [(e["camera_id"], e["sha256"]) for e in held] == [(cam_b, own.blob.sha256)]


# --- Sizes, shapes and numbers ---


async def test_oversized_and_malformed_batches_are_refused_cleanly(app: Api) -> None:
    _, key = await edge_key(app)
    await register(app, key)
    camera = await edge_camera(app, "gate")
    too_many = items(*(crossing(camera, NOON + timedelta(seconds=s)) for s in range(501)))
    assert (await sync(app, key, too_many)).status_code == 422
    huge = await app.client.post(
        "/api/v1/edge/sync",
        content=b'{"node_id": "node-1", "sent_at": "x", "items": ["' + b"a" * (17 * 2**20) + b'"]}',
        headers={**as_key(key), "content-type": "application/json"},
    )
    assert huge.status_code == 413
    deep_body = (
        '{"node_id":"node-1","sent_at":"2026-03-01T12:00:00Z","items":['
        + '{"a":' * 5000
        + "1"
        + "}" * 5000
        + "]}"
    )
    nested = await app.client.post(
        "/api/v1/edge/sync",
        content=deep_body.encode(),
        headers={**as_key(key), "content-type": "application/json"},
    )
    assert nested.status_code in (400, 422), nested.text
    [item] = items(crossing(camera))
    body = dict(item["body"])  # type: ignore[call-overload]
    body["payload"] = {"x": float("nan")}
    raw = json.dumps(
        {"node_id": "node-1", "sent_at": iso_z(NOON), "items": [{**item, "body": body}]}
    )
    assert "NaN" in raw
    nan = await app.client.post(
        "/api/v1/edge/sync",
        content=raw.encode(),
        headers={**as_key(key), "content-type": "application/json"},
    )
    assert nan.status_code in (200, 422), nan.text
    if nan.status_code == 200:
        assert nan.json()["results"][0]["status"] == "rejected"


async def test_hostile_health_reports_are_rejected_alone(app: Api) -> None:
    _, key = await edge_key(app)
    await register(app, key)
    camera = await edge_camera(app, "gate")

    def report(**changes: Any) -> dict[str, object]:
        [item] = items(node_health(cameras=(camera_health(camera),)))
        body = dict(item["body"])  # type: ignore[call-overload]
        body.update(changes)
        return {**item, "body": body}

    cams = [camera_health(f"c{i}").to_dict() for i in range(5000)]
    hostile = [
        report(cameras=cams),
        report(versions={"argus": "x" * 1_000_000}),
        report(versions={f"k{i}": "v" for i in range(10_000)}),
        report(cameras=[{**camera_health(camera).to_dict(), "camera_id": "c" * 100_000}]),
        report(clock_offset_s=1e300),
        report(cpu_percent=1e308),
        report(node_id="node-2"),
        report(hostname="x"),
    ]
    found = await results(app, key, hostile, "node-1")
    assert [r["status"] for r in found] == ["rejected"] * len(hostile), found
    assert all(len(r["reason"]) <= 1000 for r in found)
    # Absurd but well-formed counters are stored as they are, and break nothing.
    big = [
        report(disk_free_bytes=10**40),
        report(outbox_dropped={"event": 10**40}),
        report(cameras=[{**camera_health(camera).to_dict(), "decode_errors": 10**40}]),
    ]
    assert [r["status"] for r in await results(app, key, big, "node-1")] == ["stored"] * 3
    assert (await app.client.get("/api/v1/nodes/node-1")).status_code == 200
    assert (await app.client.get("/api/v1/nodes")).status_code == 200
    assert (await app.client.get("/metrics")).status_code == 200


async def test_a_huge_clock_offset_cannot_break_the_nodes_sync(app: Api) -> None:
    _, key = await edge_key(app)
    await register(app, key)
    camera = await edge_camera(app, "gate")
    # The largest offset a report may claim: events are re-dated or rejected, never a 500.
    skewed = node_health(clock_offset_s=3e9, cameras=(camera_health(camera),))
    first = await results(app, key, items(skewed), "node-1")
    assert first[0]["status"] == "stored", first
    end_of_time = crossing(camera, datetime(9999, 12, 31, tzinfo=NOON.tzinfo))
    answer = await sync(app, key, items(end_of_time, crossing(camera)))
    assert answer.status_code == 200, answer.text
    assert [r["status"] for r in answer.json()["results"]] == ["rejected", "stored"]
    assert "out of range" in answer.json()["results"][0]["reason"]
    following = node_health(at=NOON + timedelta(seconds=30), cameras=(camera_health(camera),))
    assert [r["status"] for r in await results(app, key, items(following), "node-1")] == ["stored"]
    [beyond] = items(node_health(at=NOON + timedelta(seconds=60)))
    body = {**beyond["body"], "clock_offset_s": -4e9}  # type: ignore[dict-item]
    [refused] = await results(app, key, [{**beyond, "body": body}], "node-1")
    assert refused["status"] == "rejected"
    assert "clock_offset_s" in refused["reason"]


@pytest.mark.parametrize(
    "node_id", ["../etc", "Node-1", "node-1\n", "a" * 65, "node-1/../node-2", ".hidden", ""]
)
async def test_node_ids_outside_the_alphabet_are_refused(app: Api, node_id: str) -> None:
    _, key = await edge_key(app)
    assert (await register(app, key, node_id)).status_code == 422
    config = await app.client.get(
        "/api/v1/edge/config", params={"node_id": node_id}, headers=as_key(key)
    )
    assert config.status_code in (404, 422)
    if node_id:
        answer = await app.client.get(f"/api/v1/nodes/{quote(node_id, safe='')}")
        assert answer.status_code in (404, 422), answer.text


# --- Camera scopes ---


async def test_a_camera_scoped_edge_key_gets_only_its_cameras(app: Api) -> None:
    mine = await edge_camera(app, "gate")
    theirs = await edge_camera(app, "vault")
    made = await app.client.post(
        "/api/v1/api-keys", json={"name": "scoped", "permissions": ["edge"], "cameras": [mine]}
    )
    key = made.json()["key"]
    assert (await register(app, key)).status_code == 200
    config = (await app.client.get(CONFIG + "node-1", headers=as_key(key))).json()
    assert [c["camera"]["id"] for c in config["cameras"]] == [mine]
    assert "s3cret" not in json.dumps([c for c in config["cameras"] if c["camera"]["id"] == theirs])
    found = await results(app, key, items(crossing(theirs), crossing(mine)), "node-1")
    assert [r["status"] for r in found] == ["rejected", "stored"]


async def test_a_camera_scoped_viewer_sees_only_its_cameras_in_nodes(app: Api) -> None:
    key_id, key = await edge_key(app)
    sealing = (await register(app, key)).json()["evidence_key"]
    mine = await edge_camera(app, "gate")
    theirs = await edge_camera(app, "vault")
    report = node_health(cameras=(camera_health(mine), camera_health(theirs)))
    assert [r["status"] for r in await results(app, key, items(report), "node-1")] == ["stored"]
    made = await app.client.post(
        "/api/v1/api-keys", json={"name": "viewer", "permissions": ["view"], "cameras": [mine]}
    )
    viewer = as_key(made.json()["key"])
    listed = (await app.client.get("/api/v1/nodes", headers=viewer)).json()
    detail = (
        await app.client.get(
            "/api/v1/nodes/node-1",
            params={"since": iso_z(NOON - timedelta(hours=1))},
            headers=viewer,
        )
    ).json()
    assert theirs not in json.dumps(listed)
    assert theirs not in json.dumps(detail)
    # Nobody reads a node's evidence key or its key id back, not even an admin.
    admin = (await app.client.get("/api/v1/nodes")).json()
    for body in (listed, detail, admin):
        assert sealing not in json.dumps(body)
        assert key_id not in json.dumps(body)
    assert (await app.client.get("/api/v1/nodes/node-9")).status_code == 404
    assert mine in json.dumps(detail["history"])
    assert (await app.client.get(CONFIG + "node-1", headers=viewer)).status_code == 403


# --- The configuration long poll ---


@pytest.mark.parametrize("wait", ["nan", "inf", "-1", "25.5", "1e999"])
async def test_config_waits_outside_the_bound_are_refused(app: Api, wait: str) -> None:
    _, key = await edge_key(app)
    await register(app, key)
    url = CONFIG + "node-1"
    revision = (await app.client.get(url, headers=as_key(key))).json()["revision"]
    answer = await app.client.get(f"{url}&after={revision}&wait={wait}", headers=as_key(key))
    assert answer.status_code == 422


async def test_config_long_polls_are_bounded_per_key_and_end_with_a_revoked_key(app: Api) -> None:
    key_id, key = await edge_key(app)
    await register(app, key)
    camera = await edge_camera(app, "gate")
    url = CONFIG + "node-1"
    revision = (await app.client.get(url, headers=as_key(key))).json()["revision"]
    waits = [
        asyncio.create_task(app.client.get(f"{url}&after={revision}&wait=25", headers=as_key(key)))
        for _ in range(MAX_CONFIG_WAITS_PER_KEY + 1)
    ]

    async def one_refused() -> bool:
        return any(w.done() for w in waits)

    await eventually(one_refused, "the long poll over the bound to be refused")
    [refused] = [w for w in waits if w.done()]
    assert refused.result().status_code == 429
    # Every other poll is waiting now: revoke the key, then change the camera's credentials.
    assert (await app.client.delete(f"/api/v1/api-keys/{key_id}")).status_code < 300
    patched = await app.client.patch(
        f"/api/v1/cameras/{camera}",
        json={"credentials": {"username": "admin", "password": "rotated"}},
    )
    assert patched.status_code == 200, patched.text
    answers = await asyncio.wait_for(
        asyncio.gather(*(w for w in waits if w is not refused)), timeout=20
    )
    assert [a.status_code for a in answers] == [401] * MAX_CONFIG_WAITS_PER_KEY
    assert all("rotated" not in a.text for a in answers)


# --- Flooding and the node's cache ---


async def test_a_node_flooding_sync_is_rate_limited(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, rate_limit_user_per_s=0.001, rate_limit_user_burst=8)
    async with api("memory", tmp_path, settings=settings) as app:
        _, key = await edge_key(app)
        assert (await register(app, key)).status_code == 200
        codes = [(await sync(app, key, [])).status_code for _ in range(10)]
    assert codes[0] == 200
    assert 429 in codes
    assert codes[codes.index(429) :] == [429] * (len(codes) - codes.index(429))


def test_a_tampered_or_moved_config_cache_is_refused(tmp_path: Path) -> None:
    config = b'{"cameras": [{"credentials": {"password": "s3cret"}}]}'
    path = tmp_path / "edge-node-1" / "config.bin"
    cache = SealedFile(path, "ak_one.secret", purpose="config", node_id="node-1")
    cache.save(config)
    assert b"s3cret" not in path.read_bytes()
    assert cache.load() == config
    assert path.stat().st_mode & 0o077 == 0  # the owner's only
    assert SealedFile(path, "ak_two.secret", purpose="config", node_id="node-1").load() is None
    assert (
        SealedFile(path, "ak_one.secret", purpose="registration", node_id="node-1").load() is None
    )
    assert SealedFile(path, "ak_one.secret", purpose="config", node_id="node-2").load() is None
    raw = bytearray(path.read_bytes())
    raw[-1] ^= 1
    path.write_bytes(bytes(raw))
    assert cache.load() is None
    path.write_bytes(b'{"cameras": []}')  # plain JSON planted by someone without the key
    assert cache.load() is None


async def test_an_ingest_key_cannot_raise_or_clear_edge_alerts(app: Api) -> None:
    _, key_b = await edge_key(app, "b")
    assert (await register(app, key_b, "node-b")).status_code == 200
    cam_b = await edge_camera(app, "yard", node_id="node-b")
    rule = {"name": "tamper", "event_types": ["camera.tamper"]}
    assert (await app.client.post("/api/v1/rules", json=rule)).status_code == 201
    tamper = event("camera.tamper", "node-b", cam_b)
    assert [r["status"] for r in await results(app, key_b, items(tamper), "node-b")] == ["stored"]
    alert = await raised(app, tamper.event_id)
    made = await app.client.post(
        "/api/v1/api-keys", json={"name": "ingest", "permissions": ["ingest"]}
    )
    ingest = as_key(made.json()["key"])
    later = NOON + timedelta(minutes=5)
    for forged in (
        event("camera.tamper_cleared", "node-b", cam_b, later),
        event("node.online", "node-b", "node:node-b", later),
        event("node.offline", "node-b", "node:node-b", later),
        event("camera.tamper", "node-b", cam_b, later),
    ):
        answer = await app.client.post(
            "/api/v1/events", json={"events": [forged.to_dict()]}, headers=ingest
        )
        assert answer.status_code == 422, answer.text
        assert "only through" in answer.text
    # A pipeline's event still goes in.
    fine = await app.client.post(
        "/api/v1/events", json={"events": [crossing(cam_b).to_dict()]}, headers=ingest
    )
    assert fine.status_code < 300, fine.text
    still = (await app.client.get(f"/api/v1/alerts/{alert['id']}")).json()
    assert still["state"] != "cleared"

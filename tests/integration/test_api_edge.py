"""``/api/v1/edge``: registration, configuration by long poll, and sync of events and health."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from argus.domain.codec import iso_z
from argus.domain.events import Envelope
from tests.integration.api_support import STORES, Api, api, eventually
from tests.integration.edge_api_support import (
    as_key,
    crossing,
    edge_camera,
    edge_key,
    items,
    register,
    statuses,
    sync,
)
from tests.node_support import NOON, camera_health, node_health

pytestmark = pytest.mark.anyio


@pytest.fixture(params=STORES)
async def app(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Api]:
    async with api(request.param, tmp_path) as running:
        yield running


async def test_a_node_is_bound_to_the_first_key_that_registers_it(app: Api) -> None:
    first_id, first = await edge_key(app)
    _, second = await edge_key(app, "another node")
    reply = await register(app, first)
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert len(base64.b64decode(body["evidence_key"])) == 32
    assert body["health_interval_s"] == 30.0
    again = await register(app, first)
    assert again.json()["evidence_key"] == body["evidence_key"]  # made once
    assert (await register(app, second)).status_code == 403
    config = "/api/v1/edge/config?node_id=node-1"
    assert (await app.client.get(config, headers=as_key(second))).status_code == 403
    assert (await sync(app, second, [])).status_code == 403
    assert (await register(app, second, node_id="node-2")).status_code == 200
    no_node = "/api/v1/edge/config?node_id=node-9"
    assert (await app.client.get(no_node, headers=as_key(first))).status_code == 404
    revoked = await app.client.delete(f"/api/v1/api-keys/{first_id}")
    assert revoked.status_code < 300
    assert (await register(app, first)).status_code == 401
    assert (await app.client.get(config, headers=as_key(first))).status_code == 401
    assert (await sync(app, first, [])).status_code == 401


async def test_edge_routes_need_the_edge_permission(app: Api) -> None:
    made = await app.client.post(
        "/api/v1/api-keys", json={"name": "viewer", "permissions": ["view"]}
    )
    assert (await register(app, made.json()["key"])).status_code == 403


async def test_config_holds_the_nodes_cameras_with_credentials(app: Api) -> None:
    _, key = await edge_key(app)
    await register(app, key)
    mine = await edge_camera(app, "gate")
    await edge_camera(app, "lobby", node_id=None)
    await edge_camera(app, "yard", node_id="node-2")
    await app.client.post("/api/v1/cameras/" + mine + "/lines", json=LINE)
    rule = {"name": "crossing", "event_types": ["line.crossed"], "camera_id": mine}
    assert (await app.client.post("/api/v1/rules", json=rule)).status_code == 201
    answer = await app.client.get("/api/v1/edge/config?node_id=node-1", headers=as_key(key))
    assert answer.status_code == 200, answer.text
    config = answer.json()
    assert len(config["revision"]) == 64
    [camera] = config["cameras"]
    assert camera["camera"]["id"] == mine
    assert camera["camera"]["credentials"] == {"username": "admin", "password": "s3cret"}
    assert camera["camera"]["edge_node_id"] == "node-1"
    assert [line["name"] for line in camera["lines"]] == ["door"]
    assert camera["evidence_types"] == ["line.crossed"]


LINE = {"name": "door", "start": [0, 100], "end": [320, 100]}


async def test_the_config_long_poll_answers_at_the_first_change(app: Api) -> None:
    _, key = await edge_key(app)
    await register(app, key)
    camera = await edge_camera(app, "gate")
    url = "/api/v1/edge/config?node_id=node-1"
    revision = (await app.client.get(url, headers=as_key(key))).json()["revision"]
    # Nothing changes: the wait runs out and the same configuration comes back.
    same = await app.client.get(f"{url}&after={revision}&wait=0.6", headers=as_key(key))
    assert same.json()["revision"] == revision
    waiting = asyncio.create_task(
        app.client.get(f"{url}&after={revision}&wait=25", headers=as_key(key))
    )
    await asyncio.sleep(0.2)  # let the request start waiting (it answers either way)
    await app.client.post(f"/api/v1/cameras/{camera}/lines", json=LINE)
    changed = await asyncio.wait_for(waiting, timeout=20)
    assert changed.status_code == 200
    assert changed.json()["revision"] != revision
    assert [x["name"] for x in changed.json()["cameras"][0]["lines"]] == ["door"]


async def stored_ids(app: Api, camera: str) -> list[str]:
    page = await app.client.get(f"/api/v1/events?camera_id={camera}&limit=500")
    return sorted(e["event_id"] for e in page.json()["items"])


async def test_sync_stores_every_event_once_whatever_the_order(app: Api) -> None:
    _, key = await edge_key(app)
    await register(app, key)
    camera = await edge_camera(app, "gate")
    one, two, three = (crossing(camera, NOON + timedelta(seconds=s)) for s in range(3))
    assert await statuses(app, key, items(one, two)) == ["stored", "stored"]
    reordered = items(two, one, three, three)
    assert await statuses(app, key, reordered) == ["duplicate", "duplicate", "stored", "duplicate"]
    assert await statuses(app, key, reordered) == ["duplicate"] * 4  # a replay
    assert await stored_ids(app, camera) == sorted(e.event_id for e in (one, two, three))


async def test_bad_items_are_rejected_alone_with_a_reason(app: Api) -> None:
    _, key = await edge_key(app)
    await register(app, key)
    camera = await edge_camera(app, "gate")
    local = await edge_camera(app, "lobby", node_id=None)
    good, foreign, other_node = crossing(camera), crossing(local), crossing(camera, node_id="x")
    broken = {**items(crossing(camera))[0]}
    broken["body"] = {**broken["body"], "type": ""}  # type: ignore[dict-item]
    report = node_health(node_id="node-2")
    batch = [*items(foreign, other_node, good), broken, *items(report)]
    answer = await sync(app, key, batch)
    assert answer.status_code == 200, answer.text
    results = answer.json()["results"]
    rejected = "rejected"
    assert [r["status"] for r in results] == [rejected, rejected, "stored", rejected, rejected]
    assert "not assigned to node node-1" in results[0]["reason"]
    assert "edge_node_id" in results[1]["reason"]
    assert results[2]["reason"] is None
    assert results[3]["reason"]
    assert "node-2" in results[4]["reason"]
    assert await stored_ids(app, camera) == [good.event_id]


async def events_of(app: Api, kind: str) -> list[dict[str, object]]:
    page = await app.client.get(f"/api/v1/events?type={kind}")
    items_: list[dict[str, object]] = page.json()["items"]
    return items_


async def test_health_is_stored_and_its_changes_become_events(app: Api) -> None:
    _, key = await edge_key(app)
    await register(app, key)
    camera = await edge_camera(app, "gate")
    healthy = node_health(cameras=(camera_health(camera),))
    saturated = {"target_fps": 5.0, "granted_fps": 2.5, "saturated": True}
    sick = node_health(
        at=NOON + timedelta(seconds=30),
        disk_free_bytes=1000,
        cameras=(camera_health(camera, state="offline", **saturated),),
    )
    assert await statuses(app, key, items(healthy, sick)) == ["stored", "stored"]
    assert await statuses(app, key, items(sick)) == ["duplicate"]
    [offline] = await events_of(app, "camera.offline")
    assert offline["source"] == {"edge_node_id": "node-1", "camera_id": camera}
    [disk] = await events_of(app, "node.disk_low")
    assert disk["source"] == {"edge_node_id": "node-1", "camera_id": "node:node-1"}
    status = (await app.client.get(f"/api/v1/cameras/{camera}/status")).json()
    assert status["state"] == "offline"
    assert (status["target_fps"], status["granted_fps"], status["saturated"]) == (5.0, 2.5, True)
    nodes = (await app.client.get("/api/v1/nodes")).json()["items"]
    assert [(n["node_id"], n["state"], n["camera_ids"]) for n in nodes] == [
        ("node-1", "online", [camera])
    ]
    assert nodes[0]["last_report"]["report_id"] == sick.report_id
    since = iso_z(NOON - timedelta(minutes=1))
    detail = await app.client.get("/api/v1/nodes/node-1", params={"since": since})
    assert [r["report_id"] for r in detail.json()["history"]] == [
        healthy.report_id,
        sick.report_id,
    ]
    assert (await app.client.get("/api/v1/nodes/nope")).status_code == 404
    metrics = (await app.client.get("/metrics")).text
    assert 'argus_edge_node_up{node="node-1"} 1.0' in metrics
    assert f'argus_camera_tamper{{camera_id="{camera}",kind="ok"}} 1.0' in metrics
    grant = f'{{camera_id="{camera}",node="node-1"}}'
    assert f"argus_edge_camera_target_fps{grant} 5.0" in metrics
    assert f"argus_edge_camera_granted_fps{grant} 2.5" in metrics
    assert f"argus_edge_camera_saturated{grant} 1.0" in metrics
    assert metrics.count("# HELP argus_camera_granted_fps") <= 1  # one family per name


async def test_a_skewed_node_is_flagged_and_its_event_times_corrected(app: Api) -> None:
    _, key = await edge_key(app)
    await register(app, key)
    camera = await edge_camera(app, "gate")
    skewed = node_health(clock_offset_s=42.0, cameras=(camera_health(camera),))
    assert await statuses(app, key, items(skewed)) == ["stored"]
    assert len(await events_of(app, "node.clock_skew")) == 1
    event: Envelope = crossing(camera)
    assert await statuses(app, key, items(event)) == ["stored"]
    stored = (await app.client.get(f"/api/v1/events/{event.event_id}")).json()
    assert datetime.fromisoformat(stored["timestamp"]) == NOON + timedelta(seconds=42)
    assert stored["payload"]["node_time"] == iso_z(NOON)


async def test_the_event_type_catalogue_is_served(app: Api) -> None:
    types = (await app.client.get("/api/v1/event-types")).json()["items"]
    by_name = {t["name"]: t for t in types}
    assert by_name["node.online"]["clears"] == "node.offline"
    assert by_name["line.crossed"]["origin"] == "pipeline"


async def test_the_alerting_sees_synced_events(app: Api) -> None:
    _, key = await edge_key(app)
    await register(app, key)
    camera = await edge_camera(app, "gate")
    rule = {"name": "crossing", "event_types": ["line.crossed"]}
    await app.client.post("/api/v1/rules", json=rule)
    event = crossing(camera)
    assert await statuses(app, key, items(event)) == ["stored"]

    async def alerted() -> bool:
        page = (await app.client.get(f"/api/v1/alerts?camera_id={camera}")).json()
        return any(a["event_id"] == event.event_id for a in page["items"])

    await eventually(alerted, "the alert of the synced event")

"""Edge evidence reaching its alerts, and the offline watch raising and clearing node alerts."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from argus.services.node_watch import NodeWatch
from tests.integration.api_support import STORES, Api, api, eventually
from tests.integration.edge_api_support import (
    crossing,
    edge_camera,
    edge_key,
    evidence,
    items,
    key_bytes,
    register,
    statuses,
    sync,
)
from tests.node_support import NOON, camera_health, node_health

pytestmark = pytest.mark.anyio

JPEG = b"\xff\xd8\xff\xe0 not really a jpeg \xff\xd9"


@pytest.fixture(params=STORES)
async def app(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Api]:
    async with api(request.param, tmp_path) as running:
        yield running


async def alert_of(app: Api, event_id: str) -> dict[str, Any]:
    found: list[dict[str, Any]] = []

    async def raised() -> bool:
        page = (await app.client.get("/api/v1/alerts?limit=200")).json()["items"]
        found[:] = [a for a in page if a["event_id"] == event_id]
        return bool(found)

    await eventually(raised, f"the alert of event {event_id}")
    return found[0]


async def evidence_of(app: Api, alert_id: str) -> list[dict[str, Any]]:
    page = await app.client.get(f"/api/v1/evidence?alert_id={alert_id}")
    listed: list[dict[str, Any]] = page.json()["items"]
    return listed


async def setup_node(app: Api) -> tuple[str, bytes, str]:
    _, key = await edge_key(app)
    registration = await register(app, key)
    camera = await edge_camera(app, "gate")
    rule = {"name": "crossing", "event_types": ["line.crossed"]}
    assert (await app.client.post("/api/v1/rules", json=rule)).status_code == 201
    return key, key_bytes(registration), camera


async def test_evidence_after_its_alert_is_stored_with_the_alert(app: Api) -> None:
    key, sealing, camera = await setup_node(app)
    event = crossing(camera)
    assert await statuses(app, key, items(event)) == ["stored"]
    alert = await alert_of(app, event.event_id)
    snapshot = evidence(sealing, camera, (event.event_id,), JPEG)
    assert await statuses(app, key, items(snapshot)) == ["stored"]
    assert await statuses(app, key, items(snapshot)) == ["duplicate"]  # a replay
    [item] = await evidence_of(app, alert["id"])
    assert (item["kind"], item["camera_id"]) == ("snapshot", camera)
    # The local capture leaves a camera its node runs alone: no gap is recorded for it.
    listed = await app.client.get(f"/api/v1/evidence?alert_id={alert['id']}")
    assert listed.json()["gaps"] == []
    content = await app.client.get(f"/api/v1/evidence/{item['id']}/content")
    assert content.content == JPEG


async def test_evidence_before_its_alert_reaches_the_alert_when_it_is_raised(app: Api) -> None:
    key, sealing, camera = await setup_node(app)
    event = crossing(camera)
    clip = evidence(sealing, camera, (event.event_id,), JPEG, kind="after")
    assert await statuses(app, key, items(clip)) == ["stored"]
    assert await statuses(app, key, items(event)) == ["stored"]
    alert = await alert_of(app, event.event_id)

    async def attached() -> bool:
        return len(await evidence_of(app, alert["id"])) == 1

    await eventually(attached, "the edge evidence attached to the alert")
    [item] = await evidence_of(app, alert["id"])
    assert item["kind"] == "after"
    content = await app.client.get(f"/api/v1/evidence/{item['id']}/content")
    assert content.content == JPEG


async def test_evidence_that_does_not_open_is_rejected(app: Api) -> None:
    key, sealing, camera = await setup_node(app)
    other = await edge_camera(app, "yard")
    sealed = evidence(sealing, camera, (), JPEG)
    moved = dataclasses.replace(sealed, camera_id=other)  # the seal binds the camera
    wrong_key = evidence(bytes(32), camera, (), JPEG)
    answer = await sync(app, key, items(moved, wrong_key))
    results = answer.json()["results"]
    assert [r["status"] for r in results] == ["rejected", "rejected"]
    assert all("does not open" in r["reason"] for r in results)
    local = await edge_camera(app, "lobby", node_id=None)
    foreign = evidence(sealing, local, (), JPEG)
    [result] = (await sync(app, key, items(foreign))).json()["results"]
    assert "not assigned" in result["reason"]


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


async def test_a_silent_node_goes_offline_and_its_alert_clears_when_it_reports(
    app: Api,
) -> None:
    _, key = await edge_key(app)
    await register(app, key)
    camera = await edge_camera(app, "gate")
    rule = {"name": "node down", "event_types": ["node.offline"]}
    assert (await app.client.post("/api/v1/rules", json=rule)).status_code == 201
    report = node_health(cameras=(camera_health(camera),))
    assert await statuses(app, key, items(report)) == ["stored"]
    database = app.plane.database
    node = await database.nodes.get("node-1")
    assert node is not None
    assert node.last_seen_at is not None
    # Intervals of a millisecond: the node is overdue 3 ms after its report, so the
    # node.offline event (dated then) precedes the node.online its next report makes.
    clock = Clock(node.last_seen_at + timedelta(milliseconds=2))
    watch = NodeWatch(
        database,
        app.plane.bus,
        app.plane.events_subject,
        interval_s=0.001,
        retention_days=30.0,
        clock=clock,
    )
    assert await watch.sweep() == []
    clock.now = node.last_seen_at + timedelta(milliseconds=3)
    assert await watch.sweep() == ["node-1"]
    assert await watch.sweep() == []  # once
    listed = (await app.client.get("/api/v1/nodes")).json()["items"]
    assert listed[0]["state"] == "offline"
    status = (await app.client.get(f"/api/v1/cameras/{camera}/status")).json()
    assert status["state"] == "offline"
    [offline] = (await app.client.get("/api/v1/events?type=node.offline")).json()["items"]
    alert = await alert_of(app, offline["event_id"])
    later = node_health(at=NOON + timedelta(minutes=5), cameras=(camera_health(camera),))
    assert await statuses(app, key, items(later)) == ["stored"]
    online = (await app.client.get("/api/v1/events?type=node.online")).json()["items"]
    assert len(online) == 1

    async def cleared() -> bool:
        state = (await app.client.get(f"/api/v1/alerts/{alert['id']}")).json()["state"]
        return bool(state == "cleared")

    await eventually(cleared, "the node.offline alert cleared by node.online")
    assert (await app.client.get("/api/v1/nodes")).json()["items"][0]["state"] == "online"


async def test_health_history_is_purged_past_retention(app: Api) -> None:
    _, key = await edge_key(app)
    await register(app, key)
    old, new = node_health(), node_health(at=NOON + timedelta(days=40))
    assert await statuses(app, key, items(old, new)) == ["stored", "stored"]
    clock = Clock(NOON + timedelta(days=41))
    watch = NodeWatch(
        app.plane.database,
        app.plane.bus,
        app.plane.events_subject,
        interval_s=30.0,
        retention_days=30.0,
        clock=clock,
    )
    assert await watch.purge_due() == 1
    assert await watch.purge_due() == 0  # once a day
    history = await app.plane.database.nodes.history("node-1", NOON - timedelta(days=1), 10)
    assert [r.report_id for r in history] == [new.report_id]

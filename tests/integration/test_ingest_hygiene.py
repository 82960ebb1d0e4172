"""Ingest hygiene through the real API: unknown cameras, payload schemas, the size limit.

``POST /api/v1/events`` refuses a whole batch (422, nothing stored) naming
the unknown camera or the field that breaks its type's schema;
``/api/v1/edge/sync`` rejects the one item with that reason. Both run over
the memory and SQLite stores.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from argus.domain.events import Envelope, EventSource, new_event_id
from tests.auth_support import settings_for
from tests.integration.api_support import STORES, Api, api, crossing
from tests.integration.edge_api_support import crossing as node_crossing
from tests.integration.edge_api_support import (
    edge_camera,
    edge_key,
    items,
    register,
    sync,
)
from tests.integration.ingest_support import register_cameras
from tests.node_support import NOON

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

URL = "/api/v1/events"
LIMIT = 1024
INT = "events[0].payload.track_id must be an integer"


@pytest.fixture(params=STORES)
async def app(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Api]:
    settings = settings_for(tmp_path).model_copy(update={"event_payload_max_bytes": LIMIT})
    async with api(request.param, tmp_path, settings=settings) as running:
        yield running


def _batch(*envelopes: Envelope) -> dict[str, Any]:
    return {"events": [e.to_dict() for e in envelopes]}


def _message(response: Any) -> str:
    assert response.status_code == 422, response.text
    return " ".join(str(d["msg"]) for d in response.json()["detail"])


async def _stored(app: Api, camera_id: str) -> int:
    listed = await app.client.get(URL, params={"camera_id": camera_id})
    assert listed.status_code == 200, listed.text
    total: int = listed.json()["total"]
    return total


async def test_events_of_an_unknown_camera_are_refused_naming_it(app: Api) -> None:
    await register_cameras(app.plane.database, "cam-known")
    batch = _batch(crossing("cam-known"), crossing("cam-ghost", second=1))

    refused = await app.client.post(URL, json=batch)

    message = _message(refused)
    assert "unknown camera 'cam-ghost'" in message
    assert "cam-known" not in message
    assert await _stored(app, "cam-known") == 0  # the whole batch is refused

    await register_cameras(app.plane.database, "cam-ghost")
    accepted = await app.client.post(URL, json=batch)
    assert accepted.status_code == 200, accepted.text
    assert await _stored(app, "cam-ghost") == 1


def _with_payload(type_name: str, payload: dict[str, Any]) -> dict[str, Any]:
    event = crossing("cam-1").to_dict()
    return {**event, "type": type_name, "payload": payload}


GOOD: dict[str, Any] = crossing("cam-1").to_dict()["payload"]  # type: ignore[assignment]


@pytest.mark.parametrize(
    ("type_name", "payload", "expected"),
    [
        ("line.crossed", {k: v for k, v in GOOD.items() if k != "line"}, "lacks ['line']"),
        (
            "line.crossed",
            {**GOOD, "track_id": "7"},
            INT,
        ),
        (
            "line.crossed",
            {**GOOD, "track_id": True},
            INT,
        ),
        ("line.crossed", {**GOOD, "direction": "up"}, "must be one of ['in', 'out']"),
        ("line.crossed", {**GOOD, "confidence": 1.5}, "confidence must be at most 1"),
        ("line.crossed", {**GOOD, "bbox": [1, 2]}, "unknown keys ['bbox']"),
        ("zone.crowding", {"zone": "hall", "timestamp": 1.0}, "lacks ['occupancy', 'threshold']"),
        (
            "heatmap.minute",
            {
                "grid_width": 4,
                "grid_height": 4,
                "frame_width": 640,
                "frame_height": 480,
                "frames": 10,
                "cells": [[1, -2]],
            },
            "two non-negative integers",
        ),
        ("door.opened", {"door": "north"}, "unknown event type 'door.opened'"),
    ],
    ids=[
        "missing-field",
        "string-for-int",
        "bool-for-int",
        "bad-choice",
        "out-of-range",
        "unknown-key",
        "crowding-missing",
        "negative-cell",
        "unknown-type",
    ],
)
async def test_payloads_are_checked_against_their_types_schema(
    app: Api, type_name: str, payload: dict[str, Any], expected: str
) -> None:
    await register_cameras(app.plane.database, "cam-1")
    refused = await app.client.post(URL, json={"events": [_with_payload(type_name, payload)]})
    message = _message(refused)
    assert "events[0].payload" in message or "unknown event type" in message
    assert expected in message
    assert await _stored(app, "cam-1") == 0


async def test_custom_types_take_any_object_within_the_size_limit(app: Api) -> None:
    await register_cameras(app.plane.database, "cam-1")
    small = _with_payload("custom.door_opened", {"door": "north", "by": ["badge", 42]})
    stored = await app.client.post(URL, json={"events": [small]})
    assert stored.status_code == 200, stored.text

    big = crossing("cam-1", second=2).to_dict()
    big = {**big, "type": "custom.blob", "payload": {"text": "x" * LIMIT}}
    message = _message(await app.client.post(URL, json={"events": [big]}))
    assert f"over the limit of {LIMIT} bytes (ARGUS_EVENT_PAYLOAD_MAX_BYTES)" in message
    assert await _stored(app, "cam-1") == 1


async def test_edge_sync_rejects_items_of_unknown_cameras_and_bad_payloads(app: Api) -> None:
    _, key = await edge_key(app)
    assert (await register(app, key)).status_code == 200
    mine = await edge_camera(app, "mine")
    theirs = await edge_camera(app, "theirs", node_id="node-2")
    good = node_crossing(mine)
    ghost = node_crossing("cam-ghost", NOON + timedelta(seconds=1))
    other = node_crossing(theirs, NOON + timedelta(seconds=2))
    bad = Envelope(
        event_id=new_event_id(NOON + timedelta(seconds=3)),
        type="line.crossed",
        timestamp=NOON + timedelta(seconds=3),
        source=EventSource("node-1", mine),
        payload={"line": "door"},
    )
    node_level = Envelope(
        event_id=new_event_id(NOON + timedelta(seconds=4)),
        type="custom.fan_speed",
        timestamp=NOON + timedelta(seconds=4),
        source=EventSource("node-1", "node:node-1"),
        payload={"rpm": 1200},
    )

    answer = await sync(app, key, items(good, ghost, other, bad, node_level))

    assert answer.status_code == 200, answer.text
    results = answer.json()["results"]
    assert [r["status"] for r in results] == [
        "stored",
        "rejected",
        "rejected",
        "rejected",
        "stored",
    ]
    assert "unknown camera 'cam-ghost'" in results[1]["reason"]
    assert f"camera {theirs} is not assigned to node node-1" in results[2]["reason"]
    assert "lacks" in results[3]["reason"]
    assert await _stored(app, mine) == 1

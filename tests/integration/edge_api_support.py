"""Helpers of the edge API tests: keys, registration, cameras and sync items over the API."""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any

import httpx

from argus.adapters.crypto.seal import seal
from argus.domain.codec import iso_z
from argus.domain.edge import EdgeEvidence, NodeHealth, OutboxItem
from argus.domain.events import Envelope, EventSource, LineCrossed, new_event_id
from tests.integration.api_support import Api
from tests.node_support import NOON

REGISTRATION: dict[str, Any] = {
    "node_id": "node-1",
    "version": "test",
    "models": ["yolov7-tiny@1"],
    "capabilities": ["tamper", "evidence"],
    "hostname": "box-1",
}


def as_key(key: str) -> dict[str, str]:
    """Headers that authenticate with an API key instead of the admin's token."""
    return {"Authorization": f"Bearer {key}"}


async def edge_key(app: Api, name: str = "node key") -> tuple[str, str]:
    """A new API key with the ``edge`` permission: ``(id, secret)``."""
    made = await app.client.post("/api/v1/api-keys", json={"name": name, "permissions": ["edge"]})
    made.raise_for_status()
    body = made.json()
    return str(body["id"]), str(body["key"])


async def register(app: Api, key: str, node_id: str = "node-1") -> httpx.Response:
    """``POST /edge/register`` as ``key``."""
    return await app.client.post(
        "/api/v1/edge/register", json={**REGISTRATION, "node_id": node_id}, headers=as_key(key)
    )


async def edge_camera(app: Api, name: str, node_id: str | None = "node-1") -> str:
    """A camera assigned to ``node_id`` (``None``: a local one); its id."""
    made = await app.client.post(
        "/api/v1/cameras",
        json={
            "name": name,
            "stream_url": "rtsp://10.0.0.5:554/stream1",
            "credentials": {"username": "admin", "password": "s3cret"},
            "edge_node_id": node_id,
        },
    )
    made.raise_for_status()
    return str(made.json()["id"])


def crossing(camera_id: str, at: datetime = NOON, node_id: str = "node-1") -> Envelope:
    """A line crossing of ``camera_id`` made on ``node_id``."""
    event = LineCrossed(
        line="door",
        track_id=7,
        class_id=0,
        class_name="person",
        direction="in",
        timestamp=1.0,
        confidence=0.9,
    )
    return Envelope.wrap(event, EventSource(node_id, camera_id), at, new_event_id(at))


def evidence(
    key: bytes, camera_id: str, event_ids: tuple[str, ...], data: bytes, kind: str = "snapshot"
) -> EdgeEvidence:
    """Evidence sealed under the node's key, as a node makes it."""
    evidence_id = new_event_id(NOON)
    aad = f"{evidence_id}|node-1|{camera_id}|{kind}".encode()
    return EdgeEvidence(
        evidence_id=evidence_id,
        node_id="node-1",
        camera_id=camera_id,
        event_ids=event_ids,
        kind=kind,  # type: ignore[arg-type]
        content_type="image/jpeg",
        captured_at=NOON,
        blob=seal(key, data, aad),
    )


def items(*values: Envelope | NodeHealth | EdgeEvidence) -> list[dict[str, object]]:
    """Outbox items of ``values``, as a batch carries them."""
    out: list[OutboxItem] = []
    for value in values:
        if isinstance(value, Envelope):
            out.append(OutboxItem.of_event(value))
        elif isinstance(value, NodeHealth):
            out.append(OutboxItem.of_health(value))
        else:
            out.append(OutboxItem.of_evidence(value))
    return [item.to_dict() for item in out]


async def sync(
    app: Api, key: str, batch: list[dict[str, object]], node_id: str = "node-1"
) -> httpx.Response:
    """``POST /edge/sync`` of ``batch`` as ``key``."""
    body = {"node_id": node_id, "sent_at": iso_z(NOON), "items": batch}
    return await app.client.post("/api/v1/edge/sync", json=body, headers=as_key(key))


async def statuses(app: Api, key: str, batch: list[dict[str, object]]) -> list[str]:
    """The status of each item of a synced batch (asserting a 200)."""
    answer = await sync(app, key, batch)
    assert answer.status_code == 200, answer.text
    return [r["status"] for r in answer.json()["results"]]


def key_bytes(registration: httpx.Response) -> bytes:
    """The evidence key of a registration reply."""
    return base64.b64decode(registration.json()["evidence_key"])

"""``/ws`` on a real uvicorn server: channels, alerts, acks, escalation, tracks, counts."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from argus.adapters.bus.memory import MemoryEventBus
from argus.adapters.db.memory import MemoryDatabase
from argus.adapters.pipelines_memory import MemoryPipelines
from argus.bootstrap.adapters import EVENTS_SUBJECT, Adapters
from argus.bootstrap.app import build_app
from argus.config import Settings
from argus.domain.events import Envelope, EventSource, Loitering
from argus.domain.live import LiveFrame, LiveTrack
from tests.auth_support import admin_token, bearer, settings_for
from tests.integration.api_support import crossing
from tests.integration.live_support import LiveClient, live_client, served

pytestmark = [pytest.mark.integration, pytest.mark.anyio]


@dataclass
class Server:
    address: str
    http: httpx.AsyncClient
    plane: Adapters
    pipelines: MemoryPipelines


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[Server]:
    pipelines = MemoryPipelines()
    plane = Adapters(
        database=MemoryDatabase(), bus=MemoryEventBus(ack_wait=0.5), pipelines=pipelines
    )

    async def opener(_: Settings) -> Adapters:
        return plane

    settings = settings_for(
        tmp_path, ack_deadline_high_s=0.5, escalation_max=2, escalation_tick_s=0.1
    )
    app = build_app(settings, open_adapters=opener)
    async with (
        served(app) as address,
        httpx.AsyncClient(base_url=f"http://{address}") as http,
    ):
        http.headers.update(bearer(await admin_token(http)))
        yield Server(address, http, plane, pipelines)


async def _rule(server: Server, **fields: object) -> dict[str, object]:
    body: dict[str, object] = {"name": "door", "event_types": ["line.crossed"]}
    body.update(fields)
    response = await server.http.post("/api/v1/rules", json=body)
    assert response.status_code == 201, response.text
    created: dict[str, object] = response.json()
    return created


async def _subscribe(client: LiveClient, *channels: str) -> None:
    await client.send({"type": "subscribe", "channels": list(channels), "request_id": "s"})
    reply = await client.expect_type("subscribed", request_id="s")
    assert set(channels) <= set(reply["channels"])


async def test_an_alert_arrives_live_and_is_acknowledged_over_the_socket(server: Server) -> None:
    await _rule(server, weight=0.2)
    async with live_client(server.address) as client:
        await _subscribe(client, "alerts")
        event = crossing("cam-1")
        await server.plane.bus.publish(EVENTS_SUBJECT, event)
        created = await client.expect_type("alert.created")
        alert = created["alert"]
        assert alert["event_id"] == event.event_id
        assert alert["camera_id"] == "cam-1"
        assert {c["name"] for c in alert["risk_components"]} >= {"rule", "confidence"}
        assert alert["state"] == "notified"  # announced once the operators are notified

        await client.send({"type": "ack", "alert_id": alert["id"], "request_id": "a"})
        ack = await client.expect_type("ack.ok", request_id="a")
        assert ack["alert"]["state"] == "acknowledged"
        broadcast = await client.expect(
            lambda m: m.get("type") == "alert.updated" and m["alert"]["state"] == "acknowledged",
            "acknowledged broadcast",
        )
        assert broadcast["alert"]["history"][-1]["actor"] == "user:admin"

        # Acknowledging twice is an illegal transition, reported, and the socket stays open.
        await client.send({"type": "ack", "alert_id": alert["id"], "request_id": "b"})
        error = await client.expect_type("error", request_id="b")
        assert error["code"] == "conflict"
        await client.send({"type": "ping", "request_id": "p"})
        await client.expect_type("pong", request_id="p")


async def _vault(server: Server) -> str:
    """A camera with a zone of criticality 1; returns the camera id."""
    camera = await server.http.post(
        "/api/v1/cameras",
        json={"name": "vault", "stream_url": "rtsp://127.0.0.1:8554/vault", "detect_fps": 5.0},
    )
    assert camera.status_code == 201, camera.text
    camera_id: str = camera.json()["id"]
    zone = await server.http.post(
        f"/api/v1/cameras/{camera_id}/zones",
        json={"name": "vault", "polygon": [[0, 0], [10, 0], [10, 10]], "criticality": 1.0},
    )
    assert zone.status_code == 201, zone.text
    return camera_id


def _loitering(camera_id: str) -> Envelope:
    event = Loitering(
        zone="vault",
        track_id=3,
        class_id=0,
        class_name="person",
        timestamp=1.0,
        dwell_seconds=150.0,
        threshold_seconds=30.0,
        confidence=0.9,
    )
    return Envelope.wrap(event, EventSource("edge-1", camera_id), datetime.now(UTC))


async def test_an_unacknowledged_high_alert_escalates_to_the_supervisor(server: Server) -> None:
    camera_id = await _vault(server)
    await _rule(server, event_types=["zone.loitering"], zone="vault", weight=1.0)
    async with live_client(server.address) as client:
        await _subscribe(client, "supervisor")
        await server.plane.bus.publish(EVENTS_SUBJECT, _loitering(camera_id))
        first = await client.expect_type("alert.escalated")
        assert first["alert"]["state"] == "escalated"
        assert first["alert"]["escalation_level"] == 1
        assert first["alert"]["severity"] == "high"
        second = await client.expect_type("alert.escalated")
        assert second["alert"]["escalation_level"] == 2
        assert second["alert"]["ack_deadline"] is None  # the limit of 2 reached
    stored = (await server.http.get(f"/api/v1/alerts/{first['alert']['id']}")).json()
    assert stored["state"] == "escalated"
    assert [h["to_state"] for h in stored["history"]] == ["notified", "escalated", "escalated"]


async def test_low_alerts_do_not_escalate_within_the_high_deadline(server: Server) -> None:
    await _rule(server, weight=0.0)
    async with live_client(server.address) as client:
        await _subscribe(client, "alerts")
        await server.plane.bus.publish(EVENTS_SUBJECT, crossing("cam-1"))
        created = await client.expect_type("alert.created")
        assert created["alert"]["severity"] == "low"
        await client.send({"type": "ping", "request_id": "p"})
        await client.expect_type("pong", request_id="p")
        assert not [m for m in client.seen if m.get("type") == "alert.escalated"]


async def test_tracks_counts_and_camera_status_channels(server: Server) -> None:
    created = await server.http.post(
        "/api/v1/cameras",
        json={"name": "gate", "stream_url": "rtsp://127.0.0.1:8554/gate", "detect_fps": 5.0},
    )
    assert created.status_code == 201, created.text
    camera_id = created.json()["id"]
    async with live_client(server.address) as client:
        await _subscribe(
            client, "system", f"camera.{camera_id}.tracks", f"camera.{camera_id}.counts"
        )
        status = await client.expect_type("camera.status", camera_id=camera_id)
        assert status["state"] == "online"
        frame = LiveFrame(
            camera_id=camera_id,
            frame_index=3,
            timestamp=0.4,
            width=640,
            height=360,
            tracks=(LiveTrack(id=1, class_name="person", confidence=0.8, box=(1, 2, 3, 4)),),
            counts={"door": {"in": 1, "out": 0}},
        )
        server.pipelines.push_live(camera_id, frame)
        tracks = await client.expect_type("tracks", camera_id=camera_id)
        assert tracks["tracks"] == [
            {"id": 1, "class_name": "person", "confidence": 0.8, "box": [1, 2, 3, 4]}
        ]
        counts = await client.expect_type("counts", camera_id=camera_id)
        assert counts["counts"] == {"door": {"in": 1, "out": 0}}
        # Unchanged counts are not sent again; tracks are, every frame.
        server.pipelines.push_live(camera_id, dataclasses.replace(frame, frame_index=4))
        await client.expect_type("tracks", frame_index=4)
        # The box saturates: the status is sent again, with the grant.
        server.pipelines.saturate(camera_id, 5.0, 1.6)
        saturated = await client.expect_type("camera.status", camera_id=camera_id, saturated=True)
        assert (saturated["state"], saturated["target_fps"], saturated["granted_fps"]) == (
            "online",
            5.0,
            1.6,
        )
        server.pipelines.fail(camera_id, "stream dropped")
        failed = await client.expect_type("camera.status", camera_id=camera_id, state="error")
        assert failed["last_error"] == "stream dropped"
        assert not [m for m in client.seen if m.get("type") == "counts"]


@pytest.mark.parametrize(
    ("message", "fragment"),
    [
        ("not json", "invalid"),
        ('{"type": "subscribe", "channels": ["camera.x.frames"]}', "unknown channel"),
        ('{"type": "subscribe", "channels": []}', "channels"),
        ('{"type": "teleport"}', "type"),
        ('{"type": "ack"}', "alert_id"),
        ('{"type": "ping", "extra": 1}', "extra"),
    ],
)
async def test_bad_messages_get_an_error_and_the_socket_stays_open(
    server: Server, message: str, fragment: str
) -> None:
    async with live_client(server.address) as client:
        await client.connection.send(message)
        error = await client.expect_type("error")
        assert error["code"] == "invalid"
        assert fragment in error["message"] or fragment == "invalid"
        await client.send({"type": "ping", "request_id": "p"})
        await client.expect_type("pong", request_id="p")


async def test_acknowledging_an_unknown_alert_is_not_found(server: Server) -> None:
    async with live_client(server.address) as client:
        await client.send({"type": "ack", "alert_id": "nope", "request_id": "x"})
        error = await client.expect_type("error", request_id="x")
        assert error["code"] == "not_found"

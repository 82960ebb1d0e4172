"""MqttBridge against real Mosquitto: state topics, Home Assistant discovery, reconnection.

A separate subscriber client (``Listener``) reads what the bridge publishes.
Each test uses its own topic and discovery prefixes on the shared broker, or a
private broker it can kill (losing every retained message) and start again.
"""

from __future__ import annotations

import asyncio
import json
import ssl
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from pydantic import SecretStr
from pydantic import ValidationError as PydanticValidationError

from argus.adapters.bus.memory import MemoryEventBus
from argus.adapters.db.memory import MemoryDatabase
from argus.adapters.notify.mqtt import MqttConnection
from argus.adapters.pipelines_memory import MemoryPipelines
from argus.bootstrap.adapters import Adapters
from argus.bootstrap.mqtt import build_mqtt_bridge
from argus.config import Settings
from argus.domain.backoff import BackoffPolicy
from argus.domain.cameras import Camera, Line, Zone
from argus.domain.events import Envelope, EventSource, new_event_id
from argus.domain.notify.mqtt_topics import BrokerEndpoint, MqttTopics
from argus.ports.pipelines import CameraState, CameraStatus
from argus.services.alerts import ALERTS_SUBJECT
from argus.services.mqtt_bridge import MqttBridge
from tests.integration.mqtt_support import (
    SHARED_HOST,
    SHARED_PORT,
    WAIT_S,
    Listener,
    PrivateBroker,
    free_port,
)
from tests.integration.notify_support import Certificate

pytestmark = [pytest.mark.anyio, pytest.mark.integration]

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
SUBJECT = "events"
CAMERA = "01JCAM0000000000000000000A"
SCHEMA = json.loads(
    (Path(__file__).resolve().parents[1] / "fixtures" / "ha_mqtt_discovery.schema.json").read_text(
        encoding="utf-8"
    )
)


def _event(kind: str, camera: str = CAMERA, node: str = "edge-1", **payload: object) -> Envelope:
    body = {"class_name": "person", **payload}
    return Envelope(new_event_id(NOW), kind, NOW, EventSource(node, camera), body)


def _alert(alert_id: str, state: str = "new") -> Envelope:
    kind = "alert.created" if state == "new" else "alert.updated"
    return Envelope(
        new_event_id(NOW), kind, NOW, EventSource("argus", CAMERA), _alert_dict(alert_id, state)
    )


def _alert_dict(alert_id: str, state: str) -> dict[str, object]:
    return {
        "id": alert_id,
        "camera_id": CAMERA,
        "rule_id": "r1",
        "rule_name": "Person in the street",
        "severity": "high",
        "risk_score": 0.8,
        "state": state,
        "event_type": "zone.entered",
        "created_at": "2026-12-06T12:00:00Z",
    }


async def _until(condition: Callable[[], bool], what: str) -> None:
    deadline = asyncio.get_running_loop().time() + WAIT_S
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


@dataclass
class Kit:
    """A bridge over a memory store and bus, with its names and the statuses it polls."""

    bridge: MqttBridge
    bus: MemoryEventBus
    db: MemoryDatabase
    prefix: str
    discovery: str
    statuses: list[CameraStatus] = field(default_factory=list)

    def topic(self, rest: str) -> str:
        return f"{self.prefix}/{rest}"

    async def publish(self, envelope: Envelope, subject: str = SUBJECT) -> None:
        await self.bus.publish(subject, envelope)

    def status(self, state: CameraState) -> None:
        self.statuses[:] = [CameraStatus(CAMERA, state, None, 0.0, 0.0, 0.0, NOW)]


@pytest.fixture
async def store() -> MemoryDatabase:
    db = MemoryDatabase()
    await db.cameras.add(Camera(id=CAMERA, name="Front gate", stream_url="rtsp://cam/1"))
    await db.lines.add(Line("l1", CAMERA, "kerb", (0.0, 0.0), (10.0, 10.0)))
    await db.zones.add(Zone("z1", CAMERA, "street", ((0.0, 0.0), (5.0, 0.0), (5.0, 5.0))))
    # one crossing stored before the bridge starts: today's count starts from it
    await db.events.add(_event("line.crossed", line="kerb", direction="in", track_id=9))
    return db


def _kit(
    db: MemoryDatabase, port: int, *, rescan_s: float = 60.0, tls: ssl.SSLContext | None = None
) -> Kit:
    bus = MemoryEventBus()
    tag = new_event_id(NOW)[-8:]
    prefix, discovery = f"argus-test-{tag}", f"ha-test-{tag}"
    topics = MqttTopics(prefix)
    link = MqttConnection(
        BrokerEndpoint(SHARED_HOST, port, tls=tls is not None),
        status_topic=topics.status,
        listen=(f"{discovery}/status",),
        client_id=f"argus-bridge-test-{tag}",
        timeout_s=5.0,
        backoff=BackoffPolicy(initial=0.05, max_delay=0.2),
        tls_context=tls,
    )
    statuses: list[CameraStatus] = []
    bridge = MqttBridge(
        bus,
        SUBJECT,
        db,
        lambda: statuses,
        link,
        topics=topics,
        discovery_prefix=discovery,
        sw_version="0.1.0",
        clock=lambda: NOW,
        status_interval=0.05,
        rescan_s=rescan_s,
    )
    return Kit(bridge, bus, db, prefix, discovery, statuses)


@pytest.fixture
async def kit(store: MemoryDatabase) -> AsyncIterator[Kit]:
    kit = _kit(store, SHARED_PORT, rescan_s=0.2)
    await kit.bridge.start()
    await _until(
        lambda: kit.bridge.event_feed.subscribed and kit.bridge.alert_feed.subscribed, "feeds"
    )
    yield kit
    await kit.bridge.stop()
    await kit.bus.close()


def _validate(component: str, payload: dict[str, Any]) -> None:
    schema = {**SCHEMA, "$ref": f"#/$defs/{component}"}
    Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER).validate(
        payload
    )


async def test_counts_occupancy_alerts_and_status_reach_a_subscriber(kit: Kit) -> None:
    async with Listener.open(kit.topic("#"), f"{kit.discovery}/#") as listener:
        await listener.wait_value(kit.topic("status"), b"online")
        await listener.wait_value(kit.topic(f"{CAMERA}/lines/kerb/in"), b"1")  # seeded
        await listener.wait_value(kit.topic(f"{CAMERA}/zones/street/occupancy"), b"0")
        await listener.wait_value(kit.topic(f"{CAMERA}/alert"), b"off")

        await kit.publish(_event("line.crossed", line="kerb", direction="out", track_id=1))
        await listener.wait_value(kit.topic(f"{CAMERA}/lines/kerb/total"), b"2")
        assert listener.latest[kit.topic(f"{CAMERA}/lines/kerb/out")] == b"1"

        for track in (1, 2):
            await kit.publish(_event("zone.entered", zone="street", track_id=track))
        await listener.wait_value(kit.topic(f"{CAMERA}/zones/street/occupancy"), b"2")
        await kit.publish(_event("zone.exited", zone="street", track_id=1))
        await listener.wait_value(kit.topic(f"{CAMERA}/zones/street/occupancy"), b"1")

        await kit.publish(_alert("a1"), ALERTS_SUBJECT)
        await listener.wait_value(kit.topic(f"{CAMERA}/alert"), b"on")
        await listener.wait_for(lambda s: kit.topic("alerts") in s.latest, "the new alert")
        assert json.loads(listener.latest[kit.topic("alerts")])["id"] == "a1"
        attributes_topic = kit.topic(f"{CAMERA}/alert/attributes")
        await listener.wait_for(
            lambda s: json.loads(s.latest.get(attributes_topic, b"{}")).get("id") == "a1",
            "the alert's attributes",
        )
        assert json.loads(listener.latest[attributes_topic])["severity"] == "high"
        await kit.publish(_alert("a1", "acknowledged"), ALERTS_SUBJECT)
        await listener.wait_value(kit.topic(f"{CAMERA}/alert"), b"off")

        kit.status("online")
        await listener.wait_value(kit.topic(f"{CAMERA}/status"), b"online")
        kit.status("offline")  # a stopped camera: its zones are empty
        await listener.wait_value(kit.topic(f"{CAMERA}/status"), b"offline")
        await listener.wait_value(kit.topic(f"{CAMERA}/zones/street/occupancy"), b"0")

        await kit.publish(_event("node.offline", camera="node:edge-2", node="edge-2"))
        await listener.wait_value(kit.topic("nodes/edge-2/state"), b"offline")
        node_config = f"{kit.discovery}/binary_sensor/argus_node_edge-2_online/config"
        await listener.wait_for(lambda s: node_config in s.latest, "the node's discovery")

        configs = {t: p for t, p in listener.latest.items() if t.startswith(kit.discovery)}
        line_in = f"{kit.discovery}/sensor/argus_{CAMERA}_line_kerb_in/config"
        assert json.loads(configs[line_in])["state_topic"] == kit.topic(f"{CAMERA}/lines/kerb/in")
        assert len(configs) == 2 + 3 + 1 + 1  # alert, online, kerb x3, street, node
        for topic, body in configs.items():
            _validate(topic.split("/")[1], json.loads(body))
    ok, reason = kit.bridge.check()
    assert ok, reason


async def test_home_assistant_birth_announces_everything_again(kit: Kit) -> None:
    config = f"{kit.discovery}/binary_sensor/argus_{CAMERA}_alert/config"
    async with Listener.open(f"{kit.discovery}/#") as listener:
        await listener.wait_for(lambda s: config in s.latest, "the alert's discovery")
        before = sum(1 for topic, _, _ in listener.messages if topic == config)
        await listener.client.publish(f"{kit.discovery}/status", b"online", qos=1)
        await listener.wait_for(
            lambda s: sum(1 for topic, _, _ in s.messages if topic == config) > before,
            "the discovery sent again",
        )


async def test_a_deleted_camera_leaves_home_assistant(kit: Kit) -> None:
    config = f"{kit.discovery}/sensor/argus_{CAMERA}_zone_street_occupancy/config"
    async with Listener.open(f"{kit.discovery}/#", kit.topic("#")) as listener:
        await listener.wait_for(lambda s: bool(s.latest.get(config)), "the zone's discovery")
        await kit.db.cameras.delete(CAMERA)
        await listener.wait_value(config, b"")  # the next rescan removes the entity
        await listener.wait_value(kit.topic(f"{CAMERA}/zones/street/occupancy"), b"")


async def test_state_survives_a_refused_connection_and_a_broker_restart(
    store: MemoryDatabase, tmp_path: Path
) -> None:
    broker = PrivateBroker(tmp_path, port=free_port())
    kit = _kit(store, broker.port)
    await kit.bridge.start()  # nothing listens yet: connections are refused
    try:
        await _until(lambda: kit.bridge.event_feed.subscribed, "the event feed")
        ok, reason = kit.bridge.check()
        assert not ok
        assert "unreachable" in reason
        await kit.publish(_event("line.crossed", line="kerb", direction="in", track_id=1))
        total = kit.topic(f"{CAMERA}/lines/kerb/total")
        await _until(lambda: kit.bridge.state.retained.get(total) == b"2", "the count folded")

        broker.start()
        async with Listener.open(kit.topic("#"), port=broker.port) as listener:
            await listener.wait_value(total, b"2")
            await listener.wait_value(kit.topic("status"), b"online")

        broker.kill()  # no persistence: every retained message is lost
        await kit.publish(_event("line.crossed", line="kerb", direction="in", track_id=2))
        broker.start()
        async with Listener.open(kit.topic("#"), f"{kit.discovery}/#", port=broker.port) as again:
            await again.wait_value(total, b"3")  # published again by the bridge
            line_in = f"{kit.discovery}/sensor/argus_{CAMERA}_line_kerb_in/config"
            await again.wait_for(lambda s: line_in in s.latest, "the discovery again")
        async with Listener.open(total, line_in, port=broker.port) as late:
            await late.wait_for(lambda s: len(s.messages) == 2, "the retained messages")
            assert all(retained for _, _, retained in late.messages)
            assert late.latest[total] == b"3"
    finally:
        await kit.bridge.stop()
        await kit.bus.close()
        broker.kill()


async def test_stopping_announces_offline(store: MemoryDatabase) -> None:
    kit = _kit(store, SHARED_PORT)
    await kit.bridge.start()
    async with Listener.open(kit.topic("status")) as listener:
        await listener.wait_value(kit.topic("status"), b"online")
        await kit.bridge.stop()
        await listener.wait_value(kit.topic("status"), b"offline")
    await kit.bus.close()


async def test_the_bridge_runs_only_with_a_broker_url(store: MemoryDatabase) -> None:
    bus = MemoryEventBus()
    adapters = Adapters(database=store, bus=bus, pipelines=MemoryPipelines())
    assert build_mqtt_bridge(Settings(), adapters) is None
    with pytest.raises(PydanticValidationError):
        Settings(mqtt_url=SecretStr("http://127.0.0.1"))
    tag = new_event_id(NOW)[-8:]
    settings = Settings(
        mqtt_url=SecretStr(f"mqtt://{SHARED_HOST}:{SHARED_PORT}"),
        mqtt_topic_prefix=f"argus-test-{tag}",
        mqtt_discovery_prefix=f"ha-test-{tag}",
    )
    # the stored crossing is dated NOW: the counting day must be NOW's, not the wall clock's
    bridge = build_mqtt_bridge(settings, adapters, clock=lambda: NOW)
    assert bridge is not None
    async with Listener.open(f"argus-test-{tag}/#") as listener:
        await bridge.start()
        try:
            await listener.wait_value(f"argus-test-{tag}/{CAMERA}/lines/kerb/in", b"1")
        finally:
            await bridge.stop()
            await bus.close()


async def test_the_bridge_speaks_tls(store: MemoryDatabase, tmp_path: Path) -> None:
    cert = Certificate(tmp_path)
    broker = PrivateBroker(tmp_path, tls=(cert.cert, cert.key))
    broker.start()
    kit = _kit(store, broker.port, tls=cert.client)
    try:
        async with Listener.open(kit.topic("#"), port=broker.port, tls=cert.client) as listener:
            await kit.bridge.start()
            await listener.wait_value(kit.topic(f"{CAMERA}/lines/kerb/in"), b"1")
    finally:
        await kit.bridge.stop()
        await kit.bus.close()
        broker.kill()

"""Alerts leave the box: ``argus serve`` → a real SMTP server, webhook receiver and Mosquitto.

The whole path runs as in production: an ingest key posts events, the alert
worker raises alerts, the notifier routes them into the durable outbox, the
dispatcher delivers them. The SMTP server (aiosmtpd, its own process) and the
webhook receiver (its own process) are killed and restarted mid-run, and the
server itself is SIGKILLed with a mail still owed: nothing is lost and nothing
arrives twice, and the other channels keep flowing while one is down. Repeats
of one rule, camera and line collapse into one group and notify once.
"""

from __future__ import annotations

import email
import json
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from argus.domain.events import Envelope, EventSource, LineCrossed
from argus.domain.notify.signing import verify
from tests.e2e.serve_support import ServeProcess
from tests.integration.conftest import ServerProcess

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(600)]

SECRET = "e2e-webhook-secret-0123456789"
TOPIC = "argus-e2e/notifications"
WAIT = 90.0
T = TypeVar("T")

FAST_RETRIES = {
    "ARGUS_NOTIFY_ALLOWED_NETWORKS": "127.0.0.0/8",
    "ARGUS_NOTIFY_POLL_S": "0.1",
    "ARGUS_NOTIFY_BACKOFF_INITIAL_S": "0.2",
    "ARGUS_NOTIFY_BACKOFF_MAX_S": "1",
    "ARGUS_NOTIFY_BREAKER_THRESHOLD": "2",
    "ARGUS_NOTIFY_BREAKER_COOLDOWN_S": "1",
    "ARGUS_NOTIFY_BREAKER_MAX_COOLDOWN_S": "2",
    "ARGUS_NOTIFY_MAX_ATTEMPTS": "100",
    "ARGUS_NOTIFY_LEASE_S": "5",
}


def wait_for(what: str, probe: Callable[[], T | None], timeout: float = WAIT) -> T:
    """Poll ``probe`` until it returns something, at most ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        found = probe()
        if found is not None and found is not False:
            return found
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.1)


class Subscriber:
    """A paho MQTT client collecting every message of ``argus-e2e/#`` and ``homeassistant/#``."""

    def __init__(self) -> None:
        import paho.mqtt.client as mqtt
        from paho.mqtt.enums import CallbackAPIVersion

        self.messages: list[tuple[str, bytes, bool]] = []
        self._lock = threading.Lock()
        self._client = mqtt.Client(CallbackAPIVersion.VERSION2)
        self._client.on_message = self._on_message
        self._client.connect("127.0.0.1", 1883)
        self._client.subscribe([(f"{TOPIC}", 1), ("homeassistant/#", 1)])
        self._client.loop_start()

    def _on_message(self, _client: Any, _userdata: Any, message: Any) -> None:
        with self._lock:
            self.messages.append((message.topic, bytes(message.payload), bool(message.retain)))

    def on(self, topic: str) -> list[bytes]:
        with self._lock:
            return [payload for t, payload, _ in self.messages if t == topic]

    def topics(self) -> set[str]:
        with self._lock:
            return {t for t, _, _ in self.messages}

    def close(self) -> None:
        self._client.loop_stop()
        self._client.disconnect()


@pytest.fixture
def subscriber() -> Iterator[Subscriber]:
    try:
        client = Subscriber()
    except OSError as exc:  # make test starts Mosquitto; without it this is a setup error
        pytest.fail(f"no MQTT broker on 127.0.0.1:1883 ({exc}); run `make services`")
    yield client
    client.close()


def _sink(module: str, *args: str) -> ServerProcess:
    server = ServerProcess([sys.executable, "-m", module, *args], module)
    server.start()
    return server


def _post_event(base: str, key: str, camera_id: str, line: str, n: int) -> None:
    envelope = Envelope.wrap(
        LineCrossed(
            line=line,
            track_id=n,
            class_id=0,
            class_name="person",
            direction="in",
            timestamp=float(n),
            confidence=0.9,
        ),
        EventSource("e2e-edge", camera_id),
        datetime.now(UTC),
    )
    answer = httpx.post(
        f"{base}/api/v1/events",
        headers={"X-API-Key": key},
        json={"events": [envelope.to_dict()]},
        timeout=30,
    )
    assert answer.status_code in (200, 201, 207), answer.text


def _setup(server: ServeProcess, smtp_port: int, webhook_port: int) -> dict[str, str]:
    base, headers = server.base, server.headers

    def post(path: str, body: dict[str, Any]) -> dict[str, Any]:
        answer = httpx.post(f"{base}/api/v1{path}", headers=headers, json=body, timeout=30)
        assert answer.status_code in (200, 201), f"{path}: {answer.text}"
        result: dict[str, Any] = answer.json()
        return result

    camera = post("/cameras", {"name": "door", "stream_url": "rtsp://10.0.0.1:554/s"})
    post(
        "/rules",
        {
            "name": "crossing",
            "event_types": ["line.crossed"],
            "camera_id": camera["id"],
            "weight": 1.0,
        },
    )
    key = post("/api-keys", {"name": "ingest", "permissions": ["ingest"]})["key"]
    mail = post(
        "/channels",
        {
            "name": "mail",
            "kind": "email",
            "settings": {
                "host": "127.0.0.1",
                "port": smtp_port,
                "security": "none",
                "sender": "argus@e2e.example",
                "to": ["ops@e2e.example"],
                "snapshot": "none",
            },
        },
    )
    hook = post(
        "/channels",
        {
            "name": "hook",
            "kind": "webhook",
            "settings": {
                "url": f"http://127.0.0.1:{webhook_port}/hook",
                "secret": SECRET,
                "format": "json",
            },
        },
    )
    mqtt = post(
        "/channels",
        {
            "name": "mqtt",
            "kind": "mqtt",
            "settings": {"host": "127.0.0.1", "port": 1883, "topic": TOPIC},
        },
    )
    targets = [{"channel_id": c["id"], "level": 0} for c in (mail, hook, mqtt)]
    post("/routes", {"name": "all", "targets": targets, "min_severity": "low"})
    return {"camera": camera["id"], "key": key, "mail": mail["id"], "hook": hook["id"]}


def _mails(directory: Path) -> list[email.message.Message]:
    return [email.message_from_bytes(p.read_bytes()) for p in sorted(directory.glob("*.eml"))]


def _hooks(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _alerts(server: ServeProcess) -> list[dict[str, Any]]:
    answer = httpx.get(
        f"{server.base}/api/v1/alerts", headers=server.headers, params={"limit": 200}, timeout=30
    )
    assert answer.status_code == 200, answer.text
    items: list[dict[str, Any]] = answer.json()["items"]
    return items


def test_alerts_reach_mail_webhook_and_mqtt_through_outages(
    tmp_path: Path, subscriber: Subscriber
) -> None:
    mail_dir = tmp_path / "mail"
    mail_dir.mkdir()
    hook_file = tmp_path / "hooks.jsonl"
    smtp = _sink("tests.servers.smtp_sink", "--out", str(mail_dir))
    webhook = _sink("tests.servers.webhook_sink", "--out", str(hook_file), "--secret", SECRET)
    env = {**FAST_RETRIES, "ARGUS_MQTT_URL": "mqtt://127.0.0.1:1883"}
    data = tmp_path / "data"
    server = ServeProcess(data, tmp_path / "serve.log", env)
    server.start()
    try:
        ids = _setup(server, smtp.port, webhook.port)
        base, key, camera = server.base, ids["key"], ids["camera"]

        # 1. One alert reaches all three channels, signed, and discovery is announced.
        _post_event(base, key, camera, "a", 1)
        wait_for("the first mail", lambda: len(_mails(mail_dir)) == 1)
        wait_for("the first webhook", lambda: len(_hooks(hook_file)) == 1)
        wait_for("the first MQTT notification", lambda: len(subscriber.on(TOPIC)) == 1)
        first = _hooks(hook_file)[0]
        assert first["verified"] is True
        headers = {k.lower(): v for k, v in first["headers"].items()}
        assert verify(
            SECRET,
            headers["x-argus-timestamp"],
            first["body"].encode(),
            headers["x-argus-signature"],
            datetime.now(UTC),
        )
        wait_for(
            "Home Assistant discovery of the camera",
            lambda: any(camera in t for t in subscriber.topics() if t.startswith("homeassistant/")),
        )
        alert_id = _alerts(server)[0]["id"]
        deliveries = httpx.get(
            f"{base}/api/v1/alerts/{alert_id}/deliveries", headers=server.headers, timeout=30
        ).json()["items"]
        assert {d["notification"]["state"] for d in deliveries} == {"delivered"}
        assert all(d["attempts"] and d["attempts"][-1]["ok"] for d in deliveries)

        # 2. The SMTP server dies: webhooks and MQTT keep flowing, mails wait.
        smtp.kill()
        for n, line in enumerate(("b", "c", "d"), start=2):
            _post_event(base, key, camera, line, n)
        wait_for("webhooks while SMTP is down", lambda: len(_hooks(hook_file)) == 4)
        wait_for("MQTT while SMTP is down", lambda: len(subscriber.on(TOPIC)) == 4)
        assert len(_mails(mail_dir)) == 1

        # 3. The webhook receiver dies too, then the server is SIGKILLed with both owed.
        webhook.kill()
        _post_event(base, key, camera, "e", 5)
        wait_for("the fifth alert", lambda: len(_alerts(server)) == 5)
        server.kill()

        # 4. Everything comes back: every mail and webhook arrives, once.
        smtp.start()
        webhook.start()
        server = ServeProcess(data, tmp_path / "serve.log", env)
        server.start()
        wait_for("all five mails", lambda: len(_mails(mail_dir)) >= 5)
        wait_for("all five webhooks", lambda: len(_hooks(hook_file)) >= 5)
        message_ids = [m["Message-ID"] for m in _mails(mail_dir)]
        assert len(message_ids) == 5 == len(set(message_ids))
        deliveries_ids = [
            {k.lower(): v for k, v in h["headers"].items()}["x-argus-delivery"]
            for h in _hooks(hook_file)
        ]
        assert len(deliveries_ids) == 5 == len(set(deliveries_ids))

        # 5. A storm on one line is one group and one notification per channel.
        for n in range(20):
            _post_event(server.base, key, camera, "kerb", 100 + n)
        wait_for("the storm's alerts", lambda: len(_alerts(server)) == 25)
        wait_for("the storm's one mail", lambda: len(_mails(mail_dir)) == 6)
        groups = httpx.get(
            f"{server.base}/api/v1/alert-groups",
            headers=server.headers,
            params={"limit": 50},
            timeout=30,
        ).json()["items"]
        kerb = [g for g in groups if g["count"] == 20]
        assert len(kerb) == 1, groups
        # A later alert on another line: the notifier handles alerts in order, so once
        # its mail is here the repeats before it were handled, and sent nothing.
        _post_event(server.base, key, camera, "z", 200)
        wait_for("the mail after the storm", lambda: len(_mails(mail_dir)) == 7)
        wait_for("the webhook after the storm", lambda: len(_hooks(hook_file)) == 7)
    finally:
        server.kill()
        smtp.kill()
        webhook.kill()

"""The processes of the notification benchmark: a server, an SMTP server, a webhook receiver.

Every part is a real process on loopback, as in the test suite: ``argus serve``
(``api_load.serve``: SQLite, in-process bus, no video) with notification
delivery to loopback allowed, the suite's aiosmtpd sink
(``tests/servers/smtp_sink.py``) and webhook receiver
(``tests/servers/webhook_sink.py``), and the Mosquitto broker ``make test``
starts on port 1883 (the MQTT channel is left out when nothing answers there).
``Rig.setup`` configures the server through its API as an integrator would: a
camera, a rule on ``line.crossed``, an ingest key, one channel per kind and a
route sending every alert to all of them.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from benchmarks._auth import SERVER_ENV, sign_in
from benchmarks._common import REPO_ROOT
from benchmarks.api_load import _free_port, _wait_ready

if TYPE_CHECKING:
    import httpx

__all__ = ["MQTT_TOPIC", "Rig", "broker_up", "event_body", "rig"]

MQTT_TOPIC = "argus-bench/notifications"
WEBHOOK_SECRET = "benchmark-webhook-secret"
READY_TIMEOUT = 30.0


def broker_up(host: str = "127.0.0.1", port: int = 1883) -> bool:
    """Whether an MQTT broker accepts connections there."""
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=1.0):
        return True
    return False


def _start_sink(module: str, *args: str) -> tuple[subprocess.Popen[str], int]:
    process = subprocess.Popen(
        [sys.executable, "-m", module, "--port", "0", *args],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if line.startswith("READY "):
            return process, int(line.split()[1])
        if not line and process.poll() is not None:
            break
    process.kill()
    raise RuntimeError(f"{module} did not start")


def _stop(process: subprocess.Popen[Any]) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@dataclass(slots=True)
class Rig:
    """The running processes and what ``setup`` made.

    Attributes:
        base_url: The server's URL.
        server: The server process.
        mail_dir: Where the SMTP sink writes accepted messages.
        webhook_file: Where the webhook receiver appends requests.
        mqtt: Whether the MQTT channel is part of the route.
        headers: The admin's ``Authorization`` header.
        ingest: The ingest key's header.
        camera_id: The camera events are posted for.
    """

    base_url: str
    server: subprocess.Popen[bytes]
    mail_dir: Path
    webhook_file: Path
    smtp_port: int
    webhook_port: int
    mqtt: bool
    headers: dict[str, str] = field(default_factory=dict)
    ingest: dict[str, str] = field(default_factory=dict)
    camera_id: str = ""

    def server_cpu(self) -> float:
        """CPU seconds the server process has used."""
        from benchmarks.api_load import _child_cpu_seconds

        return _child_cpu_seconds(self.server.pid)

    def mails(self) -> list[Path]:
        """Accepted messages, oldest first."""
        return sorted(self.mail_dir.glob("*.eml"), key=lambda p: p.stat().st_mtime_ns)

    def webhooks(self) -> list[str]:
        """Recorded webhook requests (JSON lines)."""
        if not self.webhook_file.exists():
            return []
        return [line for line in self.webhook_file.read_text().splitlines() if line.strip()]

    async def setup(self, client: httpx.AsyncClient) -> None:
        """Camera, rule, ingest key, channels and the route, through the API."""
        self.headers = await sign_in(client)
        answer = await client.post(
            "/api/v1/cameras",
            headers=self.headers,
            json={"name": "bench door", "stream_url": "rtsp://10.0.0.1:554/stream1"},
        )
        answer.raise_for_status()
        self.camera_id = str(answer.json()["id"])
        answer = await client.post(
            "/api/v1/rules",
            headers=self.headers,
            json={
                "name": "bench crossing",
                "event_types": ["line.crossed"],
                "camera_id": self.camera_id,
                "weight": 1.0,
            },
        )
        answer.raise_for_status()
        answer = await client.post(
            "/api/v1/api-keys",
            headers=self.headers,
            json={"name": "bench ingest", "permissions": ["ingest"]},
        )
        answer.raise_for_status()
        self.ingest = {"X-API-Key": str(answer.json()["key"])}
        channels = [
            {
                "name": "bench mail",
                "kind": "email",
                "rate_per_minute": 10_000,
                "settings": {
                    "host": "127.0.0.1",
                    "port": self.smtp_port,
                    "security": "none",
                    "sender": "argus@bench.example",
                    "to": ["ops@bench.example"],
                    "snapshot": "none",
                },
            },
            {
                "name": "bench webhook",
                "kind": "webhook",
                "rate_per_minute": 10_000,
                "settings": {
                    "url": f"http://127.0.0.1:{self.webhook_port}/hook",
                    "secret": WEBHOOK_SECRET,
                    "format": "json",
                },
            },
        ]
        if self.mqtt:
            channels.append(
                {
                    "name": "bench mqtt",
                    "kind": "mqtt",
                    "rate_per_minute": 10_000,
                    "settings": {"host": "127.0.0.1", "port": 1883, "topic": MQTT_TOPIC},
                }
            )
        targets = []
        for body in channels:
            answer = await client.post("/api/v1/channels", headers=self.headers, json=body)
            answer.raise_for_status()
            targets.append({"channel_id": answer.json()["id"], "level": 0})
        answer = await client.post(
            "/api/v1/routes",
            headers=self.headers,
            json={"name": "everything", "targets": targets, "min_severity": "low"},
        )
        answer.raise_for_status()

    async def total(self, client: httpx.AsyncClient, path: str) -> int:
        """The ``total`` of a list route (``limit=1``)."""
        answer = await client.get(path, headers=self.headers, params={"limit": 1})
        answer.raise_for_status()
        return int(answer.json()["total"])


def event_body(camera_id: str, line: str, at: datetime, n: int) -> dict[str, Any]:
    """One ``line.crossed`` envelope as ``POST /api/v1/events`` takes it."""
    from argus.domain.events import Envelope, EventSource, LineCrossed

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
        EventSource("bench-edge", camera_id),
        at,
    )
    return {"events": [envelope.to_dict()]}


@contextlib.contextmanager
def rig(extra_env: Mapping[str, str] | None = None) -> Iterator[Rig]:
    """Start the sinks and the server; stop them all on exit."""
    mqtt = broker_up()
    with tempfile.TemporaryDirectory(prefix="argus-bench-notify-") as tmp:
        directory = Path(tmp)
        (directory / "plane").mkdir()
        (directory / "mail").mkdir()
        smtp, smtp_port = _start_sink("tests.servers.smtp_sink", "--out", str(directory / "mail"))
        webhook, webhook_port = _start_sink(
            "tests.servers.webhook_sink",
            "--out",
            str(directory / "webhooks.jsonl"),
            "--secret",
            WEBHOOK_SECRET,
        )
        port = _free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("ARGUS_")}
        env.update(SERVER_ENV)
        env.update(
            {
                "ARGUS_NOTIFY_ALLOWED_NETWORKS": "127.0.0.0/8",
                "ARGUS_NOTIFY_POLL_S": "0.05",
                "ARGUS_INGEST_EVENTS_PER_S": "100000",
                "ARGUS_INGEST_EVENTS_BURST": "100000",
            }
        )
        env.update(extra_env or {})
        command = [
            sys.executable,
            "-c",
            "import sys; from benchmarks.api_load import serve; "
            "serve(int(sys.argv[1]), sys.argv[2])",
            str(port),
            str(directory / "plane"),
        ]
        server = subprocess.Popen(command, cwd=REPO_ROOT, env=env)
        try:
            yield Rig(
                f"http://127.0.0.1:{port}",
                server,
                directory / "mail",
                directory / "webhooks.jsonl",
                smtp_port,
                webhook_port,
                mqtt,
            )
        finally:
            for process in (server, smtp, webhook):
                _stop(process)


async def ready(client: httpx.AsyncClient, the_rig: Rig) -> None:
    """Wait until the server answers its readiness probe."""
    await _wait_ready(client, the_rig.server)

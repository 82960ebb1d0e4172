"""Shared pieces of the notification delivery tests: sinks, a TLS certificate, channels, waits.

The SMTP server (``tests/servers/smtp_sink.py``, aiosmtpd) and the webhook
receiver (``tests/servers/webhook_sink.py``) run as their own processes
through ``ServerProcess``, so a test can SIGKILL one mid-run and start it
again on the same port. Waits poll the store or the sinks' files with a
bounded deadline; nothing sleeps for a fixed time.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import ipaddress
import json
import ssl
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from argus.adapters.notify.destinations import DestinationPolicy
from argus.adapters.notify.smtp import SmtpSender
from argus.adapters.notify.templates import render
from argus.adapters.notify.webhook import WebhookSender
from argus.domain.backoff import BackoffPolicy
from argus.domain.notify import Channel, ChannelSettings, Notification, dedupe_key
from argus.domain.notify.breaker import BreakerPolicy
from argus.domain.notify.delivery import DispatchPolicy
from argus.ports.notify import NotifyStore
from argus.services.notify_dispatch import NotificationDispatcher, SnapshotSource
from tests.integration.conftest import SERVERS, ServerProcess

WAIT_S = 60.0
"""Longest wait for a delivery state; generous for a loaded 2-core machine."""

FAST = DispatchPolicy(
    max_attempts=50,
    backoff=BackoffPolicy(0.05, 0.2),
    breaker=BreakerPolicy(threshold=2, cooldown_s=0.3, max_cooldown_s=0.6),
    lease_s=30.0,
    poll_s=0.05,
    batch=50,
    channel_concurrency=4,
)
"""Short delays so that retries and breaker probes happen within a test's time."""


def utc_now() -> datetime:
    """The wall clock (deliveries go over real sockets)."""
    return datetime.now(UTC)


class Certificate:
    """A self-signed certificate for localhost and 127.0.0.1, and a client context trusting it."""

    def __init__(self, directory: Path) -> None:
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
        now = utc_now()
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=1))
            .add_extension(
                x509.SubjectAlternativeName(
                    [
                        x509.DNSName("localhost"),
                        x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                    ]
                ),
                critical=False,
            )
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256())
        )
        self.cert = directory / "sink.crt"
        self.key = directory / "sink.key"
        self.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        self.key.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        self.client = ssl.create_default_context(cafile=str(self.cert))


def smtp_sink(out: Path, *extra: str) -> ServerProcess:
    """An SMTP sink process (not started) writing messages to ``out``."""
    argv = [sys.executable, str(SERVERS / "smtp_sink.py"), "--host", "127.0.0.1"]
    return ServerProcess([*argv, "--out", str(out), *extra], "smtp sink")


def webhook_sink(out: Path, *extra: str) -> ServerProcess:
    """A webhook receiver process (not started) appending requests to ``out``."""
    argv = [sys.executable, str(SERVERS / "webhook_sink.py"), "--host", "127.0.0.1"]
    return ServerProcess([*argv, "--out", str(out), *extra], "webhook sink")


def mails(out: Path) -> list[EmailMessage]:
    """The messages the SMTP sink stored, in arrival order."""
    found = []
    for path in sorted(out.glob("*.eml")):
        parsed = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        found.append(parsed)
    return found


def requests(out: Path) -> list[dict[str, Any]]:
    """The requests the webhook sink recorded."""
    if not out.exists():
        return []
    return [json.loads(line) for line in out.read_text().splitlines() if line]


def channel(kind: str, settings: ChannelSettings, **changes: Any) -> Channel:
    """A new channel (a fresh id and name)."""
    suffix = uuid.uuid4().hex[:8]
    now = utc_now()
    return Channel(
        id=f"ch-{suffix}",
        name=f"{kind}-{suffix}",
        kind=kind,  # type: ignore[arg-type]
        settings=settings,
        created_at=now,
        updated_at=now,
        **changes,
    )


def notification(target: Channel, n: int = 0, **changes: Any) -> Notification:
    """A due ``alert.created`` notification for ``target`` about a made-up alert."""
    alert_id = f"alert-{uuid.uuid4().hex[:12]}"
    now = utc_now()
    alert = {
        "id": alert_id,
        "rule_name": f"Fence {n}",
        "camera_id": "gate",
        "severity": "high",
        "risk_score": 0.9,
    }
    fields: dict[str, Any] = {
        "id": f"n-{uuid.uuid4().hex}",
        "dedupe_key": dedupe_key(alert_id, "alert.created", 0, target.id, "route-1"),
        "channel_id": target.id,
        "kind": "alert.created",
        "created_at": now,
        "next_attempt_at": now,
        "payload": {"alert": alert, "camera": {"id": "gate", "name": "Gate"}},
        "recipients": ("ops@example.org",) if target.kind == "email" else (),
        "alert_id": alert_id,
    }
    fields.update(changes)
    return Notification(**fields)


def dispatcher(
    store: NotifyStore,
    *,
    tls: ssl.SSLContext | None = None,
    policy: DispatchPolicy = FAST,
    allowed: str = "127.0.0.0/8",
    snapshot: SnapshotSource | None = None,
) -> NotificationDispatcher:
    """A dispatcher with the real SMTP and webhook senders, loopback allowed."""
    destinations = DestinationPolicy.of(allowed)
    return NotificationDispatcher(
        store.outbox,
        store.channels,
        {
            "email": SmtpSender(destinations, tls_context=tls),
            "webhook": WebhookSender(destinations, verify=tls if tls is not None else True),
        },
        render=render,
        clock=utc_now,
        owner="test",
        policy=policy,
        snapshot=snapshot,
    )


async def wait_for(
    what: str, ready: Callable[[], Awaitable[bool]], timeout: float = WAIT_S
) -> None:
    """Poll ``ready`` until it is true, failing after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not await ready():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


async def states(store: NotifyStore, ids: list[str]) -> list[str]:
    """The state of each notification."""
    return [(await store.outbox.get(item_id)).state for item_id in ids]


async def all_in(store: NotifyStore, ids: list[str], state: str) -> bool:
    """Whether every notification is in ``state``."""
    return all(s == state for s in await states(store, ids))

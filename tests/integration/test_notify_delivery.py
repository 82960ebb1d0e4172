"""Notification delivery against real servers: SMTP (aiosmtpd) and webhook receiver processes.

Each server runs as its own process (``tests/servers``); the outbox is SQLite
(a temporary file), so what the dispatcher records is what a restart reads.
Covered: mail over STARTTLS with login and over implicit TLS, HTTPS webhooks
(pinned address, certificate checked against the host name), the snapshot
attached or linked, a login refused over clear text, signed webhooks checked
by the receiver, Slack and Teams shapes, permanent errors dead-lettered at
once, retries then the dead letter, rate limits and the destination check.
Outages (servers SIGKILLed mid-run, a restarted dispatcher) are in
``test_notify_outages``.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from argus.adapters.db.sql import SqlDatabase
from argus.adapters.notify.destinations import DestinationPolicy, DestinationRefusedError
from argus.domain.notify import Channel, EmailSettings, Notification, WebhookSettings
from argus.domain.notify.signing import verify
from tests.integration.notify_support import (
    FAST,
    Certificate,
    all_in,
    channel,
    dispatcher,
    mails,
    notification,
    requests,
    smtp_sink,
    states,
    utc_now,
    wait_for,
    webhook_sink,
)

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

SECRET = b"test-secret-key-0123456789abcdef"
JPEG = b"\xff\xd8\xff\xe0" + b"snapshot" * 64 + b"\xff\xd9"


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[SqlDatabase]:
    """A migrated SQLite store in a temporary file."""
    database = await SqlDatabase.open(f"sqlite:///{tmp_path / 'argus.db'}", secret_key=SECRET)
    try:
        yield database
    finally:
        await database.close()


@pytest.fixture
def cert(tmp_path: Path) -> Certificate:
    """A self-signed certificate for the sinks and a client context that trusts it."""
    return Certificate(tmp_path)


async def _add(db: SqlDatabase, *channels: Channel) -> None:
    for item in channels:
        await db.notify.channels.add(item)


async def _enqueue(db: SqlDatabase, items: list[Notification]) -> list[str]:
    assert await db.notify.outbox.enqueue(items) == len(items)
    return [item.id for item in items]


async def test_mail_over_starttls_with_login_and_the_snapshot_attached(
    db: SqlDatabase, cert: Certificate, tmp_path: Path
) -> None:
    out = tmp_path / "mail"
    sink = smtp_sink(out, "--starttls", "--cert", str(cert.cert), "--key", str(cert.key))
    sink.argv += ["--auth", "argus:s3cret"]
    port = sink.start(0)
    try:
        settings = EmailSettings(
            host="127.0.0.1",
            port=port,
            security="starttls",
            username="argus",
            password="s3cret",
            sender="argus@example.org",
            snapshot="attach",
        )
        mail = channel("email", settings)
        await _add(db, mail)
        item = notification(mail)
        await _enqueue(db, [item])

        async def snapshot(_: Notification, __: Channel) -> tuple[bytes | None, str | None]:
            return JPEG, None

        assert await dispatcher(db.notify, tls=cert.client, snapshot=snapshot).run_once() == 1
        (message,) = mails(out)
    finally:
        sink.stop()
    assert message["X-Sink-TLS"] == "yes"
    assert message["X-Sink-Auth"] == "yes"
    assert message["Message-ID"] == f"<{item.id}@argus>"
    assert message["To"] == "ops@example.org"
    assert message["Subject"] == "[Argus] HIGH Fence 0 on Gate (risk 0.90)"
    (attachment,) = list(message.iter_attachments())
    assert attachment.get_content_type() == "image/jpeg"
    assert attachment.get_content() == JPEG
    stored = await db.notify.outbox.get(item.id)
    assert (stored.state, stored.attempts) == ("delivered", 1)
    ((_, attempts),) = await db.notify.outbox.deliveries(item.alert_id or "")
    assert attempts[0].ok
    assert attempts[0].breaker == "closed"
    assert attempts[0].latency_ms > 0


async def test_mail_over_implicit_tls_with_the_snapshot_linked(
    db: SqlDatabase, cert: Certificate, tmp_path: Path
) -> None:
    out = tmp_path / "mail"
    sink = smtp_sink(out, "--tls", "--cert", str(cert.cert), "--key", str(cert.key))
    port = sink.start(0)
    link = "https://argus.example.org/api/v1/shared/snapshots/tok"
    try:
        mail = channel("email", EmailSettings(host="127.0.0.1", port=port, security="tls"))
        await _add(db, mail)
        await _enqueue(db, [notification(mail)])

        async def snapshot(_: Notification, __: Channel) -> tuple[bytes | None, str | None]:
            return None, link

        assert await dispatcher(db.notify, tls=cert.client, snapshot=snapshot).run_once() == 1
        (message,) = mails(out)
    finally:
        sink.stop()
    assert message["X-Sink-TLS"] == "yes"
    assert list(message.iter_attachments()) == []
    body = message.get_body()
    assert body is not None
    assert link in body.get_content()


async def test_a_login_is_never_sent_in_clear_text(db: SqlDatabase, tmp_path: Path) -> None:
    sink = smtp_sink(tmp_path / "mail", "--auth", "argus:s3cret")
    port = sink.start(0)
    try:
        settings = EmailSettings(
            host="127.0.0.1",
            port=port,
            security="none",
            username="argus",
            password="s3cret",
        )
        mail = channel("email", settings)
        await _add(db, mail)
        (item_id,) = await _enqueue(db, [notification(mail)])
        await dispatcher(db.notify).run_once()
    finally:
        sink.stop()
    item = await db.notify.outbox.get(item_id)
    assert (item.state, item.attempts) == ("dead", 1)
    assert item.last_error is not None
    assert "AUTH extension is not supported" in item.last_error


async def test_signed_webhooks_in_three_formats_verify_at_the_receiver(
    db: SqlDatabase, tmp_path: Path
) -> None:
    out = tmp_path / "hooks.jsonl"
    sink = webhook_sink(out, "--secret", "hook-secret")
    port = sink.start(0)
    try:
        hooks = [
            channel(
                "webhook",
                WebhookSettings(
                    url=f"http://127.0.0.1:{port}/{fmt}",
                    secret="hook-secret",
                    format=fmt,
                    headers={"Authorization": "Bearer t"},
                ),
            )
            for fmt in ("json", "slack", "teams")
        ]
        await _add(db, *hooks)
        ids = await _enqueue(db, [notification(hook) for hook in hooks])
        assert await dispatcher(db.notify).run_once() == 3
        got = {request["path"]: request for request in requests(out)}
    finally:
        sink.stop()
    assert await all_in(db.notify, ids, "delivered")
    assert set(got) == {"/json", "/slack", "/teams"}
    assert all(request["verified"] is True for request in got.values())
    assert {request["headers"]["x-argus-delivery"] for request in got.values()} == set(ids)
    assert got["/json"]["headers"]["authorization"] == "Bearer t"
    assert got["/json"]["headers"]["host"] == f"127.0.0.1:{port}"
    doc = json.loads(got["/json"]["body"])
    assert doc["alert"]["rule_name"] == "Fence 0"
    assert json.loads(got["/slack"]["body"])["blocks"][0]["type"] == "header"
    teams = json.loads(got["/teams"]["body"])
    assert teams["attachments"][0]["content"]["type"] == "AdaptiveCard"
    # What the receiver checked holds: a copy replayed outside the window fails.
    request = got["/json"]
    stamp = int(request["headers"]["x-argus-timestamp"])
    signature = request["headers"]["x-argus-signature"]
    body = request["body"].encode()
    assert verify("hook-secret", stamp, body, signature, utc_now())
    later = datetime.fromtimestamp(stamp + 400, UTC)
    assert not verify("hook-secret", stamp, body, signature, later)


async def test_https_webhooks_go_to_the_checked_address_and_verify_the_host_name(
    db: SqlDatabase, cert: Certificate, tmp_path: Path
) -> None:
    out = tmp_path / "hooks.jsonl"
    sink = webhook_sink(out, "--cert", str(cert.cert), "--key", str(cert.key))
    port = sink.start(0)
    try:
        # localhost may resolve to ::1 first, where nothing listens: the next address is tried.
        hook = channel("webhook", WebhookSettings(url=f"https://localhost:{port}/tls"))
        await _add(db, hook)
        (item_id,) = await _enqueue(db, [notification(hook)])
        untrusting = dispatcher(db.notify, allowed="127.0.0.0/8,::1")  # the system CAs only
        assert await untrusting.run_once() == 1
        refused = await db.notify.outbox.get(item_id)
        assert refused.state == "pending"
        assert "CERTIFICATE_VERIFY_FAILED" in (refused.last_error or "")
        trusting = dispatcher(db.notify, tls=cert.client, allowed="127.0.0.0/8,::1")

        async def delivered() -> bool:
            await trusting.run_once()
            return await all_in(db.notify, [item_id], "delivered")

        await wait_for("the retry over verified TLS", delivered)
        (request,) = requests(out)
    finally:
        sink.stop()
    assert request["path"] == "/tls"
    assert request["headers"]["host"] == f"localhost:{port}"


async def test_permanent_refusals_are_dead_at_once_and_others_still_go(
    db: SqlDatabase, tmp_path: Path
) -> None:
    mail_out, hook_out = tmp_path / "mail", tmp_path / "hooks.jsonl"
    smtp = smtp_sink(mail_out, "--refuse", "nobody@example.org")
    hook = webhook_sink(hook_out, "--status", "404")
    smtp_port, hook_port = smtp.start(0), hook.start(0)
    try:
        mail = channel("email", EmailSettings(host="127.0.0.1", port=smtp_port, security="none"))
        gone = channel("webhook", WebhookSettings(url=f"http://127.0.0.1:{hook_port}/gone"))
        await _add(db, mail, gone)
        bad, good, missing = notification(mail), notification(mail), notification(gone)
        bad = dataclasses.replace(bad, recipients=("nobody@example.org",))
        await _enqueue(db, [bad, good, missing])
        await dispatcher(db.notify).run_once()
    finally:
        smtp.stop()
        hook.stop()
    assert await states(db.notify, [bad.id, good.id, missing.id]) == ["dead", "delivered", "dead"]
    assert (await db.notify.outbox.get(bad.id)).attempts == 1
    assert "550" in ((await db.notify.outbox.get(bad.id)).last_error or "")
    assert "HTTP 404" in ((await db.notify.outbox.get(missing.id)).last_error or "")
    assert len(mails(mail_out)) == 1


async def test_retried_with_backoff_then_dead_lettered_then_retried_by_hand(
    db: SqlDatabase, tmp_path: Path
) -> None:
    out = tmp_path / "hooks.jsonl"
    sink = webhook_sink(out, "--status", "503")
    port = sink.start(0)
    policy = dataclasses.replace(FAST, max_attempts=3)
    try:
        hook = channel("webhook", WebhookSettings(url=f"http://127.0.0.1:{port}/"))
        await _add(db, hook)
        (item_id,) = await _enqueue(db, [notification(hook)])
        worker = dispatcher(db.notify, policy=policy)
        worker.start()
        try:
            await wait_for("the dead letter", lambda: all_in(db.notify, [item_id], "dead"))
            item = await db.notify.outbox.get(item_id)
            assert item.attempts == 3
            assert "HTTP 503" in (item.last_error or "")
            sink.stop()
            sink.argv.remove("503")
            sink.argv.remove("--status")
            sink.start()
            await db.notify.outbox.retry(item_id, utc_now())
            await wait_for("the retry", lambda: all_in(db.notify, [item_id], "delivered"))
        finally:
            await worker.stop()
    finally:
        sink.stop()
    assert (await db.notify.outbox.get(item_id)).attempts == 4
    assert [r["headers"]["x-argus-delivery"] for r in requests(out)] == [item_id] * 4


async def test_a_channel_rate_limit_spreads_a_burst(db: SqlDatabase, tmp_path: Path) -> None:
    out = tmp_path / "hooks.jsonl"
    sink = webhook_sink(out)
    port = sink.start(0)
    try:
        hook = channel(
            "webhook", WebhookSettings(url=f"http://127.0.0.1:{port}/"), rate_per_minute=2
        )
        await _add(db, hook)
        ids = await _enqueue(db, [notification(hook, n) for n in range(5)])
        worker = dispatcher(db.notify)
        assert await worker.run_once() == 2
        assert await worker.run_once() == 0  # the bucket is empty for ~30 s
    finally:
        sink.stop()
    assert sorted(await states(db.notify, ids)) == ["delivered"] * 2 + ["pending"] * 3
    assert len(requests(out)) == 2


async def test_destinations_outside_the_allowed_networks_are_refused(db: SqlDatabase) -> None:
    policy = DestinationPolicy.of("")
    hook = channel("webhook", WebhookSettings(url="http://127.0.0.1:9/"))
    with pytest.raises(DestinationRefusedError, match="ARGUS_NOTIFY_ALLOWED_NETWORKS"):
        policy.check_channel(hook)
    metadata = channel("webhook", WebhookSettings(url="http://169.254.169.254/latest/"))
    with pytest.raises(DestinationRefusedError):
        policy.check_channel(metadata)
    DestinationPolicy.of("127.0.0.0/8").check_channel(hook)  # no error
    await _add(db, hook)
    (item_id,) = await _enqueue(db, [notification(hook)])
    await dispatcher(db.notify, allowed="").run_once()
    item = await db.notify.outbox.get(item_id)
    assert (item.state, item.attempts) == ("dead", 1)
    assert "may not reach" in (item.last_error or "")

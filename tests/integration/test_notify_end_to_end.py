"""From a detection to a mail and a signed webhook, through the whole app.

The app runs in-process over a SQLite file with the real notifier and
dispatcher; the SMTP server (aiosmtpd) and the webhook receiver are their own
processes on loopback, which ``ARGUS_NOTIFY_ALLOWED_NETWORKS`` lets channels
reach. Channels and a route are set up through the API, a line crossing
raises an alert, and the test waits for what the servers received, for the
alert's delivery log, and for the mail's snapshot link to open.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.auth_support import settings_for
from tests.integration.api_support import api, crossing, eventually
from tests.integration.notify_support import mails, requests, smtp_sink, webhook_sink

pytestmark = [pytest.mark.integration, pytest.mark.anyio]


async def test_an_alert_reaches_an_inbox_and_a_webhook_with_a_delivery_log(
    tmp_path: Path,
) -> None:
    mail_out, hook_out = tmp_path / "mail", tmp_path / "hooks.jsonl"
    smtp = smtp_sink(mail_out)
    hook = webhook_sink(hook_out, "--secret", "hook-secret")
    smtp_port, hook_port = smtp.start(0), hook.start(0)
    settings = settings_for(
        tmp_path,
        notify_allowed_networks="127.0.0.0/8",
        public_url="https://argus.example.org",
        notify_poll_s=0.1,
    )
    try:
        async with api("sqlite", tmp_path, settings=settings) as app:
            mail = await app.client.post(
                "/api/v1/channels",
                json={
                    "name": "ops mail",
                    "kind": "email",
                    "settings": {
                        "host": "127.0.0.1",
                        "port": smtp_port,
                        "security": "none",
                        "to": ["ops@example.org"],
                    },
                },
            )
            assert mail.status_code == 201, mail.text
            webhook = await app.client.post(
                "/api/v1/channels",
                json={
                    "name": "ops hook",
                    "kind": "webhook",
                    "settings": {
                        "url": f"http://127.0.0.1:{hook_port}/argus",
                        "secret": "hook-secret",
                    },
                },
            )
            assert webhook.status_code == 201, webhook.text
            targets = [{"channel_id": mail.json()["id"]}, {"channel_id": webhook.json()["id"]}]
            route = await app.client.post(
                "/api/v1/routes", json={"name": "everything", "targets": targets}
            )
            assert route.status_code == 201, route.text
            camera = await app.client.post(
                "/api/v1/cameras", json={"name": "gate", "stream_url": "rtsp://127.0.0.1:8554/g"}
            )
            assert camera.status_code == 201, camera.text
            rule = await app.client.post("/api/v1/rules", json={"name": "any crossing"})
            assert rule.status_code == 201, rule.text
            await app.bus.publish("events", crossing(camera.json()["id"]))

            async def arrived() -> bool:
                return len(mails(mail_out)) == 1 and len(requests(hook_out)) == 1

            await eventually(arrived, "the mail and the webhook")
            alert = (await app.client.get("/api/v1/alerts")).json()["items"][0]
            log: list[dict[str, Any]] = []

            async def logged() -> bool:
                answer = await app.client.get(f"/api/v1/alerts/{alert['id']}/deliveries")
                log[:] = answer.json()["items"]
                return len(log) == 2 and all(
                    entry["notification"]["state"] == "delivered" for entry in log
                )

            await eventually(logged, "the delivery log")
            # The mail links the snapshot before it exists; the link opens it once stored.
            (message,) = mails(mail_out)
            body = message.get_body()
            assert body is not None
            link = re.search(
                r"https://argus\.example\.org(/api/v1/shared/snapshots/\S+)", body.get_content()
            )
            assert link is not None
            credentials = app.client.headers.pop("Authorization")
            try:

                async def opened() -> bool:
                    answer = await app.client.get(link.group(1))
                    return answer.status_code == 200 and answer.content.startswith(b"\xff\xd8")

                await eventually(opened, "the linked snapshot")
            finally:
                app.client.headers["Authorization"] = credentials
    finally:
        smtp.stop()
        hook.stop()
    assert message["To"] == "ops@example.org"
    assert "any crossing" in str(message["Subject"])
    (request,) = requests(hook_out)
    assert request["verified"] is True
    assert request["path"] == "/argus"
    for entry in log:
        (attempt,) = entry["attempts"]
        assert attempt["ok"] is True
        assert attempt["breaker"] == "closed"

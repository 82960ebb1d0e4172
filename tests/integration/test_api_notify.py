"""Notification channels, routes, recipient groups and the log over the REST API.

Runs on the memory and SQLite stores. Secrets are write-only: no answer may
carry them, only ``{"set": bool}``; every write is audited without them.
Destinations are public IP literals (no name resolution in tests) except where
the network policy's refusal of loopback is the point.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from argus.domain.notify import DeliveryAttempt, Notification, dedupe_key
from tests.auth_support import admin_token, make_user
from tests.integration.api_support import STORES, Api, api, crossing, eventually

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

PUBLIC_HOST = "93.184.216.34"
SMTP_PASSWORD = "smtp-password-never-returned"
HOOK_SECRET = "hook-secret-never-returned"
MAIL: dict[str, Any] = {
    "name": "Night mail",
    "kind": "email",
    "settings": {
        "host": PUBLIC_HOST,
        "port": 465,
        "security": "tls",
        "username": "argus",
        "password": SMTP_PASSWORD,
        "sender": "argus@example.org",
        "to": ["ops@example.org"],
        "snapshot": "attach",
    },
    "templates": {"subject": "[{{ alert.severity }}] {{ alert.rule_name }}", "body": ""},
    "rate_per_minute": 20,
}
HOOK: dict[str, Any] = {
    "name": "Chat",
    "kind": "webhook",
    "settings": {"url": f"https://{PUBLIC_HOST}/hooks/argus", "format": "slack"},
}


@pytest.fixture(params=STORES)
async def app(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Api]:
    async with api(request.param, tmp_path) as running:
        yield running


async def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json() if response.content else None


async def add_channel(app: Api, body: dict[str, Any]) -> dict[str, Any]:
    created: dict[str, Any] = await ok(await app.client.post("/api/v1/channels", json=body), 201)
    return created


def assert_no_secrets(body: object) -> None:
    text = json.dumps(body)
    assert SMTP_PASSWORD not in text
    assert HOOK_SECRET not in text


async def audit_actions(app: Api, prefix: str) -> list[str]:
    page = await ok(await app.client.get("/api/v1/audit", params={"action": prefix}))
    assert_no_secrets(page)
    return [item["action"] for item in page["items"]][::-1]


# --- channels ---------------------------------------------------------------------------------


async def test_a_channel_is_created_listed_and_never_shows_its_secrets(app: Api) -> None:
    mail = await add_channel(app, MAIL)
    assert mail["settings"]["password"] == {"set": True}
    assert mail["settings"]["host"] == PUBLIC_HOST
    assert (mail["kind"], mail["enabled"], mail["rate_per_minute"], mail["version"]) == (
        "email",
        True,
        20,
        1,
    )
    assert mail["generated_secret"] is None
    assert_no_secrets(mail)
    listed = await ok(await app.client.get("/api/v1/channels"))
    assert [c["id"] for c in listed["items"]] == [mail["id"]]
    assert listed["total"] == 1
    one = await ok(await app.client.get(f"/api/v1/channels/{mail['id']}"))
    assert one == {k: v for k, v in mail.items() if k != "generated_secret"}
    assert_no_secrets(listed)
    stored = await app.plane.database.notify.channels.get(mail["id"])
    assert getattr(stored.settings, "password", None) == SMTP_PASSWORD


async def test_a_webhook_gets_a_generated_secret_shown_once(app: Api) -> None:
    hook = await add_channel(app, HOOK)
    secret = hook["generated_secret"]
    assert isinstance(secret, str)
    assert len(secret) >= 32
    assert hook["settings"]["secret"] == {"set": True}
    again = await ok(await app.client.get(f"/api/v1/channels/{hook['id']}"))
    assert secret not in json.dumps(again)
    stored = await app.plane.database.notify.channels.get(hook["id"])
    assert getattr(stored.settings, "secret", None) == secret
    given = await add_channel(
        app, {**HOOK, "name": "Given", "settings": {**HOOK["settings"], "secret": HOOK_SECRET}}
    )
    assert given["generated_secret"] is None
    assert_no_secrets(given)


async def test_a_patch_merges_settings_and_keeps_secrets_left_out(app: Api) -> None:
    mail = await add_channel(app, MAIL)
    path = f"/api/v1/channels/{mail['id']}"
    changed = await ok(
        await app.client.patch(
            path, json={"name": "Day mail", "settings": {"port": 587, "security": "starttls"}}
        )
    )
    assert (changed["name"], changed["version"]) == ("Day mail", 2)
    assert (changed["settings"]["port"], changed["settings"]["security"]) == (587, "starttls")
    assert changed["settings"]["to"] == ["ops@example.org"]
    assert changed["settings"]["password"] == {"set": True}
    stored = await app.plane.database.notify.channels.get(mail["id"])
    assert getattr(stored.settings, "password", None) == SMTP_PASSWORD
    echoed = await ok(
        await app.client.patch(path, json={"settings": {**changed["settings"], "port": 2525}})
    )
    assert (echoed["settings"]["port"], echoed["settings"]["password"]) == (2525, {"set": True})
    stored = await app.plane.database.notify.channels.get(mail["id"])
    assert getattr(stored.settings, "password", None) == SMTP_PASSWORD
    nul = await app.client.patch(path, json={"settings": {"sender": "a\u0000@example.org"}})
    assert nul.status_code == 422, nul.text
    cleared = await ok(await app.client.patch(path, json={"settings": {"password": None}}))
    assert cleared["settings"]["password"] == {"set": False}
    refused = await app.client.patch(path, json={"settings": {"url": "https://x.org"}})
    assert refused.status_code == 422, refused.text
    assert (await app.client.patch(path, json={"name": None})).status_code == 422
    assert (await app.client.patch(path, json={"kind": "mqtt"})).status_code == 422
    actions = await audit_actions(app, "channel.")
    assert actions == ["channel.create", "channel.update", "channel.update", "channel.update"]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        pytest.param({**HOOK, "settings": {"url": "ftp://x.org/"}}, "http", id="not-http"),
        pytest.param(
            {**HOOK, "settings": {**HOOK["settings"], "headers": {"X-Argus-Signature": "x"}}},
            "X-Argus-Signature",
            id="reserved-header",
        ),
        pytest.param(
            {**MAIL, "settings": {**MAIL["settings"], "to": ["not-an-address"]}},
            "",
            id="bad-address",
        ),
        pytest.param(
            {"name": "B", "kind": "mqtt", "settings": {"host": PUBLIC_HOST, "topic": "a/#"}},
            "wildcards",
            id="mqtt-wildcard",
        ),
        pytest.param(
            {**HOOK, "settings": {"url": "http://127.0.0.1:9/hook"}},
            "127.0.0.1",
            id="loopback-refused",
        ),
        pytest.param({**MAIL, "kind": "webhook"}, "", id="kind-mismatch"),
        pytest.param({**MAIL, "rate_per_minute": 0}, "", id="rate"),
    ],
)
async def test_invalid_channels_are_refused(app: Api, body: dict[str, Any], reason: str) -> None:
    answer = await app.client.post("/api/v1/channels", json=body)
    assert answer.status_code == 422, answer.text
    assert reason in answer.text
    assert (await ok(await app.client.get("/api/v1/channels")))["total"] == 0


async def test_channel_names_are_unique_and_used_channels_cannot_go(app: Api) -> None:
    mail = await add_channel(app, MAIL)
    assert (await app.client.post("/api/v1/channels", json=MAIL)).status_code == 409
    route = await ok(
        await app.client.post(
            "/api/v1/routes", json={"name": "All", "targets": [{"channel_id": mail["id"]}]}
        ),
        201,
    )
    answer = await app.client.delete(f"/api/v1/channels/{mail['id']}")
    assert answer.status_code == 409
    assert "All" in answer.text
    await ok(await app.client.delete(f"/api/v1/routes/{route['id']}"), 204)
    await ok(await app.client.delete(f"/api/v1/channels/{mail['id']}"), 204)
    assert (await app.client.get(f"/api/v1/channels/{mail['id']}")).status_code == 404


async def test_a_test_notification_is_queued(app: Api) -> None:
    mail = await add_channel(app, MAIL)
    queued = await ok(await app.client.post(f"/api/v1/channels/{mail['id']}/test"), 202)
    assert (queued["kind"], queued["channel_id"]) == ("test", mail["id"])
    assert queued["recipients"] == ["ops@example.org"]
    assert queued["payload"]["test"] is True
    log = await ok(await app.client.get("/api/v1/notifications", params={"channel_id": mail["id"]}))
    assert [i["id"] for i in log["items"]] == [queued["id"]]
    assert (await app.client.post("/api/v1/channels/nope/test")).status_code == 404
    assert await audit_actions(app, "channel.test") == ["channel.test"]


# --- routes and groups ------------------------------------------------------------------------


async def test_routes_round_trip_and_need_existing_channels(app: Api) -> None:
    mail = await add_channel(app, MAIL)
    body = {
        "name": "Night shift",
        "targets": [
            {"channel_id": mail["id"], "level": 0, "to": ["group:night"]},
            {"channel_id": mail["id"], "level": 1, "to": ["boss@example.org"]},
        ],
        "camera_ids": ["cam-a"],
        "min_severity": "medium",
        "schedule": {"days": [0, 1, 2, 3, 4], "start": "18:00", "end": "06:00"},
        "quiet_hours": {"start": "23:00", "end": "05:00"},
        "timezone": "Europe/Berlin",
    }
    route = await ok(await app.client.post("/api/v1/routes", json=body), 201)
    assert route["targets"][1] == {"channel_id": mail["id"], "level": 1, "to": ["boss@example.org"]}
    assert route["schedule"] == {"days": [0, 1, 2, 3, 4], "start": "18:00", "end": "06:00"}
    assert route["quiet_hours"]["days"] == [0, 1, 2, 3, 4, 5, 6]
    assert (route["rule_ids"], route["quiet_min_severity"], route["version"]) == ([], "high", 1)
    path = f"/api/v1/routes/{route['id']}"
    assert await ok(await app.client.get(path)) == route
    changed = await ok(await app.client.patch(path, json={"schedule": None, "enabled": False}))
    assert (changed["schedule"], changed["enabled"], changed["version"]) == (None, False, 2)
    unknown = [{"channel_id": "nope"}]
    for answer in (
        await app.client.post("/api/v1/routes", json={**body, "targets": unknown}),
        await app.client.patch(path, json={"targets": unknown}),
        await app.client.post("/api/v1/routes", json={**body, "timezone": "Mars/Olympus"}),
        await app.client.post("/api/v1/routes", json={**body, "targets": []}),
    ):
        assert answer.status_code == 422, answer.text
    listed = await ok(await app.client.get("/api/v1/routes"))
    assert [r["id"] for r in listed["items"]] == [route["id"]]
    await ok(await app.client.delete(path), 204)
    assert (await app.client.get(path)).status_code == 404
    assert await audit_actions(app, "route.") == ["route.create", "route.update", "route.delete"]


async def test_recipient_groups_are_replaced_whole(app: Api) -> None:
    assert await ok(await app.client.get("/api/v1/recipient-groups")) == {"groups": {}}
    groups = {"night-shift": ["a@example.org", "b@example.org"], "boss": ["c@example.org"]}
    assert await ok(await app.client.put("/api/v1/recipient-groups", json={"groups": groups})) == {
        "groups": groups
    }
    assert await ok(await app.client.get("/api/v1/recipient-groups")) == {"groups": groups}
    bad = await app.client.put("/api/v1/recipient-groups", json={"groups": {"x y": ["a@b.org"]}})
    assert bad.status_code == 422
    assert await audit_actions(app, "recipient_groups.") == ["recipient_groups.update"]


# --- the log and an alert's deliveries --------------------------------------------------------


async def _alert(app: Api) -> dict[str, Any]:
    rule = {"name": "Door", "camera_id": "cam-a", "event_types": ["line.crossed"]}
    await ok(await app.client.post("/api/v1/rules", json=rule), 201)
    await app.bus.publish(app.plane.events_subject, crossing("cam-a", second=5))

    async def raised() -> bool:
        return bool((await app.client.get("/api/v1/alerts")).json()["total"] >= 1)

    await eventually(raised, "an alert")
    alert: dict[str, Any] = (await app.client.get("/api/v1/alerts")).json()["items"][0]
    return alert


async def test_an_alerts_delivery_log_shows_every_attempt(app: Api) -> None:
    alert = await _alert(app)
    outbox = app.plane.database.notify.outbox
    at = datetime.fromisoformat(alert["created_at"])
    item = Notification(
        id="01JNOTIFICATION000000000001",
        dedupe_key=dedupe_key(alert["id"], "alert.created", 0, "ch-x", "rt-x"),
        channel_id="ch-x",
        kind="alert.created",
        created_at=at,
        next_attempt_at=at,
        payload={"alert": {"id": alert["id"]}},
        alert_id=alert["id"],
    )
    await outbox.enqueue([item])
    first = DeliveryAttempt(item.id, 1, at + timedelta(seconds=1), False, 30.5, "refused", "closed")
    second = DeliveryAttempt(item.id, 2, at + timedelta(seconds=3), True, 12.25, None, "half_open")
    await outbox.record(first, state="pending", next_attempt_at=second.at, error="refused")
    await outbox.record(second, state="delivered", next_attempt_at=None, error=None)
    log = await ok(await app.client.get(f"/api/v1/alerts/{alert['id']}/deliveries"))
    mine = [d for d in log["items"] if d["notification"]["id"] == item.id]
    assert len(mine) == 1
    assert mine[0]["notification"]["state"] == "delivered"
    assert [(a["number"], a["ok"], a["breaker"]) for a in mine[0]["attempts"]] == [
        (1, False, "closed"),
        (2, True, "half_open"),
    ]
    assert mine[0]["attempts"][0]["error"] == "refused"
    assert (await app.client.get("/api/v1/alerts/nope/deliveries")).status_code == 404
    admin = await admin_token(app.client)
    viewer = await make_user(app.client, admin, "viewer-b", "viewer", cameras=["cam-b"])
    hidden = await app.client.get(
        f"/api/v1/alerts/{alert['id']}/deliveries", headers={"Authorization": f"Bearer {viewer}"}
    )
    assert hidden.status_code == 404
    seen = await make_user(app.client, admin, "viewer-a", "viewer", cameras=["cam-a"])
    shown = await app.client.get(
        f"/api/v1/alerts/{alert['id']}/deliveries", headers={"Authorization": f"Bearer {seen}"}
    )
    assert shown.status_code == 200


async def test_the_log_pages_by_cursor_and_dead_items_can_be_retried(app: Api) -> None:
    mail = await add_channel(app, MAIL)
    ids = [
        (await ok(await app.client.post(f"/api/v1/channels/{mail['id']}/test"), 202))["id"]
        for _ in range(5)
    ]
    seen: list[str] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 2, "channel_id": mail["id"]}
        if cursor is not None:
            params["cursor"] = cursor
        page = await ok(await app.client.get("/api/v1/notifications", params=params))
        assert page["total"] == 5
        seen += [i["id"] for i in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(ids)
    assert len(seen) == 5
    bad = await app.client.get("/api/v1/notifications", params={"cursor": "garbage"})
    assert bad.status_code == 422
    # Due far in the future, so that no dispatcher takes it before the test kills it.
    later = datetime(2100, 1, 1, tzinfo=UTC)
    item = Notification(
        id="01JNOTIFICATION000000000002",
        dedupe_key="test:dead-one",
        channel_id=mail["id"],
        kind="test",
        created_at=later,
        next_attempt_at=later,
    )
    outbox = app.plane.database.notify.outbox
    await outbox.enqueue([item])
    attempt = DeliveryAttempt(item.id, 1, later, False, 1.0, "550 no such user")
    await outbox.record(attempt, state="dead", next_attempt_at=None, error="550 no such user")
    dead = await ok(await app.client.get("/api/v1/notifications", params={"state": "dead"}))
    assert [i["id"] for i in dead["items"]] == [item.id]
    assert dead["items"][0]["last_error"] == "550 no such user"
    retried = await ok(await app.client.post(f"/api/v1/notifications/{item.id}/retry"))
    assert (retried["state"], retried["attempts"], retried["last_error"]) == (
        "pending",
        1,
        "550 no such user",
    )
    assert (await app.client.post(f"/api/v1/notifications/{ids[0]}/retry")).status_code == 409
    assert (await app.client.post("/api/v1/notifications/nope/retry")).status_code == 404
    assert await audit_actions(app, "notification.retry") == ["notification.retry"]


async def test_viewers_and_scoped_callers_cannot_configure(app: Api) -> None:
    admin = await admin_token(app.client)
    viewer = await make_user(app.client, admin, "viewer", "viewer")
    scoped = await make_user(app.client, admin, "scoped-admin", "admin", cameras=["cam-a"])
    for token in (viewer, scoped):
        headers = {"Authorization": f"Bearer {token}"}
        for answer in (
            await app.client.get("/api/v1/channels", headers=headers),
            await app.client.post("/api/v1/channels", json=MAIL, headers=headers),
            await app.client.get("/api/v1/notifications", headers=headers),
            await app.client.put("/api/v1/recipient-groups", json={"groups": {}}, headers=headers),
        ):
            assert answer.status_code == 403, answer.text

"""Attacks on issue 18's administration APIs: retention, risk policy, privacy, snoozes.

Each test performs one attack over the real API and asserts the refusal:

* an administrator (or a stolen admin key) cutting the audit retention to an
  hour to sweep away the record of what they did (refused below
  ``MIN_AUDIT_DAYS``); tiny retention of other data is bounded and audited;
* operators and viewers changing the risk policy, the site, retention,
  legal holds, running sweeps or privacy erasures;
* a camera-scoped operator snoozing a rule on every camera, or another
  camera, and reading or ending other cameras' snoozes.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from argus.domain.retention import MIN_AUDIT_DAYS
from tests.auth_support import admin_token, bearer, make_user
from tests.integration.api_support import STORES, Api, api

pytestmark = [pytest.mark.integration, pytest.mark.anyio]


@pytest.fixture(params=STORES)
async def app(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Api]:
    async with api(request.param, tmp_path) as running:
        yield running


async def _actions(app: Api, prefix: str) -> list[str]:
    page = (await app.client.get("/api/v1/audit", params={"action": prefix})).json()
    return [item["action"] for item in page["items"]]


@pytest.mark.parametrize("days", [1 / 24, 1, MIN_AUDIT_DAYS - 0.5])
async def test_the_audit_log_cannot_be_set_to_expire_within_days(app: Api, days: float) -> None:
    before = (await app.client.get("/api/v1/retention")).json()["policy"]
    answer = await app.client.put("/api/v1/retention", json={"audit": days})
    assert answer.status_code == 422, answer.text
    assert "audit" in answer.text
    assert (await app.client.get("/api/v1/retention")).json()["policy"] == before
    assert await _actions(app, "retention.update") == []


async def test_tiny_retention_of_data_is_bounded_and_audited(app: Api) -> None:
    for days in (0, -1, 1 / 48, 1e308, "1"):
        answer = await app.client.put("/api/v1/retention", json={"events": days})
        assert answer.status_code == 422, (days, answer.text)
    changed = await app.client.put(
        "/api/v1/retention", json={"events": 1 / 24, "audit": MIN_AUDIT_DAYS}
    )
    assert changed.status_code == 200, changed.text
    swept = await app.client.post("/api/v1/retention/sweep")
    assert swept.status_code == 200, swept.text
    assert await _actions(app, "retention.update") == ["retention.update"]
    assert "retention.sweep" in await _actions(app, "retention.sweep")


async def test_operators_and_viewers_cannot_change_policy_retention_or_privacy(app: Api) -> None:
    admin = await admin_token(app.client)
    policy = (await app.client.get("/api/v1/risk-policy")).json()
    site = (await app.client.get("/api/v1/site")).json()
    camera = await app.client.post(
        "/api/v1/cameras", json={"name": "gate", "stream_url": "rtsp://127.0.0.1:8554/g"}
    )
    assert camera.status_code == 201, camera.text
    since = datetime(2026, 1, 1, tzinfo=UTC)
    erase = {
        "camera_id": camera.json()["id"],
        "since": since.isoformat(),
        "until": (since + timedelta(days=1)).isoformat(),
        "reason": "x",
    }
    writes: list[tuple[str, str, Any]] = [
        ("PUT", "/api/v1/risk-policy", policy),
        ("PUT", "/api/v1/site", site),
        ("PUT", "/api/v1/retention", {"events": 1 / 24}),
        ("POST", "/api/v1/retention/sweep", None),
        ("PUT", "/api/v1/incidents/some-incident/hold", {"reason": "x"}),
        ("POST", "/api/v1/privacy/erasures", erase),
        ("POST", "/api/v1/privacy/subjects/s1/erase", {"reason": "x"}),
        ("POST", "/api/v1/privacy/subjects/s1/export", {"passphrase": "p" * 20}),
        ("GET", "/api/v1/privacy/requests", None),
        ("GET", "/api/v1/audit/checkpoints", None),
    ]
    for role in ("operator", "viewer"):
        headers = bearer(await make_user(app.client, admin, f"u-{role}", role))
        for method, path, body in writes:
            answer = await app.client.request(method, path, json=body, headers=headers)
            assert answer.status_code == 403, (role, method, path, answer.text)
    assert (await app.client.get("/api/v1/risk-policy")).json() == policy
    assert await _actions(app, "privacy.") == []


async def test_a_camera_scoped_operator_cannot_silence_other_cameras(app: Api) -> None:
    admin = await admin_token(app.client)
    cameras = []
    for name in ("mine", "theirs"):
        made = await app.client.post(
            "/api/v1/cameras", json={"name": name, "stream_url": f"rtsp://127.0.0.1:8554/{name}"}
        )
        assert made.status_code == 201, made.text
        cameras.append(made.json()["id"])
    mine, theirs = cameras
    rule = await app.client.post("/api/v1/rules", json={"name": "any crossing"})
    assert rule.status_code == 201, rule.text
    until = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    theirs_snooze = await app.client.post(
        "/api/v1/snoozes", json={"camera_id": theirs, "until": until, "reason": "admin"}
    )
    assert theirs_snooze.status_code == 201, theirs_snooze.text
    headers = bearer(await make_user(app.client, admin, "scoped-op", "operator", cameras=[mine]))
    for body in (
        {"rule_id": rule.json()["id"], "until": until},  # the rule on every camera
        {"camera_id": theirs, "until": until},
        {"rule_id": rule.json()["id"], "camera_id": theirs, "until": until},
    ):
        answer = await app.client.post("/api/v1/snoozes", json=body, headers=headers)
        assert answer.status_code in (403, 404), (body, answer.text)
    ended = await app.client.delete(
        f"/api/v1/snoozes/{theirs_snooze.json()['id']}", headers=headers
    )
    assert ended.status_code in (403, 404), ended.text
    listed = await app.client.get("/api/v1/snoozes", headers=headers)
    assert listed.status_code == 200, listed.text
    assert theirs not in {item["camera_id"] for item in listed.json()["items"]}
    own = await app.client.post(
        "/api/v1/snoozes", json={"camera_id": mine, "until": until}, headers=headers
    )
    assert own.status_code == 201, own.text
    still = (await app.client.get("/api/v1/snoozes")).json()["items"]
    assert theirs in {item["camera_id"] for item in still}
    windows = await app.client.post(
        "/api/v1/maintenance-windows",
        json={"name": "w", "start": until, "end": until, "camera_ids": [theirs]},
        headers=headers,
    )
    assert windows.status_code in (403, 422), windows.text

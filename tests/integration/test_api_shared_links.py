"""Signed snapshot links over the API: opened without credentials while valid, else 404.

The alert's snapshot is captured as in ``test_api_evidence``; the link is the
one ``SnapshotLinks`` mints for notifications, keyed by the app's
installation secret.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from argus.domain.notify.signing import link_key, snapshot_token
from tests.integration.api_support import STORES, Api, api, crossing, eventually

pytestmark = [pytest.mark.integration, pytest.mark.anyio]


@pytest.fixture(params=STORES)
async def app(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Api]:
    async with api(request.param, tmp_path) as running:
        yield running


async def _evidence(app: Api) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    camera = await app.client.post(
        "/api/v1/cameras", json={"name": "gate", "stream_url": "rtsp://127.0.0.1:8554/gate"}
    )
    assert camera.status_code == 201, camera.text
    rule = await app.client.post("/api/v1/rules", json={"name": "any crossing"})
    assert rule.status_code == 201, rule.text
    await app.bus.publish("events", crossing(camera.json()["id"]))
    found: list[dict[str, Any]] = []

    async def stored() -> bool:
        alerts = (await app.client.get("/api/v1/alerts")).json()["items"]
        if not alerts:
            return False
        page = await app.client.get("/api/v1/evidence", params={"alert_id": alerts[0]["id"]})
        found[:] = page.json()["items"]
        return len(found) == 2

    await eventually(stored, "the alert's snapshot and clip")
    alert = (await app.client.get("/api/v1/alerts")).json()["items"][0]
    return alert, {item["kind"]: item for item in found}


async def test_a_snapshot_link_opens_without_credentials_until_it_expires(app: Api) -> None:
    alert, by_kind = await _evidence(app)
    key = link_key(app.plane.secret)
    soon = datetime.now(UTC) + timedelta(hours=1)
    snapshot = by_kind["snapshot"]
    credentials = app.client.headers.pop("Authorization")
    anonymous = app.client
    try:
        path = f"/api/v1/shared/snapshots/{snapshot_token(key, alert['id'], soon)}"
        answer = await anonymous.get(path)
        assert answer.status_code == 200, answer.text
        assert answer.headers["content-type"] == "image/jpeg"
        assert answer.headers["cache-control"] == "private, no-store"
        assert hashlib.sha256(answer.content).hexdigest() == snapshot["sha256"]

        past = datetime.now(UTC) - timedelta(seconds=1)
        good = snapshot_token(key, alert["id"], soon)
        refused = [
            snapshot_token(key, alert["id"], past),  # expired
            snapshot_token(link_key(b"another-secret-0123456789abcdef!"), alert["id"], soon),
            snapshot_token(key, "01HNOSUCHALERT000000000000", soon),  # no snapshot
            good[:-2] + ("AA" if not good.endswith("AA") else "BB"),  # altered
        ]
        for token in refused:
            answer = await anonymous.get(f"/api/v1/shared/snapshots/{token}")
            assert answer.status_code == 404, token
            assert answer.json()["detail"] == "no such snapshot, or the link has expired"
        # The link opens that one snapshot and nothing else of the API.
        assert (await anonymous.get("/api/v1/evidence")).status_code == 401
    finally:
        app.client.headers["Authorization"] = credentials
    audit = (await app.client.get("/api/v1/audit", params={"action": "evidence.read"})).json()
    assert any(record["actor"] == "shared-link" for record in audit["items"])

"""The rule editor's API: names checked against the scene, dry runs and severity previews.

Over every store (memory, SQLite): a registered camera with a line and a zone,
crossings posted through ``POST /events`` a few minutes ago, then
``POST /rules/dry-run`` and ``POST /rules/preview`` on draft rules.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from argus.domain.events import Envelope, EventSource, new_event_id
from tests.integration.api_support import STORES, Api, api

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

CAMERA = {"name": "Gate", "stream_url": "rtsp://10.0.0.5:554/stream1"}


@pytest.fixture(params=STORES)
async def app(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Api]:
    async with api(request.param, tmp_path) as running:
        yield running


async def _ok(response: Any, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    return body


async def _gate(app: Api) -> str:
    camera = await _ok(await app.client.post("/api/v1/cameras", json=CAMERA), 201)
    base = f"/api/v1/cameras/{camera['id']}"
    line = {"name": "door", "start": [0, 0], "end": [50, 50]}
    await _ok(await app.client.post(f"{base}/lines", json=line), 201)
    zone = {"name": "vault", "polygon": [[0, 0], [9, 0], [9, 9]], "criticality": 1.0}
    await _ok(await app.client.post(f"{base}/zones", json=zone), 201)
    return str(camera["id"])


async def test_a_rule_naming_a_missing_line_or_zone_is_refused(app: Api) -> None:
    gate = await _gate(app)
    refused = await app.client.post(
        "/api/v1/rules", json={"name": "typo", "camera_id": gate, "zone": "valt"}
    )
    assert refused.status_code == 422
    assert "camera 'Gate' has no zone 'valt' (its zones: 'vault')" in refused.text
    everywhere = await app.client.post("/api/v1/rules", json={"name": "any", "line": "dor"})
    assert everywhere.status_code == 422
    assert "no camera has a line 'dor'" in everywhere.text
    rule = await _ok(
        await app.client.post(
            "/api/v1/rules", json={"name": "door", "camera_id": gate, "line": "door"}
        ),
        201,
    )
    moved = await app.client.patch(f"/api/v1/rules/{rule['id']}", json={"line": "gate"})
    assert moved.status_code == 422
    assert "has no line 'gate'" in moved.text
    kept = await app.client.patch(f"/api/v1/rules/{rule['id']}", json={"weight": 0.9})
    assert (await _ok(kept))["line"] == "door"


async def test_a_dry_run_shows_what_would_have_fired(app: Api) -> None:
    gate = await _gate(app)
    now = datetime.now(UTC)
    events = []
    for n, minutes in enumerate((50, 40, 30, 5)):
        at = now - timedelta(minutes=minutes)
        payload = {
            "line": "door",
            "direction": "in",
            "class_id": 0,
            "class_name": "person",
            "track_id": n,
            "timestamp": 1.0,
            "confidence": 0.9,
        }
        envelope = Envelope(new_event_id(at), "line.crossed", at, EventSource("e", gate), payload)
        events.append(envelope.to_dict())
    await _ok(await app.client.post("/api/v1/events", json={"events": events}))
    draft = {"name": "door", "camera_id": gate, "line": "door", "count": 2, "window_seconds": 900}
    run = await _ok(await app.client.post("/api/v1/rules/dry-run", json={"rule": draft}))
    # 50 and 40 min ago make two within 15 min (fires), 30 min ago starts a new window
    # and 5 min ago is 25 min later: one alert.
    assert (run["scanned"], run["matched"], run["fired_total"], run["held_back"]) == (4, 4, 1, 3)
    (fired,) = run["fired"]
    assert (fired["line"], fired["window_count"], fired["camera_id"]) == ("door", 2, gate)
    assert run["by_severity"][fired["severity"]] == 1
    assert (await app.client.get("/api/v1/rules")).json()["total"] == 0  # nothing stored
    too_long = await app.client.post("/api/v1/rules/dry-run", json={"rule": draft, "hours": 25})
    assert too_long.status_code == 422


async def test_the_preview_shows_day_and_night_severity(app: Api) -> None:
    gate = await _gate(app)
    draft = {"name": "vault", "camera_id": gate, "zone": "vault", "weight": 0.8}
    preview = await _ok(await app.client.post("/api/v1/rules/preview", json={"rule": draft}))
    assert preview["zone_criticality"] == 1.0
    flags = [(s["night"], s["repeating"]) for s in preview["scenarios"]]
    assert flags == [(False, False), (False, True), (True, False), (True, True)]
    assert all(s["severity"] in ("low", "medium", "high") for s in preview["scenarios"])
    assert preview["scenarios"][2]["score"] > preview["scenarios"][0]["score"]
    bad = {"rule": {"name": "x", "direction": "in"}}
    answer = await app.client.post("/api/v1/rules/preview", json=bad)
    assert answer.status_code == 422
    assert "direction needs a line" in answer.text

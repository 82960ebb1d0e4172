"""Re-count jobs over the REST API: queue, run in the background, read live beside re-counted.

Memory and SQLite stores. Each test seeds a camera's trajectory log
(``tracks.minute`` events made by the pipeline's own producer from synthetic
walks, ``tests.recount_support``) and its live ``line.crossed`` events, then
asks for a re-count.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from argus.domain.cameras import utc_now
from argus.domain.events import EventSource
from argus.domain.recount_jobs import RecountJob
from argus.services.recount_jobs import RecountService
from tests.auth_support import admin_token, make_user
from tests.integration.api_support import STORES, Api, api, eventually
from tests.recount_support import LINE, SAMPLES, live_crossings, walks

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

T0 = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
CAMERA: dict[str, Any] = {"name": "Shop door", "stream_url": "rtsp://10.0.0.5:554/s1"}


@pytest.fixture(params=STORES)
async def app(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Api]:
    async with api(request.param, tmp_path) as running:
        yield running


async def ok(response: Any, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    return body


async def _camera_with_log(app: Api) -> str:
    camera = await ok(await app.client.post("/api/v1/cameras", json=CAMERA), 201)
    await ok(await app.client.post(f"/api/v1/cameras/{camera['id']}/lines", json=LINE), 201)
    source = EventSource("local", camera["id"])
    start = T0 + timedelta(seconds=10)
    await app.plane.database.events.add_many(
        [*walks(source, start), *live_crossings(source, start)]
    )
    return str(camera["id"])


async def _done(app: Api, job_id: str) -> dict[str, Any]:
    latest: dict[str, Any] = {}

    async def finished() -> bool:
        nonlocal latest
        latest = await ok(await app.client.get(f"/api/v1/recounts/{job_id}"))
        return latest["status"] in ("done", "failed")

    await eventually(finished, f"re-count job {job_id}")
    return latest


async def test_a_recount_reports_live_beside_recounted_per_line(app: Api) -> None:
    camera_id = await _camera_with_log(app)
    period = {"start": "2026-03-01T12:00:00Z", "end": "2026-03-01T13:00:00+00:00"}
    path = f"/api/v1/cameras/{camera_id}/recounts"
    job = await ok(await app.client.post(path, json=period), 202)
    assert job["status"] == "queued"
    assert (job["camera_id"], job["requested_by"]) == (camera_id, "user:admin")
    done = await _done(app, job["id"])
    assert done["status"] == "done", done
    assert done["lines"] == [
        {"line": "door", "live": {"in": 1, "out": 1}, "recounted": {"in": 2, "out": 1}}
    ]
    assert done["samples"] == SAMPLES
    listed = await ok(await app.client.get("/api/v1/recounts", params={"camera_id": camera_id}))
    assert [item["id"] for item in listed["items"]] == [job["id"]]
    audit = await ok(await app.client.get("/api/v1/audit", params={"action": "recount."}))
    actions = {(r["action"], r["actor"]) for r in audit["items"]}
    assert actions == {("recount.request", "user:admin"), ("recount.finish", "system")}


async def test_an_empty_period_and_a_camera_without_lines_finish_with_zeros(app: Api) -> None:
    camera_id = await _camera_with_log(app)
    path = f"/api/v1/cameras/{camera_id}/recounts"
    period = {"start": "2026-03-02T00:00:00Z", "end": "2026-03-03T00:00:00Z"}
    done = await _done(app, (await ok(await app.client.post(path, json=period), 202))["id"])
    assert done["lines"] == [
        {"line": "door", "live": {"in": 0, "out": 0}, "recounted": {"in": 0, "out": 0}}
    ]
    bare = await ok(await app.client.post("/api/v1/cameras", json=CAMERA), 201)
    path = f"/api/v1/cameras/{bare['id']}/recounts"
    done = await _done(app, (await ok(await app.client.post(path, json=period), 202))["id"])
    assert (done["status"], done["lines"]) == ("done", [])


async def test_bad_periods_and_unknown_things_are_refused(app: Api) -> None:
    camera_id = await _camera_with_log(app)
    path = f"/api/v1/cameras/{camera_id}/recounts"
    for body in (
        {"start": "2026-03-02T00:00:00Z", "end": "2026-03-01T00:00:00Z"},
        {"start": "2026-03-01T00:00:00Z", "end": "2026-04-02T00:00:00Z"},
        {"start": "2026-03-01T00:00:00", "end": "2026-03-02T00:00:00"},
        {"start": "2026-03-01T00:00:00Z"},
        {"start": "2026-03-01T00:00:00Z", "end": "2026-03-02T00:00:00Z", "lines": []},
    ):
        assert (await app.client.post(path, json=body)).status_code == 422, body
    period = {"start": "2026-03-01T00:00:00Z", "end": "2026-04-01T00:00:00Z"}  # 31 days
    assert (await app.client.post(path, json=period)).status_code == 202
    unknown = await app.client.post("/api/v1/cameras/nope/recounts", json=period)
    assert unknown.status_code == 404
    assert (await app.client.get("/api/v1/recounts/nope")).status_code == 404


async def test_viewers_read_operators_run_and_scopes_hide_other_cameras(app: Api) -> None:
    camera_id = await _camera_with_log(app)
    other = await ok(await app.client.post("/api/v1/cameras", json=CAMERA), 201)
    admin = await admin_token(app.client)
    viewer = {"Authorization": f"Bearer {await make_user(app.client, admin, 'v', 'viewer')}"}
    operator = {"Authorization": f"Bearer {await make_user(app.client, admin, 'o', 'operator')}"}
    scoped_token = await make_user(app.client, admin, "s", "operator", cameras=[other["id"]])
    scoped = {"Authorization": f"Bearer {scoped_token}"}
    path = f"/api/v1/cameras/{camera_id}/recounts"
    period = {"start": "2026-03-01T12:00:00Z", "end": "2026-03-01T13:00:00Z"}
    assert (await app.client.post(path, json=period, headers=viewer)).status_code == 403
    assert (await app.client.post(path, json=period, headers=scoped)).status_code == 403
    job = await ok(await app.client.post(path, json=period, headers=operator), 202)
    assert job["requested_by"] == "user:o"
    read = await app.client.get(f"/api/v1/recounts/{job['id']}", headers=viewer)
    assert read.status_code == 200
    hidden = await app.client.get(f"/api/v1/recounts/{job['id']}", headers=scoped)
    assert hidden.status_code == 404
    mine = await ok(await app.client.get("/api/v1/recounts", headers=scoped))
    assert mine["items"] == []
    foreign = await app.client.get(
        "/api/v1/recounts", params={"camera_id": camera_id}, headers=scoped
    )
    assert foreign.status_code == 403
    await _done(app, job["id"])


async def test_a_job_interrupted_by_a_restart_runs_again(app: Api) -> None:
    camera_id = await _camera_with_log(app)
    database = app.plane.database
    job = RecountJob(
        id="interrupted",
        camera_id=camera_id,
        start=T0,
        end=T0 + timedelta(hours=1),
        status="queued",
        requested_by="user:admin",
        created_at=utc_now(),
    )
    # Claimed (running) by a server that then stopped: the next start requeues and runs it.
    await database.recounts.add(job)
    claimed = await database.recounts.claim(utc_now())
    assert claimed is not None
    assert (await database.recounts.get("interrupted")).status == "running"
    restarted = RecountService(database, utc_now, poll_s=0.05)
    restarted.start()
    try:
        done = await _done(app, "interrupted")
    finally:
        await restarted.stop()
    assert done["status"] == "done"
    assert done["lines"][0]["recounted"] == {"in": 2, "out": 1}

"""Shadow runs and evaluations over the API, on memory and SQLite stores.

The app runs as in production (``api_support``): a shadow run started over
the API lands in the process's plan book the camera workers read; a real
``ShadowRunner`` (fake detectors over the port) produces the ``model.shadow``
report, published on the event subject as a worker would, and the service's
consumer keeps it; the summary sums it. Every write is audited. An
evaluation with no annotated set fails with the reason.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from argus.adapters.pipelines.shadow_runner import ShadowRunner
from argus.bootstrap.trials import shadow_book
from argus.domain.cameras import Camera
from argus.domain.detections import Detections
from argus.domain.frames import Frame
from argus.ports.audit import AuditFilter
from tests.auth_support import admin_token, bearer, make_user
from tests.integration.api_support import STORES, Api, api, eventually
from tests.unit.test_shadow_runner import CANDIDATE, PRODUCTION, FixedDetector

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(params=STORES)
async def app(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Api]:
    async with api(request.param, tmp_path) as running:
        yield running


async def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


async def _camera(app: Api, name: str) -> str:
    body = {"name": name, "stream_url": "rtsp://10.0.0.5:554/s1"}
    created = await ok(await app.client.post("/api/v1/cameras", json=body), 201)
    return str(created["id"])


async def test_a_shadow_run_reports_agreement_and_is_audited(app: Api) -> None:
    camera_id = await _camera(app, "Gate")
    url = f"/api/v1/cameras/{camera_id}/shadow"
    plan = await ok(
        await app.client.put(url, json={"candidate": "ssd-mobilenet-v3", "sample_every": 1})
    )
    assert (plan["candidate"], plan["sample_every"], plan["report_every"]) == (
        "ssd-mobilenet-v3",
        1,
        60,
    )
    in_force = shadow_book().plan(camera_id)
    assert in_force is not None
    assert in_force.candidate == "ssd-mobilenet-v3"
    bad = await app.client.put(url, json={"candidate": "/etc/passwd.onnx"})
    assert bad.status_code == 422

    # The camera's worker: a real runner reading the same book, fake detectors.
    camera = Camera(id=camera_id, name="Gate", stream_url="rtsp://10.0.0.5:554/s1")
    candidate = FixedDetector("ssd-mobilenet-v3@2020", CANDIDATE)
    runner = ShadowRunner(
        camera,
        FixedDetector("yolov7-tiny@1.0.1", PRODUCTION),
        shadow_book(),
        lambda ref: candidate,
        "local",
    )
    image = np.zeros((60, 80, 3), dtype=np.uint8)
    for i in range(4):
        runner.observe(T0 + timedelta(seconds=i), Frame(image, i, i / 10), Detections.empty())
    (report,) = runner.close()
    await app.bus.publish(app.plane.events_subject, report)

    async def summed() -> bool:
        body = await ok(await app.client.get("/api/v1/models/shadow"))
        return bool(body["summaries"])

    await eventually(summed, "the shadow report to be kept")
    body = await ok(await app.client.get(f"/api/v1/models/shadow?camera_id={camera_id}"))
    (summary,) = body["summaries"]
    assert summary["candidate"] == "ssd-mobilenet-v3@2020"
    assert (summary["frames"], summary["matched"], summary["only_candidate"]) == (4, 4, 4)
    assert summary["agreement"] == pytest.approx(4 / 12)
    assert [p["camera_id"] for p in body["plans"]] == [camera_id]

    assert (await app.client.delete(url)).status_code == 204
    assert shadow_book().plan(camera_id) is None
    assert (await app.client.delete(url)).status_code == 404
    audit = app.plane.database.audit
    page = await audit.list(where=AuditFilter(target=f"camera:{camera_id}"))
    actions = [e.fields()["action"] for e in page.items]
    assert "shadow.start" in actions
    assert "shadow.stop" in actions


async def test_an_evaluation_without_an_annotated_set_fails_with_the_reason(app: Api) -> None:
    queued = await ok(
        await app.client.post("/api/v1/models/evaluations", json={"model": "yolov7-tiny@1.0.1"}),
        202,
    )
    assert queued["state"] == "queued"
    url = f"/api/v1/models/evaluations/{queued['id']}"

    async def finished() -> bool:
        body = await ok(await app.client.get(url))
        return body["state"] in ("done", "failed")

    await eventually(finished, "the evaluation to finish")
    body = await ok(await app.client.get(url))
    assert body["state"] == "failed"
    assert "no accepted hard examples" in body["error"]
    listed = await ok(await app.client.get("/api/v1/models/evaluations"))
    assert [r["id"] for r in listed["items"]] == [queued["id"]]
    assert (await app.client.get("/api/v1/models/evaluations/nope")).status_code == 404


async def test_camera_scoped_callers_see_and_change_only_their_cameras(app: Api) -> None:
    mine, other = await _camera(app, "Mine"), await _camera(app, "Other")
    admin = await admin_token(app.client)
    scoped = bearer(await make_user(app.client, admin, "scoped-admin", "admin", [mine]))
    for camera_id in (mine, other):
        await ok(
            await app.client.put(
                f"/api/v1/cameras/{camera_id}/shadow", json={"candidate": "ssd-mobilenet-v3"}
            )
        )
    body = await ok(await app.client.get("/api/v1/models/shadow", headers=scoped))
    assert [p["camera_id"] for p in body["plans"]] == [mine]
    refused = await app.client.get(f"/api/v1/models/shadow?camera_id={other}", headers=scoped)
    assert refused.status_code == 403
    stop = await app.client.delete(f"/api/v1/cameras/{other}/shadow", headers=scoped)
    assert stop.status_code == 403
    assert shadow_book().plan(other) is not None
    # An evaluation by a scoped caller is frozen to its cameras; unscoped ones see it too,
    # but the scoped caller does not see an evaluation over every camera.
    everyone = await ok(
        await app.client.post("/api/v1/models/evaluations", json={"model": "toy"}), 202
    )
    own = await ok(
        await app.client.post("/api/v1/models/evaluations", json={"model": "toy"}, headers=scoped),
        202,
    )
    listed = await ok(await app.client.get("/api/v1/models/evaluations", headers=scoped))
    assert [r["id"] for r in listed["items"]] == [own["id"]]
    hidden = await app.client.get(f"/api/v1/models/evaluations/{everyone['id']}", headers=scoped)
    assert hidden.status_code == 404
    for camera_id in (mine, other):
        assert (await app.client.delete(f"/api/v1/cameras/{camera_id}/shadow")).status_code == 204

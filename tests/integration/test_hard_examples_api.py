"""The hard-example queue end to end: verdicts and sampled candidates become examples.

The app runs as in production over memory and SQLite stores (``api_support``):
a crossing published on the bus raises an alert, the evidence capture seals
its snapshot (the in-memory pipelines' 16x16 JPEG), an operator dismisses or
confirms it over the API, and the intake turns the verdict into an example
whose frame is a sealed copy of the snapshot. The camera's boxes come from
the real sampler observer, fed a 640x480 frame with the alert's moment, so
they arrive scaled to the stored frame. Candidates travel as the sampler's
``example.candidate`` events on the event subject.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from argus.adapters.pipelines.example_sampler import ExampleSamplerObserver
from argus.adapters.pipelines_memory import tiny_jpeg
from argus.bootstrap.examples import detection_memory
from argus.domain.cameras import Camera
from argus.domain.detections import Detections
from argus.domain.event_ids import new_event_id
from argus.domain.events import Envelope, EventSource
from argus.domain.example_sampling import LineBook, SamplingPolicy
from argus.domain.frames import Frame
from argus.ports.audit import AuditFilter
from argus.ports.hard_examples import ExampleFilter
from argus.services.alerts import ALERTS_SUBJECT
from tests.auth_support import admin_token, bearer, make_user, settings_for
from tests.integration.api_support import STORES, Api, api, crossing, eventually

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

MODEL = "yolov7-tiny@1.0.0"


@pytest.fixture(params=STORES)
async def app(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Api]:
    async with api(request.param, tmp_path) as running:
        yield running


async def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def _observer(camera_id: str, tmp_path: Path, policy: SamplingPolicy | None = None) -> Any:
    camera = Camera(id=camera_id, name="Door", stream_url="rtsp://10.0.0.5:554/s1")
    return ExampleSamplerObserver(
        camera,
        MODEL,
        policy or SamplingPolicy(),
        lines=LineBook(),
        memory=detection_memory(settings_for(tmp_path)),
        node_id="local",
    )


def _frame() -> Frame:
    return Frame(image=np.zeros((480, 640, 3), dtype=np.uint8), index=0, timestamp=0.0)


def _detections(score: float = 0.9) -> Detections:
    return Detections(
        xyxy=np.array([[320.0, 240.0, 480.0, 480.0]], dtype=np.float32),
        confidence=np.array([score], dtype=np.float32),
        class_id=np.array([0], dtype=np.int64),
        tracker_id=np.array([7], dtype=np.int64),
        class_names=("person",),
        model=MODEL,
    )


async def _camera_alert(app: Api, second: int) -> tuple[str, dict[str, Any]]:
    camera = await ok(
        await app.client.post(
            "/api/v1/cameras",
            json={"name": f"Door {second}", "stream_url": "rtsp://10.0.0.5:554/s1"},
        ),
        201,
    )
    rule = {
        "name": "Door",
        "camera_id": camera["id"],
        "event_types": ["line.crossed"],
        "classes": ["person"],
        "weight": 0.8,
    }
    await ok(await app.client.post("/api/v1/rules", json=rule), 201)
    await app.bus.publish(app.plane.events_subject, crossing(camera["id"], second=second))

    async def snapshot_stored() -> bool:
        alerts = (await app.client.get("/api/v1/alerts", params={"camera_id": camera["id"]})).json()
        if not alerts["items"]:
            return False
        stored = await app.plane.database.evidence.list(limit=100)
        return any(i.alert_id == alerts["items"][0]["id"] for i in stored.items)

    await eventually(snapshot_stored, "the alert and its snapshot")
    alerts = (await app.client.get("/api/v1/alerts", params={"camera_id": camera["id"]})).json()
    return camera["id"], alerts["items"][0]


async def _examples(app: Api, count: int, **params: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []

    async def arrived() -> bool:
        nonlocal found
        found = (await app.client.get("/api/v1/examples", params=params)).json()["items"]
        return len(found) >= count

    await eventually(arrived, f"{count} example(s) {params}")
    return found


async def test_a_dismissed_alert_becomes_an_example_with_its_frame_and_boxes(
    app: Api, tmp_path: Path
) -> None:
    camera_id, alert = await _camera_alert(app, second=5)
    # The sampler saw the alert's frame: its boxes are remembered for the verdict.
    moment = datetime(2026, 3, 1, 12, 0, 5, tzinfo=UTC)
    _observer(camera_id, tmp_path).observe(moment, _frame(), _detections())
    await ok(await app.client.post(f"/api/v1/alerts/{alert['id']}/acknowledge", json={}))
    await ok(await app.client.post(f"/api/v1/alerts/{alert['id']}/dismiss", json={"note": "a cat"}))

    [example] = await _examples(app, 1, source="false_positive")
    assert (example["camera_id"], example["alert_id"]) == (camera_id, alert["id"])
    assert (example["state"], example["note"], example["model_ref"]) == ("queued", "a cat", MODEL)
    assert (example["width"], example["height"]) == (16, 16)
    assert example["captured_at"] == "2026-03-01T12:00:05Z"
    [box] = example["boxes"]
    assert [box[k] for k in ("x1", "y1", "x2", "y2", "class_name")] == [8, 8, 12, 16, "person"]
    assert box["score"] == pytest.approx(0.9)
    assert await ok(await app.client.get(f"/api/v1/examples/{example['id']}")) == example

    frame = await app.client.get(example["frame_url"])
    assert frame.status_code == 200, frame.text
    assert (frame.headers["content-type"], frame.content) == ("image/jpeg", tiny_jpeg())
    assert await app.plane.database.hard_examples.count(ExampleFilter()) == 1
    # The frame is the example's own sealed copy, not the alert's snapshot.
    stored = await app.plane.database.hard_examples.get(example["id"])
    item = await app.plane.database.evidence.get(stored.frame_evidence_id)
    assert (item.kind, item.alert_id, item.camera_id) == ("frame", None, camera_id)
    assert item.locked  # evidence retention leaves it to the example's own retention
    records = await app.plane.database.audit.list(where=AuditFilter(action="example.collect"))
    assert [r.entry.target for r in records.items] == [f"example:{example['id']}"]

    summary = await ok(await app.client.get("/api/v1/examples/summary"))
    assert summary["total"] == 1
    assert summary["by_source"]["false_positive"] == 1
    assert summary["by_state"] == {"queued": 1, "labelled": 0, "accepted": 0, "rejected": 0}
    assert summary["by_camera"] == {camera_id: 1}


async def test_a_confirmed_alert_is_kept_and_an_undone_dismissal_withdrawn(app: Api) -> None:
    first_camera, first = await _camera_alert(app, second=6)
    second_camera, second = await _camera_alert(app, second=7)
    await ok(await app.client.post(f"/api/v1/alerts/{first['id']}/acknowledge", json={}))
    await ok(await app.client.post(f"/api/v1/alerts/{first['id']}/confirm", json={}))
    [confirmed] = await _examples(app, 1, source="confirmed")
    assert (confirmed["camera_id"], confirmed["boxes"]) == (first_camera, [])

    await ok(await app.client.post(f"/api/v1/alerts/{second['id']}/acknowledge", json={}))
    await ok(await app.client.post(f"/api/v1/alerts/{second['id']}/dismiss", json={"note": "x"}))
    [dismissed] = await _examples(app, 1, source="false_positive")
    frame_id = (await app.plane.database.hard_examples.get(dismissed["id"])).frame_evidence_id
    await ok(await app.client.post(f"/api/v1/alerts/{second['id']}/undo-dismiss", json={}))

    async def withdrawn() -> bool:
        # The example goes first, then its frame: wait for both.
        body = await app.client.get("/api/v1/examples", params={"camera_id": second_camera})
        items = (await app.plane.database.evidence.list()).items
        return bool(body.json()["total"] == 0) and not any(i.id == frame_id for i in items)

    await eventually(withdrawn, "the dismissal's example withdrawn with its frame")
    assert (await app.client.get(f"/api/v1/examples/{dismissed['id']}")).status_code == 404


async def test_a_replayed_verdict_queues_nothing_twice(app: Api) -> None:
    _, alert = await _camera_alert(app, second=8)
    await ok(await app.client.post(f"/api/v1/alerts/{alert['id']}/acknowledge", json={}))
    await ok(await app.client.post(f"/api/v1/alerts/{alert['id']}/dismiss", json={}))
    await _examples(app, 1)
    stored = await app.plane.database.alerts.get(alert["id"])
    replay = Envelope(
        event_id=new_event_id(),
        type="alert.updated",
        timestamp=stored.updated_at,
        source=EventSource("argus", stored.camera_id),
        payload=stored.to_dict(),
    )
    await app.bus.publish(ALERTS_SUBJECT, replay)
    # The intake handles messages in order: once a later verdict is in, the replay was seen.
    _, later = await _camera_alert(app, second=10)
    await ok(await app.client.post(f"/api/v1/alerts/{later['id']}/acknowledge", json={}))
    await ok(await app.client.post(f"/api/v1/alerts/{later['id']}/confirm", json={}))
    await _examples(app, 2)
    assert await app.plane.database.hard_examples.count(ExampleFilter()) == 2
    frames = [i for i in (await app.plane.database.evidence.list()).items if i.kind == "frame"]
    assert len(frames) == 2


async def test_a_candidate_of_a_running_camera_takes_its_frame_from_the_ring(
    app: Api, tmp_path: Path
) -> None:
    camera = await ok(
        await app.client.post(
            "/api/v1/cameras", json={"name": "Yard", "stream_url": "rtsp://10.0.0.6:554/s1"}
        ),
        201,
    )
    policy = SamplingPolicy(band_low=0.3, band_high=0.5)
    moment = datetime(2026, 3, 1, 13, 0, 0, tzinfo=UTC)
    [envelope] = _observer(camera["id"], tmp_path, policy).observe(
        moment, _frame(), _detections(score=0.4)
    )
    assert envelope.type == "example.candidate"
    await app.bus.publish(app.plane.events_subject, envelope)
    # A candidate of a camera another server runs is that server's to collect.
    [elsewhere] = _observer("cam-elsewhere", tmp_path, policy).observe(
        moment, _frame(), _detections(score=0.4)
    )
    await app.bus.publish(app.plane.events_subject, elsewhere)

    [example] = await _examples(app, 1, source="uncertain")
    assert example["camera_id"] == camera["id"]
    assert example["model_ref"] == MODEL
    assert (example["width"], example["height"], example["alert_id"]) == (16, 16, None)
    assert [example["boxes"][0][k] for k in ("x1", "y1", "x2", "y2")] == [8.0, 8.0, 12.0, 16.0]
    assert "scored in [0.30, 0.50)" in example["note"]
    await app.bus.publish(app.plane.events_subject, envelope)  # a redelivery
    later = moment + timedelta(minutes=5)
    [next_one] = _observer(camera["id"], tmp_path, policy).observe(
        later, _frame(), _detections(score=0.35)
    )
    await app.bus.publish(app.plane.events_subject, next_one)
    await _examples(app, 2)
    assert await app.plane.database.hard_examples.count(ExampleFilter()) == 2


async def test_examples_of_other_cameras_do_not_exist_for_a_scoped_viewer(app: Api) -> None:
    camera_id, alert = await _camera_alert(app, second=9)
    await ok(await app.client.post(f"/api/v1/alerts/{alert['id']}/acknowledge", json={}))
    await ok(await app.client.post(f"/api/v1/alerts/{alert['id']}/dismiss", json={}))
    [example] = await _examples(app, 1)
    admin = await admin_token(app.client)
    viewer = bearer(await make_user(app.client, admin, "olga", "viewer", ["cam-other"]))
    listed = await ok(await app.client.get("/api/v1/examples", headers=viewer))
    assert (listed["items"], listed["total"]) == ([], 0)
    for path in (f"/api/v1/examples/{example['id']}", f"/api/v1/examples/{example['id']}/frame"):
        assert (await app.client.get(path, headers=viewer)).status_code == 404
    mine = bearer(await make_user(app.client, admin, "ivan", "viewer", [camera_id]))
    assert (await ok(await app.client.get("/api/v1/examples", headers=mine)))["total"] == 1
    denied = await app.client.get(
        "/api/v1/examples", params={"camera_id": "cam-other"}, headers=mine
    )
    assert denied.status_code == 403
    summary = await ok(await app.client.get("/api/v1/examples/summary", headers=viewer))
    assert summary["total"] == 0

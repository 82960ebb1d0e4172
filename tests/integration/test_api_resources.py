"""The REST resources over the in-memory fakes and over a temporary SQLite store."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.api_support import STORES, Api, api, crossing, eventually

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

PASSWORD = "s3cret-never-returned"
CAMERA: dict[str, Any] = {
    "name": "Front door",
    "stream_url": "rtsp://10.0.0.5:554/stream1",
    "location": "lobby",
    "credentials": {"username": "admin", "password": PASSWORD},
    "detect_fps": 4,
}
LINE: dict[str, Any] = {"name": "door", "start": [0, 100], "end": [320, 100]}
ZONE: dict[str, Any] = {"name": "desk", "polygon": [[0, 0], [100, 0], [100, 80]]}


@pytest.fixture(params=STORES)
async def app(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Api]:
    async with api(request.param, tmp_path) as running:
        yield running


async def add_camera(app: Api, **changes: Any) -> dict[str, Any]:
    response = await app.client.post("/api/v1/cameras", json={**CAMERA, **changes})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_camera_lifecycle(app: Api) -> None:
    camera = await add_camera(app)
    cid = camera["id"]
    assert camera["has_credentials"] is True
    assert camera["detect_fps"] == 4.0
    assert "credentials" not in camera
    assert PASSWORD not in (await app.client.get(f"/api/v1/cameras/{cid}")).text
    assert app.pipelines.applied[cid].camera.source_url().startswith("rtsp://admin:")

    changed = await app.client.patch(f"/api/v1/cameras/{cid}", json={"name": "Back door"})
    assert changed.status_code == 200
    assert changed.json()["name"] == "Back door"
    assert changed.json()["updated_at"] >= camera["updated_at"]
    cleared = await app.client.patch(f"/api/v1/cameras/{cid}", json={"credentials": None})
    assert cleared.json()["has_credentials"] is False

    assert (await app.client.delete(f"/api/v1/cameras/{cid}")).status_code == 204
    gone = await app.client.get(f"/api/v1/cameras/{cid}")
    assert gone.status_code == 404
    assert cid in gone.json()["detail"]
    assert app.pipelines.calls[-1] == ("remove", cid)


async def test_changing_one_camera_restarts_only_its_pipeline(app: Api) -> None:
    first, second = await add_camera(app), await add_camera(app, name="Yard")
    app.pipelines.calls.clear()
    await app.client.patch(f"/api/v1/cameras/{first['id']}", json={"detect_fps": 2})
    await app.client.post(f"/api/v1/cameras/{first['id']}/lines", json=LINE)
    assert app.pipelines.calls == [("apply", first["id"])] * 2
    assert second["id"] not in {cid for _, cid in app.pipelines.calls}
    assert app.pipelines.applied[first["id"]].camera.detect_fps == 2.0
    assert [line.name for line in app.pipelines.applied[first["id"]].lines] == ["door"]


async def test_camera_list_pages_and_filters(app: Api) -> None:
    for name, enabled in [("Gate A", True), ("Gate B", False), ("Lobby", True)]:
        await add_camera(app, name=name, enabled=enabled)
    page = (await app.client.get("/api/v1/cameras", params={"limit": 2})).json()
    assert (page["total"], len(page["items"]), page["limit"]) == (3, 2, 2)
    rest = (await app.client.get("/api/v1/cameras", params={"limit": 2, "offset": 2})).json()
    assert [c["name"] for c in page["items"] + rest["items"]] == ["Gate A", "Gate B", "Lobby"]
    enabled = (await app.client.get("/api/v1/cameras", params={"enabled": "false"})).json()
    assert [c["name"] for c in enabled["items"]] == ["Gate B"]
    named = (await app.client.get("/api/v1/cameras", params={"name": "gate"})).json()
    assert named["total"] == 2


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**CAMERA, "stream_url": "rtsp://u:pw@cam/1"}, "stream_url"),
        ({**CAMERA, "detect_fps": 0}, "detect_fps"),
        ({**CAMERA, "detect_fps": 500}, "detect_fps"),
        ({**CAMERA, "name": ""}, "name"),
        ({**CAMERA, "colour": "red"}, "colour"),
        ({"name": "no url"}, "stream_url"),
        ({**CAMERA, "stream_url": "http://[::1"}, "stream_url"),
    ],
    ids=[
        "password-in-url",
        "fps-zero",
        "fps-high",
        "empty-name",
        "unknown-field",
        "no-url",
        "bad-url",
    ],
)
async def test_invalid_camera_is_422_with_field_path(
    app: Api, body: dict[str, Any], field: str
) -> None:
    response = await app.client.post("/api/v1/cameras", json=body)
    assert response.status_code == 422
    assert any(field in error["loc"] for error in response.json()["detail"]), response.text


async def test_patch_refuses_null_for_required_fields(app: Api) -> None:
    camera = await add_camera(app)
    response = await app.client.patch(f"/api/v1/cameras/{camera['id']}", json={"name": None})
    assert response.status_code == 422
    assert "cannot be null" in response.text


async def test_snapshot_and_status(app: Api) -> None:
    camera = await add_camera(app)
    cid = camera["id"]
    snapshot = await app.client.get(f"/api/v1/cameras/{cid}/snapshot")
    assert snapshot.status_code == 200
    assert snapshot.headers["content-type"] == "image/jpeg"
    assert snapshot.content.startswith(b"\xff\xd8")
    status = (await app.client.get(f"/api/v1/cameras/{cid}/status")).json()
    assert (status["state"], status["fps_detected"]) == ("online", 4.0)

    app.pipelines.fail(cid, "connection refused")
    status = (await app.client.get(f"/api/v1/cameras/{cid}/status")).json()
    assert (status["state"], status["last_error"]) == ("error", "connection refused")
    missing = await app.client.get(f"/api/v1/cameras/{cid}/snapshot")
    assert missing.status_code == 404
    assert "no frame yet" in missing.json()["detail"]

    await app.client.patch(f"/api/v1/cameras/{cid}", json={"enabled": False})
    assert (await app.client.get(f"/api/v1/cameras/{cid}/status")).json()["state"] == "disabled"
    disabled = await app.client.get(f"/api/v1/cameras/{cid}/snapshot")
    assert "disabled" in disabled.json()["detail"]


@pytest.mark.parametrize(
    "path",
    [
        "/cameras/NOPE",
        "/cameras/NOPE/status",
        "/cameras/NOPE/snapshot",
        "/cameras/NOPE/lines",
        "/cameras/NOPE/zones/Z",
        "/events/NOPE",
    ],
)
async def test_unknown_ids_are_404(app: Api, path: str) -> None:
    response = await app.client.get(f"/api/v1{path}")
    assert response.status_code == 404
    assert response.json()["detail"]


async def test_lines(app: Api) -> None:
    camera = await add_camera(app)
    base = f"/api/v1/cameras/{camera['id']}/lines"
    created = await app.client.post(base, json={**LINE, "expected_direction": "in"})
    assert created.status_code == 201, created.text
    line = created.json()
    assert (line["start"], line["anchors"], line["classes"]) == ([0, 100], ["BOTTOM_CENTER"], None)
    assert (await app.client.post(base, json=LINE)).status_code == 409
    assert (await app.client.get(f"{base}/{line['id']}")).json() == line
    moved = await app.client.patch(f"{base}/{line['id']}", json={"end": [320, 200]})
    assert moved.json()["end"] == [320, 200]
    assert app.pipelines.applied[camera["id"]].lines[0].end == (320.0, 200.0)
    assert (await app.client.get(base)).json()["total"] == 1

    other = await add_camera(app, name="Other")
    foreign = await app.client.get(f"/api/v1/cameras/{other['id']}/lines/{line['id']}")
    assert foreign.status_code == 404
    assert (await app.client.delete(f"{base}/{line['id']}")).status_code == 204
    assert app.pipelines.applied[camera["id"]].lines == ()


@pytest.mark.parametrize(
    "body",
    [
        {**LINE, "end": [0, 100]},
        {**LINE, "start": [-1, 0]},
        {**LINE, "anchors": ["NOSE"]},
        {**LINE, "anchors": []},
        {**LINE, "min_crossing_frames": 0},
        {**LINE, "start": [1, 2, 3]},
    ],
    ids=["degenerate", "negative", "bad-anchor", "no-anchor", "frames", "3d-point"],
)
async def test_invalid_line_is_422(app: Api, body: dict[str, Any]) -> None:
    camera = await add_camera(app)
    response = await app.client.post(f"/api/v1/cameras/{camera['id']}/lines", json=body)
    assert response.status_code == 422, response.text


async def test_patch_making_a_line_degenerate_is_422(app: Api) -> None:
    camera = await add_camera(app)
    base = f"/api/v1/cameras/{camera['id']}/lines"
    line = (await app.client.post(base, json=LINE)).json()
    response = await app.client.patch(f"{base}/{line['id']}", json={"end": [0, 100]})
    assert response.status_code == 422
    assert response.json()["detail"][0]["msg"] == "a line's start and end must differ"


async def test_zones(app: Api) -> None:
    camera = await add_camera(app)
    base = f"/api/v1/cameras/{camera['id']}/zones"
    created = await app.client.post(base, json={**ZONE, "loiter_seconds": 30, "criticality": 0.9})
    assert created.status_code == 201, created.text
    zone = created.json()
    assert zone["polygon"] == [[0, 0], [100, 0], [100, 80]]
    assert app.pipelines.applied[camera["id"]].zones[0].loiter_seconds == 30
    updated = await app.client.patch(f"{base}/{zone['id']}", json={"loiter_seconds": None})
    assert updated.json()["loiter_seconds"] is None
    collinear = {**ZONE, "name": "flat", "polygon": [[0, 0], [1, 1], [2, 2]]}
    assert (await app.client.post(base, json=collinear)).status_code == 422
    assert (await app.client.delete(f"{base}/{zone['id']}")).status_code == 204
    assert (await app.client.get(base)).json()["items"] == []


async def test_deleting_a_camera_deletes_its_lines(app: Api) -> None:
    camera = await add_camera(app)
    base = f"/api/v1/cameras/{camera['id']}"
    line = (await app.client.post(f"{base}/lines", json=LINE)).json()
    await app.client.delete(base)
    assert (await app.client.get(f"{base}/lines/{line['id']}")).status_code == 404


async def test_events_are_ingested_once_and_queried(app: Api) -> None:
    envelopes = [
        crossing("cam-a", second=1),
        crossing("cam-a", class_name="car", second=2),
        crossing("cam-b", second=3),
    ]
    for envelope in [*envelopes, envelopes[0]]:  # a replay of the first event
        await app.bus.publish(app.plane.events_subject, envelope)

    async def stored() -> bool:
        body = (await app.client.get("/api/v1/events")).json()
        return bool(body["total"] == 3)

    await eventually(stored, "three stored events")
    everything = (await app.client.get("/api/v1/events")).json()
    assert [e["event_id"] for e in everything["items"]] == [e.event_id for e in envelopes[::-1]]
    query = {"camera_id": "cam-a", "type": "line.crossed", "class_name": "car"}
    cars = (await app.client.get("/api/v1/events", params=query)).json()
    assert [e["event_id"] for e in cars["items"]] == [envelopes[1].event_id]
    window = {"since": "2026-03-01T12:00:02Z", "until": "2026-03-01T12:00:03+00:00"}
    assert (await app.client.get("/api/v1/events", params=window)).json()["total"] == 1

    first = (await app.client.get("/api/v1/events", params={"limit": 2})).json()
    assert first["next_cursor"] is not None
    params = {"limit": 2, "cursor": first["next_cursor"]}
    second = (await app.client.get("/api/v1/events", params=params)).json()
    assert [e["event_id"] for e in second["items"]] == [envelopes[0].event_id]
    assert second["next_cursor"] is None

    one = (await app.client.get(f"/api/v1/events/{envelopes[2].event_id}")).json()
    assert one["source"] == {"edge_node_id": "edge-1", "camera_id": "cam-b"}
    assert one["payload"]["class_name"] == "person"


@pytest.mark.parametrize(
    "params",
    [
        {"cursor": "not-a-cursor"},
        {"since": "2026-03-01T12:00:00"},
        {"since": "1700000000"},
        {"limit": 0},
        {"camera_id": ["a", "b"]},
        {"class_name": ""},
    ],
    ids=["bad-cursor", "naive-time", "epoch-seconds", "limit-zero", "repeated", "empty"],
)
async def test_invalid_event_query_is_422(app: Api, params: dict[str, Any]) -> None:
    response = await app.client.get("/api/v1/events", params=params)
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"][0] == "query"


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v1/cameras", {**CAMERA, "name": "gate \ud800"}),
        ("/api/v1/rules", {"name": "door \udfff"}),
        ("/api/v1/incidents", {"title": "\ud83d alone"}),
    ],
)
async def test_lone_surrogates_are_a_422_on_every_store(
    app: Api, path: str, body: dict[str, Any]
) -> None:
    # Not UTF-8: SQLite refuses to store it, so it must be refused as input.
    content = json.dumps(body)  # escapes the surrogate as \ud800, as a client would send it
    response = await app.client.post(
        path, content=content, headers={"content-type": "application/json"}
    )
    assert response.status_code == 422, response.text

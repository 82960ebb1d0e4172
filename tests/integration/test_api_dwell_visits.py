"""``GET /analytics/dwell?per=visit``: one figure per person's stay, read from the trajectory log.

A walker crosses a zone in 4 s; the tracker loses them for 0.6 s half-way and
finds them again under a new id, so the live zone raised two short exits. Per
visit the API joins the two tracks (issue 23: dwell that survives track
fragmentation); per exit it still summarises the exits.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from argus.domain.events import Envelope, EventSource, ZoneExited
from argus.domain.frames import Frame
from argus.services.track_log import MinuteTracks
from tests.factories import make_detections, solid_image
from tests.integration.api_support import STORES, Api, api

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

T0 = datetime(2026, 3, 1, 12, 0, 10, tzinfo=UTC)
PERIOD = {"since": "2026-03-01T00:00:00Z", "until": "2026-03-02T00:00:00Z"}
BAND = [[100.0, 0.0], [300.0, 0.0], [300.0, 400.0], [100.0, 400.0]]


@pytest.fixture(params=STORES)
async def app(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Api]:
    async with api(request.param, tmp_path) as running:
        yield running


def _walker(camera_id: str) -> list[Envelope]:
    """``tracks.minute`` of one walker at 50 px/s, at 10 fps, lost from 2.6 s to 3.2 s."""
    source = EventSource("edge-1", camera_id)
    log = MinuteTracks(source, ("person", "car"), run=1)
    frame = Frame(solid_image(400, 640), 0, 0.0, "test")
    out: list[Envelope] = []
    for i in range(60):
        t = i / 10
        if 2.6 <= t < 3.2:
            continue
        x = 60.0 + 50.0 * t
        track = 1 if t < 2.6 else 2
        boxes = make_detections([[x - 20, 100.0, x + 20, 200.0]], tracker_id=[track])
        out += log.add(T0 + timedelta(seconds=t), frame, boxes)
    return [*out, *log.flush()]


async def _camera(app: Api) -> str:
    answer = await app.client.post(
        "/api/v1/cameras", json={"name": "Till", "stream_url": "rtsp://127.0.0.1:9/x"}
    )
    assert answer.status_code == 201, answer.text
    camera_id = str(answer.json()["id"])
    zone = await app.client.post(
        f"/api/v1/cameras/{camera_id}/zones", json={"name": "till", "polygon": BAND}
    )
    assert zone.status_code == 201, zone.text
    exits = [
        Envelope.wrap(
            ZoneExited("till", k, 0, "person", 0.0, s, reason="lost", confidence=0.9),
            EventSource("edge-1", camera_id),
            T0 + timedelta(seconds=k * 3),
        )
        for k, s in ((1, 1.6), (2, 1.8))
    ]
    stored = await app.plane.database.events.add_many([*_walker(camera_id), *exits])
    assert stored.inserted
    return camera_id


async def test_dwell_per_visit_joins_the_fragments_of_one_walker(app: Api) -> None:
    camera_id = await _camera(app)
    query = {**PERIOD, "camera_id": camera_id, "per": "visit"}
    answer = await app.client.get("/api/v1/analytics/dwell", params=query)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["per"] == "visit"
    [item] = body["items"]
    assert (item["zone"], item["class_name"], item["count"]) == ("till", "person", 1)
    assert item["mean_seconds"] == pytest.approx(4.0, abs=0.3)
    exits = await app.client.get(
        "/api/v1/analytics/dwell", params={**PERIOD, "camera_id": camera_id}
    )
    assert exits.status_code == 200, exits.text
    assert exits.json()["per"] == "exit"
    assert [(i["count"], i["mean_seconds"]) for i in exits.json()["items"]] == [(2, 1.7)]
    only = await app.client.get("/api/v1/analytics/dwell", params={**query, "zone": "elsewhere"})
    assert only.json()["items"] == []


async def test_dwell_per_visit_needs_a_camera(app: Api) -> None:
    answer = await app.client.get("/api/v1/analytics/dwell", params={**PERIOD, "per": "visit"})
    assert answer.status_code == 422, answer.text
    assert np.array(answer.json()["detail"][0]["loc"]).tolist() == ["query", "camera_id"]

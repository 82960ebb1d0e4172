"""The analytics endpoints: counts, dwell, detection metrics and heatmap PNGs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from argus.domain.events import (
    Envelope,
    EventSource,
    HeatmapMinute,
    LineCrossed,
    ZoneEntered,
    ZoneExited,
)
from tests.integration.api_support import STORES, Api, api

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
SINCE = "2026-03-01T00:00:00Z"
UNTIL = "2026-03-02T00:00:00Z"


@pytest.fixture(params=STORES)
async def app(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Api]:
    async with api(request.param, tmp_path) as running:
        yield running


def _at(event: Any, minutes: float, camera: str = "cam-1") -> Envelope:
    return Envelope.wrap(event, EventSource("edge-1", camera), T0 + timedelta(minutes=minutes))


async def _store(app: Api) -> None:
    events = [
        _at(LineCrossed("door", 1, 0, "person", "in", 0.0, confidence=0.5), 0),
        _at(LineCrossed("door", 2, 0, "person", "out", 0.0, confidence=0.75), 1),
        _at(LineCrossed("door", 3, 2, "car", "in", 0.0, confidence=0.25), 61),
        _at(ZoneEntered("till", 1, 0, "person", 0.0, confidence=1.0), 2),
        _at(ZoneExited("till", 1, 0, "person", 0.0, 4.0, confidence=1.0), 3),
        _at(ZoneExited("till", 4, 0, "person", 0.0, 8.0, confidence=1.0), 4),
        _at(LineCrossed("door", 9, 0, "person", "in", 0.0, confidence=0.5), 5, camera="cam-2"),
        _at(HeatmapMinute(4, 2, 640, 360, 60, ((0, 10), (7, 30))), 0),
        _at(HeatmapMinute(4, 2, 640, 360, 60, ((7, 30),)), 1),
    ]
    result = await app.plane.database.events.add_many(events)
    assert len(result.inserted) == len(events)


async def test_counts_per_hour_with_filters(app: Api) -> None:
    await _store(app)
    query = {"camera_id": "cam-1", "since": SINCE, "until": UNTIL, "interval": "hour"}
    response = await app.client.get("/api/v1/analytics/counts", params=query)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["interval"], body["tz"]) == ("hour", "UTC")
    rows = [
        (i["start"], i["type"], i["name"], i["direction"], i["class_name"], i["count"])
        for i in body["items"]
    ]
    assert rows == [
        ("2026-03-01T12:00:00Z", "line.crossed", "door", "in", "person", 1),
        ("2026-03-01T12:00:00Z", "line.crossed", "door", "out", "person", 1),
        ("2026-03-01T12:00:00Z", "zone.entered", "till", None, "person", 1),
        ("2026-03-01T13:00:00Z", "line.crossed", "door", "in", "car", 1),
    ]
    cars = await app.client.get("/api/v1/analytics/counts", params={**query, "class_name": "car"})
    assert [i["count"] for i in cars.json()["items"]] == [1]


async def test_counts_per_day_follow_the_time_zone(app: Api) -> None:
    await _store(app)
    query = {"since": SINCE, "until": UNTIL, "interval": "day", "tz": "America/New_York"}
    response = await app.client.get("/api/v1/analytics/counts", params=query)
    assert response.status_code == 200, response.text
    starts = {i["start"] for i in response.json()["items"]}
    assert starts == {"2026-03-01T00:00:00-05:00"}
    total = sum(i["count"] for i in response.json()["items"])
    assert total == 5  # four crossings (two cameras) and one entry


async def test_dwell_statistics(app: Api) -> None:
    await _store(app)
    query = {"zone": "till", "since": SINCE, "until": UNTIL}
    response = await app.client.get("/api/v1/analytics/dwell", params=query)
    assert response.status_code == 200, response.text
    (item,) = response.json()["items"]
    assert item == {
        "camera_id": "cam-1",
        "zone": "till",
        "class_name": "person",
        "count": 2,
        "mean_seconds": 6.0,
        "p50_seconds": 6.0,
        "p90_seconds": 7.6,
        "max_seconds": 8.0,
    }


async def test_detection_metrics(app: Api) -> None:
    await _store(app)
    query = {"camera_id": "cam-1", "since": SINCE, "until": UNTIL}
    response = await app.client.get("/api/v1/analytics/detections", params=query)
    assert response.status_code == 200, response.text
    rows = [
        (i["type"], i["class_name"], i["count"], i["scored"], i["mean_confidence"])
        for i in response.json()["items"]
    ]
    assert rows == [
        ("heatmap.minute", None, 2, 0, None),
        ("line.crossed", "car", 1, 1, 0.25),
        ("line.crossed", "person", 2, 2, 0.625),
        ("zone.entered", "person", 1, 1, 1.0),
        ("zone.exited", "person", 2, 2, 1.0),
    ]


async def test_heatmap_png_of_a_period(app: Api) -> None:
    await _store(app)
    url = "/api/v1/cameras/cam-1/heatmap.png"
    response = await app.client.get(url, params={"since": SINCE, "until": UNTIL})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/png"
    image = cv2.imdecode(np.frombuffer(response.content, np.uint8), cv2.IMREAD_COLOR)
    assert image is not None
    assert image.shape == (360, 640, 3)
    # Cell 7 (bottom right, 60 counts) is the hottest; cell 1 (top, none) shows the canvas.
    hot, cold = image[270, 560], image[90, 240]
    assert int(np.abs(hot.astype(int) - cold.astype(int)).sum()) > 100
    assert cold.tolist() == [48, 48, 48]
    empty = await app.client.get(
        url, params={"since": "2026-03-02T00:00:00Z", "until": "2026-03-03T00:00:00Z"}
    )
    assert empty.status_code == 404
    other = await app.client.get(
        "/api/v1/cameras/cam-2/heatmap.png", params={"since": SINCE, "until": UNTIL}
    )
    assert other.status_code == 404


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("counts", {"since": "2026-03-01T00:00:00"}, "since"),
        ("counts", {"since": UNTIL, "until": SINCE}, "until"),
        ("counts", {"since": SINCE, "until": SINCE}, "until"),
        (
            "counts",
            {"since": SINCE, "until": "2026-03-05T00:00:00Z", "interval": "minute"},
            "until",
        ),
        ("counts", {"interval": "week"}, "interval"),
        ("counts", {"tz": "Mars/Olympus"}, "tz"),
        ("counts", {"tz": "../etc/passwd"}, "tz"),
        ("dwell", {"since": "2020-01-01T00:00:00Z", "until": "2022-01-01T00:00:00Z"}, "until"),
        ("detections", {"until": "0001-01-01T00:00:00+01:00"}, "until"),
        ("detections", {"since": "1700000000"}, "since"),
    ],
    ids=[
        "naive",
        "reversed",
        "empty",
        "minutes-too-long",
        "interval",
        "unknown-zone",
        "path-zone",
        "too-long",
        "out-of-range",
        "epoch-number",
    ],
)
async def test_invalid_queries_are_422_with_field_paths(
    app: Api, path: str, params: dict[str, str], field: str
) -> None:
    response = await app.client.get(f"/api/v1/analytics/{path}", params=params)
    assert response.status_code == 422, response.text
    locs = [error["loc"] for error in response.json()["detail"]]
    assert ["query", field] in locs, locs


async def test_invalid_heatmap_period_is_422(app: Api) -> None:
    response = await app.client.get(
        "/api/v1/cameras/cam-1/heatmap.png", params={"since": UNTIL, "until": SINCE}
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "until"]


async def test_defaults_cover_the_last_day(app: Api) -> None:
    response = await app.client.get("/api/v1/analytics/counts")
    assert response.status_code == 200, response.text
    body = response.json()
    since = datetime.fromisoformat(body["since"])
    until = datetime.fromisoformat(body["until"])
    assert until - since == timedelta(days=1)
    assert body["items"] == []

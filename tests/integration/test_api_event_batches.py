"""``POST /api/v1/events``: batches from edge nodes, stored once, answered after the commit."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import pytest

from argus.domain.events import Envelope
from tests.integration.api_support import STORES, WAIT, api, crossing
from tests.integration.ingest_support import register_cameras

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

URL = "/api/v1/events"


def _batch(*envelopes: Envelope) -> dict[str, Any]:
    return {"events": [e.to_dict() for e in envelopes]}


@pytest.mark.parametrize("kind", STORES)
async def test_a_batch_is_stored_once_and_a_retry_reports_duplicates(
    kind: str, tmp_path: Path
) -> None:
    first = [crossing("cam-x", second=i) for i in range(3)]
    async with api(kind, tmp_path) as app:
        await register_cameras(app.plane.database, "cam-x")  # ingest takes registered cameras
        stored = await app.client.post(URL, json=_batch(*first))
        assert stored.status_code == 200, stored.text
        assert stored.json() == {"inserted": [e.event_id for e in first], "duplicates": []}

        extra = crossing("cam-x", second=9)
        retried = await app.client.post(URL, json=_batch(*first, extra, extra))
        assert retried.status_code == 200, retried.text
        assert retried.json() == {
            "inserted": [extra.event_id],
            "duplicates": [*(e.event_id for e in first), extra.event_id],
        }

        listed = await app.client.get(URL, params={"camera_id": "cam-x"})
        assert listed.json()["total"] == 4
        one = await app.client.get(f"{URL}/{first[0].event_id}")
        assert Envelope.from_dict(one.json()) == first[0]


async def test_stored_events_are_published_for_live_consumers(tmp_path: Path) -> None:
    sent = [crossing("cam-live", second=i) for i in range(2)]
    async with api("memory", tmp_path) as app:
        await register_cameras(app.plane.database, "cam-live")
        live = await app.bus.fan_out(app.plane.events_subject)
        async with live:
            response = await app.client.post(URL, json=_batch(*sent, sent[0]))
            assert response.status_code == 200, response.text
            with anyio.fail_after(WAIT):
                got = [(await live.__anext__()).envelope for _ in sent]
        assert got == sent


def _with(**changes: object) -> dict[str, Any]:
    event = crossing("cam-v").to_dict()
    for key, value in changes.items():
        if "." in key:
            outer, inner = key.split(".")
            event[outer] = {**event[outer], inner: value}  # type: ignore[dict-item]
        elif value is ...:
            del event[key]
        else:
            event[key] = value
    return event


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ({"events": []}, ["body", "events"]),
        ({"events": [_with()] * 1001}, ["body", "events"]),
        ({"events": [_with()], "more": 1}, ["body", "more"]),
        ([_with()], ["body"]),
        ({"events": [_with(event_id="not-a-ulid")]}, ["body", "events", 0, "event_id"]),
        (
            {"events": [_with(event_id="81M8GWH0X278NRKQJKY2M1N57C")]},
            ["body", "events", 0, "event_id"],
        ),
        ({"events": [_with(), _with(type="Line crossed")]}, ["body", "events", 1, "type"]),
        ({"events": [_with(timestamp="2026-03-01T12:00:00")]}, ["body", "events", 0, "timestamp"]),
        ({"events": [_with(timestamp=1772366400)]}, ["body", "events", 0, "timestamp"]),
        (
            {"events": [_with(timestamp="0001-01-01T00:00:00+01:00")]},
            ["body", "events", 0, "timestamp"],
        ),
        (
            {"events": [_with(**{"source.camera_id": ""})]},
            ["body", "events", 0, "source", "camera_id"],
        ),
        (
            {"events": [_with(**{"source.edge_node_id": "a\u0000b"})]},
            ["body", "events", 0, "source", "edge_node_id"],
        ),
        (
            {"events": [_with(source={"camera_id": "c"})]},
            ["body", "events", 0, "source", "edge_node_id"],
        ),
        ({"events": [_with(payload=...)]}, ["body", "events", 0, "payload"]),
        ({"events": [_with(payload=[1])]}, ["body", "events", 0, "payload"]),
        (
            {"events": [_with(payload={"text": "a\u0000"})]},
            ["body", "events", 0, "payload", "text"],  # the string itself (input_guard)
        ),
        ({"events": [_with(extra=True)]}, ["body", "events", 0, "extra"]),
    ],
    ids=[
        "empty-batch",
        "batch-over-1000",
        "unknown-top-level-field",
        "bare-list",
        "bad-event-id",
        "event-id-overflows",
        "bad-type-second-event",
        "naive-timestamp",
        "numeric-timestamp",
        "timestamp-out-of-utc-range",
        "empty-camera-id",
        "nul-in-edge-node-id",
        "source-missing-key",
        "payload-missing",
        "payload-not-an-object",
        "nul-in-payload",
        "unknown-event-field",
    ],
)
async def test_invalid_batches_are_422_with_the_field_path(
    body: object, where: list[object], tmp_path: Path
) -> None:
    async with api("memory", tmp_path) as app:
        response = await app.client.post(URL, json=body)
        assert response.status_code == 422, response.text
        paths = [error["loc"] for error in response.json()["detail"]]
        assert where in paths, paths
        listed = await app.client.get(URL)
        assert listed.json()["total"] == 0


async def test_non_finite_payload_numbers_are_refused(tmp_path: Path) -> None:
    event = crossing("cam-nan").to_dict()
    raw = '{"events": [%s]}' % (  # noqa: UP031 - NaN is not JSON, so it is written by hand
        str(event).replace("'", '"').replace('"payload": {', '"payload": {"speed": NaN, ', 1)
    )
    async with api("memory", tmp_path) as app:
        response = await app.client.post(
            URL, content=raw, headers={"content-type": "application/json"}
        )
        assert response.status_code == 422, response.text
        assert ["body", "events", 0, "payload"] in [e["loc"] for e in response.json()["detail"]]


async def test_nan_in_any_body_is_a_422_not_a_500(tmp_path: Path) -> None:
    raw = '{"name": "gate", "stream_url": "rtsp://127.0.0.1/x", "detect_fps": NaN}'
    async with api("memory", tmp_path) as app:
        response = await app.client.post(
            "/api/v1/cameras", content=raw, headers={"content-type": "application/json"}
        )
        assert response.status_code == 422, response.text
        assert ["body", "detect_fps"] in [e["loc"] for e in response.json()["detail"]]

"""Live counts say since when they count (issue 23): ``since`` on ``/ws`` counts messages.

A pipeline's counts start at its run's start and reset when it restarts; the
``counts`` message carries that start, and a restart is sent even when the
counts before and after it are equal (both empty), so a tile never shows an old
"since". (The real pipeline, and that the counts then agree with
``/analytics/counts`` over ``[since, now)``, is checked end to end in
``tests/e2e/test_console_heatmap.py``.)
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from argus.adapters.bus.memory import MemoryEventBus
from argus.adapters.db.memory import MemoryDatabase
from argus.adapters.pipelines_memory import MemoryPipelines
from argus.bootstrap.adapters import Adapters
from argus.bootstrap.app import build_app
from argus.config import Settings
from argus.domain.live import LiveFrame
from tests.auth_support import admin_token, bearer, settings_for
from tests.integration.live_support import live_client, served

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

RUN = datetime(2026, 12, 6, 9, 30, tzinfo=UTC)


@pytest.fixture
async def running(tmp_path: Path) -> AsyncIterator[tuple[str, httpx.AsyncClient, MemoryPipelines]]:
    pipelines = MemoryPipelines()
    plane = Adapters(database=MemoryDatabase(), bus=MemoryEventBus(), pipelines=pipelines)

    async def opener(_: Settings) -> Adapters:
        return plane

    app = build_app(settings_for(tmp_path), open_adapters=opener)
    async with served(app) as address, httpx.AsyncClient(base_url=f"http://{address}") as http:
        http.headers.update(bearer(await admin_token(http)))
        yield address, http, pipelines


async def test_counts_carry_the_run_start_and_a_restart_is_sent(
    running: tuple[str, httpx.AsyncClient, MemoryPipelines],
) -> None:
    address, http, pipelines = running
    created = await http.post(
        "/api/v1/cameras", json={"name": "gate", "stream_url": "rtsp://127.0.0.1:8554/g"}
    )
    assert created.status_code == 201, created.text
    camera_id = created.json()["id"]
    channel = f"camera.{camera_id}.counts"
    frame = LiveFrame(camera_id, 1, 0.2, 640, 360, (), {"door": {"in": 3, "out": 1}}, since=RUN)
    async with live_client(address) as client:
        await client.send({"type": "subscribe", "channels": [channel], "request_id": "s"})
        await client.expect_type("subscribed", request_id="s")
        pipelines.push_live(camera_id, frame)
        first = await client.expect_type("counts", camera_id=camera_id)
        assert first["counts"] == {"door": {"in": 3, "out": 1}}
        assert datetime.fromisoformat(first["since"]) == RUN
        # The pipeline restarts: nothing counted yet, twice (the second is not sent again).
        later = RUN + timedelta(minutes=7)
        empty = dataclasses.replace(frame, frame_index=1, counts={}, since=later)
        pipelines.push_live(camera_id, empty)
        pipelines.push_live(camera_id, dataclasses.replace(empty, frame_index=2))
        restarted = await client.expect_type("counts", camera_id=camera_id)
        assert (restarted["counts"], datetime.fromisoformat(restarted["since"])) == ({}, later)
        # A second restart before anything was counted: equal (empty) counts, a new since.
        again = RUN + timedelta(minutes=9)
        pipelines.push_live(camera_id, dataclasses.replace(empty, since=again))
        moved = await client.expect_type("counts", camera_id=camera_id)
        assert datetime.fromisoformat(moved["since"]) == again
        assert not [m for m in client.seen if m.get("type") == "counts"]

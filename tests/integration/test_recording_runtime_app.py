"""``ARGUS_RECORDING=true`` through the app's lifecycle: a file camera registered over the API
is recorded, its recording shows in its status, in ``/health/ready`` and in ``/metrics``, and
follows the camera's changes (record off, deletion) until the app stops.

The app runs over a real SQLite store, the in-process bus and the in-memory pipelines (no
detector runs: recording does not need one); the recorders are the real ones.
"""

from __future__ import annotations

import contextlib
import re
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio
import httpx
import pytest

from argus.adapters.bus.memory import MemoryEventBus
from argus.adapters.db.sql import SqlDatabase
from argus.adapters.pipelines_memory import MemoryPipelines
from argus.adapters.recording import SegmentIndex
from argus.api.testing import running
from argus.bootstrap.adapters import Adapters
from argus.bootstrap.app import build_app
from argus.config import Settings
from tests.auth_support import admin_token, bearer, settings_for

if TYPE_CHECKING:
    from tests.integration.conftest import Media

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

SECRET = b"recording-app-secret-0123456789a"
WAIT = 90.0
"""Seconds a test waits for segments; generous for a loaded 2-core machine."""


def _settings(data_dir: Path, **overrides: Any) -> Settings:
    return settings_for(data_dir, recording=True, recording_segment_s=1.0, **overrides)


@contextlib.asynccontextmanager
async def _client(settings: Settings, data_dir: Path) -> AsyncIterator[httpx.AsyncClient]:
    database = await SqlDatabase.open(f"sqlite:///{data_dir / 'argus.db'}", secret_key=SECRET)
    adapters = Adapters(
        database=database, bus=MemoryEventBus(ack_wait=0.5), pipelines=MemoryPipelines()
    )

    async def opener(_: Settings) -> Adapters:
        return adapters

    async with running(build_app(settings, open_adapters=opener)) as asgi:
        transport = httpx.ASGITransport(app=asgi, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://argus") as client:
            client.headers.update(bearer(await admin_token(client)))
            yield client


async def _until_status(
    client: httpx.AsyncClient, camera_id: str, what: str, check: Any
) -> dict[str, Any]:
    deadline = time.monotonic() + WAIT
    while True:
        answer = await client.get(f"/api/v1/cameras/{camera_id}/status")
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        if check(body.get("recording")):
            return body
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: {body}")
        await anyio.sleep(0.05)


def _threads(camera_id: str) -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == f"argus-record-{camera_id}"]


def _sample(metrics: str, name: str, camera_id: str) -> float:
    found = re.search(rf'^{name}\{{camera_id="{camera_id}"\}} (\S+)$', metrics, re.MULTILINE)
    assert found is not None, f"{name} of {camera_id} is not in /metrics"
    return float(found[1])


async def test_a_file_camera_is_recorded_and_its_recording_is_visible(
    media: Media, tmp_path: Path
) -> None:
    clip = media.video(frames=25, fps=25)
    settings = _settings(tmp_path)
    # What a killed server leaves: a segment never closed (no MP4 index), and an erasure's
    # replacement part. Both are deleted when the recorders start; a finished segment is not.
    crashed = tmp_path / "recordings" / "old-camera" / "2026-12-01"
    crashed.mkdir(parents=True)
    (crashed / "120000.000000Z.mp4.part").write_bytes(b"\x00" * 4096)
    (crashed / "120500.000000Z.mp4.erase.part").write_bytes(b"\x00" * 10)
    outside = tmp_path / "outside.mp4.part"
    outside.write_bytes(b"keep")
    (crashed / "130000.000000Z.mp4.part").symlink_to(outside)
    assert len(SegmentIndex(tmp_path / "recordings").partials()) == 3
    async with _client(settings, tmp_path) as client:
        assert SegmentIndex(tmp_path / "recordings").partials() == [
            crashed / "130000.000000Z.mp4.part"  # a link is never followed nor deleted
        ]
        assert outside.read_bytes() == b"keep"
        (crashed / "130000.000000Z.mp4.part").unlink()
        made = await client.post("/api/v1/cameras", json={"name": "Yard", "stream_url": str(clip)})
        assert made.status_code == 201, made.text
        camera_id = made.json()["id"]

        status = await _until_status(
            client, camera_id, "two segments", lambda r: r is not None and r["segments"] >= 2
        )
        recording = status["recording"]
        assert recording["state"] in {"recording", "starting"}
        assert recording["bytes_written"] > 0
        assert recording["last_segment_end"] is not None

        ready = (await client.get("/health/ready")).json()
        assert ready["checks"]["recording"]["ok"] is True
        assert "recording" in ready["checks"]["recording"]["detail"]
        metrics = (await client.get("/metrics")).text
        assert _sample(metrics, "argus_recording_segments_total", camera_id) >= 2
        assert _sample(metrics, "argus_recording_bytes_total", camera_id) > 0
        assert _sample(metrics, "argus_recording_disk_bytes", camera_id) > 0
        assert _sample(metrics, "argus_recording_gaps_total", camera_id) == 0
        timeline = await client.get(f"/api/v1/cameras/{camera_id}/recordings")
        assert timeline.status_code == 200, timeline.text
        assert timeline.json()["recording"]["enabled"] is True
        assert timeline.json()["segments"]

        (thread,) = _threads(camera_id)
        changed = await client.patch(f"/api/v1/cameras/{camera_id}", json={"record": False})
        assert changed.status_code == 200, changed.text
        off = await _until_status(
            client, camera_id, "recording off", lambda r: r is not None and r["state"] == "off"
        )
        assert off["recording"]["reason"] == "recording is off for this camera"
        assert not thread.is_alive()

        again = await client.patch(f"/api/v1/cameras/{camera_id}", json={"record": True})
        assert again.status_code == 200, again.text
        assert len(_threads(camera_id)) == 1
        deleted = await client.delete(f"/api/v1/cameras/{camera_id}")
        assert deleted.status_code == 204, deleted.text
        assert _threads(camera_id) == []

    index = SegmentIndex(tmp_path / "recordings")
    assert index.partials() == []
    assert index.scan(camera_id)  # deleting a camera leaves its recordings to retention


async def test_recording_off_shows_nothing_and_records_nothing(
    media: Media, tmp_path: Path
) -> None:
    clip = media.video(frames=25, fps=25)
    settings = settings_for(tmp_path)
    async with _client(settings, tmp_path) as client:
        made = await client.post("/api/v1/cameras", json={"name": "Yard", "stream_url": str(clip)})
        assert made.status_code == 201, made.text
        camera_id = made.json()["id"]
        status = (await client.get(f"/api/v1/cameras/{camera_id}/status")).json()
        assert status["recording"] is None
        assert "recording" not in (await client.get("/health/ready")).json()["checks"]
        assert "argus_recording_segments_total" not in (await client.get("/metrics")).text
        assert _threads(camera_id) == []
    assert SegmentIndex(tmp_path / "recordings").scan() == []

"""Saturation as users see it: the camera status, ``/metrics`` and ``/health/ready``.

The app runs in-process over real ``EdgePipelines``: a file camera registered
through the API, analysed by ``BrightPerson`` behind a ``MeteredDetector`` at
0.5 s per image on the scheduler's clock (capacity 0.95 x 2 = 1.9 images/s for
the 5 fps asked, far above it, so the camera is granted all of it, 1.9 fps,
whatever the machine).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from argus.adapters.bus.memory import MemoryEventBus
from argus.adapters.pipelines import (
    EdgePipelines,
    RestartPolicy,
    SourceOptions,
    WorkerDeps,
    open_camera,
)
from argus.adapters.pipelines.inference import SharedInference
from argus.bootstrap.container import make_cued_tracker
from argus.domain.backoff import BackoffPolicy
from argus.ports.detector import Detector
from argus.ports.tracker import Tracker
from argus.scene import DetectSpec, TrackerSpec
from tests.auth_support import settings_for
from tests.integration.api_support import api
from tests.scheduler_support import BrightPerson, InferenceClock, MeteredDetector, solid_clip

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.anyio]

WAIT = 120.0
"""Seconds a test waits for a state; generous for a loaded 2-core machine."""


@pytest.fixture
async def edge() -> AsyncIterator[EdgePipelines]:
    clock = InferenceClock()
    detector = MeteredDetector(BrightPerson(), clock, 0.5)

    def shared(spec: DetectSpec) -> Detector:
        del spec
        return detector

    def tracker(spec: TrackerSpec, fps: float) -> Tracker:
        del spec, fps
        return make_cued_tracker()

    bus = MemoryEventBus()
    pipelines = EdgePipelines(
        bus,
        WorkerDeps(
            detector=shared,
            tracker=tracker,
            source=lambda camera: open_camera(camera, SourceOptions()),
            inference=SharedInference(max_batch=8, timeout_s=30.0, clock=clock),
        ),
        restart=RestartPolicy(backoff=BackoffPolicy(initial=0.2, max_delay=1.0)),
        ring_seconds=0,
        tamper_checks_per_s=0.0,
    )
    try:
        yield pipelines
    finally:
        await pipelines.close()
        await bus.close()


async def test_a_saturated_camera_shows_its_grant_in_status_metrics_and_health(
    edge: EdgePipelines, tmp_path: Path
) -> None:
    clip = solid_clip(tmp_path / "dark.mp4", level=20, seconds=30)
    async with api("memory", tmp_path, pipelines=edge, settings=settings_for(tmp_path)) as app:
        created = await app.client.post(
            "/api/v1/cameras", json={"name": "Yard", "stream_url": str(clip), "detect_fps": 5}
        )
        assert created.status_code == 201, created.text
        cid = created.json()["id"]

        deadline = time.monotonic() + WAIT
        status: dict[str, Any] = {}
        while not status.get("saturated"):
            assert time.monotonic() < deadline, f"never saturated: {status}"
            await asyncio.sleep(0.1)
            status = (await app.client.get(f"/api/v1/cameras/{cid}/status")).json()
        assert status["target_fps"] == 5.0
        assert status["granted_fps"] == pytest.approx(1.9, abs=0.01)

        text = (await app.client.get("/metrics")).text
        assert f'argus_camera_target_fps{{camera_id="{cid}"}} 5.0' in text
        assert f'argus_camera_granted_fps{{camera_id="{cid}"}} 1.9' in text
        assert f'argus_inference_saturated{{camera_id="{cid}"}} 1.0' in text
        assert f'argus_inference_queue_depth{{camera_id="{cid}"}}' in text
        assert 'argus_inference_batch_size_count{scheduler="0"}' in text
        assert 'argus_inference_capacity_images_per_second{scheduler="0"} 1.9' in text

        ready = (await app.client.get("/health/ready")).json()
        detail = ready["checks"]["pipelines"]["detail"]
        assert ready["checks"]["pipelines"]["ok"] is True  # visible, not fatal
        assert "inference saturated: 1 of 1 cameras analyse below their fps" in detail
        assert cid not in detail  # /health/ready needs no credentials: counted, not named

"""The sampler in a real camera run: bikes.mp4 through the embedded edge worker.

The worker (``bootstrap.edge``) runs yolov7-tiny and the tracker on the demo
video with the hard-example sampler among its frame observers (its band made
wide so that the short clip yields candidates); the candidates travel on the
in-process bus, and the service collects each one with the frame it takes
from the camera's own ring, sealed by a real evidence service. Every example
must hold a real JPEG of the size it states and boxes inside it; the
sampler's remembered boxes (what a verdict would use) hold the same frames.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import cv2
import numpy as np
import pytest

from argus.adapters.bus.memory import MemoryEventBus
from argus.adapters.db.memory import MemoryDatabase
from argus.adapters.evidence.crypto import Keyring
from argus.adapters.evidence.fs import FileBlobStore
from argus.adapters.evidence.signing import Ed25519Signer
from argus.adapters.pipelines import DetectDefaults, SourceOptions, demo_camera
from argus.bootstrap.adapters import EVENTS_SUBJECT
from argus.bootstrap.container import build_container
from argus.bootstrap.edge import edge_pipelines
from argus.bootstrap.examples import detection_memory
from argus.config import Settings
from argus.domain.backoff import BackoffPolicy
from argus.domain.hard_examples import ExampleSource
from argus.ports.hard_examples import ExampleFilter
from argus.services.evidence import EvidenceService
from argus.services.hard_example_intake import ExampleIntake
from argus.services.hard_examples import HardExampleService
from tests.auth_support import TEST_DENY_NETWORKS

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.anyio]

WAIT = 180.0
"""Seconds to wait for candidates; generous for a loaded 2-core machine."""

SOURCES = SourceOptions(
    realtime_files=True,  # frames arrive at the video's pace, so the ring holds them
    loop_files=True,
    open_timeout=20.0,
    read_timeout=5.0,
    backoff=BackoffPolicy(initial=0.2, max_delay=1.0),
)
DEFAULTS = DetectDefaults(input_size=320, confidence=0.3)


@pytest.fixture
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(
        data_dir=tmp_path_factory.mktemp("argus-examples"),
        media_dirs=str(tmp_path_factory.getbasetemp()),
        camera_deny_networks=TEST_DENY_NETWORKS,
        examples_band_low=0.3,
        examples_band_high=0.95,
        examples_min_gap_s=1.0,
        examples_per_camera_hour=1000,
        examples_boxes_window_s=600.0,
    )


@pytest.fixture
async def evidence(tmp_path: Path) -> AsyncIterator[EvidenceService]:
    db = MemoryDatabase()
    service = EvidenceService(
        db.evidence,
        FileBlobStore(tmp_path / "evidence"),
        Keyring({"k1": bytes(range(32))}),
        db.audit,
        Ed25519Signer.from_secret(b"examples-pipeline-secret-0123456"),
    )
    try:
        yield service
    finally:
        await service.close()


async def test_a_real_run_queues_uncertain_frames_with_their_ring_frames(
    settings: Settings, evidence: EvidenceService
) -> None:
    container = build_container(settings)
    camera, lines, zones = demo_camera(container.demo_video())
    if not Path(camera.stream_url).is_file():
        pytest.skip(f"bikes.mp4 is missing ({camera.stream_url})")
    camera = dataclasses.replace(camera, id="cam-bikes", detect_fps=5.0)
    bus = MemoryEventBus()
    edge = edge_pipelines(settings, bus, container=container, sources=SOURCES, defaults=DEFAULTS)
    database = MemoryDatabase()
    service = HardExampleService(database, evidence, pipelines=edge)
    intake = ExampleIntake(service, bus, events_subject=EVENTS_SUBJECT, pipelines=edge)
    intake.start()
    try:
        await edge.apply(camera, lines, zones)
        deadline = time.monotonic() + WAIT
        while await database.hard_examples.count(ExampleFilter()) < 2:
            assert time.monotonic() < deadline, f"no examples: {service.counters}"
            await asyncio.sleep(0.2)
    finally:
        await intake.stop()
        await edge.close()
        await bus.close()

    page = await database.hard_examples.list(ExampleFilter(), limit=10)
    for example in page.items:
        assert example.source in {
            ExampleSource.UNCERTAIN,
            ExampleSource.SHORT_TRACK,
            ExampleSource.ID_SWITCH,
        }
        assert example.camera_id == "cam-bikes"
        assert example.model_ref.startswith("yolov7-tiny@")
        jpeg = await service.frame(example.id)
        image = cv2.imdecode(np.frombuffer(jpeg, dtype=np.uint8), cv2.IMREAD_COLOR)
        assert image is not None
        assert image.shape[:2] == (example.height, example.width)
        assert example.boxes, "a sampled frame has the model's boxes"
        assert all(b.inside(example.width, example.height) for b in example.boxes)
    uncertain = [e for e in page.items if e.source is ExampleSource.UNCERTAIN]
    if uncertain:
        assert any(b.score is not None and 0.3 <= b.score < 0.95 for b in uncertain[0].boxes)
    memory = detection_memory(settings)
    assert memory is not None
    first = page.items[-1]
    recalled = memory.recall("cam-bikes", first.captured_at, timedelta(seconds=0.01))
    assert recalled is not None
    assert recalled.boxes, "the boxes a verdict would use are remembered"

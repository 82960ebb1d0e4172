"""A saturated camera analyses fewer frames but raises every event of the frames it analyses.

``bikes.mp4`` (the demo camera, its kerb line and street zone) runs once through a
``CameraWorker`` whose yolov7-tiny is served by a ``SharedInference`` on a clock
moved by a ``MeteredDetector`` (0.25 s per image: 3.8 images/s for 5 asked, so the
camera is granted 3.8 fps and frames are held back). The frames it analysed are
then run again through an ``Analyzer`` with the same detector and a new tracker,
directly, with no scheduler: the line and zone events must be the same.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path

import pytest

from argus.adapters.pipelines import DetectDefaults, SourceOptions, WorkerDeps, open_camera
from argus.adapters.pipelines.inference import SharedInference
from argus.adapters.pipelines.scene import camera_scene, demo_camera
from argus.adapters.pipelines.supervision import RestartPolicy
from argus.adapters.pipelines.worker import CameraWorker
from argus.adapters.video.file import FileSource
from argus.bootstrap.container import build_container
from argus.bootstrap.models import DetectorOptions
from argus.config import Settings
from argus.domain.backoff import BackoffPolicy
from argus.domain.events import Envelope
from argus.domain.frames import Frame, SourceStats
from argus.domain.live import LiveFrame
from argus.ports.detector import Detector
from argus.scene import DetectSpec
from argus.services.analysis import Analyzer
from tests.scheduler_support import InferenceClock, MeteredDetector

pytestmark = [pytest.mark.integration, pytest.mark.slow]

WAIT = 300.0
"""Seconds the single run may take on a loaded 2-core machine (10 s of video)."""

ANALYTICS = ("line.", "zone.")
ONCE = RestartPolicy(backoff=BackoffPolicy(initial=600.0, max_delay=600.0))
"""A stream that ends is not read again within the test."""


def analytics(envelopes: list[Envelope]) -> list[tuple[str, Mapping[str, object]]]:
    return [(e.type, e.payload) for e in envelopes if e.type.startswith(ANALYTICS)]


def test_a_saturated_camera_raises_every_event_of_its_analysed_frames(tmp_path: Path) -> None:
    container = build_container(Settings(data_dir=tmp_path, media_dirs=str(tmp_path)))
    camera, lines, zones = demo_camera(container.demo_video())
    if not Path(camera.stream_url).is_file():
        pytest.skip(f"bikes.mp4 is missing ({camera.stream_url})")
    camera = dataclasses.replace(camera, detect_fps=5.0)
    scene = camera_scene(camera, lines, zones, defaults=DetectDefaults(input_size=320))
    inner = container.detector(DetectorOptions(model="yolov7-tiny", input_size=320))
    clock = InferenceClock()
    metered = MeteredDetector(inner, clock, 0.25)
    inference = SharedInference(max_batch=4, timeout_s=60.0, clock=clock)

    def shared(spec: DetectSpec) -> Detector:
        del spec
        return metered

    events: list[Envelope] = []
    analysed: list[LiveFrame] = []
    lock = threading.Lock()

    def on_events(camera_id: str, envelopes: tuple[Envelope, ...]) -> None:
        del camera_id
        with lock:
            events.extend(envelopes)

    worker = CameraWorker(
        camera,
        scene,
        WorkerDeps(
            detector=shared,
            tracker=container.tracker,
            source=lambda cam: open_camera(
                cam, SourceOptions(realtime_files=False, loop_files=False)
            ),
            inference=inference,
        ),
        on_events=on_events,
        on_live=analysed.append,
        policy=ONCE,
        tamper_checks_per_s=0.0,
    )
    saturated: list[bool] = []
    worker.start()
    try:
        deadline = time.monotonic() + WAIT
        while worker.view().state != "error":  # the run ended with its stream
            assert time.monotonic() < deadline, worker.view()
            saturated.append(worker.view().saturated)
            time.sleep(0.05)
        assert "stream ended" in (worker.view().last_error or "")
    finally:
        worker.stop()
        assert worker.join(30.0)
    assert any(saturated), "the camera was never shown saturated"
    assert inference.stats() == ()

    # 250 frames at 25 fps sampled to 5 fps: 50; at 3.8 fps about 38 are analysed.
    indices = [frame.frame_index for frame in analysed]
    assert 28 <= len(indices) < 48, indices
    assert metered.images == len(indices)

    replay = Analyzer(
        scene,
        inner,
        container.tracker(scene.tracker, camera.detect_fps),
        clock=lambda: datetime(2026, 1, 1, tzinfo=UTC),
    )
    again: list[Envelope] = []
    with FileSource(Path(camera.stream_url)) as source:
        wanted = set(indices)
        frames: list[Frame] = [f for f in source.frames() if f.index in wanted]
    for result in replay.run(_Frames(frames)):
        again.extend(result.events)
    want = analytics(again)
    assert want, "the analysed frames hold no line or zone event: the test would prove nothing"
    assert analytics(events) == want


@dataclasses.dataclass
class _Frames:
    """The analysed frames, again, as a source."""

    items: list[Frame]
    source_id: str = "replay"

    @property
    def stats(self) -> SourceStats:
        return SourceStats()

    def frames(self) -> Iterator[Frame]:
        return iter(self.items)

    def close(self) -> None:
        """Nothing to release."""

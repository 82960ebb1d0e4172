"""The shared scheduler on the real model: batching cameras changes no detection.

Three cameras (two ``vtest.avi`` views and one ``bikes.mp4`` view, so frames of
different sizes share batches) feed real frames through one
:class:`InferenceScheduler` over yolov7-tiny at 320 px, each camera from its own
thread; every frame's detections must match a direct ``detect`` of the same
frame on the same detector, within float tolerance.

Needs ``../shared/eval``; skips without it.
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from argus.adapters.detectors.scheduler import InferenceScheduler, ScheduledDetector
from argus.adapters.video.file import FileSource
from argus.bootstrap.container import build_container
from argus.bootstrap.models import DetectorOptions
from argus.config import Settings
from argus.domain.detections import Detections
from argus.domain.errors import DetectorError
from argus.ports.detector import Detector

pytestmark = [pytest.mark.integration, pytest.mark.eval, pytest.mark.slow]

MEDIA = Path(__file__).resolve().parents[3] / "shared" / "eval" / "media"
FRAMES = 6
WAIT = 120.0
"""Seconds a camera waits for one frame's detections on a loaded 2-core machine."""

Image = npt.NDArray[np.uint8]


def read_frames(path: Path, count: int, step: int) -> list[Image]:
    frames: list[Image] = []
    with FileSource(path) as source:
        for frame in source.frames():
            if frame.index % step == 0:
                frames.append(frame.image)
                if len(frames) == count:
                    break
    return frames


@pytest.fixture(scope="module")
def detector(tmp_path_factory: pytest.TempPathFactory) -> Detector:
    if not (MEDIA / "vtest.avi").is_file() or not (MEDIA / "bikes.mp4").is_file():
        pytest.skip(f"{MEDIA} is absent: ../shared/eval is beside a checkout only")
    container = build_container(Settings(data_dir=tmp_path_factory.mktemp("argus-sched")))
    return container.detector(DetectorOptions(model="yolov7-tiny", input_size=320))


def assert_same(got: Detections, want: Detections) -> None:
    assert got.class_id.tolist() == want.class_id.tolist()
    np.testing.assert_allclose(got.xyxy, want.xyxy, atol=0.05)
    np.testing.assert_allclose(got.confidence, want.confidence, atol=1e-4)
    assert got.model == want.model


def test_cameras_through_the_scheduler_get_the_direct_detections(detector: Detector) -> None:
    cameras = {
        "vtest-early": read_frames(MEDIA / "vtest.avi", FRAMES, 7),
        "vtest-late": read_frames(MEDIA / "vtest.avi", FRAMES, 61),
        "bikes": read_frames(MEDIA / "bikes.mp4", FRAMES, 11),
    }
    assert {len(f) for f in cameras.values()} == {FRAMES}
    assert len({f[0].shape for f in cameras.values()}) == 2  # mixed sizes share batches
    direct = {c: [detector.detect(image) for image in f] for c, f in cameras.items()}
    assert sum(len(d) for f in direct.values() for d in f) > 0
    got: dict[str, list[Detections]] = {c: [] for c in cameras}
    errors: list[DetectorError] = []
    start = threading.Barrier(len(cameras))

    def camera(camera_id: str, facade: ScheduledDetector) -> None:
        try:
            start.wait(WAIT)
            for image in cameras[camera_id]:
                got[camera_id].append(facade.detect(image))
        except DetectorError as exc:  # handed to the test thread; others fail via excepthook
            errors.append(exc)

    with InferenceScheduler(detector, max_batch=4) as scheduler:
        threads = [
            threading.Thread(
                target=camera, args=(c, ScheduledDetector(scheduler, c, timeout_s=WAIT))
            )
            for c in cameras
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(WAIT * FRAMES)
        stats = scheduler.stats()
    assert errors == []
    assert not any(t.is_alive() for t in threads)
    for camera_id, frames in direct.items():
        assert len(got[camera_id]) == FRAMES
        for mine, want in zip(got[camera_id], frames, strict=True):
            assert_same(mine, want)
    assert stats.images_run == len(cameras) * FRAMES
    assert {c.camera_id: c.images_served for c in stats.cameras} == dict.fromkeys(cameras, FRAMES)

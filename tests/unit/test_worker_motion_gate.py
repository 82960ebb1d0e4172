"""A camera worker whose scene asks for motion gating runs its detector through the gate.

The worker, the gate (``gate_detector``: the real ``MotionDetector`` and
``GatedDetector``) and the source are real; the detector is a counting
``ScriptedDetector``. A still scene of 60 frames costs the detector only its
full-frame passes (the first frame, then every ``full_frame_every``), while the
same scene without gating costs one call per frame.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pytest

from argus.adapters.detectors.gated import gate_detector
from argus.adapters.pipelines.worker import CameraWorker, RestartPolicy, WorkerDeps
from argus.domain.backoff import BackoffPolicy
from argus.domain.cameras import Camera
from argus.domain.detections import Detections
from argus.domain.live import LiveFrame
from argus.scene import CameraSpec, DetectSpec, MotionSpec, Scene
from tests.factories import ListSource, PassthroughTracker, ScriptedDetector

FRAMES = 60


class CountingDetector(ScriptedDetector):
    """A ``ScriptedDetector`` that counts the images it was asked to look at."""

    def __init__(self) -> None:
        super().__init__([], ("person",))
        self.images = 0

    def detect(self, image: npt.NDArray[np.uint8]) -> Detections:
        self.images += 1
        return super().detect(image)

    def detect_batch(self, images: Sequence[npt.NDArray[np.uint8]]) -> list[Detections]:
        return [self.detect(image) for image in images]


def _run(detect: DetectSpec) -> int:
    """Run one worker over ``FRAMES`` still frames; the images its detector saw."""
    detector = CountingDetector()
    deps = WorkerDeps(
        detector=lambda _spec: detector,
        tracker=lambda _spec, _fps: PassthroughTracker(),
        source=lambda _camera: ListSource(FRAMES, size=(240, 320)),
        gate=gate_detector,
    )
    seen: list[int] = []
    done = threading.Event()

    def on_live(frame: LiveFrame) -> None:
        seen.append(frame.frame_index)
        if len(seen) >= FRAMES:
            done.set()

    worker = CameraWorker(
        Camera(id="cam-1", name="hall", stream_url="file:///still.avi"),
        Scene(camera=CameraSpec(id="cam-1"), detect=detect),
        deps,
        on_events=lambda _camera, _envelopes: None,
        on_live=on_live,
        policy=RestartPolicy(backoff=BackoffPolicy(60.0, 60.0)),
        tamper_checks_per_s=0.0,
    )
    worker.start()
    try:
        assert done.wait(60.0), f"frames analysed: {len(seen)}"
    finally:
        worker.stop()
        assert worker.join(30.0)
    return detector.images


@pytest.mark.parametrize("every", [10, 25])
def test_a_gated_still_scene_costs_only_its_full_frame_passes(every: int) -> None:
    gated = _run(DetectSpec(motion=MotionSpec(full_frame_every=every)))
    assert gated == -(-FRAMES // every)  # frames 0, every, 2 * every, ...


def test_without_gating_every_frame_is_detected() -> None:
    assert _run(DetectSpec()) == FRAMES
    assert _run(DetectSpec(motion=MotionSpec(enabled=False))) == FRAMES

"""Tamper detection on the real ``vtest.avi``: quiet on untampered playback, cover and freeze seen.

The clip (a fixed surveillance view, 10 fps) is decoded once; every fifth
frame is kept, which is what a camera checked twice a second hands its monitor.
Time is the frames' own timestamps; no wall clock is involved. The last test
runs a real ``CameraWorker`` over the clip and reads the envelopes it sends.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
import pytest

from argus.adapters.pipelines.tamper import TamperMonitor
from argus.adapters.pipelines.worker import CameraWorker, RestartPolicy, WorkerDeps
from argus.domain.backoff import BackoffPolicy
from argus.domain.cameras import Camera
from argus.domain.events import Envelope
from argus.domain.frames import Frame, SourceStats
from argus.domain.tamper import TamperChange
from argus.scene import CameraSpec, Scene
from tests.factories import PassthroughTracker, ScriptedDetector

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.eval]

Image = npt.NDArray[np.uint8]
VTEST = Path(__file__).parents[3] / "shared" / "eval" / "media" / "vtest.avi"
T0 = datetime(2026, 1, 1, tzinfo=UTC)
STEP = 0.5  # seconds between checks (every fifth frame at 10 fps)


@pytest.fixture(scope="module")
def frames() -> list[Image]:
    if not VTEST.is_file():
        pytest.skip(f"{VTEST} is absent: ../shared/eval is only beside a project checkout")
    capture = cv2.VideoCapture(str(VTEST))
    kept: list[Image] = []
    index = 0
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        if index % 5 == 0:
            kept.append(np.asarray(frame, dtype=np.uint8))
        index += 1
    capture.release()
    assert len(kept) > 100
    return kept


def _play(
    frames: list[Image], seconds: float, tamper: str | None = None, at: float = 0.0
) -> list[tuple[float, TamperChange]]:
    """Loop the clip for ``seconds``; apply ``tamper`` from ``at`` for 30 s."""
    monitor = TamperMonitor()
    changes: list[tuple[float, TamperChange]] = []
    held: Image | None = None
    for i in range(int(seconds / STEP)):
        t = i * STEP
        frame = frames[i % len(frames)]
        if tamper is not None and at <= t < at + 30.0:
            if tamper == "cover":
                frame = frame.copy()
                frame[:, : frame.shape[1] * 9 // 10] = 30
            else:
                held = frame if held is None else held
                frame = held
        changes += [(t, c) for c in monitor.check(frame, T0 + timedelta(seconds=t))]
    return changes


def test_untampered_playback_raises_nothing(frames: list[Image]) -> None:
    # Four loops of the clip (the loop seam is a jump within the same view).
    assert _play(frames, 4 * len(frames) * STEP) == []


@pytest.mark.parametrize(("tamper", "kind"), [("cover", "covered"), ("freeze", "frozen")])
def test_cover_and_freeze_are_raised_and_cleared(
    frames: list[Image], tamper: str, kind: str
) -> None:
    changes = _play(frames, 150.0, tamper, at=60.0)
    assert [(c.kind, c.state) for _, c in changes] == [(kind, "raised"), (kind, "cleared")]
    (raised_at, _), (cleared_at, _) = changes
    assert 60.0 < raised_at <= 70.0
    assert 90.0 < cleared_at <= 100.0


class _ClipSource:
    """A ``VideoSource`` over the clip's kept frames at 2 fps: normal, covered, normal."""

    def __init__(self, frames: list[Image]) -> None:
        self.source_id = "vtest"
        self.stats = SourceStats()
        self._frames = frames

    def frames(self) -> Iterator[Frame]:
        for i in range(240):  # 120 s: covered from 60 s to 80 s
            image = self._frames[i % len(self._frames)]
            if 120 <= i < 160:  # a uniform dark cover: reads as covered or black
                image = np.full_like(image, 20)
            self.stats.frames_in += 1
            self.stats.frames_decoded += 1
            yield Frame(image, i, i * STEP, self.source_id)

    def close(self) -> None:
        pass


def test_worker_sends_tamper_envelopes_with_its_node_id(frames: list[Image]) -> None:
    scene = Scene(camera=CameraSpec(id="cam-1", edge_node_id="edge-7"))
    deps = WorkerDeps(
        detector=lambda _spec: ScriptedDetector([], ("person",)),
        tracker=lambda _spec, _fps: PassthroughTracker(),
        source=lambda _camera: _ClipSource(frames),
    )
    tampers: list[Envelope] = []
    done = threading.Event()

    def on_events(camera_id: str, envelopes: tuple[Envelope, ...]) -> None:
        tampers.extend(e for e in envelopes if e.type.startswith("camera.tamper"))
        if len(tampers) >= 2:
            done.set()

    worker = CameraWorker(
        Camera(id="cam-1", name="hall", stream_url="file:///vtest.avi"),
        scene,
        deps,
        on_events=on_events,
        on_live=lambda _frame: None,
        policy=RestartPolicy(backoff=BackoffPolicy(60.0, 60.0)),
    )
    worker.start()
    try:
        assert done.wait(60.0), f"tamper envelopes seen: {tampers}"
    finally:
        worker.stop()
        assert worker.join(30.0)
    raised, cleared = tampers
    assert raised.type == "camera.tamper"
    assert raised.payload["kind"] in ("covered", "black")
    assert raised.payload["state"] == "raised"
    assert cleared.type == "camera.tamper_cleared"
    assert cleared.payload["kind"] == raised.payload["kind"]
    assert cleared.payload["state"] == "cleared"
    assert raised.source.edge_node_id == "edge-7"
    assert raised.source.camera_id == "cam-1"
    assert cleared.timestamp - raised.timestamp >= timedelta(seconds=15)
    assert worker.last_frame_at is not None
    assert worker.decode_errors == 0
    monitor = worker.tamper
    assert monitor is not None
    assert monitor.state == "ok"

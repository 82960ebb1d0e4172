"""Camera lanes of the shared inference scheduler and the pacing of granted fps.

``PacedSource`` runs over a ``ListSource`` (frames at a fixed rate, stream
timestamps only). The lanes' scheduler runs on an ``InferenceClock`` moved by a
``MeteredDetector`` (0.1 s per image: capacity 0.95 / 0.1 = 9.5 images/s), so
grants are exact. Every wait is bounded by the facade's timeout.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pydantic
import pytest

from argus.adapters.detectors.scheduler import InferenceScheduler
from argus.adapters.pipelines.inference import (
    PRIORITY_HOLD_S,
    CameraLane,
    PacedSource,
    SharedInference,
)
from argus.config import Settings
from argus.domain.detections import Detections
from argus.domain.errors import ConfigError
from tests.factories import ListSource
from tests.scheduler_support import BrightPerson, InferenceClock, MeteredDetector

Image = npt.NDArray[np.uint8]

BRIGHT = np.full((120, 160, 3), 200, dtype=np.uint8)
DARK = np.zeros((120, 160, 3), dtype=np.uint8)


def paced_timestamps(source: PacedSource) -> list[float]:
    return [round(frame.timestamp, 6) for frame in source.frames()]


def test_a_camera_granted_its_target_analyses_every_frame() -> None:
    source = ListSource(20, fps=5.0)
    paced = PacedSource(source, lambda: 5.0, 5.0)
    assert len(paced_timestamps(paced)) == 20
    assert paced.held_back == 0
    assert paced.stats is source.stats
    paced.close()
    assert source.closed


@pytest.mark.parametrize(
    ("granted", "gap"),
    [(2.5, 0.4), (1.0, 1.0), (0.5, 2.0)],
    ids=["half", "a-fifth", "the-floor"],
)
def test_a_lower_grant_keeps_frames_evenly_spaced(granted: float, gap: float) -> None:
    paced = PacedSource(ListSource(50, fps=5.0), lambda: granted, 5.0)
    kept = paced_timestamps(paced)
    assert np.allclose(np.diff(kept), gap)
    assert len(kept) == round(50 * granted / 5.0)
    assert paced.held_back == 50 - len(kept)


def test_the_pace_follows_the_grant_as_it_changes() -> None:
    grant = {"fps": 5.0}
    paced = PacedSource(ListSource(40, fps=5.0), lambda: grant["fps"], 5.0)
    kept: list[float] = []
    for frame in paced.frames():
        kept.append(round(frame.timestamp, 6))
        grant["fps"] = 2.5 if frame.timestamp >= 3.8 else 5.0
    before = [t for t in kept if t <= 3.8]
    after = [t for t in kept if t > 3.8]
    assert np.allclose(np.diff(before), 0.2)  # every frame while granted the target
    assert np.allclose(np.diff(after), 0.4)  # every other frame once halved
    assert after[0] == pytest.approx(4.2)


def lanes_at(
    inference: SharedInference, detector: MeteredDetector, cameras: int
) -> list[CameraLane]:
    return [inference.lane(detector, f"cam-{i}", 5.0) for i in range(cameras)]


def test_cameras_of_one_detector_share_one_scheduler_that_stops_with_the_last() -> None:
    clock = InferenceClock()
    first = MeteredDetector(BrightPerson(), clock, 0.1)
    other = MeteredDetector(BrightPerson(), clock, 0.1)
    inference = SharedInference(max_batch=4, timeout_s=10.0, clock=clock)
    a, b = inference.lane(first, "a", 5.0), inference.lane(first, "b", 5.0)
    c = inference.lane(other, "c", 5.0)
    assert len(inference.stats()) == 2
    for lane in (a, b, c):
        assert len(lane.detector.detect(BRIGHT)) == 1
    a.close()
    a.close()  # idempotent
    assert len(inference.stats()) == 2
    b.close()
    assert len(inference.stats()) == 1
    c.close()
    assert inference.stats() == ()
    assert not [t for t in threading.enumerate() if t.name == "argus-inference"]
    again = inference.lane(first, "a", 5.0)  # a new run starts a new scheduler
    assert len(again.detector.detect(BRIGHT)) == 1
    inference.close()
    assert inference.stats() == ()


def test_a_saturated_box_grants_every_camera_the_same_share() -> None:
    clock = InferenceClock()
    detector = MeteredDetector(BrightPerson(), clock, 0.1)
    inference = SharedInference(max_batch=4, timeout_s=10.0, clock=clock)
    lanes = lanes_at(inference, detector, 3)
    try:
        assert not any(lane.load().saturated for lane in lanes)  # nothing measured yet
        for lane in lanes:
            lane.detector.detect(BRIGHT)
        # Capacity 9.5 images/s for 15 asked (far above it): all of it, shared equally.
        for lane in lanes:
            load = lane.load()
            assert load.saturated
            assert load.target_fps == 5.0
            assert load.granted_fps == pytest.approx(9.5 / 3)
            assert lane.granted_fps() == pytest.approx(9.5 / 3)
        (stats,) = inference.stats()
        assert stats.saturated
        assert stats.capacity_images_per_s == pytest.approx(9.5)
    finally:
        for lane in lanes:
            lane.close()
    assert lanes[0].granted_fps() == 5.0  # a closed lane asks nothing
    assert lanes[0].load().saturated is False


def test_a_camera_with_live_tracks_gets_twice_the_share_of_the_others() -> None:
    clock = InferenceClock()
    detector = MeteredDetector(BrightPerson(), clock, 0.1)
    inference = SharedInference(max_batch=4, timeout_s=10.0, clock=clock)
    busy, *quiet = lanes_at(inference, detector, 3)
    try:
        for lane in (busy, *quiet):
            lane.detector.detect(DARK)
        busy.observe(10.0, tracking=True)
        assert busy.priority
        assert not any(lane.priority for lane in quiet)
        # 9.5 images/s: floors of 0.5 each, the other 8 shared 2:1:1.
        assert busy.load().granted_fps == pytest.approx(4.5)
        assert busy.load().saturated
        for lane in quiet:
            assert lane.load().granted_fps == pytest.approx(2.5)
            assert lane.load().saturated
        busy.observe(10.0 + PRIORITY_HOLD_S, tracking=False)
        held = busy.priority  # held through a frame the detector missed
        busy.observe(10.1 + PRIORITY_HOLD_S, tracking=False)
        assert (held, busy.priority) == (True, False)
        assert {round(lane.load().granted_fps, 6) for lane in (busy, *quiet)} == {round(9.5 / 3, 6)}
    finally:
        inference.close()


def test_objects_the_detector_finds_give_priority_before_any_track_is_confirmed() -> None:
    """A saturated camera's tracker confirms late: raw detections win its share back."""
    clock = InferenceClock()
    detector = MeteredDetector(BrightPerson(), clock, 0.1)
    inference = SharedInference(max_batch=4, timeout_s=10.0, clock=clock)
    walked_in, empty = lanes_at(inference, detector, 2)
    try:
        assert len(walked_in.detector.detect(BRIGHT)) == 1
        assert len(empty.detector.detect(DARK)) == 0
        walked_in.observe(3.0, tracking=False)
        empty.observe(3.0, tracking=False)
        assert (walked_in.priority, empty.priority) == (True, False)
        walked_in.detector.detect(DARK)  # the person left: priority ends after the hold
        walked_in.observe(3.0 + PRIORITY_HOLD_S + 0.1, tracking=False)
        assert not walked_in.priority
    finally:
        inference.close()


def test_shared_inference_refuses_bad_settings() -> None:
    with pytest.raises(ConfigError):
        SharedInference(max_batch=0)
    with pytest.raises(ConfigError):
        SharedInference(timeout_s=0)


def test_the_scheduler_is_on_by_default_and_its_batch_is_bounded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings(data_dir=tmp_path)
    assert (settings.inference_scheduler, settings.inference_max_batch) == (True, 8)
    monkeypatch.setenv("ARGUS_INFERENCE_SCHEDULER", "false")
    monkeypatch.setenv("ARGUS_INFERENCE_MAX_BATCH", "16")
    settings = Settings(data_dir=tmp_path)
    assert (settings.inference_scheduler, settings.inference_max_batch) == (False, 16)
    for wrong in ("0", "65"):
        monkeypatch.setenv("ARGUS_INFERENCE_MAX_BATCH", wrong)
        with pytest.raises(pydantic.ValidationError, match="inference_max_batch"):
            Settings(data_dir=tmp_path)


class PairedBatches(BrightPerson):
    """Returns only once two batches are inside ``detect_batch`` at the same time."""

    def __init__(self) -> None:
        self.barrier = threading.Barrier(2, timeout=10.0)

    def detect_batch(self, images: Sequence[Image]) -> list[Detections]:
        self.barrier.wait()
        return super().detect_batch(images)


def test_scheduler_workers_run_batches_side_by_side() -> None:
    detector = PairedBatches()
    with InferenceScheduler(detector, max_batch=1, workers=2) as scheduler:
        futures = [scheduler.submit(camera, [BRIGHT]) for camera in ("a", "b")]
        assert [len(f.result(timeout=10.0)[0]) for f in futures] == [1, 1]
        assert scheduler.stats().batches_run == 2
    with pytest.raises(ConfigError):
        InferenceScheduler(detector, max_batch=1, workers=0)


class SizedPairs(PairedBatches):
    """Records batch sizes; returns only once two batches run side by side."""

    def __init__(self) -> None:
        super().__init__()
        self.sizes: list[int] = []

    def detect_batch(self, images: Sequence[Image]) -> list[Detections]:
        self.sizes.append(len(images))
        return super().detect_batch(images)


def test_idle_workers_split_the_queue_instead_of_one_taking_it_all() -> None:
    detector = SizedPairs()
    with InferenceScheduler(detector, max_batch=8, workers=2) as scheduler:
        # Queued at once (the scheduler's condition is re-entrant): 8 one-image requests.
        with scheduler._cond:  # the only way to queue before a worker wakes
            futures = [scheduler.submit(f"cam-{i}", [BRIGHT]) for i in range(8)]
        assert all(len(f.result(timeout=10.0)) == 1 for f in futures)
    assert sorted(detector.sizes) == [4, 4]


def test_two_workers_double_the_capacity_the_governor_grants_from() -> None:
    clock = InferenceClock()
    detector = MeteredDetector(BrightPerson(), clock, 0.1)
    inference = SharedInference(max_batch=4, workers=2, timeout_s=10.0, clock=clock)
    lanes = lanes_at(inference, detector, 3)
    try:
        for lane in lanes:
            lane.detector.detect(BRIGHT)
        (stats,) = inference.stats()
        assert stats.capacity_images_per_s == pytest.approx(19.0)
        # 15 images/s asked of 19: every camera keeps its target.
        assert {(lane.load().granted_fps, lane.load().saturated) for lane in lanes} == {
            (5.0, False)
        }
    finally:
        inference.close()


def test_an_old_run_closing_late_keeps_the_new_runs_demand() -> None:
    clock = InferenceClock()
    detector = MeteredDetector(BrightPerson(), clock, 0.1)
    inference = SharedInference(max_batch=4, timeout_s=10.0, clock=clock)
    old, new = inference.lane(detector, "a", 5.0), inference.lane(detector, "a", 5.0)
    try:
        old.close()  # a replaced run's thread ending after the new run started
        (stats,) = inference.stats()
        assert [(c.camera_id, c.grant is not None) for c in stats.cameras] == [("a", True)]
        assert new.load().target_fps == 5.0
    finally:
        new.close()
    assert inference.stats() == ()

"""The shared inference thread: batching across cameras, errors, stop and stats.

The detector here is a small test implementation of the ``Detector`` port that
returns one box per image (its score is the image's grey level) and records
the batches it was given. A ``threading.Event`` gate makes "the detector is
busy" a state the test sets; every wait is bounded and nothing sleeps.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator, Sequence

import numpy as np
import numpy.typing as npt
import pytest

from argus.adapters.detectors.scheduler import InferenceScheduler, ScheduledDetector
from argus.domain.detections import Detections
from argus.domain.errors import ConfigError, DetectorError
from argus.domain.inference_schedule import SaturationGovernor
from argus.ports.detector import Detector

WAIT = 10.0
"""Upper bound of every wait; reached only when the code under test is broken."""

Image = npt.NDArray[np.uint8]


def image(level: int, height: int = 4, width: int = 6) -> Image:
    return np.full((height, width, 3), level, dtype=np.uint8)


class BoxPerImage:
    """One box per image, the whole image, scored by its grey level."""

    class_names: tuple[str, ...] = ("thing",)
    model_ref: str = "box-per-image@1"

    def __init__(self, *, busy: bool = False, fail: Exception | None = None) -> None:
        self.batches: list[list[int]] = []
        self.entered: queue.Queue[int] = queue.Queue()
        self.gate = threading.Event()
        if not busy:
            self.gate.set()
        self.fail = fail
        self.wrong_count = False

    def detect(self, image: Image) -> Detections:
        return self.detect_batch([image])[0]

    def detect_batch(self, images: Sequence[Image]) -> list[Detections]:
        self.batches.append([int(i[0, 0, 0]) for i in images])
        self.entered.put(len(self.batches))
        if not self.gate.wait(WAIT):
            raise RuntimeError("the test never opened the gate")
        if self.fail is not None:
            raise self.fail
        out = [
            Detections(
                xyxy=np.array([[0, 0, i.shape[1], i.shape[0]]], dtype=np.float32),
                confidence=np.array([i[0, 0, 0] / 255], dtype=np.float32),
                class_id=np.zeros(1, dtype=np.int64),
                class_names=self.class_names,
                model=self.model_ref,
            )
            for i in images
        ]
        return out[:-1] if self.wrong_count else out

    def wait_entered(self) -> int:
        return self.entered.get(timeout=WAIT)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def level(result: Detections) -> int:
    return round(float(result.confidence[0]) * 255)


@pytest.fixture
def detector() -> BoxPerImage:
    return BoxPerImage(busy=True)


@pytest.fixture
def scheduler(detector: BoxPerImage) -> Iterator[InferenceScheduler]:
    with InferenceScheduler(detector, max_batch=4) as running:
        yield running
    detector.gate.set()


def test_a_camera_gets_its_own_results(
    scheduler: InferenceScheduler, detector: BoxPerImage
) -> None:
    detector.gate.set()
    camera = ScheduledDetector(scheduler, "cam-a", timeout_s=WAIT)
    results = camera.detect_batch([image(10), image(20, 8, 3)])
    assert [level(r) for r in results] == [10, 20]
    assert results[1].xyxy.tolist() == [[0, 0, 3, 8]]
    assert level(camera.detect(image(30))) == 30
    assert camera.detect_batch([]) == []


def test_requests_of_several_cameras_share_one_batch(
    scheduler: InferenceScheduler, detector: BoxPerImage
) -> None:
    first = scheduler.submit("cam-a", [image(1)])
    detector.wait_entered()  # the detector is now busy with cam-a's first frame
    waiting = {
        "cam-a": scheduler.submit("cam-a", [image(2)]),
        "cam-b": scheduler.submit("cam-b", [image(3), image(4)]),
        "cam-c": scheduler.submit("cam-c", [image(5)]),
    }
    detector.gate.set()
    assert [level(r) for r in first.result(WAIT)] == [1]
    assert [level(r) for r in waiting["cam-a"].result(WAIT)] == [2]
    assert [level(r) for r in waiting["cam-b"].result(WAIT)] == [3, 4]
    assert [level(r) for r in waiting["cam-c"].result(WAIT)] == [5]
    assert [sorted(b) for b in detector.batches] == [[1], [2, 3, 4, 5]]
    stats = scheduler.stats()
    assert (stats.batches_run, stats.images_run, stats.mean_batch_size) == (2, 5, 2.5)


def test_priority_cameras_are_served_first_and_max_batch_holds(detector: BoxPerImage) -> None:
    with InferenceScheduler(detector, max_batch=2, max_wait_s=1e9) as scheduler:
        scheduler.submit("cam-a", [image(1)])
        detector.wait_entered()
        futures = [
            scheduler.submit("idle-1", [image(11)]),
            scheduler.submit("idle-2", [image(12)]),
            scheduler.submit("alert", [image(21)], priority=True),
            scheduler.submit("tracks", [image(22)], priority=True),
        ]
        detector.gate.set()
        for future in futures:
            future.result(WAIT)
    assert [sorted(b) for b in detector.batches] == [[1], [21, 22], [11, 12]]


def test_inner_errors_reach_the_caller_and_the_thread_keeps_serving(
    scheduler: InferenceScheduler, detector: BoxPerImage
) -> None:
    detector.fail = ValueError("broken tensor")
    detector.gate.set()
    future = scheduler.submit("cam-a", [image(1)])
    assert isinstance(future.exception(WAIT), ValueError)
    camera = ScheduledDetector(scheduler, "cam-a", timeout_s=WAIT)
    with pytest.raises(DetectorError, match="broken tensor") as raised:
        camera.detect(image(2))
    assert isinstance(raised.value.__cause__, ValueError)
    detector.fail = DetectorError("model output not understood")
    with pytest.raises(DetectorError, match="not understood"):
        camera.detect(image(3))
    detector.fail = None
    assert level(camera.detect(image(4))) == 4


def test_a_detector_returning_the_wrong_count_is_an_error(
    scheduler: InferenceScheduler, detector: BoxPerImage
) -> None:
    detector.wrong_count = True
    detector.gate.set()
    with pytest.raises(DetectorError, match="1 results for 2 images"):
        ScheduledDetector(scheduler, "cam-a", timeout_s=WAIT).detect_batch([image(1), image(2)])


def test_a_call_times_out_instead_of_hanging_and_its_request_is_dropped(
    scheduler: InferenceScheduler, detector: BoxPerImage
) -> None:
    scheduler.submit("cam-a", [image(1)])
    detector.wait_entered()
    camera = ScheduledDetector(scheduler, "cam-b", timeout_s=0.01)
    with pytest.raises(DetectorError, match="no detections within"):
        camera.detect(image(2))
    detector.gate.set()
    after = scheduler.submit("cam-c", [image(3)])
    assert [level(r) for r in after.result(WAIT)] == [3]
    assert detector.batches == [[1], [3]]  # the timed-out frame never ran


def test_stop_fails_queued_requests_and_lets_the_running_batch_finish(
    scheduler: InferenceScheduler, detector: BoxPerImage
) -> None:
    running = scheduler.submit("cam-a", [image(1)])
    detector.wait_entered()
    queued = scheduler.submit("cam-b", [image(2)])
    stopper = threading.Thread(target=scheduler.stop, kwargs={"timeout_s": WAIT})
    stopper.start()
    error = queued.exception(WAIT)
    assert isinstance(error, DetectorError)
    assert "stopped" in str(error)
    detector.gate.set()
    stopper.join(WAIT)
    assert not stopper.is_alive()
    assert [level(r) for r in running.result(WAIT)] == [1]
    assert not scheduler.stats().running
    with pytest.raises(DetectorError, match="stopped, not running"):
        scheduler.submit("cam-a", [image(3)])
    with pytest.raises(DetectorError, match="stopped"):
        ScheduledDetector(scheduler, "cam-a").detect(image(4))


def test_stop_fails_a_batch_stuck_in_the_detector(
    scheduler: InferenceScheduler, detector: BoxPerImage
) -> None:
    stuck = scheduler.submit("cam-a", [image(1)])
    detector.wait_entered()
    scheduler.stop(timeout_s=0.01)
    assert isinstance(stuck.exception(WAIT), DetectorError)
    detector.gate.set()  # the late result is discarded without an error


def test_submit_before_start_and_a_second_start_are_refused(detector: BoxPerImage) -> None:
    scheduler = InferenceScheduler(detector, max_batch=2)
    with pytest.raises(DetectorError, match="new, not running"):
        scheduler.submit("cam-a", [image(1)])
    scheduler.start()
    with pytest.raises(DetectorError, match="cannot start"):
        scheduler.start()
    detector.gate.set()
    scheduler.stop(timeout_s=WAIT)


def test_stats_report_waits_served_images_and_grants_on_the_injected_clock(
    detector: BoxPerImage,
) -> None:
    clock = Clock()
    with InferenceScheduler(detector, max_batch=4, clock=clock, max_wait_s=1e9) as scheduler:
        for camera in ("cam-a", "cam-b", "cam-c"):
            scheduler.set_demand(camera, 5.0)
        scheduler.submit("cam-a", [image(1)])
        detector.wait_entered()
        later = [scheduler.submit("cam-b", [image(2)]), scheduler.submit("cam-c", [image(3)])]
        assert scheduler.stats().queued_images == 2
        clock.now = 3.0  # the first batch took 3 s: capacity 0.95 / 3 images/s
        detector.gate.set()
        for future in later:
            future.result(WAIT)
        stats = scheduler.stats()
    assert (stats.batches_run, stats.mean_batch_size, stats.queued_images) == (2, 1.5, 0)
    assert stats.capacity_images_per_s == pytest.approx(0.95 / 3)
    assert stats.saturated
    loads = {c.camera_id: c for c in stats.cameras}
    assert (loads["cam-a"].mean_wait_s, loads["cam-b"].mean_wait_s) == (0.0, 3.0)
    assert loads["cam-c"].max_wait_s == 3.0
    assert [loads[c].images_served for c in ("cam-a", "cam-b", "cam-c")] == [1, 1, 1]
    grant = loads["cam-b"].grant
    assert grant is not None
    assert (grant.target_fps, grant.reason) == (5.0, "saturated")
    assert grant.granted_fps < 5.0


def test_granted_fps_without_measurements_is_the_target(scheduler: InferenceScheduler) -> None:
    assert scheduler.granted_fps("cam-a") is None
    scheduler.set_demand("cam-a", 4.0)
    assert scheduler.granted_fps("cam-a") == 4.0


def test_the_facade_is_a_detector_of_the_shared_model(scheduler: InferenceScheduler) -> None:
    camera = ScheduledDetector(scheduler, "cam-a")
    assert isinstance(camera, Detector)
    assert (camera.class_names, camera.model_ref) == (("thing",), "box-per-image@1")


def test_the_facade_declares_demand_and_priority_and_reads_its_grant(
    detector: BoxPerImage,
) -> None:
    clock = Clock()
    governor = SaturationGovernor(smoothing=1.0, utilisation=1.0, release_margin=0.0, min_fps=0.0)
    with InferenceScheduler(detector, max_batch=8, clock=clock, governor=governor) as scheduler:
        alert = ScheduledDetector(scheduler, "alert", target_fps=4.0, timeout_s=WAIT)
        quiet = ScheduledDetector(scheduler, "quiet", target_fps=4.0, timeout_s=WAIT)
        assert (alert.granted_fps, quiet.granted_fps) == (4.0, 4.0)  # nothing measured yet
        regions = scheduler.submit("quiet", [image(1), image(2)])  # two regions per frame
        detector.wait_entered()
        clock.now = 0.5  # 2 images in 0.5 s: 4 images/s
        detector.gate.set()
        regions.result(WAIT)
        alert.priority = True  # twice quiet's fps; quiet's frames cost two images each
        assert alert.granted_fps == pytest.approx(2.0)
        assert quiet.granted_fps == pytest.approx(1.0)
        alert.priority = False
        # Equal fps; quiet's frames cost two images each: 4 / (1 + 2) fps each.
        assert alert.granted_fps == pytest.approx(4 / 3)
        assert quiet.granted_fps == pytest.approx(4 / 3)
        scheduler.forget("alert")
        assert quiet.granted_fps == pytest.approx(2.0)
        assert alert.granted_fps is None


def test_a_negative_target_is_refused(scheduler: InferenceScheduler) -> None:
    with pytest.raises(ConfigError, match="target_fps"):
        scheduler.set_demand("cam-a", -1.0)
    assert scheduler.granted_fps("cam-a") is None

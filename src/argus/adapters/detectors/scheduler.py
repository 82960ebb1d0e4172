"""One inference scheduler shared by every camera, batching their images on a few threads.

:class:`InferenceScheduler` owns one detector and its worker threads. Cameras
:meth:`~InferenceScheduler.submit` images and get a ``Future``; the worker asks
:class:`~argus.domain.inference_schedule.BatchPolicy` for the next batch (fair
across cameras, priority cameras first, nobody starves), runs it with a single
``detect_batch`` call and resolves each request's future with its own slice of
the results. Its threads block on a condition while nothing is queued. Every
batch's service time feeds a :class:`SaturationGovernor`, whose grants (the
analysed fps each camera may run at) are part of :meth:`stats`.

:class:`ScheduledDetector` is the ``Detector`` one camera uses: ``detect`` and
``detect_batch`` submit and wait at most ``timeout_s``, raising ``DetectorError``
on a timeout, a stopped scheduler or a failed inference; they never hang.

Mixed image sizes share a batch: the YOLO detectors letterbox every image into
the model's square input before stacking them.
"""

from __future__ import annotations

import contextlib
import enum
import itertools
import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import CancelledError, Future, InvalidStateError
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from argus.domain.detections import Detections
from argus.domain.errors import ConfigError, DetectorError
from argus.domain.inference_schedule import (
    BatchPolicy,
    CameraGrant,
    CameraLoad,
    InferenceRequest,
    SaturationGovernor,
    SchedulerStats,
)
from argus.ports.detector import Detector

__all__ = ["CameraLoad", "InferenceScheduler", "ScheduledDetector", "SchedulerStats"]

log = logging.getLogger(__name__)

Image = npt.NDArray[np.uint8]
Clock = Callable[[], float]


class _State(enum.Enum):
    NEW = "new"
    RUNNING = "running"
    STOPPED = "stopped"


@dataclass
class _Served:
    requests: int = 0
    images: int = 0
    wait_total: float = 0.0
    wait_max: float = 0.0


@dataclass(frozen=True, slots=True)
class _Pending:
    images: tuple[Image, ...]
    future: Future[list[Detections]]


class InferenceScheduler:
    """Runs one detector for many cameras on ``workers`` threads, in fair batches.

    Each worker thread takes the next fair batch when it is free, so several
    batches may run side by side (one per core, each on a one-thread ONNX
    Runtime pool, costs less CPU per image than one batch on a pool of all the
    cores). A batch's service time is booked to the governor divided by the
    number of workers: capacity is what they serve together.

    Args:
        detector: The shared detector (its ``detect_batch`` must accept any mix of
            sizes, and be safe to call from several threads when ``workers`` > 1).
        max_batch: Most images per ``detect_batch`` call.
        clock: Monotonic seconds, for waits, service times and grants.
        max_wait_s: A request waiting this long jumps ahead of priority work.
        governor: Turns service times and demand into granted fps per camera.
        workers: Threads running batches.

    Raises:
        ConfigError: ``max_batch``, ``max_wait_s`` or ``workers`` is out of range.
    """

    def __init__(
        self,
        detector: Detector,
        *,
        max_batch: int,
        clock: Clock = time.monotonic,
        max_wait_s: float = 1.0,
        governor: SaturationGovernor | None = None,
        workers: int = 1,
    ) -> None:
        if max_batch < 1 or max_wait_s <= 0 or workers < 1:
            raise ConfigError("max_batch and workers must be >= 1 and max_wait_s > 0")
        self._detector = detector
        self._clock = clock
        self._policy = BatchPolicy(max_batch=max_batch, max_wait_s=max_wait_s)
        self._governor = governor or SaturationGovernor()
        self._pending: dict[int, _Pending] = {}
        self._in_flight: dict[int, list[Future[list[Detections]]]] = {}
        self._served: dict[str, _Served] = {}
        self._demand: dict[str, tuple[float, bool]] = {}
        self._ids = itertools.count()
        self._batches = 0
        self._images = 0
        self._state = _State.NEW
        self._cond = threading.Condition()
        self._threads = [
            threading.Thread(target=self._main, args=(i,), name="argus-inference", daemon=True)
            for i in range(workers)
        ]

    @property
    def detector(self) -> Detector:
        """The shared detector."""
        return self._detector

    def start(self) -> InferenceScheduler:
        """Start the worker threads (once)."""
        with self._cond:
            if self._state is not _State.NEW:
                raise DetectorError(f"inference scheduler cannot start: it is {self._state.value}")
            self._state = _State.RUNNING
        for thread in self._threads:
            thread.start()
        return self

    def __enter__(self) -> InferenceScheduler:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def submit(
        self, camera_id: str, images: Sequence[Image], *, priority: bool = False
    ) -> Future[list[Detections]]:
        """Queue images of one camera; the future yields one ``Detections`` per image.

        An empty ``images`` resolves at once to ``[]``. The future fails with the
        detector's own exception when inference fails, and with ``DetectorError``
        when the scheduler stops first.

        Raises:
            DetectorError: The scheduler is not running.
        """
        future: Future[list[Detections]] = Future()
        if not images:
            future.set_result([])
            return future
        with self._cond:
            if self._state is not _State.RUNNING:
                raise DetectorError(f"inference scheduler is {self._state.value}, not running")
            request_id = next(self._ids)
            self._policy.push(
                InferenceRequest(request_id, camera_id, len(images), priority, self._clock())
            )
            self._pending[request_id] = _Pending(tuple(images), future)
            self._served.setdefault(camera_id, _Served())
            self._cond.notify()
        return future

    def set_demand(self, camera_id: str, target_fps: float, *, priority: bool = False) -> None:
        """Tell the governor the analysed fps a camera asks for, and its priority.

        Images per frame (regions) are measured from the camera's own requests.

        Raises:
            ConfigError: ``target_fps`` is negative.
        """
        if target_fps < 0:
            raise ConfigError(f"target_fps must be >= 0, got {target_fps}")
        with self._cond:
            self._demand[camera_id] = (target_fps, priority)
            self._refresh(camera_id)

    def forget(self, camera_id: str) -> None:
        """Drop a camera's demand (it stopped); its counters stay in the stats."""
        with self._cond:
            self._demand.pop(camera_id, None)
            self._governor.remove(camera_id)

    def granted_fps(self, camera_id: str) -> float | None:
        """The analysed fps the camera may run at now; ``None`` without a demand."""
        with self._cond:
            grant = self._update().get(camera_id)
        return None if grant is None else grant.granted_fps

    def _refresh(self, camera_id: str) -> None:
        target, priority = self._demand[camera_id]
        served = self._served.get(camera_id)
        per_frame = served.images / served.requests if served and served.requests else 1.0
        self._governor.set_demand(camera_id, target, priority=priority, images_per_frame=per_frame)

    def _update(self) -> dict[str, CameraGrant]:
        for camera in self._demand:
            self._refresh(camera)
        return self._governor.update(self._clock())

    def stop(self, timeout_s: float = 10.0) -> None:
        """Stop serving: queued requests fail with ``DetectorError``; the running batch
        may finish within ``timeout_s``, else its requests fail too."""
        with self._cond:
            was = self._state
            self._state = _State.STOPPED
            dropped = [self._pending.pop(r.request_id) for r in self._policy.drain()]
            self._cond.notify_all()
        error = DetectorError("inference scheduler stopped before serving the request")
        for pending in dropped:
            _fail(pending.future, error)
        if was is _State.RUNNING and threading.current_thread() not in self._threads:
            deadline = time.monotonic() + timeout_s
            for thread in self._threads:
                thread.join(max(0.0, deadline - time.monotonic()))
            with self._cond:
                stuck = [f for futures in self._in_flight.values() for f in futures]
            for future in stuck:
                _fail(future, DetectorError("inference scheduler stopped during the batch"))

    def stats(self) -> SchedulerStats:
        """A snapshot of queues, batches, waits and grants."""
        with self._cond:
            grants = self._update()
            queued = self._policy.pending_by_camera()
            cameras = tuple(
                CameraLoad(
                    camera_id=camera,
                    queued_images=queued.get(camera, 0),
                    requests_served=served.requests,
                    images_served=served.images,
                    mean_wait_s=served.wait_total / served.requests if served.requests else 0.0,
                    max_wait_s=served.wait_max,
                    grant=grants.get(camera),
                )
                for camera, served in sorted(
                    {**{c: _Served() for c in grants}, **self._served}.items()
                )
            )
            return SchedulerStats(
                running=self._state is _State.RUNNING,
                queued_requests=len(self._policy),
                queued_images=self._policy.pending_images,
                batches_run=self._batches,
                images_run=self._images,
                mean_batch_size=self._images / self._batches if self._batches else 0.0,
                capacity_images_per_s=self._governor.capacity,
                saturated=self._governor.saturated,
                cameras=cameras,
            )

    def _main(self, worker: int) -> None:
        while True:
            with self._cond:
                while self._state is _State.RUNNING and not len(self._policy):
                    self._cond.wait()
                if self._state is not _State.RUNNING:
                    return
                now = self._clock()
                # An even share of the queue per idle worker (this one included): both
                # cores busy, not one batch of everything and an idle worker beside it.
                idle = max(1, len(self._threads) - len(self._in_flight))
                share = -(-self._policy.pending_images // idle)
                batch = self._take(self._policy.next_batch(now, limit=share), now, worker)
            if batch:
                self._run(batch, worker)

    def _take(
        self, requests: Sequence[InferenceRequest], now: float, worker: int
    ) -> list[tuple[InferenceRequest, _Pending]]:
        """Claim the picked requests; ones whose caller cancelled are dropped."""
        batch = []
        for request in requests:
            pending = self._pending.pop(request.request_id)
            if not pending.future.set_running_or_notify_cancel():
                continue
            served = self._served[request.camera_id]
            wait = max(0.0, now - request.enqueued_at)
            served.wait_total += wait
            served.wait_max = max(served.wait_max, wait)
            batch.append((request, pending))
        self._in_flight[worker] = [pending.future for _, pending in batch]
        return batch

    def _run(self, batch: list[tuple[InferenceRequest, _Pending]], worker: int) -> None:
        images = [image for _, pending in batch for image in pending.images]
        started = self._clock()
        try:
            results = self._detector.detect_batch(images)
            if len(results) != len(images):
                raise DetectorError(
                    f"detect_batch returned {len(results)} results for {len(images)} images"
                )
        except Exception as exc:  # noqa: BLE001 - the task loop's top: callers get the error
            log.warning("inference batch of %d images failed: %s", len(images), exc)
            for _, pending in batch:
                _fail(pending.future, exc)
            results = None
        elapsed = self._clock() - started
        with self._cond:
            self._batches += 1
            self._images += len(images)
            self._in_flight.pop(worker, None)
            if results is not None:
                # Workers serve side by side: each image costs the box 1/workers of its time.
                self._governor.record_batch(len(images), elapsed / len(self._threads))
            for request, _ in batch:
                served = self._served[request.camera_id]
                served.requests += 1
                served.images += request.images
        if results is None:
            return
        offset = 0
        for request, pending in batch:
            _resolve(pending.future, results[offset : offset + request.images])
            offset += request.images


def _resolve(future: Future[list[Detections]], value: list[Detections]) -> None:
    with contextlib.suppress(InvalidStateError):  # failed by stop() while the batch ran
        future.set_result(value)


def _fail(future: Future[list[Detections]], error: BaseException) -> None:
    with contextlib.suppress(InvalidStateError):  # already resolved or cancelled
        future.set_exception(error)


class ScheduledDetector:
    """The ``Detector`` of one camera, served by a shared :class:`InferenceScheduler`.

    Args:
        scheduler: The shared scheduler (started by its owner).
        camera_id: The camera this facade speaks for.
        timeout_s: Longest wait for one call's results.
        target_fps: The analysed fps the camera asks for; when given it is
            declared to the scheduler's governor (see :attr:`granted_fps`).
        priority: Initial priority flag; set :attr:`priority` when the camera
            gains or loses live alerts or tracks.
    """

    def __init__(
        self,
        scheduler: InferenceScheduler,
        camera_id: str,
        *,
        timeout_s: float = 10.0,
        target_fps: float | None = None,
        priority: bool = False,
    ) -> None:
        if timeout_s <= 0:
            raise ConfigError(f"timeout_s must be > 0, got {timeout_s}")
        self._scheduler = scheduler
        self.camera_id = camera_id
        self.timeout_s = timeout_s
        self._target_fps = target_fps
        self._priority = priority
        self.objects_found = 0
        """Detections returned to this camera so far (before tracking: raw activity)."""
        if target_fps is not None:
            scheduler.set_demand(camera_id, target_fps, priority=priority)

    @property
    def priority(self) -> bool:
        """Whether the camera has a live alert or live tracks (served first)."""
        return self._priority

    @priority.setter
    def priority(self, value: bool) -> None:
        if value != self._priority and self._target_fps is not None:
            self._scheduler.set_demand(self.camera_id, self._target_fps, priority=value)
        self._priority = value

    @property
    def granted_fps(self) -> float | None:
        """The analysed fps the shared detector grants this camera now (``None``
        without a ``target_fps``)."""
        return self._scheduler.granted_fps(self.camera_id)

    @property
    def class_names(self) -> tuple[str, ...]:
        """Names indexed by class id (the shared detector's)."""
        return self._scheduler.detector.class_names

    @property
    def model_ref(self) -> str:
        """``name@version`` of the shared detector's model."""
        return self._scheduler.detector.model_ref

    def detect(self, image: Image) -> Detections:
        """Detect objects in one image through the shared scheduler."""
        return self.detect_batch([image])[0]

    def detect_batch(self, images: Sequence[Image]) -> list[Detections]:
        """Detect objects in several images of this camera, batched with other cameras.

        Raises:
            DetectorError: Timeout, stopped scheduler, or inference failure.
        """
        future = self._scheduler.submit(self.camera_id, images, priority=self.priority)
        try:
            results = future.result(timeout=self.timeout_s)
            self.objects_found += sum(len(found) for found in results)
            return results
        except FutureTimeout as exc:
            future.cancel()
            raise DetectorError(
                f"camera {self.camera_id}: no detections within {self.timeout_s:g} s"
            ) from exc
        except CancelledError as exc:
            raise DetectorError(f"camera {self.camera_id}: inference was cancelled") from exc
        except DetectorError:
            raise
        except Exception as exc:
            raise DetectorError(f"camera {self.camera_id}: inference failed: {exc}") from exc

"""Cameras' shared inference: one batching scheduler per shared detector, a lane per camera run.

``SharedInference`` gives each camera run a :class:`CameraLane`: a
``ScheduledDetector`` facade over the :class:`InferenceScheduler` of the
detector the run uses (cameras with the same detect settings share the
detector, so their frames and motion regions batch together). A scheduler's
thread starts with its first lane and stops when its last lane closes, so a
server without cameras runs no inference thread.

The scheduler's governor grants each camera the analysed fps the box can
sustain. :class:`PacedSource` enforces that grant in the camera's pipeline: it
passes on only the frames a :class:`FrameSampler` set to the grant keeps, so a
saturated camera analyses fewer frames, evenly spaced, and keeps up with its
stream instead of falling behind it. A frame that is skipped is never analysed;
every analysed frame's events are raised as before.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from types import TracebackType
from typing import Self

from argus.adapters.detectors.scheduler import InferenceScheduler, ScheduledDetector
from argus.domain.errors import ConfigError
from argus.domain.frames import Frame, SourceStats
from argus.domain.inference_schedule import SchedulerStats
from argus.domain.sampler import FrameSampler
from argus.ports.detector import Detector
from argus.ports.video import VideoSource

__all__ = ["CameraLane", "LaneLoad", "PacedSource", "SharedInference"]

Clock = Callable[[], float]

_REGRANT = 0.02
"""A grant must move by this share before the pacer's grid is rebuilt (no churn on noise)."""

PRIORITY_HOLD_S = 2.0
"""Seconds of stream time a camera stays priority after its last tracked object (no flapping
on a frame the detector missed)."""


@dataclass(frozen=True, slots=True)
class LaneLoad:
    """What one camera asks of the shared detector and what it gets.

    Attributes:
        target_fps: The analysed fps the camera asks for.
        granted_fps: The analysed fps it may run at now.
        saturated: Its grant is below its target because the box is saturated.
        queued_images: Its images waiting for the detector.
    """

    target_fps: float
    granted_fps: float
    saturated: bool
    queued_images: int


@dataclass(slots=True)
class _Shared:
    scheduler: InferenceScheduler
    lanes: dict[int, str] = field(default_factory=dict)  # lane id: camera id


class SharedInference:
    """One started :class:`InferenceScheduler` per shared detector, for every camera of a process.

    Args:
        max_batch: Most images per ``detect_batch`` call of a scheduler.
        workers: Threads of each scheduler running batches side by side.
        timeout_s: Longest wait of one camera's call for its results.
        clock: Monotonic seconds of the schedulers (waits, service times, grants).

    Raises:
        ConfigError: ``max_batch`` or ``workers`` below 1, or ``timeout_s`` not positive.
    """

    def __init__(
        self,
        *,
        max_batch: int = 8,
        workers: int = 1,
        timeout_s: float = 30.0,
        clock: Clock = time.monotonic,
    ) -> None:
        if max_batch < 1 or workers < 1 or timeout_s <= 0:
            raise ConfigError("max_batch and workers must be >= 1 and timeout_s > 0")
        self.max_batch = max_batch
        self.workers = workers
        self._timeout_s = timeout_s
        self._clock = clock
        self._lock = threading.Lock()
        self._shared: dict[int, _Shared] = {}
        self._lane_ids = itertools.count()

    def lane(self, detector: Detector, camera_id: str, target_fps: float) -> CameraLane:
        """A lane for one run of ``camera_id`` through ``detector``'s scheduler (started now
        if it is the detector's first lane). Close the lane when the run ends."""
        with self._lock:
            shared = self._shared.get(id(detector))
            if shared is None:
                scheduler = InferenceScheduler(
                    detector, max_batch=self.max_batch, clock=self._clock, workers=self.workers
                )
                shared = self._shared[id(detector)] = _Shared(scheduler.start())
            lane_id = next(self._lane_ids)
            shared.lanes[lane_id] = camera_id
            facade = ScheduledDetector(
                shared.scheduler, camera_id, timeout_s=self._timeout_s, target_fps=target_fps
            )
        return CameraLane(self, lane_id, detector, facade, target_fps)

    def release(self, lane_id: int, detector: Detector, camera_id: str) -> None:
        """End a lane (``CameraLane.close`` calls it); the scheduler stops with its last lane."""
        with self._lock:
            shared = self._shared.get(id(detector))
            if shared is None or lane_id not in shared.lanes:
                return
            del shared.lanes[lane_id]
            if camera_id not in shared.lanes.values():  # not a new run of the camera's
                shared.scheduler.forget(camera_id)
            if shared.lanes:
                return
            del self._shared[id(detector)]
        shared.scheduler.stop()

    def stats(self) -> tuple[SchedulerStats, ...]:
        """A snapshot of every running scheduler (one per shared detector)."""
        with self._lock:
            schedulers = [s.scheduler for s in self._shared.values()]
        return tuple(s.stats() for s in schedulers)

    def close(self) -> None:
        """Stop every scheduler (waiting callers fail with ``DetectorError``); idempotent."""
        with self._lock:
            shared = list(self._shared.values())
            self._shared.clear()
        for entry in shared:
            entry.scheduler.stop()


class CameraLane:
    """One camera run's way to the shared detector (made by :meth:`SharedInference.lane`).

    Args:
        owner: The shared inference that made it.
        lane_id: Its id there.
        shared: The shared detector.
        facade: The camera's ``ScheduledDetector``.
        target_fps: The analysed fps the camera asks for.
    """

    def __init__(
        self,
        owner: SharedInference,
        lane_id: int,
        shared: Detector,
        facade: ScheduledDetector,
        target_fps: float,
    ) -> None:
        self._owner = owner
        self._id = lane_id
        self._shared = shared
        self._facade = facade
        self.target_fps = target_fps
        self._closed = False
        self._active_at: float | None = None
        self._found = 0

    @property
    def detector(self) -> Detector:
        """The camera's detector: calls go through the shared scheduler."""
        return self._facade

    @property
    def priority(self) -> bool:
        """Whether the camera is served first (it has live tracks)."""
        return self._facade.priority

    @priority.setter
    def priority(self, value: bool) -> None:
        if value != self._facade.priority and not self._closed:
            self._facade.priority = value

    def observe(self, timestamp: float, *, tracking: bool) -> None:
        """Note an analysed frame: the camera is priority while it tracks something or the
        detector found objects in its frame, and for ``PRIORITY_HOLD_S`` seconds of stream
        time after. Raw detections count because a tracker fed few frames confirms late,
        or never: a saturated camera must not wait for tracks to win its share back.

        Args:
            timestamp: The frame's stream time in seconds.
            tracking: The frame has tracked objects.
        """
        found = self._facade.objects_found
        if tracking or found != self._found:
            self._active_at = timestamp
        self._found = found
        last = self._active_at
        live = last is not None and 0 <= timestamp - last <= PRIORITY_HOLD_S
        if not live:
            self._active_at = None
        self.priority = live

    def granted_fps(self) -> float:
        """The analysed fps the camera may run at now (its target once closed)."""
        granted = None if self._closed else self._facade.granted_fps
        return self.target_fps if granted is None else granted

    def load(self) -> LaneLoad:
        """Target, grant and queue of the camera now."""
        camera = self._facade.camera_id
        stats = self._owner.stats() if not self._closed else ()
        for scheduler in stats:
            for entry in scheduler.cameras:
                if entry.camera_id == camera and entry.grant is not None:
                    grant = entry.grant
                    return LaneLoad(
                        grant.target_fps,
                        grant.granted_fps,
                        grant.reason == "saturated",
                        entry.queued_images,
                    )
        return LaneLoad(self.target_fps, self.target_fps, False, 0)

    def close(self) -> None:
        """End the run's demand (its scheduler stops with its last lane); idempotent."""
        if self._closed:
            return
        self._closed = True
        self._owner.release(self._id, self._shared, self._facade.camera_id)


class PacedSource:
    """A ``VideoSource`` passing on only the frames its camera's grant allows.

    While the grant equals the target every frame passes (the source is already
    sampled to the target). Below it, a ``FrameSampler`` at the granted rate keeps
    frames evenly spaced on their own timestamps; it is rebuilt when the grant
    moves by more than 2 %. Frames it holds back count in ``held_back``, not in
    the wrapped source's counters.

    Args:
        source: The camera's (sampled) source; closing the wrapper closes it.
        grant: The analysed fps allowed now, read before each frame.
        target_fps: The rate the source delivers.
    """

    def __init__(self, source: VideoSource, grant: Callable[[], float], target_fps: float) -> None:
        self._source = source
        self._grant = grant
        self._target = target_fps
        self._sampler: FrameSampler | None = None
        self._last_kept: float | None = None
        self.held_back = 0

    @property
    def source_id(self) -> str:
        """Name of the wrapped source."""
        return self._source.source_id

    @property
    def stats(self) -> SourceStats:
        """The wrapped source's counters."""
        return self._source.stats

    def frames(self) -> Iterator[Frame]:
        """Yield the frames the grant allows, in order."""
        for frame in self._source.frames():
            if self._admit(frame.timestamp):
                self._last_kept = frame.timestamp
                yield frame
            else:
                self.held_back += 1

    def _admit(self, timestamp: float) -> bool:
        granted = self._grant()
        if granted >= self._target or granted <= 0:
            self._sampler = None
            return True
        sampler = self._sampler
        if sampler is None or abs(sampler.target_fps - granted) > _REGRANT * sampler.target_fps:
            sampler = self._sampler = FrameSampler(granted)
            last = self._last_kept
            if last is not None and last <= timestamp:
                sampler.accept(last)  # the new grid starts from the last analysed frame
        return sampler.accept(timestamp)

    def close(self) -> None:
        """Close the wrapped source; safe to call twice."""
        self._source.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

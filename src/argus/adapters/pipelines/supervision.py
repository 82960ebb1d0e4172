"""How a camera worker is restarted and watched: its restart policy, its view, its rates,
and the counters of its pipeline."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from argus.domain.backoff import BackoffPolicy
from argus.ports.pipelines import CameraState, CameraStatus

__all__ = ["PipelineDetail", "RateMeter", "RestartPolicy", "WorkerView"]


@dataclass(frozen=True, slots=True)
class RestartPolicy:
    """How a failed pipeline is restarted.

    Attributes:
        backoff: Delays between restarts.
        budget: Restarts tolerated within ``window_s`` before each further
            restart waits ``backoff.max_delay``.
        window_s: The budget's sliding window in seconds.
        stable_s: A run that delivered frames this long resets the backoff.
        stall_s: Seconds without a frame after which an ``online`` camera is
            reported ``offline``.
    """

    backoff: BackoffPolicy = field(default_factory=lambda: BackoffPolicy(1.0, 30.0))
    budget: int = 5
    window_s: float = 300.0
    stable_s: float = 30.0
    stall_s: float = 15.0


@dataclass(frozen=True, slots=True)
class WorkerView:
    """What a worker is doing, read from outside its thread.

    Attributes:
        state: The camera state it implies.
        last_error: The latest error (of the stream or of a failed run).
        frames_in: Frames received in the current run.
        frames_decoded: Frames decoded in the current run.
        frames_detected: Frames through the detector in the current run.
        restarts: Runs started after a failure.
        rates: ``(fps_in, fps_decoded, fps_detected)`` over the recent window.
        inference_counts: Frames per ``INFERENCE_BUCKETS`` bucket, all runs.
        inference_sum: Seconds of inference over those frames.
        target_fps: Analysed fps the camera asks of the shared inference
            scheduler; ``None`` without one.
        granted_fps: Analysed fps the scheduler grants it now; ``None`` without one.
        saturated: The grant is below the target: the box is saturated.
        inference_queue: The camera's images waiting for the shared detector.
    """

    state: CameraState
    last_error: str | None
    frames_in: int
    frames_decoded: int
    frames_detected: int
    restarts: int
    rates: tuple[float, float, float]
    inference_counts: tuple[int, ...] = ()
    inference_sum: float = 0.0
    target_fps: float | None = None
    granted_fps: float | None = None
    saturated: bool = False
    inference_queue: int = 0


class RateMeter:
    """Recent frame rates from samples of cumulative counters."""

    def __init__(self, window_s: float = 5.0) -> None:
        self._window = window_s
        self._samples: deque[tuple[float, int, int, int]] = deque(maxlen=128)

    def reset(self) -> None:
        """Forget every sample (a new run counts from zero)."""
        self._samples.clear()

    def sample(self, now: float, counts: tuple[int, int, int]) -> None:
        """Record the counters at ``now`` (at most one sample per quarter second)."""
        if self._samples and now - self._samples[-1][0] < 0.25:
            return
        self._samples.append((now, *counts))

    def rates(self, now: float, counts: tuple[int, int, int]) -> tuple[float, float, float]:
        """Frames per second of each counter over the recent window."""
        # The oldest sample inside the window; the newest one when all are older
        # (frames stopped), so the rates decay towards zero.
        start = next((s for s in self._samples if s[0] >= now - self._window), None)
        if start is None and self._samples:
            start = self._samples[-1]
        if start is None or now - start[0] < 0.5:
            return (0.0, 0.0, 0.0)
        elapsed = now - start[0]
        return (
            max(0, counts[0] - start[1]) / elapsed,
            max(0, counts[1] - start[2]) / elapsed,
            max(0, counts[2] - start[3]) / elapsed,
        )


@dataclass(frozen=True, slots=True)
class PipelineDetail:
    """Counters of one camera's pipeline beyond ``CameraStatus`` (for metrics).

    Attributes:
        status: The camera's status.
        frames_in: Frames received in the current run.
        frames_decoded: Frames decoded in the current run.
        frames_detected: Frames through the detector in the current run.
        restarts: Pipeline restarts after failures.
        events_published: Events the bus acknowledged.
        events_dropped: Events dropped because the outbox was full.
        outbox_depth: Events of all cameras waiting to be published.
    """

    status: CameraStatus
    frames_in: int
    frames_decoded: int
    frames_detected: int
    restarts: int
    events_published: int
    events_dropped: int
    outbox_depth: int

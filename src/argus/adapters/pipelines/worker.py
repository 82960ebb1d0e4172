"""One camera's pipeline in its own thread, restarted with backoff when it fails.

``CameraWorker`` builds the detector, tracker and source, runs the
``Analyzer`` over the stream and hands each analysed frame's events and tracks
to callbacks. Any failure (stream gone, model missing, a bug) ends the run;
the worker logs it, reports ``error`` and starts a new run after a backoff
delay. Live streams reconnect by themselves inside one run (``offline`` while
they do). Restarts beyond the budget within its window wait the longest delay,
so a camera that can never work costs almost nothing but keeps being retried.

The worker keeps the latest frame; a snapshot is encoded from it on
request, so a camera nobody looks at spends nothing on JPEG. Given a
``FrameRing`` it also pushes every analysed frame into it (the ring keeps what
its rate allows, as JPEG) for evidence clips. Frames are dated like the
events raised on them: the run's start on the wall clock plus stream seconds
since the run's first frame.

It also feeds ``MinuteLogs`` (the producers of ``heatmap.minute`` and
``tracks.minute`` events) and hands their envelopes out once per minute (and
when a run ends), through the same callback as the other events. After every
frame it hands the camera's ``LiveFrame`` (tracks, counts and their start) to ``on_live``.

A few times per second (``tamper_checks_per_s``) it hands the frame to the
camera's ``TamperMonitor`` (kept across runs, so its baseline survives a
reconnect); ``camera.tamper`` / ``camera.tamper_cleared`` envelopes leave
through ``on_events``. Stream loss is the health report's business.

Given ``WorkerDeps.inference``, each run detects through a ``CameraLane`` of
the process's shared inference scheduler (inside the motion gate, so regions
of every camera batch together), analyses at most the fps the scheduler
grants (``PacedSource``: frames held back evenly, never an analysed frame's
events), and is served first while its tracker follows something.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from argus.adapters.pipelines.clips import FrameRing
from argus.adapters.pipelines.inference import CameraLane, PacedSource, SharedInference
from argus.adapters.pipelines.supervision import RateMeter, RestartPolicy, WorkerView
from argus.adapters.pipelines.tamper import TamperHook, TamperMonitor
from argus.adapters.video.sampled import SampledSource
from argus.domain.backoff import Backoff
from argus.domain.cameras import Camera
from argus.domain.errors import ArgusError
from argus.domain.events import Envelope, EventSource
from argus.domain.frames import Frame, SourceState
from argus.domain.live import LiveFrame, live_frame
from argus.domain.tamper import TamperPolicy
from argus.ports.detector import Detector
from argus.ports.frame_observers import FrameObserver, ObserverFactory, no_observers
from argus.ports.pipelines import INFERENCE_BUCKETS, CameraState
from argus.ports.tracker import Tracker
from argus.ports.video import VideoSource
from argus.scene import DetectSpec, Scene, TrackerSpec
from argus.services.analysis import AnalyzedFrame, Analyzer
from argus.services.track_log import MinuteLogs

__all__ = ["CameraWorker", "RestartPolicy", "WorkerDeps", "WorkerView"]

log = logging.getLogger(__name__)

Phase = Literal["starting", "running", "waiting", "stopped"]


def _ungated(detector: Detector, _spec: DetectSpec) -> Detector:
    return detector


@dataclass(frozen=True, slots=True)
class WorkerDeps:
    """Factories a worker builds its pipeline from (wired in ``bootstrap``).

    Attributes:
        detector: Detector for a scene's detect settings (may be shared).
        tracker: A new tracker for the tracker settings and analysed fps.
        source: Opens a camera's stream.
        observers: The frame observers of a new run (hard-example sampling, shadow runs).
        gate: Wraps the (shared) detector for one camera run, e.g. in a motion
            gate that keeps that camera's state; called once per run.
        inference: The process's shared inference scheduler; ``None``: each
            camera thread calls the detector itself.
    """

    detector: Callable[[DetectSpec], Detector]
    tracker: Callable[[TrackerSpec, float], Tracker]
    source: Callable[[Camera], VideoSource]
    observers: ObserverFactory = no_observers
    gate: Callable[[Detector, DetectSpec], Detector] = _ungated
    inference: SharedInference | None = None


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(slots=True)
class _RunClock:
    """Dates a run's frames like ``Analyzer`` dates their events: start + stream offset."""

    start: datetime
    first: float | None = None

    def date(self, timestamp: float) -> datetime:
        if self.first is None:
            self.first = timestamp
        return self.start + timedelta(seconds=timestamp - self.first)


class CameraWorker:
    """Runs one camera's pipeline in a daemon thread until ``stop``.

    Args:
        camera: The camera (its stream URL and detect fps).
        scene: What to analyse.
        deps: Factories of the pipeline parts.
        on_events: Called in the worker thread with each frame's envelopes.
        on_live: Called in the worker thread with each frame's tracks and counts.
        policy: Restart behaviour.
        clock: Wall-clock UTC time, which dates the ``heatmap.minute`` events.
        ring: Where every analysed frame is pushed, dated like its events;
            none when ``None``.
        tamper: Thresholds of the camera's tamper monitor.
        tamper_checks_per_s: Tamper checks per second of stream time; 0 turns
            tamper detection off.
    """

    def __init__(
        self,
        camera: Camera,
        scene: Scene,
        deps: WorkerDeps,
        *,
        on_events: Callable[[str, tuple[Envelope, ...]], None],
        on_live: Callable[[LiveFrame], None],
        policy: RestartPolicy | None = None,
        clock: Callable[[], datetime] = _utc_now,
        ring: FrameRing | None = None,
        tamper: TamperPolicy | None = None,
        tamper_checks_per_s: float = 2.0,
    ) -> None:
        self.camera = camera
        self.scene = scene
        self._deps = deps
        self._on_events = on_events
        self._on_live = on_live
        self._policy = policy or RestartPolicy()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._main, name=f"camera-{camera.id}", daemon=True)
        self._phase: Phase = "starting"
        self._source: VideoSource | None = None
        self._had_frames = False
        self._detected = 0
        self._inference_counts = [0] * (len(INFERENCE_BUCKETS) + 1)
        self._inference_sum = 0.0
        self._inference_seen = 0.0  # the current run's analyzer total already booked
        self._observers: tuple[FrameObserver, ...] = ()
        self._last_frame_at = 0.0
        self._last_error: str | None = None
        self._restarts = 0
        self._restart_times: deque[float] = deque()
        self._latest: Frame | None = None
        self._meter = RateMeter()
        self._clock = clock
        self._ring = ring
        self._run_clock = _RunClock(_utc_now())
        self._tamper = (
            TamperHook(
                TamperMonitor(tamper),
                EventSource(scene.camera.edge_node_id, scene.camera.id),
                every_s=1.0 / tamper_checks_per_s,
            )
            if tamper_checks_per_s > 0
            else None
        )
        self._last_frame_time: datetime | None = None
        self._decode_errors_before = 0  # decode errors of the runs that ended
        self._decode_errors_run = 0
        self._lane: CameraLane | None = None

    @property
    def tamper(self) -> TamperMonitor | None:
        """The camera's tamper monitor, ``None`` when tamper checks are off."""
        return self._tamper.monitor if self._tamper is not None else None

    @property
    def decode_errors(self) -> int:
        """Frames the stream failed to decode, over every run of this worker."""
        return self._decode_errors_before + self._decode_errors_run

    @property
    def last_frame_at(self) -> datetime | None:
        """When the latest frame was taken (dated like its events), ``None`` before the first."""
        return self._last_frame_time

    @property
    def ring(self) -> FrameRing | None:
        """The ring the worker pushes its frames into, if any."""
        return self._ring

    @property
    def thread(self) -> threading.Thread:
        """The worker's thread."""
        return self._thread

    @property
    def latest_frame(self) -> Frame | None:
        """The latest analysed frame, ``None`` before the first."""
        return self._latest

    def start(self) -> None:
        """Start the thread."""
        self._thread.start()

    def stop(self) -> None:
        """Ask the thread to stop and unblock its stream; returns at once."""
        self._stop.set()
        with self._lock:
            source = self._source
        if source is not None:
            source.close()

    def join(self, timeout: float) -> bool:
        """Wait for the thread to end; return whether it did."""
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def view(self) -> WorkerView:
        """The worker's state and counters now (any thread)."""
        now = time.monotonic()
        with self._lock:
            source = self._source
            phase = self._phase
            lane = self._lane
        load = lane.load() if lane is not None else None
        stats = source.stats if source is not None else None
        counts = (
            stats.frames_in if stats else 0,
            stats.frames_decoded if stats else 0,
            self._detected,
        )
        last_error = self._last_error
        if phase == "running" and stats is not None and stats.last_error:
            last_error = stats.last_error
        return WorkerView(
            state=self._state(phase, stats.state if stats else None, now),
            last_error=last_error,
            frames_in=counts[0],
            frames_decoded=counts[1],
            frames_detected=counts[2],
            restarts=self._restarts,
            rates=self._meter.rates(now, counts),
            inference_counts=tuple(self._inference_counts),
            inference_sum=self._inference_sum,
            target_fps=load.target_fps if load else None,
            granted_fps=load.granted_fps if load else None,
            saturated=load.saturated if load else False,
            inference_queue=load.queued_images if load else 0,
        )

    def _state(self, phase: Phase, source: SourceState | None, now: float) -> CameraState:
        if phase == "waiting":
            return "error"
        if phase == "stopped":
            return "offline"
        if phase == "starting" or source is None:
            return "starting"
        state: CameraState
        if source is SourceState.RECONNECTING:
            # Never had a frame: the stream cannot be reached at all.
            state = "offline" if self._had_frames else "error"
        elif source in (SourceState.NEW, SourceState.OPEN):
            stalled = now - self._last_frame_at > self._policy.stall_s
            state = "starting" if not self._had_frames else "offline" if stalled else "online"
        else:
            state = "error" if self._last_error else "starting"
        return state

    def _main(self) -> None:
        backoff = Backoff(self._policy.backoff)
        while not self._stop.is_set():
            started = time.monotonic()
            error: str
            try:
                self._run_once()
                if self._stop.is_set():
                    break
                error = f"{self.camera.id}: the stream ended"
            except Exception as exc:
                if self._stop.is_set():
                    break
                if isinstance(exc, ArgusError):
                    log.warning("camera %s: pipeline failed: %s", self.camera.id, exc)
                else:
                    log.exception("camera %s: pipeline crashed", self.camera.id)
                error = str(exc) or type(exc).__name__
            if self._had_frames and time.monotonic() - started >= self._policy.stable_s:
                backoff.reset()
            delay = self._restart_delay(backoff)
            with self._lock:
                self._last_error = error
                self._phase = "waiting"
                self._source = None
            if self._stop.wait(delay):
                break
            self._restarts += 1
        with self._lock:
            self._phase = "stopped"
            self._source = None

    def _restart_delay(self, backoff: Backoff) -> float:
        now = time.monotonic()
        times = self._restart_times
        times.append(now)
        while times and now - times[0] > self._policy.window_s:
            times.popleft()
        delay = backoff.next_delay()
        if len(times) > self._policy.budget:
            delay = self._policy.backoff.max_delay
            log.warning(
                "camera %s: %d restarts within %.0f s; retrying every %.0f s",
                self.camera.id,
                len(times),
                self._policy.window_s,
                delay,
            )
        return delay

    def _run_once(self) -> None:
        try:
            self._run_pipeline()
        finally:
            with self._lock:
                lane, self._lane = self._lane, None
            if lane is not None:
                lane.close()  # the run's demand ends with it

    def _run_pipeline(self) -> None:
        with self._lock:
            self._phase = "starting"
        self._had_frames = False
        self._meter.reset()
        self._detected = 0
        self._inference_seen = 0.0  # a new analyzer counts from zero
        scene = self.scene
        shared = self._deps.detector(scene.detect)
        inference = self._deps.inference
        lane = None
        if inference is not None:  # closed by _run_once, however the run ends
            lane = inference.lane(shared, self.camera.id, self.camera.detect_fps)
            with self._lock:
                self._lane = lane
        # The gate outside, the scheduler inside: regions of every camera batch together.
        detector = self._deps.gate(lane.detector if lane else shared, scene.detect)
        tracker = self._deps.tracker(scene.tracker, self.camera.detect_fps)
        source = self._deps.source(self.camera)
        with self._lock:
            self._source = source
            self._phase = "running"
        if self._stop.is_set():
            source.close()
            return
        paced = PacedSource(source, lane.granted_fps, lane.target_fps) if lane else source
        # The analyzer's clock is read once, when the run starts; keeping the value
        # lets frames be dated exactly like the events raised on them.
        run_clock = self._run_clock = _RunClock(_utc_now())
        analyzer = Analyzer(scene, detector, tracker, clock=lambda: run_clock.start)
        minutes = MinuteLogs(scene, detector.class_names, self._clock, run_clock.start)
        # Observers (shadow runs) call the detector themselves: never through the gate's state.
        observers = self._observers = tuple(self._deps.observers(self.camera, shared))
        try:
            for analyzed in analyzer.run(paced):
                if lane is not None:  # live tracks: served first by the shared scheduler
                    lane.observe(analyzed.frame.timestamp, tracking=len(analyzed.detections) > 0)
                self._on_frame(analyzed, analyzer, source, minutes)
                if self._stop.is_set():
                    return
        finally:
            source.close()
            pending = tuple(e for o in observers for e in o.close())
            if pending and not self._stop.is_set():
                self._on_events(self.camera.id, pending)
            self._decode_errors_before += self._decode_errors_run
            self._decode_errors_run = 0
            # The last, partial minute: its frames were analysed, whether the run
            # stopped or failed (a restart starts a new grid, so nothing counts twice).
            last = minutes.flush()
            if last:
                self._on_events(self.camera.id, last)

    def _observe_inference(self, total: float) -> None:
        """Book the inference time of the latest frame (``total`` is the run's running sum)."""
        seconds = max(0.0, total - self._inference_seen)
        self._inference_seen = total
        index = next((i for i, le in enumerate(INFERENCE_BUCKETS) if seconds <= le), -1)
        self._inference_counts[index] += 1
        self._inference_sum += seconds

    def _on_frame(
        self,
        analyzed: AnalyzedFrame,
        analyzer: Analyzer,
        source: VideoSource,
        minutes: MinuteLogs,
    ) -> None:
        now = time.monotonic()
        taken_at = self._run_clock.date(analyzed.frame.timestamp)
        self._detected += 1
        self._observe_inference(analyzer.times.detect)
        self._latest = analyzed.frame
        self._last_frame_at = now
        self._last_frame_time = taken_at
        self._had_frames = True
        stats = source.stats
        skipped = source.skipped if isinstance(source, SampledSource) else 0
        self._decode_errors_run = max(0, stats.frames_dropped - skipped)
        self._meter.sample(now, (stats.frames_in, stats.frames_decoded, self._detected))
        done = minutes.add(taken_at, analyzed.frame, analyzed.detections)
        if self._stop.is_set():
            return  # stopped or replaced: publish nothing more (the run's end flushes the minutes)
        if self._ring is not None:
            # Before the events leave: an alert on them finds their frame buffered.
            self._ring.push(taken_at, analyzed.frame.image)
        envelopes = (*analyzed.events, *done) if done else analyzed.events
        for seen in self._observers:
            envelopes = (*envelopes, *seen.observe(taken_at, analyzed.frame, analyzed.detections))
        tampers = self._tamper.check(analyzed.frame.image, taken_at) if self._tamper else ()
        if tampers:
            envelopes = (*envelopes, *tampers)
        if envelopes:
            self._on_events(self.camera.id, envelopes)
        frame = analyzed.frame
        counts = analyzer.analytics.summary() if analyzer.analytics is not None else {}
        self._on_live(
            live_frame(
                self.camera.id,
                frame_index=frame.index,
                timestamp=frame.timestamp,
                width=frame.width,
                height=frame.height,
                detections=analyzed.detections,
                counts=counts,
                since=self._run_clock.start,  # counted, and dated, from the run's start
            )
        )

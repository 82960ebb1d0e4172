"""The embedded edge worker: one supervised analysis pipeline per enabled camera.

``EdgePipelines`` implements the ``PipelineSupervisor`` port. Each enabled
camera runs in its own ``CameraWorker`` thread (ONNX Runtime releases the GIL
during inference, and decoding happens in FFmpeg, so threads run in parallel
where it matters). Detectors are shared between cameras with the same model
and settings: an ONNX Runtime session may be run from several threads at once,
and sharing saves loading the model per camera and per restart.

Events leave the video threads through an ``EventOutbox`` that publishes them
on the bus from the application's event loop (subject ``events`` by default,
the one the event store consumes). Tracks and counts of each frame are kept
per camera (``latest``, a ``LiveFrame``) and pushed to subscribers on the
loop (``subscribe_live``) for the live channels.

Each running camera also has a ``FrameRing`` of its recent frames, kept
across restarts of its pipeline while its stream stays the same, from which
``capture`` cuts the snapshot and clip of an alert.

Stopping a pipeline never blocks the API: the worker is told to stop (which
also breaks a read its stream is blocked in, where the source can), ``apply``
and ``remove`` wait a short grace for its thread off the event loop, and a
thread still running then is joined in the background (``close`` waits for
those too).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from argus.adapters.pipelines.clips import FrameRing, check_window, cut_capture
from argus.adapters.pipelines.detectors import DetectorCache
from argus.adapters.pipelines.live_feed import LiveFeed
from argus.adapters.pipelines.outbox import EventOutbox
from argus.adapters.pipelines.rings import CameraRings
from argus.adapters.pipelines.scene import DetectDefaults, camera_scene
from argus.adapters.pipelines.snapshots import SnapshotCache
from argus.adapters.pipelines.status import worker_status
from argus.adapters.pipelines.supervision import PipelineDetail, RestartPolicy
from argus.adapters.pipelines.worker import CameraWorker, WorkerDeps
from argus.domain.backoff import BackoffPolicy
from argus.domain.cameras import Camera, Line, Zone, utc_now
from argus.domain.errors import ArgusError
from argus.domain.events import Envelope
from argus.domain.inference_schedule import SchedulerStats
from argus.domain.live import LiveFrame
from argus.domain.tamper import TamperPolicy
from argus.ports.bus import EventBus
from argus.ports.pipelines import CameraStatus, Capture, LiveCallback
from argus.scene import Scene

__all__ = ["EdgePipelines", "EventSink", "PipelineDetail"]

log = logging.getLogger(__name__)

EventSink = Callable[[str, tuple[Envelope, ...]], None]
"""Takes a camera's envelopes of one frame, in its video thread; returns once they are kept."""

_CAPTURE_POLL_S = 0.1
"""Seconds between checks of a ring while a capture waits for its post-roll."""


@dataclass(slots=True)
class _Entry:
    camera: Camera
    scene: Scene | None
    worker: CameraWorker | None
    error: str | None = None


class EdgePipelines:
    """Runs and watches one analysis pipeline per enabled camera.

    Construct it on the event loop (or pass ``loop``); events are published
    and track callbacks run there.

    Args:
        bus: Where events are published.
        deps: Factories of detectors, trackers and sources.
        subject: Bus subject of the events.
        loop: The application's event loop; the running one when ``None``.
        defaults: Detector settings shared by all cameras.
        edge_node_id: Written into every event's source.
        restart: How failed pipelines are restarted.
        share_detectors: Share one detector between cameras with equal settings
            (and across restarts); ``False`` builds one per pipeline run.
        outbox_capacity: Events kept at most while the bus is down.
        publish_retry: Delays between publish attempts while the bus fails.
        stop_timeout: Seconds to wait for a pipeline thread to stop before
            giving up on it (logged), in the background or in ``close``.
        stop_grace: Seconds ``apply`` and ``remove`` wait for a stopped
            pipeline's thread before leaving it to end in the background.
        ring_seconds: Seconds of recent frames each camera keeps for
            ``capture``; at least the longest pre- plus post-roll asked for,
            with room for the delay before an alert asks. 0 keeps none.
        ring_fps: Frames per second each camera keeps at most (it keeps no
            more than it analyses).
        ring_max_bytes: JPEG bytes each camera keeps at most.
        ring_max_width: Kept frames wider than this are scaled down to it.
        capture_margin: Seconds ``capture`` waits beyond the post-roll for
            late frames.
        sink: Where events go instead of the bus, called in the video thread
            (an edge node's durable outbox: an event is on disk before the next
            frame is read). ``None`` publishes through the in-memory outbox.
        tamper: Thresholds of every camera's tamper monitor (defaults when ``None``).
        tamper_checks_per_s: Tamper checks per camera and second of stream
            time; 0 turns tamper detection off.
    """

    def __init__(
        self,
        bus: EventBus,
        deps: WorkerDeps,
        *,
        subject: str = "events",
        loop: asyncio.AbstractEventLoop | None = None,
        defaults: DetectDefaults | None = None,
        edge_node_id: str = "local",
        restart: RestartPolicy | None = None,
        share_detectors: bool = True,
        outbox_capacity: int = 10_000,
        publish_retry: BackoffPolicy | None = None,
        stop_timeout: float = 30.0,
        stop_grace: float = 2.0,
        ring_seconds: float = 30.0,
        ring_fps: float = 10.0,
        ring_max_bytes: int = 32 * 1024 * 1024,
        ring_max_width: int = 1280,
        capture_margin: float = 2.0,
        sink: EventSink | None = None,
        tamper: TamperPolicy | None = None,
        tamper_checks_per_s: float = 2.0,
    ) -> None:
        self._loop = loop if loop is not None else asyncio.get_running_loop()
        self._sink = sink
        self._outbox = EventOutbox(
            bus, subject, self._loop, capacity=outbox_capacity, retry=publish_retry
        )
        if share_detectors:
            cache = DetectorCache(deps.detector)
            deps = replace(deps, detector=cache.get)
        self._deps = deps
        self._defaults = defaults if defaults is not None else DetectDefaults()
        self._edge_node_id = edge_node_id
        self._restart = restart
        self._stop_timeout = stop_timeout
        self._stop_grace = min(stop_grace, stop_timeout)
        self._reaping: set[asyncio.Task[None]] = set()
        self._rings = CameraRings(
            seconds=ring_seconds, fps=ring_fps, max_bytes=ring_max_bytes, max_width=ring_max_width
        )
        self._capture_margin = capture_margin
        self._tamper = tamper
        self._tamper_rate = tamper_checks_per_s
        self._entries: dict[str, _Entry] = {}
        self._live = LiveFeed(self._loop)
        self._snapshots = SnapshotCache()
        self._lock = asyncio.Lock()
        self._closed = False

    @property
    def subject(self) -> str:
        """Bus subject of the events."""
        return self._outbox.subject

    async def apply(self, camera: Camera, lines: Sequence[Line], zones: Sequence[Zone]) -> None:
        """Start the camera's pipeline, or restart only it when its configuration changed.

        A disabled camera's pipeline is stopped (status ``disabled``). A
        configuration that cannot become a scene leaves the camera in
        ``error`` with the reason; nothing is raised.
        """
        async with self._lock:
            if self._closed:
                raise ArgusError("the edge pipelines are closed")
            self._outbox.start()
            scene: Scene | None = None
            error: str | None = None
            try:
                scene = camera_scene(
                    camera, lines, zones, defaults=self._defaults, edge_node_id=self._edge_node_id
                )
            except ArgusError as exc:
                error = str(exc)
            old = self._entries.get(camera.id)
            if (
                old is not None
                and old.worker is not None
                and old.worker.thread.is_alive()
                and camera.enabled
                and scene == old.scene
                and camera.source_url() == old.camera.source_url()
                and camera.detect_fps == old.camera.detect_fps
            ):
                old.camera = camera
                return  # nothing that matters to the pipeline changed
            if old is not None and old.worker is not None:
                await self._stop(old.worker)
            worker = None
            if camera.enabled and scene is not None:
                worker = CameraWorker(
                    camera,
                    scene,
                    self._deps,
                    on_events=self._on_events,
                    on_live=self._live.publish,
                    policy=self._restart,
                    ring=self._rings.ring_for(
                        camera.id,
                        same_stream=old is not None
                        and camera.source_url() == old.camera.source_url(),
                    ),
                    tamper=self._tamper,
                    tamper_checks_per_s=self._tamper_rate,
                )
            else:
                self._rings.drop(camera.id)
            self._entries[camera.id] = _Entry(camera, scene, worker, error)
            self._live.forget(camera.id)
            self._snapshots.forget(camera.id)
            if worker is not None:
                worker.start()
                log.info("camera %s: pipeline started", camera.id)

    async def remove(self, camera_id: str) -> None:
        """Stop and forget a camera's pipeline (no error when none runs)."""
        async with self._lock:
            entry = self._entries.pop(camera_id, None)
            self._rings.drop(camera_id)
            self._live.forget(camera_id)
            self._snapshots.forget(camera_id)
            if entry is not None and entry.worker is not None:
                await self._stop(entry.worker)

    async def _stop(self, worker: CameraWorker) -> None:
        """Stop ``worker``; wait ``stop_grace`` for its thread, then reap it in the background."""
        worker.stop()
        if await asyncio.to_thread(worker.join, self._stop_grace):
            return
        # Still in I/O its source cannot break (an FFmpeg read ends at its timeout);
        # being stopped, it publishes nothing more. The caller does not wait for it.
        task = asyncio.create_task(self._reap(worker), name=f"reap-camera-{worker.camera.id}")
        self._reaping.add(task)
        task.add_done_callback(self._reaping.discard)

    async def _reap(self, worker: CameraWorker) -> None:
        if not await asyncio.to_thread(worker.join, self._stop_timeout):
            log.warning("camera %s: pipeline thread did not stop in time", worker.camera.id)

    def _on_events(self, camera_id: str, envelopes: tuple[Envelope, ...]) -> None:
        if self._sink is not None:
            self._sink(camera_id, envelopes)
            return
        self._outbox.put(camera_id, envelopes)

    def subscribe_live(self, camera_id: str, callback: LiveCallback) -> Callable[[], None]:
        """Call ``callback`` on the event loop with the camera's live frame after every frame.

        Returns:
            A function that cancels the subscription (safe to call twice).
        """
        return self._live.subscribe(camera_id, callback)

    def latest(self, camera_id: str) -> LiveFrame | None:
        """The camera's latest tracks and counts, ``None`` before its first frame."""
        return self._live.latest(camera_id)

    def status(self, camera_id: str) -> CameraStatus | None:
        """The camera's latest status, or ``None`` when it has no pipeline."""
        entry = self._entries.get(camera_id)
        return None if entry is None else self._status(entry)

    def statuses(self) -> list[CameraStatus]:
        """Every pipeline's latest status, by camera id."""
        return [self._status(entry) for _, entry in sorted(self._entries.items())]

    def _status(self, entry: _Entry) -> CameraStatus:
        camera_id = entry.camera.id
        if not entry.camera.enabled:
            return CameraStatus(camera_id, "disabled", entry.error, 0.0, 0.0, 0.0, utc_now())
        if entry.worker is None:
            return CameraStatus(camera_id, "error", entry.error, 0.0, 0.0, 0.0, utc_now())
        return worker_status(
            entry.worker,
            events_dropped=self._outbox.dropped[camera_id],
            queue_depth=self._outbox.depth,
        )

    def detail(self, camera_id: str) -> PipelineDetail | None:
        """Counters of the camera's pipeline, or ``None`` when it has none."""
        entry = self._entries.get(camera_id)
        if entry is None:
            return None
        view = entry.worker.view() if entry.worker is not None else None
        return PipelineDetail(
            status=self._status(entry),
            frames_in=view.frames_in if view else 0,
            frames_decoded=view.frames_decoded if view else 0,
            frames_detected=view.frames_detected if view else 0,
            restarts=view.restarts if view else 0,
            events_published=self._outbox.published[camera_id],
            events_dropped=self._outbox.dropped[camera_id],
            outbox_depth=self._outbox.depth,
        )

    def inference_stats(self) -> tuple[SchedulerStats, ...]:
        """Snapshots of the shared inference schedulers (none when cameras detect directly)."""
        inference = self._deps.inference
        return inference.stats() if inference is not None else ()

    def worker(self, camera_id: str) -> CameraWorker | None:
        """The camera's current worker (tests check that a restart replaced only it)."""
        entry = self._entries.get(camera_id)
        return None if entry is None else entry.worker

    def snapshot(self, camera_id: str) -> bytes | None:
        """The camera's latest frame as JPEG, encoded on request and cached per frame."""
        entry = self._entries.get(camera_id)
        if entry is None or entry.worker is None:
            return None
        frame = entry.worker.latest_frame
        if frame is None:
            return None
        return self._snapshots.jpeg(camera_id, entry.worker, frame)

    def tamper_frames(self, camera_id: str) -> tuple[bytes, bytes] | None:
        """The camera's tamper evidence as JPEGs: ``(before, after)``.

        ``before`` is a recent frame of the view the tamper monitor learned as
        normal (its reference, refreshed about every minute while the view is
        fine), ``after`` the latest checked frame. Encoded on request (call it
        off the event loop when that matters: two JPEG encodings).

        Returns:
            The two JPEGs, or ``None`` when the camera has no running pipeline,
            tamper checks are off, or no frame was checked yet.
        """
        entry = self._entries.get(camera_id)
        monitor = entry.worker.tamper if entry is not None and entry.worker is not None else None
        if monitor is None:
            return None
        before, after = monitor.reference_jpeg(), monitor.current_jpeg()
        if before is None or after is None:
            return None
        return before, after

    async def capture(
        self, camera_id: str, at: datetime, *, pre_s: float, post_s: float
    ) -> Capture | None:
        """A snapshot at ``at`` and a clip of ``[at - pre_s, at + post_s]`` from the camera's ring.

        Waits, polling the ring, until a frame taken at ``at + post_s`` or
        later has arrived, the camera's pipeline stopped, was replaced by one
        on another stream or removed, or ``post_s + capture_margin`` seconds
        passed; then cuts the window from the frames held (the clip is
        encoded in a worker thread). A camera removed meanwhile still yields
        the frames it had buffered.

        Returns ``None`` when the camera has no pipeline (or no ring) here or
        no buffered frame falls in the window. Raises ``ConfigError`` for a
        naive ``at`` or a negative roll, ``SourceError`` when encoding fails.
        """
        check_window(at, pre_s, post_s)
        ring = self._rings.get(camera_id)
        if ring is None:
            return None
        until = at + timedelta(seconds=post_s)
        deadline = self._loop.time() + post_s + self._capture_margin
        while not ring.reached(until) and self._feeds(camera_id, ring):
            left = deadline - self._loop.time()
            if left <= 0:
                break
            await asyncio.sleep(min(_CAPTURE_POLL_S, left))
        return await asyncio.to_thread(cut_capture, ring, at, pre_s, post_s)

    def _feeds(self, camera_id: str, ring: FrameRing) -> bool:
        """Whether a running pipeline of the camera still pushes into ``ring``."""
        entry = self._entries.get(camera_id)
        worker = entry.worker if entry is not None else None
        return (
            not self._closed
            and worker is not None
            and worker.ring is ring
            and worker.thread.is_alive()
        )

    async def close(self) -> None:
        """Stop every pipeline, publish what is queued (briefly), stop the outbox; idempotent."""
        async with self._lock:
            if self._closed:
                return
            self._closed = True
            workers = [e.worker for e in self._entries.values() if e.worker is not None]
            for worker in workers:
                worker.stop()
            await asyncio.gather(*(self._reap(w) for w in workers), *self._reaping)
            if self._deps.inference is not None:
                self._deps.inference.close()  # threads of workers that did not stop in time
            self._entries.clear()
            self._rings.clear()
            self._live.clear()
            await self._outbox.close()

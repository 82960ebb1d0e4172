"""``RecordingRunner``: one recorder thread per recorded camera, kept in step with the cameras.

The control plane hands the runner every camera change (``apply``) and
removal (``remove``), as it hands them to the pipelines. A camera is recorded
while it is enabled, its ``record`` flag is on and this server runs it (no
edge node); its thread runs ``SegmentRecorder`` over the camera's MAIN stream
(never the detect sub-stream), copying packets into MP4 segments.

* A live stream reconnects forever with backoff; its gaps are counted.
* A file plays in real time and loops, as a file camera's pipeline does: each
  pass is a new recorder, dated from where the previous one ended.
* A failure (a file that cannot be read, a URL the source policy refuses)
  puts the camera in ``error`` and is retried with backoff.
* A change that leaves the recorded stream as it was (a new line, zone or
  detect fps) does not restart the recorder.

Status is read at any time from any thread (``status``/``statuses``).
``stop`` asks every recorder to stop and joins each thread within a bound.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

from argus.adapters.recording.remux import SegmentRecorder
from argus.domain.backoff import Backoff, BackoffPolicy
from argus.domain.cameras import Camera
from argus.domain.errors import ArgusError
from argus.domain.recording import Gap, RecordingState, RecordingStatus, Segment

__all__ = ["RecorderOptions", "RecordingRunner", "recording_off_reason"]

_log = logging.getLogger(__name__)

_NOT_RECORDED = frozenset({"http", "https"})
"""Schemes of cameras whose frames are images, not a video stream to copy."""

_GAP_TOLERANCE = timedelta(seconds=1)
"""Shorter pauses between two passes of a looped file (reopening it) are not gaps."""


def recording_off_reason(camera: Camera) -> str | None:
    """Why ``camera`` is not recorded here, or ``None`` when it is.

    Only streams of compressed video are copied: RTSP (and the other live
    protocols FFmpeg reads) and video files. An HTTP camera (MJPEG or
    snapshots) and a folder of images have nothing to copy.
    """
    if camera.edge_node_id is not None:
        return f"run by edge node {camera.edge_node_id}"
    if not camera.enabled:
        return "the camera is disabled"
    if not camera.record:
        return "recording is off for this camera"
    if urlsplit(camera.stream_url).scheme.lower() in _NOT_RECORDED:
        return "an HTTP camera (MJPEG or snapshots) is not recorded: only RTSP and video files"
    if Path(camera.stream_url).is_dir():
        return "a folder of images is not recorded: only RTSP and video files"
    return None


@dataclass(frozen=True, slots=True)
class RecorderOptions:
    """How each camera's recorder runs.

    Attributes:
        segment_seconds: Target length of a segment.
        transport: RTSP transport (``tcp`` or ``udp``).
        open_timeout: Seconds allowed to connect to a live stream.
        read_timeout: Seconds without data after which a live link counts as lost.
        backoff: Delays between reconnections and between retries after a failure.
        stall_s: A recorder whose latest packet is older than this is not ``recording``.
        join_timeout: Seconds ``stop`` waits for each thread.
        connect_to: Maps a live stream's host to the address to connect to at
            every connection, raising for a host the camera network policy
            refuses (``SourcePolicy.pin``).
    """

    segment_seconds: float = 60.0
    transport: str = "tcp"
    open_timeout: float = 10.0
    read_timeout: float = 10.0
    backoff: BackoffPolicy | None = None
    stall_s: float = 5.0
    join_timeout: float = 20.0
    connect_to: Callable[[str], str] | None = None


class _CameraRecording:
    """One camera's recorder thread and its counters (all runs of the thread)."""

    def __init__(self, camera: Camera, runner: RecordingRunner) -> None:
        self.camera_id = camera.id
        self.key = camera.source_url()
        self._camera = camera
        self._runner = runner
        self._options = runner.options
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._recorder: SegmentRecorder | None = None
        self._backoff = Backoff(self._options.backoff)
        self.segments = 0
        self.bytes_written = 0
        self.gaps = 0
        self.last_end: datetime | None = None
        self.last_error: str | None = None
        self._error_at: float | None = None
        self._packet_at: float | None = None  # of the recorders that ended
        self._first_of_run = True
        self._thread = threading.Thread(
            target=self._run, name=f"argus-record-{camera.id}", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def request_stop(self) -> None:
        self._stopping.set()
        with self._lock:
            recorder = self._recorder
        if recorder is not None:
            recorder.stop()

    def join(self, timeout: float) -> bool:
        """Wait for the thread; whether it ended."""
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def state(self, now: float) -> RecordingState:
        with self._lock:
            recorder = self._recorder
        packet_at = self._packet_at
        if recorder is not None and recorder.stats.last_packet_at is not None:
            packet_at = recorder.stats.last_packet_at
        if not self._thread.is_alive() and not self._stopping.is_set():
            return "error"
        if self._error_at is not None and (packet_at is None or packet_at < self._error_at):
            return "error"
        if packet_at is not None and now - packet_at <= self._options.stall_s:
            return "recording"
        if packet_at is not None or (recorder is not None and recorder.stats.last_error):
            return "reconnecting"
        return "starting"

    def error_text(self) -> str | None:
        with self._lock:
            recorder = self._recorder
        current = recorder.stats.last_error if recorder is not None else None
        if self._error_at is not None:
            return self.last_error
        return current or self.last_error

    # --- the thread ---------------------------------------------------------------------------

    def _run(self) -> None:
        while not self._stopping.is_set():
            produced = False
            try:
                recorder = self._open()
                with self._lock:
                    self._recorder = recorder
                self._first_of_run = True
                if self._stopping.is_set():  # stopped while it was being built
                    break
                for segment in recorder.segments():
                    produced = True
                    self._closed(segment)
            except ArgusError as exc:
                self._failed(str(exc))
            except Exception as exc:  # noqa: BLE001  (the top of a thread loop: log, retry)
                _log.exception("recorder of camera %s failed", self.camera_id)
                self._failed(f"{type(exc).__name__}: {exc}")
            finally:
                self._finish_run()
            if self._stopping.is_set():
                break
            if produced:
                self._backoff.reset()
            else:  # nothing recorded: do not spin on an empty or broken file
                self._stopping.wait(self._backoff.next_delay())

    def _open(self) -> SegmentRecorder:
        options, runner = self._options, self._runner
        url = runner.resolve(self._camera)

        def now() -> datetime:
            # A looped file's next pass never starts before the previous one ended.
            current = runner.clock()
            return current if self.last_end is None else max(current, self.last_end)

        return SegmentRecorder(
            self.camera_id,
            url,
            runner.root,
            segment_seconds=options.segment_seconds,
            realtime=True,
            transport=options.transport,
            open_timeout=options.open_timeout,
            read_timeout=options.read_timeout,
            max_retries=None,
            backoff=options.backoff,
            now=now,
            on_gap=self._gap,
            connect_to=options.connect_to,
        )

    def _closed(self, segment: Segment) -> None:
        # Between two runs (a looped file reopened, a retry after a failure); the
        # recorder itself reports the gaps of a live stream that dropped mid-run.
        last = self.last_end
        if self._first_of_run and last is not None and segment.start - last > _GAP_TOLERANCE:
            self.gaps += 1
        self._first_of_run = False
        self.segments += 1
        self.bytes_written += segment.bytes
        self.last_end = segment.end
        self._error_at = None
        self._runner.add_disk(self.camera_id, segment.bytes)
        callback = self._runner.on_segment
        if callback is not None:
            callback(segment)

    def _gap(self, gap: Gap) -> None:
        """A live stream came back: the recorder reports the gap before the next segment."""
        _log.info(
            "recording camera %s: no recording from %s to %s", gap.camera_id, gap.start, gap.end
        )
        self.gaps += 1

    def _failed(self, message: str) -> None:
        self.last_error = message
        self._error_at = time.monotonic()
        _log.warning("recording camera %s: %s", self.camera_id, message)

    def _finish_run(self) -> None:
        with self._lock:
            recorder, self._recorder = self._recorder, None
        if recorder is not None:
            stats = recorder.stats
            if stats.last_packet_at is not None:
                self._packet_at = stats.last_packet_at
            if stats.last_error and self._error_at is None:
                self.last_error = stats.last_error


class RecordingRunner:
    """Records every camera it is told to, one thread each.

    Args:
        root: The recordings root (segments go under ``root/<camera_id>/``).
        resolve: The URL to record for a camera: its main stream with the
            credentials in, checked against the source policy (raises
            ``ArgusError`` when refused; the camera is then in ``error``).
        options: How recorders run.
        clock: The wall clock (aware); segments are dated from it. (How long
            ago the latest packet came is measured on ``time.monotonic``, the
            clock the recorders stamp packets with.)
        on_segment: Called (in the recorder's thread) with each closed segment.
    """

    def __init__(
        self,
        root: Path,
        *,
        resolve: Callable[[Camera], str] = Camera.source_url,
        options: RecorderOptions | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        on_segment: Callable[[Segment], None] | None = None,
    ) -> None:
        self.root = root
        self.resolve = resolve
        self.options = options if options is not None else RecorderOptions()
        self.clock = clock
        self.on_segment = on_segment
        self._lock = threading.Lock()  # the maps below; held briefly
        self._changes = threading.Lock()  # one apply, remove or stop at a time
        self._running: dict[str, _CameraRecording] = {}
        self._off: dict[str, str] = {}
        self._disk: dict[str, int] = {}
        self._stopped = False

    def apply(self, camera: Camera) -> None:
        """Start, restart or stop the camera's recorder for its new configuration.

        Blocks while a replaced recorder stops (at most ``join_timeout``):
        call it from a worker thread, not the event loop.
        """
        reason = recording_off_reason(camera)
        with self._changes:
            with self._lock:
                current = self._running.get(camera.id)
                if reason is None and current is not None and current.key == camera.source_url():
                    return  # lines, zones, detect settings: the recorded stream is the same
                self._running.pop(camera.id, None)
            if current is not None:
                self._end(current)
            with self._lock:
                if reason is not None or self._stopped:
                    self._off[camera.id] = reason or "the recorder is stopped"
                    return
                self._off.pop(camera.id, None)
                started = _CameraRecording(camera, self)
                self._running[camera.id] = started
            started.start()

    def remove(self, camera_id: str) -> bool:
        """Stop and forget the camera's recorder (none running is fine); blocks like ``apply``.

        Returns:
            Whether its thread ended within ``join_timeout`` (true when none ran).
        """
        with self._changes:
            with self._lock:
                current = self._running.pop(camera_id, None)
                self._off.pop(camera_id, None)
            return current is None or self._end(current)

    def stop(self) -> bool:
        """Stop every recorder, each closing its segment, and join their threads (bounded).

        Returns:
            Whether every thread ended within ``join_timeout``.
        """
        with self._changes:
            with self._lock:
                self._stopped = True
                running, self._running = list(self._running.values()), {}
                for each in running:
                    self._off[each.camera_id] = "the recorder is stopped"
            for each in running:
                each.request_stop()
            ended = True
            for each in running:
                if not each.join(self.options.join_timeout):
                    _log.warning("the recorder of camera %s did not stop in time", each.camera_id)
                    ended = False
            return ended

    def recording(self) -> list[str]:
        """The cameras being recorded, by id."""
        with self._lock:
            return sorted(self._running)

    def set_disk(self, usage: Mapping[str, int]) -> None:
        """Replace the bytes on disk of each camera (a sweep scanned the recordings)."""
        with self._lock:
            self._disk = dict(usage)

    def add_disk(self, camera_id: str, size: int) -> None:
        """Count a new segment's bytes on disk."""
        with self._lock:
            self._disk[camera_id] = self._disk.get(camera_id, 0) + size

    def status(self, camera_id: str) -> RecordingStatus | None:
        """The camera's recording; ``None`` when the runner never heard of it."""
        with self._lock:
            current = self._running.get(camera_id)
            off = self._off.get(camera_id)
            disk = self._disk.get(camera_id)
        if current is not None:
            return RecordingStatus(
                camera_id=camera_id,
                state=current.state(time.monotonic()),
                segments=current.segments,
                bytes_written=current.bytes_written,
                gaps=current.gaps,
                disk_bytes=disk or 0,
                last_segment_end=current.last_end,
                last_error=current.error_text(),
            )
        if off is not None or disk is not None:
            why = off if off is not None else "the camera is not recorded"
            return RecordingStatus(camera_id, "off", disk_bytes=disk or 0, reason=why)
        return None

    def statuses(self, extra: Iterable[str] = ()) -> list[RecordingStatus]:
        """Every camera's recording, cameras with segments on disk included, by id."""
        with self._lock:
            known = set(self._running) | set(self._off) | set(self._disk) | set(extra)
        found = (self.status(camera_id) for camera_id in sorted(known))
        return [status for status in found if status is not None]

    def _end(self, recording: _CameraRecording) -> bool:
        """Stop a replaced or removed recorder and wait for it (bounded); whether it ended."""
        recording.request_stop()
        if recording.join(self.options.join_timeout):
            return True
        _log.warning("the recorder of camera %s did not stop in time", recording.camera_id)
        return False

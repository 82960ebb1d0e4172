"""Continuous recording by remuxing: compressed packets copied into MP4 segments.

Nothing is decoded or encoded: the demuxer's packets (H.264 or H.265, from an
RTSP camera or a file) are written as they are, so recording a camera costs
about what ``ffmpeg -c copy`` costs (see ``benchmarks/recording.py``).

A segment starts on a keyframe and is cut at the first keyframe at least
``segment_seconds`` after its start, so every segment plays on its own. Its
timestamps are rebased to start at zero. It is written under a ``.part`` name
and renamed once closed, after its JSON sidecar (``index.py``), so a crash
never leaves a half segment in the index.

A segment's wall-clock times come from the injected clock, read once when a
session (a connection) delivers its first keyframe, plus the media time since
then; so a file read as fast as possible still gets the times it would have
had in real time, and tests need no real clock.

When a live stream drops, the current segment is closed (it stays playable),
the recorder reconnects with backoff and reports the gap between the last
segment's end and the next one's start. ``stop()`` takes effect at the next
packet, at the latest when the read in progress times out (``read_timeout``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import av
from av.container import InputContainer
from av.packet import Packet
from av.video.stream import VideoStream

from argus.adapters.recording._cutter import Cutter, RecorderStats
from argus.adapters.recording.index import check_camera_id
from argus.adapters.video._av import open_input, translate
from argus.adapters.video._base import check_timeout, pin_url, redact_url
from argus.domain.backoff import Backoff, BackoffPolicy, RandomSource
from argus.domain.errors import ConfigError, SourceError, SourceOpenError
from argus.domain.recording import Gap, Segment

__all__ = ["RecorderStats", "SegmentRecorder"]

if TYPE_CHECKING:
    _Packet = Packet[VideoStream]

_log = logging.getLogger(__name__)

_LIVE_SCHEMES = frozenset({"rtsp", "rtsps", "rtmp", "http", "https", "udp", "tcp", "srt"})


class SegmentRecorder:
    """Records one camera into MP4 segments without re-encoding.

    Iterate ``segments()`` (in a thread of its own) to run the recorder; it
    yields each segment once closed, and ends after ``stop()``, at the end of
    a file, or when a live stream failed ``max_retries`` times in a row.

    Args:
        camera_id: The camera; names its directory and files.
        url: RTSP URL (or another live URL FFmpeg reads) or a file path.
        root: The recordings root.
        segment_seconds: Target length of a segment; cuts wait for a keyframe.
        realtime: Read a file at its own pace (``False``: as fast as possible).
            Live streams always arrive at their own pace.
        transport: RTSP transport (``tcp`` or ``udp``).
        open_timeout: Seconds allowed to connect and read the stream headers.
        read_timeout: Seconds without data after which a live link counts as lost.
        max_retries: Failed connections in a row tolerated; ``None`` forever.
        backoff: Delays between reconnection attempts.
        rng: Random source of the backoff jitter.
        options: Extra FFmpeg demuxer options.
        now: The wall clock (aware datetimes); tests inject a fixed one.
        on_gap: Called with each gap after a dropped stream came back.
        connect_to: For a live URL, maps its host to the address to connect to at
            every connection, raising ``SourceOpenError`` for a refused host
            (``pin_url``: FFmpeg never resolves the name itself).
    """

    def __init__(
        self,
        camera_id: str,
        url: str,
        root: Path,
        *,
        segment_seconds: float = 60.0,
        realtime: bool = True,
        transport: str = "tcp",
        open_timeout: float = 10.0,
        read_timeout: float = 10.0,
        max_retries: int | None = None,
        backoff: BackoffPolicy | None = None,
        rng: RandomSource | None = None,
        options: Mapping[str, str] | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        on_gap: Callable[[Gap], None] | None = None,
        connect_to: Callable[[str], str] | None = None,
    ) -> None:
        self._camera_id = check_camera_id(camera_id)
        self._segment_seconds = check_timeout("segment_seconds", segment_seconds)
        scheme = urlsplit(url).scheme.lower()
        self._live = scheme in _LIVE_SCHEMES
        if transport not in ("tcp", "udp"):
            raise ConfigError(f"transport must be 'tcp' or 'udp', got {transport!r}")
        if max_retries is not None and max_retries < 0:
            raise ConfigError(f"max_retries must be >= 0, got {max_retries}")
        self._url = url
        self._connect_to = connect_to if self._live else None
        self._what = redact_url(url)
        self._root = root
        self._realtime = realtime and not self._live
        self._open_timeout = check_timeout("open_timeout", open_timeout)
        self._read_timeout = check_timeout("read_timeout", read_timeout)
        self._max_retries = max_retries
        self._backoff = Backoff(backoff, rng=rng)
        self._options: dict[str, str] = {}
        if scheme in {"rtsp", "rtsps"}:
            self._options = {
                "rtsp_transport": transport,
                # FFmpeg's socket timeout, in microseconds.
                "timeout": str(int(self._read_timeout * 1_000_000)),
                "allowed_media_types": "video",
            }
        self._options.update(options or {})
        self._now = now
        self._on_gap = on_gap
        self._stop = threading.Event()
        self._failures = 0
        self.stats = RecorderStats()

    @property
    def camera_id(self) -> str:
        """The camera recorded."""
        return self._camera_id

    def stop(self) -> None:
        """Ask the recorder to close its segment and end; safe from any thread."""
        self._stop.set()

    def segments(self) -> Iterator[Segment]:
        """Record, yielding each segment once it is closed and renamed.

        Raises:
            SourceError: A file cannot be read, or a live stream failed more
                than ``max_retries`` times in a row.
        """
        gap_from: datetime | None = None
        while not self._stop.is_set():
            container = self._connect()
            if container is None:
                continue
            delivered = False
            try:
                for segment in self._session(container):
                    if not delivered:
                        delivered, self._failures = True, 0
                        self._backoff.reset()
                        if gap_from is not None:
                            self._report_gap(gap_from, segment.start)
                    gap_from = segment.end
                    yield segment
            except SourceError as exc:
                if not self._live:
                    raise
                self.stats.last_error = str(exc)
                _log.warning("recorder %s: stream lost: %s", self._camera_id, exc)
            finally:
                container.close()
            if not self._live or self._stop.is_set():
                return
            gap_from = gap_from or self._now()
            if delivered:
                self.stats.reconnects += 1
            else:
                self._fail(SourceOpenError(f"{self._what}: the stream gave no keyframe"))

    def _connect(self) -> InputContainer | None:
        """Open the input; ``None`` after a live failure (already waited out)."""
        try:
            return open_input(
                pin_url(self._url, self._connect_to),
                what=self._what,
                options=self._options,
                timeout=(self._open_timeout, self._read_timeout),
            )
        except SourceError as exc:
            if not self._live:
                raise
            self._fail(exc)
            return None

    def _fail(self, exc: SourceError) -> None:
        """Count a failed try; raise past ``max_retries``, else wait the backoff delay."""
        self._failures += 1
        self.stats.last_error = str(exc)
        if self._max_retries is not None and self._failures > self._max_retries:
            raise exc
        self._stop.wait(self._backoff.next_delay())

    def _report_gap(self, start: datetime, end: datetime) -> None:
        if end <= start:
            return
        self.stats.gaps += 1
        if self._on_gap is not None:
            self._on_gap(Gap(self._camera_id, start, end))

    def _session(self, container: InputContainer) -> Iterator[Segment]:
        """Copy one connection's packets into segments; the last one is closed however it ends."""
        stream = container.streams.video[0]
        cutter = Cutter(
            self._root,
            self._camera_id,
            stream,
            segment_seconds=self._segment_seconds,
            now=self._now,
            stats=self.stats,
        )
        error: SourceError | None = None
        try:
            for packet in self._demux(container, stream):
                if self._stop.is_set():
                    break
                ticks = cutter.admit(packet)
                if ticks is None:
                    continue
                if self._realtime and self._stop.wait(cutter.delay(ticks)):
                    break
                yield from cutter.write(packet, ticks)
        except SourceError as exc:
            error = exc
        last = cutter.finish()
        if last is not None:
            yield last
        if error is not None:
            raise error

    def _demux(self, container: InputContainer, stream: VideoStream) -> Iterator[_Packet]:
        """Yield packets; a demuxer error becomes ``SourceError`` (a dropped link)."""
        iterator = container.demux(stream)
        while True:
            try:
                packet = next(iterator)
            except StopIteration:
                return
            except av.FFmpegError as exc:
                raise translate(exc, self._what) from exc
            yield packet

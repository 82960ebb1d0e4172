"""A video file read with PyAV, optionally paced to real time and looped."""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

from av.container import InputContainer

from argus.adapters.video._av import decode_frames, open_input
from argus.adapters.video._base import BaseSource, Clock, Picture, Timeline
from argus.domain.errors import ConfigError, SourceDecodeError, SourceOpenError
from argus.domain.frames import SourceState

__all__ = ["VIDEO_FORMATS", "FileSource", "probe_frame_count", "probe_frame_rate"]

VIDEO_FORMATS: frozenset[str] = frozenset(
    {
        # containers
        *("mov", "mp4", "m4a", "3gp", "3g2", "mj2", "matroska", "webm", "avi", "flv"),
        *("mpegts", "mpeg", "asf", "ogg", "nut", "mxf", "dv", "rm", "wtv", "ivf"),
        # elementary video streams
        *("h264", "hevc", "vvc", "obu", "m4v", "mpegvideo", "h263", "vc1", "mjpeg"),
        *("mpjpeg", "yuv4mpegpipe"),
        # still and animated images
        *("image2", "jpeg_pipe", "png_pipe", "bmp_pipe", "webp_pipe", "tiff_pipe"),
        *("gif", "gif_pipe", "apng"),
    }
)
"""FFmpeg demuxers a local file may be read with: video and image formats only.

FFmpeg picks a demuxer by a file's content and name. Its text demuxers
(``tty`` for ``.asc``/``.nfo``/``.ans``, ``bin``, ``xbin``, ``adf``, ``idf``)
draw any text file as legible video, and playlists or descriptions (``concat``,
``hls``, ``sdp``) open further files or hosts; none of them is on this list.
"""

_DEFAULT_INTERVAL = 1.0 / 25.0
_MAX_LAG = 1.0
"""Seconds behind schedule after which real-time pacing re-anchors instead of bursting."""


class FileSource(BaseSource):
    """Frames of a video file (mp4, mkv, avi, ts... : the demuxers of ``VIDEO_FORMATS``).

    A file FFmpeg would read with any other demuxer (a text file drawn by
    ``tty``, a playlist) is refused with ``SourceDecodeError`` before a frame
    is decoded.

    A corrupt packet is counted as dropped and reading continues. A truncated
    file yields what it holds and ends (``ENDED``) with ``stats.last_error``
    saying so. A file FFmpeg cannot parse at all, or one where not a single
    frame decodes, raises ``SourceDecodeError`` (state ``FAILED``).

    Args:
        path: The video file.
        source_id: Name in logs and frames; the file name when ``None``.
        realtime: Sleep so that frames come out at their presentation times,
            like a camera (for demos and soak tests).
        speed: Playback speed factor of ``realtime`` (2.0 plays twice as fast).
        loop: Start again at the end, with timestamps that keep increasing.
        max_demux_errors: Demuxer errors in a row survived before giving up.
        options: Extra FFmpeg demuxer options.
        clock: Monotonic clock used for pacing; tests inject a fake one.
        sleep: Pacing sleep; interruptible by ``close()`` when ``None``.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        source_id: str | None = None,
        realtime: bool = False,
        speed: float = 1.0,
        loop: bool = False,
        max_demux_errors: int = 32,
        options: Mapping[str, str] | None = None,
        clock: Clock = time.monotonic,
        sleep: Callable[[float], object] | None = None,
    ) -> None:
        self._path = Path(path)
        super().__init__(source_id or self._path.name, clock=clock)
        if not (math.isfinite(speed) and speed > 0):
            raise ConfigError(f"speed must be a finite number > 0, got {speed}")
        if max_demux_errors < 0:
            raise ConfigError(f"max_demux_errors must be >= 0, got {max_demux_errors}")
        self._realtime = realtime
        self._speed = float(speed)
        self._loop = loop
        self._max_demux_errors = max_demux_errors
        self._options = dict(options or {})
        self._sleep = sleep
        self._container: InputContainer | None = None
        self._anchor: float | None = None

    @property
    def path(self) -> Path:
        """The video file."""
        return self._path

    def _produce(self) -> Iterator[tuple[Picture, float]]:
        timeline = Timeline(reordered_fallback=True)
        what = self._path.name
        while not self._stopped():
            container = self._open()
            self._set_state(SourceState.OPEN)
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            rate = stream.average_rate
            interval = 1.0 / float(rate) if rate else _DEFAULT_INTERVAL
            stats = self._stats
            before = (stats.frames_in, stats.frames_decoded, stats.frames_dropped)
            # Frames go out unconverted: the ones a sampler skips never become BGR.
            for picture in decode_frames(
                container,
                self._stats,
                max_demux_errors=self._max_demux_errors,
                what=what,
                stopped=self._stopped,
            ):
                last = timeline.last
                timestamp = timeline.stamp(picture.time, 0.0 if last is None else last + interval)
                yield picture, timestamp
            if self._stopped():
                return
            self._release()
            packets, decoded, dropped = (
                stats.frames_in - before[0],
                stats.frames_decoded - before[1],
                stats.frames_dropped - before[2],
            )
            if decoded == 0:
                reason = stats.last_error or "no frames"
                raise SourceDecodeError(f"{what}: not a single frame could be decoded ({reason})")
            # A decoder may swallow a damaged packet without an error; one packet is
            # one frame in the formats cameras record, so count the shortfall as dropped.
            stats.frames_dropped += max(0, packets - decoded - dropped)
            if 0 < packets < stream.frames:
                self._record_error(
                    f"{what}: the input ended after {packets} of {stream.frames} packets "
                    "(truncated file?)"
                )
            if not self._loop:
                return
            last = timeline.last
            timeline.new_segment(None if last is None else last + interval)

    def _open(self) -> InputContainer:
        if not self._path.exists():
            raise SourceOpenError(f"{self._path}: no such file")
        if self._path.is_dir():
            raise SourceOpenError(f"{self._path}: is a directory (read it as images instead)")
        container = open_input(str(self._path), what=self._path.name, options=self._options)
        # Checked before any packet is read: a text file must not become a frame.
        names = set(container.format.name.split(","))
        if not names & VIDEO_FORMATS:
            container.close()
            raise SourceDecodeError(
                f"{self._path.name}: not a video or image file (read as {container.format.name!r})"
            )
        self._container = container
        return container

    def _hold(self, timestamp: float) -> bool:
        """Wait until ``timestamp`` is due when pacing; return ``True`` when closed meanwhile.

        Only frames passed on are paced: frames a sampler skips cost no wake-up.
        """
        if not self._realtime:
            return False
        now = self._clock()
        due_offset = timestamp / self._speed
        if self._anchor is None:
            self._anchor = now - due_offset
        delay = self._anchor + due_offset - now
        if delay < -_MAX_LAG:
            self._anchor = now - due_offset
        elif delay > 0:
            if self._sleep is None:
                return self._wait(delay)
            self._sleep(delay)
        return self._stopped()

    def _release(self) -> None:
        container, self._container = self._container, None
        if container is not None:
            container.close()


def probe_frame_count(path: str | os.PathLike[str]) -> int | None:
    """Return the number of video frames a file declares, or ``None`` if unknown.

    Only the container header is read; nothing is decoded. Used for progress bars.
    """
    import av

    try:
        with av.open(os.fspath(path)) as container:
            streams = container.streams.video
            return int(streams[0].frames) or None if streams else None
    except (av.FFmpegError, OSError):
        return None


def probe_frame_rate(path: str | os.PathLike[str]) -> float | None:
    """Return the average frame rate a file declares, or ``None`` if unknown.

    Only the container header is read; nothing is decoded.
    """
    import av

    try:
        with av.open(os.fspath(path)) as container:
            streams = container.streams.video
            if not streams:
                return None
            rate = streams[0].average_rate or streams[0].guessed_rate
            return float(rate) if rate else None
    except (av.FFmpegError, OSError):
        return None

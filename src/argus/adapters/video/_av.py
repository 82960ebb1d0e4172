"""PyAV at the boundary: open a container, decode its video, translate errors.

Every ``av.FFmpegError`` is turned into an ``argus.domain.errors.SourceError`` here
(``raise ... from exc``). Messages use FFmpeg's error text, never the URL that
PyAV puts in ``str(exc)``, so a camera password in an RTSP URL cannot leak
into ``stats.last_error`` or logs.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from typing import cast

import av
from av.container import InputContainer
from av.video.frame import VideoFrame
from av.video.reformatter import VideoReformatter

from argus.adapters.video._base import Image
from argus.domain.errors import SourceDecodeError, SourceError, SourceOpenError
from argus.domain.frames import SourceStats

__all__ = ["DecodedFrame", "decode_frames", "describe", "open_input", "translate"]

Timeout = float | tuple[float, float] | None


def describe(exc: BaseException) -> str:
    """Return FFmpeg's text for ``exc`` without the file name or URL."""
    strerror = getattr(exc, "strerror", None)
    if isinstance(strerror, str) and strerror:
        return strerror
    return str(exc) or type(exc).__name__


def translate(exc: BaseException, what: str) -> SourceError:
    """Map a PyAV or OS error to the Argus error a caller should catch.

    Args:
        exc: The error raised by PyAV.
        what: Safe name of the input (path or redacted URL) for the message.

    Returns:
        ``SourceDecodeError`` for corrupt data, ``SourceOpenError`` otherwise
        (missing, refused, timed out, interrupted).
    """
    if isinstance(exc, av.InvalidDataError):
        return SourceDecodeError(f"{what}: corrupt or unsupported input ({describe(exc)})")
    if isinstance(exc, av.ExitError):
        return SourceOpenError(f"{what}: timed out")
    return SourceOpenError(f"{what}: {describe(exc)}")


def open_input(
    url: str,
    *,
    what: str,
    options: Mapping[str, str] | None = None,
    timeout: Timeout = None,
) -> InputContainer:
    """Open ``url`` for reading and check that it has a video stream.

    Args:
        url: Path or URL for FFmpeg.
        what: Safe name of the input for error messages.
        options: FFmpeg demuxer and protocol options.
        timeout: Seconds to wait for data, or ``(open, read)`` seconds.

    Returns:
        The open container; the caller closes it.

    Raises:
        SourceOpenError: The input is missing, refused or timed out.
        SourceDecodeError: The input is not a readable video.
    """
    started = time.monotonic()
    try:
        container = av.open(url, mode="r", options=dict(options or {}), timeout=timeout)
    except (av.FFmpegError, OSError) as exc:
        limit = timeout[0] if isinstance(timeout, tuple) else timeout
        elapsed = time.monotonic() - started
        if limit is not None and elapsed >= 0.95 * limit:
            # FFmpeg's RTSP handshake reports an interrupted read as invalid data.
            raise SourceOpenError(
                f"{what}: timed out: the stream did not open within {limit:g} s ({describe(exc)})"
            ) from exc
        raise translate(exc, what) from exc
    if not container.streams.video:
        container.close()
        raise SourceDecodeError(f"{what}: no video stream")
    return container


class DecodedFrame:
    """A decoded picture, converted to BGR only when someone takes it.

    Converting to BGR (``to_bgr``) costs about as much as decoding H.264 itself,
    so a source converts only the frames its sampler keeps.

    Attributes:
        time: Presentation time in seconds, ``None`` when the frame has none.
    """

    __slots__ = ("_frame", "_reformatter", "_stats", "_what", "time")

    def __init__(
        self,
        frame: VideoFrame,
        reformatter: VideoReformatter,
        stats: SourceStats,
        what: str,
    ) -> None:
        self._frame = frame
        self._reformatter = reformatter
        self._stats = stats
        self._what = what
        self.time = cast("float | None", frame.time)

    def to_bgr(self) -> Image | None:
        """Return the BGR pixels, or ``None`` (counted as dropped) when they cannot be made.

        A frame that cannot be converted is taken back out of
        ``stats.frames_decoded`` and counted in ``stats.frames_dropped``.
        """
        try:
            image = self._reformatter.reformat(self._frame, format="bgr24").to_ndarray()
        except (av.FFmpegError, ValueError) as exc:
            self._stats.frames_decoded -= 1
            _drop(self._stats, f"{self._what}: unconvertible frame ({describe(exc)})")
            return None
        return cast(Image, image)

    def __call__(self) -> Image | None:
        """Same as ``to_bgr``: a decoded frame is a deferred picture of ``BaseSource``."""
        return self.to_bgr()


def decode_frames(
    container: InputContainer,
    stats: SourceStats,
    *,
    max_demux_errors: int,
    what: str,
    stopped: Callable[[], bool],
) -> Iterator[DecodedFrame]:
    """Yield the decoded frames of the first video stream, not yet converted to BGR.

    A packet the decoder rejects is counted in ``stats.frames_dropped`` (with
    ``stats.last_error``) and reading goes on. A demuxer error is survived the
    same way up to ``max_demux_errors`` times in a row without a decoded frame
    in between; past that it is raised. ``stats.frames_decoded`` counts every
    frame yielded (``DecodedFrame.to_bgr`` takes back one it cannot convert).

    Args:
        container: An open input container with a video stream.
        stats: Counters to update (``frames_in``, ``frames_decoded``, drops).
        max_demux_errors: Demuxer errors in a row survived; 0 for live streams,
            where any demuxer error means the link is lost.
        what: Safe name of the input for error messages.
        stopped: Polled between packets; reading ends when it returns ``True``.

    Yields:
        One ``DecodedFrame`` per decoded picture, in presentation order as the
        decoder gives it.

    Raises:
        SourceError: The demuxer failed more than ``max_demux_errors`` times in a row.
    """
    stream = container.streams.video[0]
    # One reformatter keeps its swscale context from frame to frame;
    # ``frame.to_ndarray(format=...)`` would build a new one per frame, which
    # costs more than decoding H.264 itself (see the decode benchmark).
    reformatter = VideoReformatter()
    errors_in_row = 0
    while True:
        try:
            for packet in container.demux(stream):
                if stopped():
                    return
                if packet.size:
                    stats.frames_in += 1
                try:
                    decoded: list[VideoFrame] = stream.decode(packet)
                except av.FFmpegError as exc:
                    _drop(stats, f"{what}: undecodable packet ({describe(exc)})")
                    continue
                for video_frame in decoded:
                    stats.frames_decoded += 1
                    errors_in_row = 0
                    yield DecodedFrame(video_frame, reformatter, stats, what)
            return
        except av.FFmpegError as exc:
            errors_in_row += 1
            if errors_in_row > max_demux_errors:
                raise translate(exc, what) from exc
            _drop(stats, f"{what}: unreadable packet ({describe(exc)})")


def _drop(stats: SourceStats, message: str) -> None:
    stats.frames_dropped += 1
    stats.last_error = message

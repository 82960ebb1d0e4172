"""What every video adapter shares: lifecycle, counters, close, timestamps.

``BaseSource`` implements the ``VideoSource`` port around one hook,
``_produce``, that yields ``(picture, timestamp)`` pairs, where a picture is
BGR pixels or a callable that makes them (a decoded frame not yet converted).
A frame sampler handed to the source (``sample_with``) decides from the
timestamp alone, so a frame it skips is never converted. It owns the state enum
that catches misuse (``frames()`` twice, reading after ``close()``), numbers
the frames, records the last error, and releases the adapter's resources
however the iteration ends (exhausted, failed, abandoned by the consumer, or
closed).

``LiveSource`` adds the reconnect loop of cameras and servers: connect, read
until the link breaks, wait with exponential backoff, try again, and give up
with ``SourceOpenError`` after ``max_retries`` failures in a row.
"""

from __future__ import annotations

import logging
import math
import threading
import time
import weakref
from abc import ABC, abstractmethod
from collections.abc import Callable, Generator, Iterator
from types import TracebackType
from typing import Protocol, Self
from urllib.parse import urlsplit, urlunsplit

import numpy as np
import numpy.typing as npt

from argus.domain.backoff import Backoff, BackoffPolicy, RandomSource
from argus.domain.errors import ConfigError, SourceClosedError, SourceError, SourceOpenError
from argus.domain.frames import Frame, SourceState, SourceStats

__all__ = [
    "BaseSource",
    "Clock",
    "FrameFilter",
    "Image",
    "LiveSource",
    "Picture",
    "Timeline",
    "check_timeout",
    "pin_url",
    "redact_url",
]

_log = logging.getLogger(__name__)

Image = npt.NDArray[np.uint8]
"""BGR pixels, shape ``(H, W, 3)``."""

Clock = Callable[[], float]
"""A monotonic clock in seconds, ``time.monotonic`` unless a test injects one."""

Picture = Image | Callable[[], Image | None]
"""What ``_produce`` yields: BGR pixels, or a callable that converts a decoded
frame to them (``None`` when it cannot, the loss already counted)."""


class FrameFilter(Protocol):
    """Decides from a frame's timestamp alone whether it is passed on (``FrameSampler``)."""

    def accept(self, timestamp: float) -> bool:
        """Return ``True`` to pass the frame presented at ``timestamp`` on."""
        ...


def redact_url(url: str) -> str:
    """Return ``url`` without user name and password, for logs and errors."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def pin_url(url: str, connect_to: Callable[[str], str] | None) -> str:
    """``url`` with its host replaced by the address ``connect_to`` gives for it.

    For a library that resolves names itself (FFmpeg): the caller resolves and
    checks the host at every connection and hands over an address literal, so
    a DNS answer that changed since the camera was checked (rebinding to a
    loopback or metadata address) is refused instead of followed. Credentials,
    port, path and query are kept; ``url`` is returned as it is without
    ``connect_to`` or without a host.

    Raises:
        SourceOpenError: ``connect_to`` refuses the host (it raises it).
    """
    if connect_to is None:
        return url
    parts = urlsplit(url)
    host = parts.hostname
    if not host:
        return url
    address = connect_to(host).replace("%", "%25")  # an IPv6 zone id, escaped for a URL
    literal = f"[{address}]" if ":" in address else address
    userinfo, at, _ = parts.netloc.rpartition("@")
    port = f":{parts.port}" if parts.port is not None else ""
    netloc = f"{userinfo}{at}{literal}{port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def check_timeout(name: str, value: float) -> float:
    """Return ``value`` as a float, or raise ``ConfigError`` unless finite and > 0."""
    if not (math.isfinite(value) and value > 0):
        raise ConfigError(f"{name} must be a finite number of seconds > 0, got {value}")
    return float(value)


_REORDERED_STEPS = 2
"""Steps back in media time after which a segment counts as reordered (``Timeline``)."""


class Timeline:
    """Maps media times of successive segments onto one non-decreasing clock.

    A segment is one pass over a file or one connection to a camera. Its first
    frame lands on the segment's base time; later frames keep their media-time
    distance to that first frame. Frames without a media time take the
    caller's fallback. Timestamps never go backwards.

    With ``reordered_fallback``, once a segment's media times have gone
    backwards twice from one decoded frame to the next (H.264 with B-frames in AVI,
    which stores no presentation times: FFmpeg hands each frame the time of the
    packet that completed it, in decode order), a frame is never stamped before
    the caller's fallback. Otherwise such frames share timestamps (0.0, 0.3, 0.3,
    0.4, 0.4, 0.7 ...) and a frame sampler drops every other one. Frames whose
    media time is ahead keep it, so a gap (dropped packets) stays a gap. One
    step back alone (a decoder recovering from a damaged packet) changes
    nothing. For files only: their fallback is the previous stamp plus the
    frame interval.
    """

    def __init__(self, *, reordered_fallback: bool = False) -> None:
        self._base: float | None = 0.0
        self._origin: float | None = None
        self._last: float | None = None
        self._reordered_fallback = reordered_fallback
        self._previous_media: float | None = None
        self._steps_back = 0

    @property
    def last(self) -> float | None:
        """The latest timestamp handed out, ``None`` before the first frame."""
        return self._last

    def new_segment(self, base: float | None) -> None:
        """Start a segment whose first frame gets ``base`` (the fallback if ``None``)."""
        self._base = base
        self._origin = None
        self._previous_media = None
        self._steps_back = 0

    def stamp(self, media_time: float | None, fallback: float) -> float:
        """Return the source timestamp of a frame.

        Args:
            media_time: The frame's presentation time in seconds, if known.
            fallback: The timestamp to use when the media time is unknown.

        Returns:
            Seconds since the source started, never less than the previous one.
        """
        if media_time is not None and self._reordered_fallback:
            previous, self._previous_media = self._previous_media, media_time
            if previous is not None and media_time < previous:
                self._steps_back += 1
        if media_time is None:
            stamp = fallback
        else:
            if self._origin is None:
                self._origin = media_time
                if self._base is None:
                    self._base = fallback
            base = fallback if self._base is None else self._base
            stamp = base + (media_time - self._origin)
            if self._steps_back >= _REORDERED_STEPS and self._last is not None:
                stamp = max(stamp, fallback)  # a step back in decode order: one frame on
        if self._last is not None and stamp < self._last:
            stamp = self._last
        self._last = stamp
        return stamp


class BaseSource(ABC):
    """Lifecycle, counters and close handling of a ``VideoSource``.

    Subclasses implement ``_produce`` and, if they hold resources, ``_release``.
    A source is read once: ``frames()`` returns its one iterator.

    Args:
        source_id: Name used in logs and frames.
        clock: Monotonic clock; tests inject a fake one.
    """

    def __init__(self, source_id: str, *, clock: Clock = time.monotonic) -> None:
        self._source_id = source_id
        self._stats = SourceStats()
        self._clock = clock
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._closed = False
        # A weak reference, so that an iterator the consumer drops is finalised
        # (and its file or socket released) at once.
        self._generator: weakref.ref[Generator[Frame, None, None]] | None = None
        self._reader_thread: int | None = None
        self._index = 0
        self._filter: FrameFilter | None = None

    @property
    def source_id(self) -> str:
        """Name used in logs and frames."""
        return self._source_id

    @property
    def stats(self) -> SourceStats:
        """Running counters and state (updated in place while frames are read)."""
        return self._stats

    @property
    def state(self) -> SourceState:
        """Where the source is in its lifecycle."""
        return self._stats.state

    def sample_with(self, sampler: FrameFilter) -> bool:
        """Pass on only the frames ``sampler`` accepts, deciding before conversion to BGR.

        Every decoded frame is still numbered and stamped, so kept frames keep
        the index and timestamp they have without a sampler, and ``sampler``
        sees every timestamp in order, as if it filtered ``frames()`` from
        outside. Skipped frames are not counted in ``stats``: the sampler
        counts them. Used by ``SampledSource``.

        Args:
            sampler: Asked once per decoded frame, in order.

        Returns:
            ``True`` when the source will apply it; ``False`` when ``frames()``
            was already called or a sampler is set (then the caller filters).
        """
        with self._lock:
            if self._generator is not None or self._filter is not None or self._closed:
                return False
            self._filter = sampler
            return True

    def frames(self) -> Iterator[Frame]:
        """Return the iterator over the source's frames.

        Returns:
            Frames in order until the source ends, fails or is closed. The
            state is then ``ENDED``, ``FAILED`` or ``CLOSED``; a later
            ``close()`` keeps ``ENDED`` and ``FAILED``.

        Raises:
            SourceClosedError: The source was closed.
            SourceError: ``frames()`` was already called on this source.
        """
        with self._lock:
            if self._closed:
                raise SourceClosedError(f"{self._source_id}: the source is closed")
            if self._generator is not None:
                raise SourceError(
                    f"{self._source_id}: frames() was already called; a source is read once"
                )
            generator = self._run()
            self._generator = weakref.ref(generator)
            return generator

    def close(self) -> None:
        """Stop reading and release the connection; safe to call twice.

        From the reading thread (between two frames) resources are released at
        once. From another thread the adapter is interrupted (``_interrupt``:
        a blocked read returns at once where the adapter can break it, at its
        read timeout otherwise) and the reader releases the resources itself.
        """
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._stop.set()
            # ENDED and FAILED stay: they tell how the source finished.
            if self._stats.state not in (SourceState.ENDED, SourceState.FAILED):
                self._stats.state = SourceState.CLOSED
            generator = self._generator() if self._generator is not None else None
            same_thread = self._reader_thread in (None, threading.get_ident())
        if generator is None:
            self._release()
        elif same_thread:
            generator.close()
        else:
            self._interrupt()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._source_id!r}, state={self.state.value})"

    @abstractmethod
    def _produce(self) -> Iterator[tuple[Picture, float]]:
        """Yield ``(picture, timestamp)`` until the input ends; raise ``SourceError``.

        Adapters that decode video yield the decoded frame as a callable, so that
        frames the sampler skips are never converted to BGR.
        """

    def _hold(self, timestamp: float) -> bool:
        """Wait, if the adapter paces its output, until a kept frame is due.

        Called for the frames passed on only (after the sampler), before
        their conversion. Returns ``True`` when the source was closed meanwhile.
        """
        del timestamp
        return False

    def _release(self) -> None:
        """Close files, containers and sockets; must be safe to call twice."""
        return

    def _interrupt(self) -> None:
        """Break a read blocked in another thread (called by ``close``); must be thread-safe.

        The reading thread then sees the source closed and releases its
        resources itself. Adapters that cannot break a read leave this alone:
        their reads end at the read timeout.
        """
        return

    def _stopped(self) -> bool:
        return self._stop.is_set()

    def _set_state(self, state: SourceState) -> None:
        with self._lock:
            if not self._closed or state in (SourceState.ENDED, SourceState.FAILED):
                self._stats.state = state

    def _record_error(self, message: str) -> None:
        self._stats.last_error = message

    def _drop(self, message: str) -> None:
        """Count one frame lost to an error the source survives."""
        self._stats.frames_dropped += 1
        self._stats.last_error = message

    def _wait(self, seconds: float) -> bool:
        """Sleep unless closed meanwhile; return ``True`` when the source was closed."""
        return self._stop.wait(max(0.0, seconds))

    def _run(self) -> Generator[Frame, None, None]:
        self._reader_thread = threading.get_ident()
        try:
            sampler = self._filter
            for picture, timestamp in self._produce():
                if self._stopped():
                    return
                index = self._index
                self._index += 1
                if sampler is not None and not sampler.accept(timestamp):
                    continue
                if self._hold(timestamp):
                    return
                image = picture if isinstance(picture, np.ndarray) else picture()
                if image is None:
                    continue
                frame = Frame(
                    image=image, index=index, timestamp=timestamp, source_id=self._source_id
                )
                yield frame
                if self._stopped():
                    return
            if not self._stopped():
                self._set_state(SourceState.ENDED)
        except GeneratorExit:
            # The consumer abandoned the iterator: nothing more can be read.
            with self._lock:
                self._closed = True
                self._stop.set()
                if self._stats.state not in (SourceState.ENDED, SourceState.FAILED):
                    self._stats.state = SourceState.CLOSED
            raise
        except SourceError as exc:
            if self._stopped():
                return  # an error caused by close() is not a failure
            self._record_error(str(exc))
            self._set_state(SourceState.FAILED)
            raise
        finally:
            self._release()


class LiveSource(BaseSource):
    """A source that reconnects with backoff: RTSP cameras and HTTP servers.

    Subclasses implement ``_session``: connect, then yield ``(picture, media_time)``
    until the link breaks (raise ``SourceError``) or ends (return). Every
    ``SourceError`` out of a session counts as one failure; the first frame of
    a later session counts as a reconnect and resets the backoff.

    Args:
        source_id: Name used in logs and frames.
        max_retries: Failures in a row tolerated before giving up; ``None``
            retries forever (the right default for a live camera).
        backoff: Delays between attempts.
        rng: Random source of the backoff jitter.
        clock: Monotonic clock; tests inject a fake one.
    """

    def __init__(
        self,
        source_id: str,
        *,
        max_retries: int | None = None,
        backoff: BackoffPolicy | None = None,
        rng: RandomSource | None = None,
        clock: Clock = time.monotonic,
    ) -> None:
        super().__init__(source_id, clock=clock)
        if max_retries is not None and max_retries < 0:
            raise ConfigError(f"max_retries must be >= 0 or None, got {max_retries}")
        self._max_retries = max_retries
        self._backoff = Backoff(backoff, rng=rng)
        self._timeline = Timeline()
        self._started_at: float | None = None

    @property
    def max_retries(self) -> int | None:
        """Failures in a row tolerated before giving up (``None``: forever)."""
        return self._max_retries

    @abstractmethod
    def _session(self) -> Generator[tuple[Picture, float | None], None, None]:
        """Connect and yield ``(picture, media_time_or_None)`` until the link ends."""

    def _produce(self) -> Iterator[tuple[Picture, float]]:
        failures = 0
        while not self._stopped():
            error: SourceError | None = None
            frames_this_session = 0
            session = self._session()
            try:
                for picture, media_time in session:
                    if frames_this_session == 0:
                        self._on_first_frame()
                        failures = 0
                    frames_this_session += 1
                    yield picture, self._stamp(media_time)
                error = SourceOpenError(f"{self._source_id}: the stream ended")
            except SourceError as exc:
                error = exc
            finally:
                session.close()
                self._release()
            if self._stopped():
                return
            failures += 1
            self._record_error(str(error))
            if self._max_retries is not None and failures > self._max_retries:
                raise SourceOpenError(
                    f"{self._source_id}: gave up after {failures} failed attempt(s) "
                    f"(max_retries={self._max_retries}): {error}"
                ) from error
            self._set_state(SourceState.RECONNECTING)
            delay = self._backoff.next_delay()
            _log.warning(
                "video source %r: %s; retry %d in %.2f s", self._source_id, error, failures, delay
            )
            if self._wait(delay):
                return

    def _on_first_frame(self) -> None:
        self._set_state(SourceState.OPEN)
        if self._timeline.last is not None:
            self._stats.reconnects += 1
            _log.info("video source %r: reconnected", self._source_id)
        self._backoff.reset()
        self._timeline.new_segment(None)

    def _stamp(self, media_time: float | None) -> float:
        now = self._clock()
        if self._started_at is None:
            self._started_at = now
        return self._timeline.stamp(media_time, now - self._started_at)

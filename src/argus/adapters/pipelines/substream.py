"""A camera read as two streams: a low-resolution detect stream and its main stream.

``DualStreamSource`` is a ``VideoSource`` whose frames carry both pictures of
one moment: ``image`` from the main stream (evidence, snapshots, the ring,
lines and zones) and ``detect_image`` from the detect stream (detection).

The detect stream drives: it is read by the consumer, already thinned to the
camera's detect rate, and each of its frames becomes one yielded frame with
the detect stream's index and timestamp. A tap thread reads the main stream
(thinned to a few frames per detect frame, so that frames the tap would
throw away are not converted to BGR where the sources allow) and keeps only
its latest frame, which the next yielded frame takes.

When the main stream is lost (its source reconnecting, or no frame for
``stale_s``) frames keep flowing: ``image`` is then the detect picture
resized to the last known main size, so lines, zones and boxes keep their
pixel space, and ``stats.last_error`` says the main stream is lost; its source
reconnects with its own backoff. A main stream that never delivers its first
frame within ``first_main_timeout`` fails the source (``SourceOpenError``):
without the main size no frame could be put in the pixels users draw in, and
the pipeline's supervisor retries with backoff.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable, Generator, Iterator
from types import TracebackType
from typing import Self

import cv2
import numpy as np

from argus.domain.errors import SourceClosedError, SourceError, SourceOpenError
from argus.domain.frames import Frame, SourceState, SourceStats
from argus.domain.substreams import aspect_mismatch
from argus.ports.video import VideoSource

__all__ = ["DualStreamSource"]

log = logging.getLogger(__name__)

_LOST_STATES = frozenset({SourceState.RECONNECTING, SourceState.FAILED, SourceState.ENDED})
_JOIN_S = 2.0
"""Seconds ``close`` waits for the tap thread. A live stream's read breaks at its next
packet, a hung one only at its read timeout: the daemon thread then ends on its own."""


class DualStreamSource:
    """Frames of the main stream paired with the detect stream's frame of the same moment.

    Args:
        detect: The detect stream, thinned to the detect rate; it drives.
        main: The main stream; a tap thread reads it. Closing this source closes both.
        source_id: Name used in logs and in the frames.
        first_main_timeout: Seconds from the first detect frame to wait for the
            main stream's first frame.
        stale_s: Seconds without a new main frame after which the main stream
            counts as lost.
        clock: Monotonic clock; tests inject a fake one.
    """

    def __init__(
        self,
        detect: VideoSource,
        main: VideoSource,
        *,
        source_id: str,
        first_main_timeout: float = 20.0,
        stale_s: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._detect = detect
        self._main = main
        self._source_id = source_id
        self._first_main_timeout = first_main_timeout
        self._stale_s = stale_s
        self._clock = clock
        self._lock = threading.Lock()
        self._seen_main = threading.Condition(self._lock)
        self._latest: Frame | None = None
        self._latest_at = 0.0
        self._main_error: str | None = None
        self._tap: threading.Thread | None = None
        self._started = False
        self._closed = False
        self._degraded = False
        self.main_frames_read = 0
        """Frames the tap has read from the main stream."""
        self.main_frames_taken = 0
        """Yielded frames whose ``image`` came from the main stream."""
        self.degraded_frames = 0
        """Yielded frames whose ``image`` is the detect picture resized (main lost)."""

    @property
    def source_id(self) -> str:
        """Name used in logs and frames."""
        return self._source_id

    @property
    def detect_source(self) -> VideoSource:
        """The detect stream's source."""
        return self._detect

    @property
    def main_source(self) -> VideoSource:
        """The main stream's source."""
        return self._main

    @property
    def degraded(self) -> bool:
        """Whether the latest frame's ``image`` was the resized detect picture."""
        return self._degraded

    @property
    def skipped(self) -> int:
        """Detect frames the rate sampler skipped (0 when the detect source has no sampler)."""
        return int(getattr(self._detect, "skipped", 0))

    @property
    def main_stats(self) -> SourceStats:
        """The main stream's counters."""
        return self._main.stats

    @property
    def stats(self) -> SourceStats:
        """The detect stream's counters; ``last_error`` tells about a lost main stream.

        ``frames_dropped`` counts the detect stream's losses to errors only, not
        the frames its rate sampler skipped (those are ``skipped``): a pipeline
        reports the difference of the two for a ``SampledSource`` as decode errors.
        """
        inner = self._detect.stats
        dropped = max(0, inner.frames_dropped - self.skipped)
        if self._degraded:
            main = self._main_error or self._main.stats.last_error or "no frame"
            note = f"main stream lost ({main}); frames are the detect stream resized"
            return dataclasses.replace(inner, frames_dropped=dropped, last_error=note)
        return dataclasses.replace(inner, frames_dropped=dropped)

    def frames(self) -> Iterator[Frame]:
        """Return the iterator over the paired frames.

        Raises:
            SourceClosedError: The source was closed.
            SourceError: ``frames()`` was already called on this source.
        """
        with self._lock:
            if self._closed:
                raise SourceClosedError(f"{self._source_id}: the source is closed")
            if self._started:
                raise SourceError(
                    f"{self._source_id}: frames() was already called; a source is read once"
                )
            self._started = True
        return self._run()

    def close(self) -> None:
        """Close both streams and wait (bounded) for the tap thread; safe to call twice."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._seen_main.notify_all()
        self._main.close()
        self._detect.close()
        tap = self._tap
        if tap is not None and tap is not threading.current_thread():
            tap.join(_JOIN_S)
            if tap.is_alive():
                log.info(
                    "camera %s: the main stream's reader stops at its read timeout", self._source_id
                )

    def _run(self) -> Generator[Frame, None, None]:
        tap = threading.Thread(
            target=self._read_main, name=f"main-tap-{self._source_id}", daemon=True
        )
        with self._lock:  # close() joins only a started tap
            if self._closed:
                return
            tap.start()
            self._tap = tap
        main_size: tuple[int, int] | None = None
        try:
            for small in self._detect.frames():
                latest = self._take(first=main_size is None)
                if latest is None and main_size is None:
                    return  # closed while waiting for the main stream
                if latest is not None:
                    if main_size is None:
                        log.info("camera %s: %s", self._source_id, _pair(small, latest))
                    main_size = (latest.width, latest.height)
                    self._degraded = False
                    self.main_frames_taken += 1
                    image = latest.image
                else:
                    assert main_size is not None
                    self._degraded = True
                    self.degraded_frames += 1
                    image = np.ascontiguousarray(
                        cv2.resize(small.image, main_size, interpolation=cv2.INTER_LINEAR)
                    )
                yield Frame(
                    image=image,
                    index=small.index,
                    timestamp=small.timestamp,
                    source_id=self._source_id,
                    detect_image=small.image,
                )
        finally:
            self.close()

    def _take(self, *, first: bool) -> Frame | None:
        """The main stream's latest frame if it is live, else ``None``.

        On the first detect frame, waits for the main stream's first frame.

        Raises:
            SourceOpenError: No main frame within ``first_main_timeout``.
        """
        with self._seen_main:
            if first:
                ready = self._seen_main.wait_for(
                    lambda: self._latest is not None or self._closed or not self._tap_alive(),
                    timeout=self._first_main_timeout,
                )
                if self._closed:
                    return None
                if not ready or self._latest is None:
                    why = self._main_error or self._main.stats.last_error or "no frame"
                    raise SourceOpenError(
                        f"{self._source_id}: the main stream gave no frame within "
                        f"{self._first_main_timeout:g} s ({why})"
                    )
            latest, at = self._latest, self._latest_at
        if latest is None:
            return None
        if self._main.stats.state in _LOST_STATES or self._clock() - at > self._stale_s:
            if not self._degraded:
                log.warning(
                    "camera %s: main stream lost; analysing the detect stream alone",
                    self._source_id,
                )
            return None
        if self._degraded:
            log.info("camera %s: main stream back", self._source_id)
        return latest

    def _tap_alive(self) -> bool:
        return self._tap is not None and self._tap.is_alive()

    def _read_main(self) -> None:
        try:
            for frame in self._main.frames():
                with self._seen_main:
                    self._latest = frame
                    self._latest_at = self._clock()
                    self.main_frames_read += 1
                    self._main_error = None
                    self._seen_main.notify_all()
        except SourceError as exc:
            with self._seen_main:
                self._main_error = str(exc)
                self._seen_main.notify_all()
            if not self._closed:
                log.warning("camera %s: main stream failed: %s", self._source_id, exc)
        except Exception as exc:  # the top of a thread: log, tell the consumer, end
            log.exception("camera %s: main stream reader crashed", self._source_id)
            with self._seen_main:
                self._main_error = str(exc) or type(exc).__name__
                self._seen_main.notify_all()
        else:
            with self._seen_main:
                if not self._closed:
                    self._main_error = "the main stream ended"
                self._seen_main.notify_all()

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
        return f"DualStreamSource({self._detect!r}, {self._main!r})"


def _pair(detect: Frame, main: Frame) -> str:
    """A log line for the two streams' sizes, flagging differing aspect ratios."""
    text = f"detect stream {detect.width}x{detect.height}, main stream {main.width}x{main.height}"
    if aspect_mismatch((detect.width, detect.height), (main.width, main.height)) > 0.05:
        text += " (aspect ratios differ: boxes are scaled along x and y apart)"
    return text

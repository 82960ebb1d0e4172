"""Hand events from video threads to the bus on the event loop, never blocking the video.

Video threads ``put`` envelopes into a bounded in-memory outbox and return at
once. One task on the application's event loop drains it in order and
publishes each envelope; while the bus fails it keeps the envelopes and
retries with backoff. When the outbox is full the oldest envelope is dropped
and counted against its camera: a camera must keep running however long the
bus is down, and memory must stay bounded.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections import Counter, deque
from collections.abc import Iterable

from argus.domain.backoff import Backoff, BackoffPolicy
from argus.domain.events import Envelope
from argus.ports.bus import EventBus, validate_subject

__all__ = ["EventOutbox"]

log = logging.getLogger(__name__)


class EventOutbox:
    """A bounded, thread-safe queue of envelopes drained into a bus by one task.

    Args:
        bus: Where envelopes go.
        subject: Subject they are published on.
        loop: The event loop the bus lives on; ``put`` may be called from any thread.
        capacity: Envelopes kept at most while the bus is slow or down.
        retry: Delays between publish attempts while the bus fails.
    """

    def __init__(
        self,
        bus: EventBus,
        subject: str,
        loop: asyncio.AbstractEventLoop,
        *,
        capacity: int = 10_000,
        retry: BackoffPolicy | None = None,
    ) -> None:
        if capacity < 1:
            raise ValueError(f"capacity must be >= 1, got {capacity}")
        self._bus = bus
        self._subject = validate_subject(subject)
        self._loop = loop
        self._capacity = capacity
        self._retry = Backoff(retry or BackoffPolicy(initial=0.2, max_delay=10.0))
        self._lock = threading.Lock()
        self._queue: deque[tuple[str, Envelope]] = deque()
        self._wake = asyncio.Event()
        self._wake_pending = False
        self._task: asyncio.Task[None] | None = None
        self.published: Counter[str] = Counter()
        """Envelopes the bus acknowledged, per camera."""
        self.dropped: Counter[str] = Counter()
        """Envelopes dropped because the outbox was full, per camera."""
        self.last_error: str | None = None
        """The latest publish error, cleared by the next success."""

    @property
    def subject(self) -> str:
        """Subject envelopes are published on."""
        return self._subject

    @property
    def depth(self) -> int:
        """Envelopes waiting to be published."""
        with self._lock:
            return len(self._queue)

    def start(self) -> None:
        """Start the drain task; call on the loop. Idempotent."""
        if self._task is None:
            self._task = self._loop.create_task(self._drain(), name="edge-event-outbox")

    def put(self, camera_id: str, envelopes: Iterable[Envelope]) -> None:
        """Queue envelopes from any thread; never blocks (drops the oldest when full)."""
        with self._lock:
            for envelope in envelopes:
                if len(self._queue) >= self._capacity:
                    dropped_camera, _ = self._queue.popleft()
                    self.dropped[dropped_camera] += 1
                self._queue.append((camera_id, envelope))
            if self._wake_pending:
                return
            self._wake_pending = True
        try:
            self._loop.call_soon_threadsafe(self._wake_up)
        except RuntimeError:
            # The loop is closed: the envelopes stay queued until close() gives up on them.
            log.debug("event loop closed; %d envelope(s) stay in the outbox", self.depth)

    def _wake_up(self) -> None:
        with self._lock:
            self._wake_pending = False
        self._wake.set()

    async def _drain(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            await self._publish_queued()

    async def _publish_queued(self) -> None:
        while True:
            with self._lock:
                if not self._queue:
                    return
                item = self._queue[0]
            camera_id, envelope = item
            try:
                await self._bus.publish(self._subject, envelope)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001  (top of the drain loop: keep going)
                self.last_error = f"{type(exc).__name__}: {exc}"
                delay = self._retry.next_delay()
                log.warning("publishing events failed (%s); retrying in %.2f s", exc, delay)
                await asyncio.sleep(delay)
                continue
            self._retry.reset()
            self.last_error = None
            with self._lock:
                # A full outbox may have dropped this very envelope meanwhile.
                if self._queue and self._queue[0] is item:
                    self._queue.popleft()
            self.published[camera_id] += 1

    async def close(self, timeout: float = 5.0) -> None:
        """Publish what is queued for up to ``timeout`` seconds, then stop. Idempotent."""
        task, self._task = self._task, None
        if task is None:
            return
        self._wake.set()
        try:
            await asyncio.wait_for(self._flush(), timeout)
        except TimeoutError:
            log.warning("closing the outbox with %d unpublished envelope(s)", self.depth)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    async def _flush(self) -> None:
        while self.depth:
            await asyncio.sleep(0.02)

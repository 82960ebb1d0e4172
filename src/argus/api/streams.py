"""Live video over HTTP: MJPEG parts, a cap on concurrent streams, periodic re-authentication.

A stream is ``multipart/x-mixed-replace; boundary=frame``: one JPEG part per
new frame. Streams are long-lived, so each one re-checks its caller's
credential every ``RECHECK_INTERVAL`` seconds, as ``/ws`` does, and ends once
it no longer authenticates, no longer grants ``view`` on the camera, or the
camera is gone. The process serves at most ``MAX_STREAMS`` at once; the
app's shutdown ends every stream.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from typing import Any

from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from argus.domain.errors import AuthenticationError, NotFoundError, PermissionDeniedError
from argus.domain.identity import Principal

__all__ = [
    "BOUNDARY",
    "MAX_STREAMS",
    "MEDIA_TYPE",
    "RECHECK_INTERVAL",
    "MjpegResponse",
    "StreamSlots",
    "mjpeg_parts",
]

log = logging.getLogger(__name__)

BOUNDARY = "frame"
MEDIA_TYPE = f"multipart/x-mixed-replace; boundary={BOUNDARY}"
MAX_STREAMS = 32
"""Live video streams one server process serves at once."""
RECHECK_INTERVAL = 30.0
"""Seconds between re-checks of a stream's credential (expiry, revocation), as on ``/ws``."""

Recheck = Callable[[], Awaitable[Principal]]
"""Authenticates the stream's caller again and checks its access to the camera."""


class StreamSlots:
    """Counts the open streams of this process and ends them all on shutdown.

    Args:
        limit: Streams allowed at once.
    """

    def __init__(self, limit: int = MAX_STREAMS) -> None:
        self.limit = limit
        self.open = 0
        self.closing = asyncio.Event()

    def take(self) -> bool:
        """Take a slot; False when all are taken or the app is shutting down."""
        if self.open >= self.limit or self.closing.is_set():
            return False
        self.open += 1
        return True

    def give_back(self) -> None:
        """Return a slot taken with ``take``."""
        self.open -= 1

    def close(self) -> None:
        """End every stream (at the app's shutdown) and refuse new ones."""
        self.closing.set()


def _part(jpeg: bytes) -> bytes:
    head = f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {len(jpeg)}\r\n\r\n"
    return head.encode("ascii") + jpeg + b"\r\n"


async def mjpeg_parts(
    frames: AsyncGenerator[bytes, None],
    recheck: Recheck,
    *,
    closing: asyncio.Event,
    limit: int | None = None,
    recheck_interval: float = RECHECK_INTERVAL,
) -> AsyncIterator[bytes]:
    """The multipart body of a stream (``MjpegResponse`` sends it).

    Ends after ``limit`` frames (when given), when ``recheck`` fails, when
    ``closing`` is set (the app's shutdown), or when the server cancels it
    (the client disconnected).
    """

    async def watchdog() -> None:
        while True:
            await asyncio.sleep(recheck_interval)
            try:
                await recheck()
            except (AuthenticationError, PermissionDeniedError, NotFoundError) as exc:
                log.info("live video stream ended: %s", exc)
                return

    stoppers: set[asyncio.Future[Any]] = {
        asyncio.create_task(watchdog()),
        asyncio.create_task(closing.wait()),
    }
    step: asyncio.Future[bytes] | None = None
    sent = 0
    try:
        while limit is None or sent < limit:
            if step is None:
                step = asyncio.ensure_future(anext(frames))
            done, _ = await asyncio.wait({step, *stoppers}, return_when=asyncio.FIRST_COMPLETED)
            if step not in done:
                return  # re-check failed or shutting down
            try:
                jpeg = step.result()
            except StopAsyncIteration:
                return
            step = None
            yield _part(jpeg)
            sent += 1
    finally:
        pending: list[asyncio.Future[Any]] = [*stoppers, *([step] if step is not None else [])]
        for task in pending:
            task.cancel()
        for task in pending:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        with contextlib.suppress(Exception):
            await frames.aclose()


class MjpegResponse(StreamingResponse):
    """A stream of ``mjpeg_parts`` that gives its slot back however it ends (even unstarted).

    Args:
        parts: The multipart body.
        slots: Where its slot was taken.
    """

    def __init__(self, parts: AsyncIterator[bytes], slots: StreamSlots) -> None:
        super().__init__(parts, media_type=MEDIA_TYPE, headers={"Cache-Control": "no-store"})
        self._slots = slots

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Send the stream, then give the slot back."""
        try:
            await super().__call__(scope, receive, send)
        finally:
            self._slots.give_back()

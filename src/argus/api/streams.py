"""Live video over HTTP: MJPEG parts, caps on concurrent streams, re-authentication.

A stream is ``multipart/x-mixed-replace; boundary=frame``: one JPEG part per
new frame. Streams are long-lived, so each one re-checks its caller's
credential every ``RECHECK_INTERVAL`` seconds, as ``/ws`` does, and at once
when a session of its caller ends (``SessionWatch``); it ends once it no
longer authenticates, no longer grants ``view`` on the camera, or the camera
is gone. The process serves at most ``MAX_STREAMS`` at once, and one user or
API key at most ``per_principal`` of them, so the lowest role cannot take
every slot; the app's shutdown ends every stream.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from contextvars import ContextVar
from typing import Any

from starlette.responses import JSONResponse, StreamingResponse
from starlette.types import Receive, Scope, Send

from argus.domain.errors import AuthenticationError, NotFoundError, PermissionDeniedError
from argus.domain.identity import Principal
from argus.services.session_watch import SessionWatch

__all__ = [
    "BOUNDARY",
    "MAX_STREAMS",
    "MAX_STREAMS_PER_PRINCIPAL",
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

MAX_STREAMS_PER_PRINCIPAL = 8
"""Live video streams one user or API key may hold open at once (default)."""

Recheck = Callable[[], Awaitable[Principal]]
"""Authenticates the stream's caller again and checks its access to the camera."""

_session_ended: ContextVar[asyncio.Event | None] = ContextVar("_session_ended", default=None)
"""Set by ``MjpegResponse`` while it sends a stream: the event that an ended session of
the caller sets. A context variable, because the route makes the parts (``mjpeg_parts``)
before the response watches its caller; the tasks that send them inherit it."""


class StreamSlots:
    """Counts the open streams of this process and of each principal; ends them on shutdown.

    Args:
        limit: Streams allowed at once.
        per_principal: Streams one user or API key may hold at once.
        sessions: Wakes a stream when a session of its caller ends.
    """

    def __init__(
        self,
        limit: int = MAX_STREAMS,
        *,
        per_principal: int = MAX_STREAMS_PER_PRINCIPAL,
        sessions: SessionWatch | None = None,
    ) -> None:
        self.limit = limit
        self.per_principal = per_principal
        self.sessions = sessions
        self.open = 0
        self.closing = asyncio.Event()
        self._held: dict[str, int] = {}

    def take(self) -> bool:
        """Take a slot; False when all are taken or the app is shutting down."""
        if self.open >= self.limit or self.closing.is_set():
            return False
        self.open += 1
        return True

    def give_back(self) -> None:
        """Return a slot taken with ``take``."""
        self.open -= 1

    def take_for(self, principal: str) -> bool:
        """Count a stream against ``principal`` (``kind:id``); False when it holds its cap."""
        held = self._held.get(principal, 0)
        if held >= self.per_principal:
            return False
        self._held[principal] = held + 1
        return True

    def give_back_for(self, principal: str) -> None:
        """Return a stream counted with ``take_for``."""
        held = self._held.get(principal, 0) - 1
        if held > 0:
            self._held[principal] = held
        else:
            self._held.pop(principal, None)

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
    recheck_interval: float | None = None,
) -> AsyncIterator[bytes]:
    """The multipart body of a stream (``MjpegResponse`` sends it).

    Ends after ``limit`` frames (when given), when ``recheck`` fails, when
    ``closing`` is set (the app's shutdown), or when the server cancels it
    (the client disconnected). ``recheck`` runs every ``recheck_interval``
    seconds (``RECHECK_INTERVAL`` when ``None``), and at once when a session of
    the caller ends while ``MjpegResponse`` sends the stream.
    """

    ended = _session_ended.get()
    interval = RECHECK_INTERVAL if recheck_interval is None else recheck_interval

    async def watchdog() -> None:
        while True:
            if ended is None:
                await asyncio.sleep(interval)
            else:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(ended.wait(), interval)
                ended.clear()  # before the check: an end announced during it wakes us again
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

    The caller (the principal ``AuthenticateFirst`` put in the request state)
    is held to its own cap: over it, the answer is 429 instead of a stream.

    Args:
        parts: The multipart body.
        slots: Where its slot was taken.
    """

    def __init__(self, parts: AsyncIterator[bytes], slots: StreamSlots) -> None:
        super().__init__(parts, media_type=MEDIA_TYPE, headers={"Cache-Control": "no-store"})
        self._slots = slots

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Send the stream (or 429 over the caller's cap), then give the slots back."""
        try:
            state = scope.get("state")
            principal = state.get("principal") if isinstance(state, dict) else None
            if not isinstance(principal, Principal):
                await super().__call__(scope, receive, send)
                return
            key = f"{principal.kind}:{principal.id}"
            if not self._slots.take_for(key):
                await self._refuse(scope, receive, send)
                return
            try:
                await self._send_watched(principal.id, scope, receive, send)
            finally:
                self._slots.give_back_for(key)
        finally:
            self._slots.give_back()

    async def _send_watched(
        self, principal_id: str, scope: Scope, receive: Receive, send: Send
    ) -> None:
        sessions = self._slots.sessions
        if sessions is None:
            await super().__call__(scope, receive, send)
            return
        with sessions.watching(principal_id) as ended:
            token = _session_ended.set(ended)
            try:
                await super().__call__(scope, receive, send)
            finally:
                _session_ended.reset(token)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        with contextlib.suppress(Exception):
            await self.body_iterator.aclose()  # type: ignore[attr-defined]
        detail = (
            f"you already watch {self._slots.per_principal} live video streams; close one first"
        )
        await JSONResponse({"detail": detail}, status_code=429, headers={"Retry-After": "5"})(
            scope, receive, send
        )

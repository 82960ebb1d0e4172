"""Each camera's latest live frame, and the callbacks that want every new one.

Video threads ``publish`` a camera's tracks and counts after every analysed
frame; subscribers are called on the application's event loop, never in the
video thread, so a slow subscriber cannot hold up the video.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from argus.domain.live import LiveFrame
from argus.ports.pipelines import LiveCallback

__all__ = ["LiveFeed"]

log = logging.getLogger(__name__)


class LiveFeed:
    """The latest ``LiveFrame`` per camera, pushed to subscribers on ``loop``."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._latest: dict[str, LiveFrame] = {}
        self._subscribers: dict[str, list[LiveCallback]] = {}

    def publish(self, frame: LiveFrame) -> None:
        """Keep ``frame`` as its camera's latest and schedule its subscribers (any thread)."""
        self._latest[frame.camera_id] = frame
        if self._subscribers.get(frame.camera_id):
            # A closed loop has nobody listening any more.
            with contextlib.suppress(RuntimeError):
                self._loop.call_soon_threadsafe(self._dispatch, frame)

    def _dispatch(self, frame: LiveFrame) -> None:
        for callback in list(self._subscribers.get(frame.camera_id, ())):
            try:
                callback(frame)
            except Exception:
                log.exception("live subscriber of camera %s failed", frame.camera_id)

    def subscribe(self, camera_id: str, callback: LiveCallback) -> Callable[[], None]:
        """Call ``callback`` on the event loop with the camera's live frame after every frame.

        Returns:
            A function that cancels the subscription (safe to call twice).
        """
        self._subscribers.setdefault(camera_id, []).append(callback)

        def cancel() -> None:
            callbacks = self._subscribers.get(camera_id, [])
            if callback in callbacks:
                callbacks.remove(callback)
            if not callbacks:
                self._subscribers.pop(camera_id, None)

        return cancel

    def latest(self, camera_id: str) -> LiveFrame | None:
        """The camera's latest frame, ``None`` before its first one (or after ``forget``)."""
        return self._latest.get(camera_id)

    def forget(self, camera_id: str) -> None:
        """Drop the camera's latest frame (its pipeline restarted or went away)."""
        self._latest.pop(camera_id, None)

    def clear(self) -> None:
        """Drop every frame and subscription."""
        self._latest.clear()
        self._subscribers.clear()

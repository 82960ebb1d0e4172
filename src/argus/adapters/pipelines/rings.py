"""Each running camera's ``FrameRing``, kept while its stream stays the same."""

from __future__ import annotations

import functools
from collections.abc import Callable

from argus.adapters.pipelines.clips import FrameRing

__all__ = ["CameraRings"]


class CameraRings:
    """The rings of a worker's cameras, all of the same bounds.

    Args:
        seconds: Seconds of recent frames each camera keeps; 0 keeps no ring.
        fps: Frames per second each camera keeps at most.
        max_bytes: JPEG bytes each camera keeps at most.
        max_width: Kept frames wider than this are scaled down to it.

    Raises:
        ConfigError: Bounds a ring refuses (here, not at the first camera).
    """

    def __init__(self, *, seconds: float, fps: float, max_bytes: int, max_width: int) -> None:
        self._new: Callable[[], FrameRing] | None = None
        if seconds > 0:
            self._new = functools.partial(
                FrameRing, seconds=seconds, fps=fps, max_bytes=max_bytes, max_width=max_width
            )
            self._new()
        self._rings: dict[str, FrameRing] = {}

    def ring_for(self, camera_id: str, *, same_stream: bool) -> FrameRing | None:
        """The camera's ring: the one it has when ``same_stream``, else a new one."""
        if self._new is None:
            return None
        ring = self._rings.get(camera_id)
        if ring is None or not same_stream:
            ring = self._rings[camera_id] = self._new()
        return ring

    def get(self, camera_id: str) -> FrameRing | None:
        """The camera's ring, if it has one."""
        return self._rings.get(camera_id)

    def drop(self, camera_id: str) -> None:
        """Forget the camera's ring."""
        self._rings.pop(camera_id, None)

    def clear(self) -> None:
        """Forget every ring."""
        self._rings.clear()

"""Snapshots of cameras' latest frames: JPEG encoded on request, cached per frame.

A camera nobody looks at spends nothing on JPEG; one looked at by many
clients encodes each frame once.
"""

from __future__ import annotations

import threading

from argus.domain.frames import Frame

__all__ = ["SnapshotCache"]


class SnapshotCache:
    """The latest JPEG per camera, keyed by the worker and frame it was encoded from."""

    def __init__(self, quality: int = 80) -> None:
        self._quality = quality
        self._jpeg: dict[str, tuple[int, int, bytes]] = {}
        self._lock = threading.Lock()

    def forget(self, camera_id: str) -> None:
        """Drop the camera's cached snapshot (its pipeline was replaced or removed)."""
        with self._lock:
            self._jpeg.pop(camera_id, None)

    def jpeg(self, camera_id: str, worker: object, frame: Frame) -> bytes | None:
        """``frame`` of the camera's ``worker`` as JPEG; ``None`` when encoding fails."""
        key = (id(worker), frame.index)
        with self._lock:
            cached = self._jpeg.get(camera_id)
            if cached is not None and cached[:2] == key:
                return cached[2]
        import cv2

        ok, data = cv2.imencode(".jpg", frame.image, [cv2.IMWRITE_JPEG_QUALITY, self._quality])
        if not ok:
            return None
        jpeg = bytes(data.tobytes())
        with self._lock:
            self._jpeg[camera_id] = (*key, jpeg)
        return jpeg

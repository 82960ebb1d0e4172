"""An in-memory ``PipelineSupervisor``: records what it is asked to run, runs no video.

Used by API tests and wherever a control plane must work without cameras. After
``apply`` an enabled camera reports ``online`` at its detect fps and serves a
tiny grey JPEG as its snapshot; a disabled one reports ``disabled`` and has no
snapshot. ``fail`` puts a camera into ``error`` for tests of degraded states.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from argus.domain.cameras import Camera, Line, Zone, utc_now
from argus.ports.pipelines import CameraStatus, LiveCallback

__all__ = ["AppliedConfig", "MemoryPipelines", "tiny_jpeg"]


@functools.cache
def tiny_jpeg() -> bytes:
    """A valid 16x16 grey JPEG image."""
    import cv2
    import numpy as np

    ok, data = cv2.imencode(".jpg", np.full((16, 16, 3), 128, dtype=np.uint8))
    if not ok:  # pragma: no cover - OpenCV always encodes a plain image
        raise RuntimeError("OpenCV could not encode a JPEG")
    return bytes(data.tobytes())


@dataclass(frozen=True, slots=True)
class AppliedConfig:
    """One configuration handed to ``apply``.

    Attributes:
        camera: The camera.
        lines: Its lines.
        zones: Its zones.
    """

    camera: Camera
    lines: tuple[Line, ...]
    zones: tuple[Zone, ...]


class MemoryPipelines:
    """Implements ``PipelineSupervisor`` by bookkeeping only.

    Attributes:
        applied: The latest configuration per camera id.
        calls: Every call in order, as ``("apply" | "remove", camera_id)``.
    """

    def __init__(self) -> None:
        self.applied: dict[str, AppliedConfig] = {}
        self.calls: list[tuple[str, str]] = []
        self._statuses: dict[str, CameraStatus] = {}
        self._live: dict[str, list[LiveCallback]] = {}
        self.closed = False

    async def apply(self, camera: Camera, lines: Sequence[Line], zones: Sequence[Zone]) -> None:
        """Record the configuration; the camera turns ``online`` (or ``disabled``)."""
        self.calls.append(("apply", camera.id))
        self.applied[camera.id] = AppliedConfig(camera, tuple(lines), tuple(zones))
        fps = camera.detect_fps if camera.enabled else 0.0
        self._statuses[camera.id] = CameraStatus(
            camera_id=camera.id,
            state="online" if camera.enabled else "disabled",
            last_error=None,
            fps_in=fps,
            fps_decoded=fps,
            fps_detected=fps,
            updated_at=utc_now(),
        )

    async def remove(self, camera_id: str) -> None:
        """Forget the camera."""
        self.calls.append(("remove", camera_id))
        self.applied.pop(camera_id, None)
        self._statuses.pop(camera_id, None)

    def fail(self, camera_id: str, error: str) -> None:
        """Put a camera's pipeline into ``error`` with ``error`` as its last error."""
        self._statuses[camera_id] = CameraStatus(
            camera_id=camera_id,
            state="error",
            last_error=error,
            fps_in=0.0,
            fps_decoded=0.0,
            fps_detected=0.0,
            updated_at=utc_now(),
        )

    def status(self, camera_id: str) -> CameraStatus | None:
        """The camera's status, or ``None`` when it was never applied."""
        return self._statuses.get(camera_id)

    def statuses(self) -> list[CameraStatus]:
        """Every camera's status."""
        return list(self._statuses.values())

    def subscribe_live(self, camera_id: str, callback: LiveCallback) -> Callable[[], None]:
        """Register ``callback``; ``push_live`` calls it (no video runs here)."""
        callbacks = self._live.setdefault(camera_id, [])
        callbacks.append(callback)

        def cancel() -> None:
            if callback in callbacks:
                callbacks.remove(callback)

        return cancel

    def push_live(self, camera_id: str, frame: Mapping[str, object]) -> None:
        """Hand ``frame`` to the camera's live subscribers (as a pipeline would)."""
        for callback in list(self._live.get(camera_id, ())):
            callback(frame)

    def snapshot(self, camera_id: str) -> bytes | None:
        """A tiny JPEG for an online camera, else ``None``."""
        status = self._statuses.get(camera_id)
        return tiny_jpeg() if status is not None and status.state == "online" else None

    async def close(self) -> None:
        """Forget every camera."""
        self.closed = True
        self._statuses.clear()

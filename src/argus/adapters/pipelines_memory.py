"""An in-memory ``PipelineSupervisor``: records what it is asked to run, runs no video.

Used by API tests and wherever a control plane must work without cameras. After
``apply`` an enabled camera reports ``online`` at its detect fps and serves a
tiny grey JPEG as its snapshot, and its ``capture`` is a real but tiny one (that
JPEG, and an MP4 of it over the window); a disabled one reports ``disabled``
and has neither. ``fail`` puts a camera into ``error`` for tests of degraded
states.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from argus.domain.cameras import Camera, Line, Zone, utc_now
from argus.domain.live import LiveFrame
from argus.ports.pipelines import CameraStatus, Capture, LiveCallback

__all__ = ["AppliedConfig", "MemoryPipelines", "tiny_capture", "tiny_jpeg"]


@functools.cache
def tiny_jpeg() -> bytes:
    """A valid 16x16 grey JPEG image."""
    import cv2
    import numpy as np

    ok, data = cv2.imencode(".jpg", np.full((16, 16, 3), 128, dtype=np.uint8))
    if not ok:  # pragma: no cover - OpenCV always encodes a plain image
        raise RuntimeError("OpenCV could not encode a JPEG")
    return bytes(data.tobytes())


def tiny_capture(at: datetime, pre_s: float, post_s: float) -> Capture:
    """A capture of ``tiny_jpeg`` frames at ``at - pre_s``, ``at`` and ``at + post_s``.

    The clip is a real MP4 (encoded like the edge worker's), so whatever
    stores or serves evidence can be tested on it.

    Raises:
        ConfigError: A naive ``at`` or a negative ``pre_s`` / ``post_s``.
    """
    from argus.adapters.pipelines.clips import RingFrame, check_window, encode_clip

    check_window(at, pre_s, post_s)
    jpeg = tiny_jpeg()
    times = sorted({at - timedelta(seconds=pre_s), at, at + timedelta(seconds=post_s)})
    frames = [RingFrame(at=t, jpeg=jpeg, width=16, height=16) for t in times]
    span = (times[-1] - times[0]).total_seconds()
    fps = (len(times) - 1) / span if span > 0 else 1.0
    return Capture(
        snapshot=jpeg,
        snapshot_at=at,
        clip=encode_clip(frames, max(fps, 1.0)),
        start=times[0],
        end=times[-1],
        frames=len(frames),
        fps=round(fps, 3),
        width=16,
        height=16,
    )


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

    def saturate(self, camera_id: str, target_fps: float, granted_fps: float) -> None:
        """Show a camera as a shared scheduler would: granted below its target when
        ``granted_fps < target_fps``."""
        current = self._statuses[camera_id]
        self._statuses[camera_id] = dataclasses.replace(
            current,
            target_fps=target_fps,
            granted_fps=granted_fps,
            saturated=granted_fps < target_fps,
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

    def push_live(self, camera_id: str, frame: LiveFrame) -> None:
        """Hand ``frame`` to the camera's live subscribers (as a pipeline would)."""
        for callback in list(self._live.get(camera_id, ())):
            callback(frame)

    def snapshot(self, camera_id: str) -> bytes | None:
        """A tiny JPEG for an online camera, else ``None``."""
        status = self._statuses.get(camera_id)
        return tiny_jpeg() if status is not None and status.state == "online" else None

    async def capture(
        self, camera_id: str, at: datetime, *, pre_s: float, post_s: float
    ) -> Capture | None:
        """``tiny_capture`` for an online camera (without waiting), else ``None``.

        Raises:
            ConfigError: A naive ``at`` or a negative ``pre_s`` / ``post_s``.
        """
        from argus.adapters.pipelines.clips import check_window

        check_window(at, pre_s, post_s)
        status = self._statuses.get(camera_id)
        if status is None or status.state != "online":
            return None
        return await asyncio.to_thread(tiny_capture, at, pre_s, post_s)

    async def close(self) -> None:
        """Forget every camera."""
        self.closed = True
        self._statuses.clear()

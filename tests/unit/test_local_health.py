"""The embedded worker's cameras raise and clear camera health events like an edge node's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from argus.adapters.bus.memory import MemoryEventBus
from argus.adapters.db.memory import MemoryDatabase
from argus.domain.cameras import Camera
from argus.domain.node_events import HealthLimits
from argus.ports.pipelines import CameraState, CameraStatus
from argus.services.local_health import LocalCameraWatch

pytestmark = pytest.mark.anyio

T0 = datetime(2026, 12, 6, 3, 0, tzinfo=UTC)


def _camera(camera_id: str, *, node: str | None = None) -> Camera:
    return Camera(
        id=camera_id,
        name=camera_id,
        stream_url="file:///clip.mp4",
        detect_fps=5.0,
        edge_node_id=node,
        created_at=T0,
        updated_at=T0,
    )


def _status(camera_id: str, state: CameraState, fps: float = 5.0) -> CameraStatus:
    return CameraStatus(camera_id, state, None, 25.0, 25.0, fps, T0)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


async def test_local_cameras_raise_and_clear_offline_and_fps_low_and_skip_edge_cameras() -> None:
    db, bus, clock = MemoryDatabase(), MemoryEventBus(), Clock()
    await db.cameras.add(_camera("gate"))
    await db.cameras.add(_camera("yard"))
    await db.cameras.add(_camera("remote", node="edge-1"))
    statuses = [_status("gate", "online"), _status("yard", "offline"), _status("remote", "error")]
    watch = LocalCameraWatch(
        db,
        bus,
        "events",
        lambda: statuses,
        node_id="argus",
        limits=HealthLimits(fps_low_ratio=0.5),
        interval_s=30.0,
        clock=clock,
    )

    first = await watch.check()
    # The edge camera is its node's business; a camera seen online first raises nothing.
    assert [(e.type, e.source.camera_id) for e in first] == [("camera.offline", "yard")]
    assert first[0].source.edge_node_id == "argus"
    assert await db.events.exists(first[0].event_id)

    clock.now += timedelta(seconds=30)
    statuses[:] = [_status("gate", "online", fps=1.0), _status("yard", "online")]
    second = await watch.check()
    assert sorted((e.type, e.source.camera_id) for e in second) == [
        ("camera.fps_low", "gate"),
        ("camera.online", "yard"),
    ]

    clock.now += timedelta(seconds=30)
    statuses[:] = [_status("gate", "online"), _status("yard", "online")]
    third = await watch.check()
    assert [(e.type, e.source.camera_id) for e in third] == [("camera.fps_recovered", "gate")]
    assert await watch.check() == ()

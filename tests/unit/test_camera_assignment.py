"""Cameras assigned to an edge node run there, not on the embedded worker."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np
import numpy.typing as npt
import pydantic
import pytest

from argus.adapters.db.memory import MemoryDatabase
from argus.api.schemas.cameras import CameraCreate, CameraPublic, CameraUpdate
from argus.domain.actor import Actor
from argus.domain.cameras import Camera, Line, Zone
from argus.domain.errors import ValidationError
from argus.ports.pipelines import CameraStatus
from argus.ports.video import VideoSource
from argus.services.cameras import CameraChanges, CameraService, NewCamera
from argus.services.writes import UNSET

pytestmark = pytest.mark.anyio

ADMIN = Actor(principal=None, ip="203.0.113.9", name="cli:root")
WHEN = datetime(2026, 12, 6, 8, 0, tzinfo=UTC)


class RecordingPipelines:
    """A supervisor that records what it was asked to run (no video)."""

    def __init__(self) -> None:
        self.running: dict[str, Camera] = {}
        self.calls: list[tuple[str, str]] = []

    async def apply(self, camera: Camera, lines: Sequence[Line], zones: Sequence[Zone]) -> None:
        self.calls.append(("apply", camera.id))
        self.running[camera.id] = camera

    async def remove(self, camera_id: str) -> None:
        self.calls.append(("remove", camera_id))
        self.running.pop(camera_id, None)

    def status(self, camera_id: str) -> CameraStatus | None:
        if camera_id not in self.running:
            return None
        return CameraStatus(camera_id, "online", None, 5.0, 5.0, 5.0, WHEN)

    def statuses(self) -> list[CameraStatus]:
        return []

    def subscribe_live(self, camera_id: str, callback: Any) -> Callable[[], None]:
        return lambda: None

    def snapshot(self, camera_id: str) -> bytes | None:
        return None

    async def capture(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError

    async def close(self) -> None:
        return None


def _no_probe(target: str, timeout_s: float) -> VideoSource:
    raise AssertionError("no probe in these tests")


def _no_jpeg(image: npt.NDArray[np.uint8]) -> bytes:
    raise AssertionError("no encoding in these tests")


def _allow(target: str, *, unresolved_ok: bool = False) -> str:
    return target


def _service(
    db: MemoryDatabase,
    pipelines: RecordingPipelines,
    remote: Callable[[Camera], Any] | None = None,
) -> CameraService:
    return CameraService(
        db,
        pipelines,
        open_probe=_no_probe,
        encode_jpeg=_no_jpeg,
        check_source=_allow,
        remote_status=remote,
    )


async def test_an_assigned_camera_leaves_the_embedded_worker() -> None:
    db, pipelines = MemoryDatabase(), RecordingPipelines()
    service = _service(db, pipelines)
    local = await service.create_camera(ADMIN, NewCamera(name="A", stream_url="rtsp://a/1"))
    remote = await service.create_camera(
        ADMIN, NewCamera(name="B", stream_url="rtsp://b/1", edge_node_id="node-1")
    )
    assert set(pipelines.running) == {local.id}
    assert ("remove", remote.id) in pipelines.calls
    change = await service.update_camera(ADMIN, local.id, CameraChanges(edge_node_id="node-1"))
    assert change.camera.edge_node_id == "node-1"
    assert pipelines.running == {}
    assert [c.id for c in await service.cameras_for_node("node-1")] == [local.id, remote.id]
    back = await service.update_camera(ADMIN, remote.id, CameraChanges(edge_node_id=None))
    assert back.camera.edge_node_id is None
    assert set(pipelines.running) == {remote.id}
    assert [c.id for c in await service.cameras_for_node("node-1")] == [local.id]


async def test_resume_runs_only_local_cameras() -> None:
    db, pipelines = MemoryDatabase(), RecordingPipelines()
    service = _service(db, pipelines)
    local = await service.create_camera(ADMIN, NewCamera(name="A", stream_url="rtsp://a/1"))
    await service.create_camera(
        ADMIN, NewCamera(name="B", stream_url="rtsp://b/1", edge_node_id="node-1")
    )
    fresh = RecordingPipelines()
    assert await _service(db, fresh).resume() == 2
    assert set(fresh.running) == {local.id}


async def test_the_status_of_an_assigned_camera_comes_from_its_node() -> None:
    db, pipelines = MemoryDatabase(), RecordingPipelines()
    asked: list[str] = []

    async def remote(camera: Camera) -> CameraStatus | None:
        asked.append(camera.id)
        return CameraStatus(camera.id, "online", None, 25.0, 25.0, 4.0, WHEN)

    service = _service(db, pipelines, remote)
    camera = await service.create_camera(
        ADMIN, NewCamera(name="B", stream_url="rtsp://b/1", edge_node_id="node-1")
    )
    assert (await service.status(camera.id)).fps_in == 25.0
    assert asked == [camera.id]
    unknown = await _service(db, pipelines).status(camera.id)
    assert unknown.state == "offline"


async def test_a_malformed_node_id_is_refused() -> None:
    service = _service(MemoryDatabase(), RecordingPipelines())
    with pytest.raises(ValidationError):
        await service.create_camera(
            ADMIN, NewCamera(name="B", stream_url="rtsp://b/1", edge_node_id="Node 1")
        )


def test_the_camera_schemas_carry_the_assignment() -> None:
    made = CameraCreate.model_validate(
        {"name": "B", "stream_url": "rtsp://b/1", "edge_node_id": "node-1"}
    )
    assert made.command().edge_node_id == "node-1"
    with pytest.raises(pydantic.ValidationError):
        CameraCreate.model_validate({"name": "B", "stream_url": "rtsp://b/1", "edge_node_id": "N"})
    assert CameraUpdate.model_validate({"edge_node_id": None}).command().edge_node_id is None
    assert CameraUpdate.model_validate({"name": "x"}).command().edge_node_id is UNSET
    camera = Camera(id="c", name="C", stream_url="rtsp://c/1", edge_node_id="node-2")
    assert CameraPublic.of(camera).edge_node_id == "node-2"

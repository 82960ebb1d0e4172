"""The model registry over real packs, a real camera worker and every store.

Two versions of one imported pack (the second import keeps the first on disk)
are registered, assigned to a camera, promoted to two and rolled back; the
camera's runs publish ``model.running`` with the version they really run.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path

import anyio
import cv2
import numpy as np
import pytest

from argus.adapters.bus.memory import MemoryEventBus
from argus.adapters.db.memory import MemoryDatabase
from argus.adapters.pipelines import RestartPolicy, SourceOptions
from argus.adapters.pipelines.model_runs import MODEL_RUNNING
from argus.adapters.video._imaging import encode_jpeg
from argus.bootstrap.container import Container, build_container
from argus.bootstrap.edge import edge_pipelines
from argus.config import Settings
from argus.domain.actor import Actor
from argus.domain.backoff import BackoffPolicy
from argus.domain.cameras import Camera
from argus.domain.errors import NotFoundError, PermissionDeniedError, ValidationError
from argus.domain.identity import Principal
from argus.ports.audit import AuditFilter
from argus.ports.pipelines import PipelineSupervisor
from argus.ports.repositories import Database
from argus.services.cameras import CameraService
from argus.services.model_registry import ModelRegistry
from tests.auth_support import TEST_DENY_NETWORKS
from tests.factories import Candidate, write_yolo_model, yolo_output
from tests.integration import test_repositories_contract as contract
from tests.integration.test_repositories_contract import Store

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

store = contract.store

WAIT = 120.0
"""Seconds to wait for a camera's new run; generous for a loaded 2-core machine."""

ADMIN = Actor(principal=None, ip="203.0.113.9", name="user:root")
T0 = datetime(2026, 12, 7, 1, 0, tzinfo=UTC)
SOURCES = SourceOptions(
    realtime_files=False,
    loop_files=True,
    open_timeout=20.0,
    read_timeout=5.0,
    backoff=BackoffPolicy(initial=0.2, max_delay=1.0),
)
FAST = RestartPolicy(backoff=BackoffPolicy(initial=0.2, max_delay=1.0), stall_s=30.0)


class Clock:
    """A clock that moves a minute at each reading."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        self.now += timedelta(minutes=1)
        return self.now


def _import(container: Container, tmp: Path, class_id: int) -> str:
    """Import a 64 px toy detector that finds one box of ``class_id``; its version."""
    base = yolo_output("yolov8", [Candidate(32, 32, 20, 20, class_id, 0.9)], 3, rows=10)
    model = write_yolo_model(tmp / f"toy-{class_id}.onnx", base, input_size=64)
    names = tmp / "names.txt"
    names.write_text("person\ncar\nbicycle\n")
    return container.import_model("toy", model, names_file=names).version


@pytest.fixture(scope="module")
def packs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Container, str, str, Path]:
    root = tmp_path_factory.mktemp("registry")
    settings = Settings(
        data_dir=root / "data",
        media_dirs=str(root),
        camera_deny_networks=TEST_DENY_NETWORKS,
    )
    container = build_container(settings)
    first = _import(container, root, 0)
    second = _import(container, root, 2)
    video = root / "clip.avi"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter.fourcc(*"MJPG"), 10.0, (64, 64))
    for i in range(20):
        writer.write(np.full((64, 64, 3), 40 + 8 * i, np.uint8))
    writer.release()
    return container, first, second, video


def _registry(db: Database, container: Container, pipelines: PipelineSupervisor) -> ModelRegistry:
    cameras = CameraService(
        db,
        pipelines,
        open_probe=lambda target, timeout_s: pytest.fail("no probes here"),
        encode_jpeg=encode_jpeg,
        check_source=lambda target, *, unresolved_ok=False: target,
    )
    return ModelRegistry(db, container.models, cameras, Clock())


async def _add_camera(db: Database, camera_id: str, url: str) -> Camera:
    camera = Camera(id=camera_id, name=camera_id, stream_url=url, detect_fps=5.0, model="toy")
    await db.cameras.add(camera)
    return camera


async def test_versions_assign_promote_and_rollback_are_recorded_and_audited(
    store: Store, packs: tuple[Container, str, str, Path]
) -> None:
    container, first, second, video = packs
    bus = MemoryEventBus()
    edge = edge_pipelines(container.settings, bus, container=container, sources=SOURCES)
    try:
        registry = _registry(store.db, container, edge)
        for camera_id in ("cam-1", "cam-2", "cam-3"):
            await _add_camera(store.db, camera_id, str(video))
        catalog = {p.name: p for p in await registry.catalog(ADMIN)}
        toy = catalog["toy"]
        assert toy.current_version == second
        assert [(v.version.version, v.current, v.on_disk) for v in toy.versions] == [
            (first, False, True),
            (second, True, True),
        ]
        assert toy.versions[1].cameras == ("cam-1", "cam-2", "cam-3")  # "toy" runs the current
        assert await registry.sync() == 0  # registered once

        pinned = await registry.assign(ADMIN, "cam-1", f"toy@{first}")
        assert (pinned.assigned, pinned.resolved) == (f"toy@{first}", f"toy@{first}")
        promoted = await registry.promote(ADMIN, f"toy@{second}", ["cam-2", "cam-1"])
        assert [c.assigned for c in promoted] == [f"toy@{second}"] * 2
        back = await registry.rollback(ADMIN, "cam-1")
        assert back.assigned == f"toy@{first}"
        assert [(a.action, a.ref, a.previous_ref) for a in back.history] == [
            ("rollback", f"toy@{first}", f"toy@{second}"),
            ("promote", f"toy@{second}", f"toy@{first}"),
            ("assign", f"toy@{first}", "toy"),
        ]
        assert back.history[0].by == "user:root"
        assert (await store.db.cameras.get("cam-2")).model == f"toy@{second}"
        catalog = {p.name: p for p in await registry.catalog(ADMIN)}
        assert [v.cameras for v in catalog["toy"].versions] == [("cam-1",), ("cam-2", "cam-3")]

        audit = await store.db.audit.records(where=AuditFilter(action="model.assign"))
        hows = sorted((r.entry.target, r.entry.details["how"]) for r in audit)
        assert hows == [
            ("camera:cam-1", "assign"),
            ("camera:cam-1", "promote"),
            ("camera:cam-1", "rollback"),
            ("camera:cam-2", "promote"),
        ]
        registered = await store.db.audit.records(
            where=AuditFilter(action="model.version.register")
        )
        assert sorted(r.entry.target for r in registered) == sorted(
            [f"model:toy@{first}", f"model:toy@{second}"]
        )
    finally:
        await edge.close()
        await bus.close()


async def test_refusals_change_nothing(
    store: Store, packs: tuple[Container, str, str, Path]
) -> None:
    container, first, _, video = packs
    bus = MemoryEventBus()
    edge = edge_pipelines(container.settings, bus, container=container, sources=SOURCES)
    try:
        registry = _registry(store.db, container, edge)
        await _add_camera(store.db, "cam-1", str(video))
        await _add_camera(store.db, "cam-2", str(video))
        with pytest.raises(NotFoundError):
            await registry.assign(ADMIN, "cam-1", "toy@no-such-version")
        with pytest.raises(NotFoundError):
            await registry.assign(ADMIN, "cam-1", "nothing-built")
        with pytest.raises(ValidationError):
            await registry.assign(ADMIN, "cam-1", "Bad Name@1")
        with pytest.raises(ValidationError):
            await registry.rollback(ADMIN, "cam-1")  # never changed through the registry
        with pytest.raises(ValidationError):
            await registry.promote(ADMIN, f"toy@{first}", ["cam-1", "cam-1"])
        with pytest.raises(NotFoundError):  # every camera is checked before any changes
            await registry.promote(ADMIN, f"toy@{first}", ["cam-1", "nope"])
        scoped = Actor(
            Principal(
                kind="user",
                id="u1",
                name="ops",
                permissions=frozenset({"configure", "view"}),
                cameras=frozenset({"cam-1"}),
            )
        )
        with pytest.raises(PermissionDeniedError):
            await registry.promote(scoped, f"toy@{first}", ["cam-1", "cam-2"])
        with pytest.raises(NotFoundError):
            await registry.camera_model(scoped, "cam-2")
        assert [(await store.db.cameras.get(c)).model for c in ("cam-1", "cam-2")] == ["toy"] * 2
        assert await store.db.model_registry.assignments("cam-1") == ()
        visible = {p.name: p for p in await registry.catalog(scoped)}
        assert visible["toy"].versions[1].cameras == ("cam-1",)
    finally:
        await edge.close()
        await bus.close()


@pytest.mark.slow
async def test_a_camera_runs_the_version_it_is_assigned(
    packs: tuple[Container, str, str, Path],
) -> None:
    container, first, second, video = packs
    db = MemoryDatabase()
    bus = MemoryEventBus()
    marked = container.settings.model_copy(update={"model_run_events": True})
    edge = edge_pipelines(marked, bus, container=container, sources=SOURCES, restart=FAST)
    subscription = await bus.subscribe(edge.subject, durable="registry-test")
    try:
        registry = _registry(db, container, edge)
        camera = await _add_camera(db, "cam-1", str(video))

        async def next_run() -> tuple[str, str]:
            with anyio.fail_after(WAIT):
                async for delivery in subscription:
                    await delivery.ack()
                    event = delivery.envelope
                    if event.type == MODEL_RUNNING and event.source.camera_id == "cam-1":
                        return str(event.payload["model_ref"]), str(event.payload["assigned"])
            raise AssertionError("the subscription ended")

        await edge.apply(dataclasses.replace(camera), [], [])
        assert await next_run() == (f"toy@{second}", "toy")
        await registry.assign(ADMIN, "cam-1", f"toy@{first}")
        assert await next_run() == (f"toy@{first}", f"toy@{first}")
        await registry.promote(ADMIN, f"toy@{second}", ["cam-1"])
        assert await next_run() == (f"toy@{second}", f"toy@{second}")
        await registry.rollback(ADMIN, "cam-1")
        assert await next_run() == (f"toy@{first}", f"toy@{first}")
    finally:
        await subscription.close()
        await edge.close()
        await bus.close()

"""The shared inference scheduler in the camera pipelines: fair grants, enforced and shown.

Real file cameras (H.264 clips written with PyAV, looped in real time like a
camera) run through ``EdgePipelines`` with a ``SharedInference``. The detector
is ``BrightPerson`` (a person in every bright frame) or the real yolov7-tiny,
behind a ``MeteredDetector`` whose images cost a fixed time on the scheduler's
clock: the capacity the governor measures is exact (0.95 / cost images/s), so the
saturation and the grants are known numbers on any machine. Waits are bounded.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from argus.adapters.bus.memory import MemoryEventBus
from argus.adapters.pipelines import (
    EdgePipelines,
    RestartPolicy,
    SourceOptions,
    WorkerDeps,
    open_camera,
)
from argus.adapters.pipelines.inference import SharedInference
from argus.bootstrap.container import Container, build_container
from argus.config import Settings
from argus.domain.backoff import BackoffPolicy
from argus.domain.cameras import Camera
from argus.domain.live import LiveFrame
from argus.ports.detector import Detector
from argus.ports.pipelines import CameraStatus
from argus.scene import DetectSpec
from tests.auth_support import TEST_DENY_NETWORKS
from tests.scheduler_support import BrightPerson, InferenceClock, MeteredDetector, solid_clip

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.anyio]

WAIT = 120.0
"""Seconds a test waits for a state; generous for a loaded 2-core machine."""

FAST = RestartPolicy(backoff=BackoffPolicy(initial=0.2, max_delay=1.0), stall_s=30.0)
REALTIME = SourceOptions(realtime_files=True, loop_files=True)


@pytest.fixture(scope="module")
def container(tmp_path_factory: pytest.TempPathFactory) -> Container:
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("argus-sched-wiring"),
        media_dirs=str(tmp_path_factory.getbasetemp()),
        camera_deny_networks=TEST_DENY_NETWORKS,
    )
    return build_container(settings)


@dataclasses.dataclass
class Rig:
    """Pipelines over one metered detector, and what their cameras analysed."""

    edge: EdgePipelines
    inference: SharedInference
    detector: MeteredDetector
    analysed: dict[str, list[float]]

    def watch(self, camera_id: str) -> None:
        seen = self.analysed.setdefault(camera_id, [])

        def add(frame: LiveFrame) -> None:
            seen.append(frame.timestamp)

        self.edge.subscribe_live(camera_id, add)


@pytest.fixture
async def rig(container: Container) -> AsyncIterator[Rig]:
    clock = InferenceClock()
    detector = MeteredDetector(BrightPerson(), clock, 0.1)
    inference = SharedInference(max_batch=8, timeout_s=30.0, clock=clock)
    bus = MemoryEventBus()

    def shared(spec: DetectSpec) -> Detector:
        del spec
        return detector

    edge = EdgePipelines(
        bus,
        WorkerDeps(
            detector=shared,
            tracker=container.tracker,
            source=lambda camera: open_camera(camera, REALTIME),
            inference=inference,
        ),
        restart=FAST,
        ring_seconds=0,
        tamper_checks_per_s=0.0,
    )
    try:
        yield Rig(edge, inference, detector, {})
    finally:
        await edge.close()
        await bus.close()
    assert inference.stats() == ()  # the scheduler stopped with its last camera


def camera(camera_id: str, clip: Path) -> Camera:
    return Camera(id=camera_id, name=camera_id, stream_url=str(clip), detect_fps=5.0)


async def until(check: Callable[[], bool], what: str, edge: EdgePipelines) -> None:
    deadline = time.monotonic() + WAIT
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}: {edge.statuses()}")
        await asyncio.sleep(0.1)


def grants(edge: EdgePipelines) -> dict[str, CameraStatus]:
    return {s.camera_id: s for s in edge.statuses()}


def gaps_after(times: list[float], start: int) -> list[float]:
    """Stream-time gaps between analysed frames from ``start`` on (a loop's restart left out)."""
    return [round(b - a, 6) for a, b in itertools.pairwise(times[start:]) if b > a]


async def test_saturation_gives_the_busy_camera_twice_the_share_of_each_quiet_one(
    rig: Rig, tmp_path: Path
) -> None:
    bright = solid_clip(tmp_path / "bright.mp4", level=200, seconds=30)
    dark = solid_clip(tmp_path / "dark.mp4", level=20, seconds=30)
    cameras = [camera("busy", bright)] + [camera(f"quiet-{i}", dark) for i in range(3)]
    for cam in cameras:
        rig.watch(cam.id)
        await rig.edge.apply(cam, [], [])

    # 4 x 5 fps asked of 9.5 images/s, far above it: all 9.5 handed out, a floor of
    # 0.5 each, the other 7.5 shared 2:1:1:1 (the busy camera finds and tracks someone).
    def settled() -> bool:
        now = grants(rig.edge)
        return (
            len(now) == 4
            and now["busy"].granted_fps == pytest.approx(3.5, abs=0.01)
            and all(now[f"quiet-{i}"].granted_fps == pytest.approx(2.0, abs=0.01) for i in range(3))
        )

    await until(settled, "the saturated grants", rig.edge)
    now = grants(rig.edge)
    assert all(status.saturated for status in now.values())
    assert {status.target_fps for status in now.values()} == {5.0}
    marks = {c: len(t) for c, t in rig.analysed.items()}
    await until(
        lambda: (
            all(len(rig.analysed[f"quiet-{i}"]) >= marks[f"quiet-{i}"] + 5 for i in range(3))
            and len(rig.analysed["busy"]) >= marks["busy"] + 10
        ),
        "frames analysed at the grants",
        rig.edge,
    )
    # Quiet cameras at 2 fps: every 2nd or 3rd frame of their 5-fps stream, never fewer.
    for i in range(3):
        gaps = gaps_after(rig.analysed[f"quiet-{i}"], marks[f"quiet-{i}"])
        assert gaps
        assert all(0.4 - 1e-6 <= g <= 0.6 + 1e-6 for g in gaps), gaps
    # The busy camera at 3.5 fps: every frame or every 2nd.
    busy = gaps_after(rig.analysed["busy"], marks["busy"])
    assert busy
    assert all(0.2 - 1e-6 <= g <= 0.4 + 1e-6 for g in busy), busy
    for cam in cameras:
        detail = rig.edge.detail(cam.id)
        assert detail is not None
        assert detail.events_dropped == 0


async def test_a_box_within_capacity_grants_every_target(rig: Rig, tmp_path: Path) -> None:
    rig.detector.cost_s = 0.01  # 95 images/s for 10 asked
    dark = solid_clip(tmp_path / "dark.mp4", level=20, seconds=30)
    for i in range(2):
        rig.watch(f"cam-{i}")
        await rig.edge.apply(camera(f"cam-{i}", dark), [], [])
    await until(
        lambda: all(len(rig.analysed.get(f"cam-{i}", [])) >= 10 for i in range(2)),
        "analysed frames",
        rig.edge,
    )
    for status in rig.edge.statuses():
        assert (status.target_fps, status.granted_fps, status.saturated) == (5.0, 5.0, False)
    (stats,) = rig.edge.inference_stats()
    assert not stats.saturated
    assert stats.batches_run > 0


async def test_a_removed_camera_leaves_the_schedule(rig: Rig, tmp_path: Path) -> None:
    dark = solid_clip(tmp_path / "dark.mp4", level=20, seconds=30)
    for i in range(2):
        rig.watch(f"cam-{i}")
        await rig.edge.apply(camera(f"cam-{i}", dark), [], [])
    await until(
        lambda: all(len(rig.analysed.get(f"cam-{i}", [])) >= 2 for i in range(2)),
        "analysed frames",
        rig.edge,
    )
    await rig.edge.remove("cam-1")
    (stats,) = rig.edge.inference_stats()
    served = {c.camera_id: c.grant for c in stats.cameras}
    assert served["cam-1"] is None  # its counters stay, its demand is gone
    assert served["cam-0"] is not None

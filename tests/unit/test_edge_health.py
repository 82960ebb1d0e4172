"""``HealthReporter``: node, outbox, link and camera health in one report, through the outbox."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from argus.adapters.edge.outbox_memory import MemoryOutbox
from argus.domain.edge import NodeHealth, NodeState, OutboxItem
from argus.domain.event_ids import new_event_id
from argus.ports.pipelines import CameraStatus
from argus.services.edge_health import HealthReporter, SystemStats, camera_health

pytestmark = pytest.mark.anyio

NOW = datetime(2026, 12, 6, 8, 0, tzinfo=UTC)
NODE = "node-1"


class Link:
    def __init__(self) -> None:
        self.state: NodeState = "buffering"
        self.clock_offset_s: float | None = -0.25
        self.wakes = 0

    def wake(self) -> None:
        self.wakes += 1


class Statuses:
    def __init__(self, *statuses: CameraStatus) -> None:
        self.items = list(statuses)

    def statuses(self) -> list[CameraStatus]:
        return list(self.items)


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


def _status(camera_id: str, **extra: object) -> CameraStatus:
    return CameraStatus(
        camera_id,
        "online",
        None,
        12.5,
        12.5,
        4.9,
        NOW,
        restarts=3,
        **extra,  # type: ignore[arg-type]
    )


async def _until(check: Callable[[], bool], timeout: float = 10.0) -> None:
    """Poll ``check`` (a bounded wait: the reporter works in a thread)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not check():
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(0.01)


def _probe() -> SystemStats:
    return SystemStats(
        cpu_percent=37.5,
        memory_percent=61.0,
        disk_free_bytes=5 << 30,
        disk_total_bytes=32 << 30,
        temperature_c=54.0,
    )


def _reporter(
    outbox: MemoryOutbox, statuses: Statuses, link: Link, clock: Clock, delays: list[float]
) -> HealthReporter:
    async def sleep(seconds: float) -> None:
        delays.append(seconds)
        clock.now += timedelta(seconds=seconds)
        await asyncio.sleep(0)

    return HealthReporter(
        node_id=NODE,
        outbox=outbox,
        pipelines=statuses,
        link=link,
        probe=_probe,
        versions={"argus": "1.2.3", "python": "3.12"},
        interval=lambda: 30.0,
        clock=clock,
        sleep=sleep,
    )


def test_a_camera_status_maps_to_its_health() -> None:
    status = _status(
        "cam-a",
        tamper="covered",
        tamper_score=0.93,
        decode_errors=7,
        last_frame_at=NOW - timedelta(seconds=2.5),
    )
    health = camera_health(status, NOW)
    assert health.camera_id == "cam-a"
    assert health.state == "online"
    assert (health.fps_in, health.fps_analysed) == (12.5, 4.9)
    assert (health.decode_errors, health.reconnects) == (7, 3)
    assert health.last_frame_age_s == 2.5
    assert (health.tamper, health.tamper_score) == ("covered", 0.93)


def test_a_camera_carries_its_inference_grant() -> None:
    status = _status("cam-a", target_fps=10.0, granted_fps=6.5, saturated=True)
    health = camera_health(status, NOW)
    assert (health.target_fps, health.granted_fps, health.saturated) == (10.0, 6.5, True)
    report = _reporter(MemoryOutbox(), Statuses(status), Link(), Clock(), []).build()
    assert NodeHealth.from_dict(report.to_dict()).cameras == (health,)


def test_a_camera_without_a_scheduler_has_no_grant() -> None:
    health = camera_health(_status("cam-a"), NOW)
    assert (health.target_fps, health.granted_fps, health.saturated) == (None, None, False)


def test_a_camera_before_its_first_frame_has_no_frame_age() -> None:
    health = camera_health(_status("cam-a"), NOW)
    assert health.last_frame_age_s is None
    assert (health.tamper, health.tamper_score) == ("ok", 0.0)


async def test_a_report_goes_into_the_outbox_and_wakes_the_syncer() -> None:
    outbox, link, clock = MemoryOutbox(), Link(), Clock()
    outbox.append(
        [OutboxItem(id=new_event_id(NOW), kind="event", body={"x": 1})],
        at=NOW - timedelta(seconds=90),
    )
    statuses = Statuses(_status("cam-a", last_frame_at=NOW), _status("cam-b"))
    reporter = _reporter(outbox, statuses, link, clock, [])
    report = await reporter.report()
    assert link.wakes == 1
    assert reporter.latest == report
    stored = outbox.peek(10, 1 << 20)
    assert [s.item.kind for s in stored] == ["event", "health"]
    health = NodeHealth.from_dict(stored[1].item.body)
    assert health == report
    assert stored[1].item.id == health.report_id
    assert health.node_id == NODE
    assert health.at == NOW
    assert health.state == "buffering"
    assert health.clock_offset_s == -0.25
    assert (health.cpu_percent, health.memory_percent, health.temperature_c) == (37.5, 61.0, 54.0)
    assert (health.disk_free_bytes, health.disk_total_bytes) == (5 << 30, 32 << 30)
    # The outbox as it was when the report was made: one event, 90 s old.
    assert health.outbox_items == 1
    assert health.outbox_oldest_age_s == 90.0
    assert health.versions == {"argus": "1.2.3", "python": "3.12"}
    assert [c.camera_id for c in health.cameras] == ["cam-a", "cam-b"]


async def test_reports_come_every_interval_with_distinct_ids() -> None:
    outbox, link, clock = MemoryOutbox(), Link(), Clock()
    delays: list[float] = []
    reporter = _reporter(outbox, Statuses(), link, clock, delays)
    for _ in range(3):
        await reporter.report()
        clock.now += timedelta(seconds=30)
    reports = [NodeHealth.from_dict(s.item.body) for s in outbox.peek(10, 1 << 20)]
    assert len({r.report_id for r in reports}) == 3
    assert [r.at for r in reports] == [NOW + timedelta(seconds=30 * i) for i in range(3)]


async def test_the_loop_reports_at_once_then_every_interval() -> None:
    outbox, link, clock = MemoryOutbox(), Link(), Clock()
    delays: list[float] = []
    reporter = _reporter(outbox, Statuses(), link, clock, delays)
    reporter.start()
    try:
        await _until(lambda: outbox.stats(clock.now).items >= 3)
    finally:
        await reporter.stop()
    assert outbox.stats(clock.now).items >= 3
    assert set(delays) == {30.0}


async def test_a_closed_outbox_is_logged_and_the_loop_goes_on() -> None:
    outbox, link, clock = MemoryOutbox(), Link(), Clock()
    delays: list[float] = []
    outbox.close()
    reporter = _reporter(outbox, Statuses(), link, clock, delays)
    reporter.start()
    try:
        await _until(lambda: len(delays) >= 2)
    finally:
        await reporter.stop()
    assert len(delays) >= 2
    assert reporter.latest is None

"""``HealthReporter``: the edge node's health report, every interval, through the outbox.

Every ``interval`` seconds (30 by default; the control plane's configuration
may set another) the reporter builds one ``NodeHealth``: the machine (from
an injected ``SystemProbe``: CPU, memory, disk of the data directory,
temperature where readable), the outbox (depth, bytes, age of its oldest
item, what the overflow policy dropped, what the server quarantined), the
link (the syncer's state and the clock offset it estimated), the versions,
and each camera's pipeline (state, fps in and analysed, decode errors,
reconnects, age of its last frame, tamper state and score, and what the
shared inference scheduler grants it: target and granted fps, saturated). The report is
appended to the outbox as a ``health`` item, like any other, so reports made
while the link is down reach the server (oldest first) when it returns, and
the syncer is woken.

Camera offline and tamper *events* are not made here: tamper events come
from the camera workers (through the sink, with their before/after frames
as evidence), and the control plane derives ``camera.offline`` /
``camera.fps_low`` and the node events from these reports.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from argus.domain.edge import (
    TAMPER_STATES,
    CameraHealth,
    NodeHealth,
    NodeState,
    OutboxItem,
    TamperState,
)
from argus.domain.errors import ArgusError
from argus.domain.event_ids import new_event_id
from argus.domain.node_health import MAX_CLOCK_OFFSET_S
from argus.ports.edge_outbox import EdgeOutbox, OutboxStats
from argus.ports.pipelines import CameraStatus
from argus.services.background import TaskGroup

__all__ = ["HealthReporter", "LinkView", "SystemProbe", "SystemStats", "camera_health"]

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class SystemStats:
    """The node's machine at one moment.

    Attributes:
        cpu_percent: System-wide CPU use since the previous probe, in [0, 100].
        memory_percent: Memory in use, in [0, 100].
        disk_free_bytes: Free bytes on the disk of the data directory.
        disk_total_bytes: Size of that disk.
        temperature_c: A temperature where one is readable (the CPU's), else ``None``.
    """

    cpu_percent: float
    memory_percent: float
    disk_free_bytes: int
    disk_total_bytes: int
    temperature_c: float | None


SystemProbe = Callable[[], SystemStats]
"""Reads the machine's statistics (psutil in ``argus.adapters.edge.system``)."""


class LinkView(Protocol):
    """What the reporter reads from the node's syncer and how it wakes it."""

    @property
    def state(self) -> NodeState:
        """The link state: online, buffering or syncing."""
        ...

    @property
    def clock_offset_s(self) -> float | None:
        """Server time minus node time, estimated from replies (``None`` before one)."""
        ...

    def wake(self) -> None:
        """Ask for a sync now (called on the event loop)."""
        ...


class StatusSource(Protocol):
    """The part of the pipelines the reporter reads."""

    def statuses(self) -> list[CameraStatus]:
        """Every pipeline's latest status."""
        ...


def _tamper(value: object) -> TamperState:
    for state in TAMPER_STATES:
        if value == state:
            return state
    return "ok"


def _bounded(offset: float | None) -> float | None:
    """An offset the report may carry: a clock off by more than a century says that much."""
    if offset is None:
        return None
    return max(-MAX_CLOCK_OFFSET_S, min(MAX_CLOCK_OFFSET_S, offset))


def camera_health(status: CameraStatus, now: datetime) -> CameraHealth:
    """A camera's health from its pipeline's status at ``now``.

    ``fps_analysed`` is the detector's rate and ``reconnects`` the pipeline's
    restarts; the age of the last frame is ``None`` before the first frame.
    ``target_fps``, ``granted_fps`` and ``saturated`` are the shared inference
    scheduler's grant (``None``, ``None``, ``False`` where none serves the camera).
    """
    last = status.last_frame_at
    age = None if last is None else max(0.0, (now - last).total_seconds())
    return CameraHealth(
        camera_id=status.camera_id,
        state=status.state,
        fps_in=max(0.0, status.fps_in),
        fps_analysed=max(0.0, status.fps_detected),
        decode_errors=max(0, status.decode_errors),
        reconnects=max(0, status.restarts),
        last_frame_age_s=age,
        tamper=_tamper(status.tamper),
        tamper_score=min(1.0, max(0.0, status.tamper_score)),
        target_fps=_fps(status.target_fps),
        granted_fps=_fps(status.granted_fps),
        saturated=status.saturated,
    )


def _fps(value: float | None) -> float | None:
    """A scheduler's fps as a report carries it (clamped to ``[0, 1000]``)."""
    return None if value is None else min(1000.0, max(0.0, value))


class HealthReporter:
    """Makes a health report every interval and appends it to the outbox.

    Args:
        node_id: This node's id.
        outbox: The durable outbox.
        pipelines: The camera pipelines (their statuses).
        link: The syncer (state, clock offset, wake).
        probe: Reads the machine's statistics.
        versions: Versions to report (``argus``, ``onnxruntime``, ``python``...).
        interval: Seconds between reports, read before each wait (the
            configuration may change it).
        clock: The node's clock (aware UTC).
        sleep: Waits between reports (injected in tests).
    """

    def __init__(
        self,
        *,
        node_id: str,
        outbox: EdgeOutbox,
        pipelines: StatusSource,
        link: LinkView,
        probe: SystemProbe,
        versions: Mapping[str, str],
        interval: Callable[[], float],
        clock: Clock,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._node_id = node_id
        self._outbox = outbox
        self._pipelines = pipelines
        self._link = link
        self._probe = probe
        self._versions = dict(versions)
        self._interval = interval
        self._clock = clock
        self._sleep = sleep
        self._tasks = TaskGroup()
        self.latest: NodeHealth | None = None
        """The last report made (also what the node's own ``/health`` shows)."""

    def build(self) -> NodeHealth:
        """One report of the node as it is now, made on the calling thread (nothing stored)."""
        now = self._clock()
        statuses = self._pipelines.statuses()
        return self._compose(now, statuses, *self._measure(now))

    def _measure(self, now: datetime) -> tuple[SystemStats, OutboxStats]:
        return self._probe(), self._outbox.stats(now)

    def _compose(
        self,
        now: datetime,
        statuses: Sequence[CameraStatus],
        system: SystemStats,
        stats: OutboxStats,
    ) -> NodeHealth:
        return NodeHealth(
            report_id=new_event_id(now),
            node_id=self._node_id,
            at=now,
            state=self._link.state,
            cpu_percent=min(100.0, max(0.0, system.cpu_percent)),
            memory_percent=min(100.0, max(0.0, system.memory_percent)),
            disk_free_bytes=max(0, system.disk_free_bytes),
            disk_total_bytes=max(0, system.disk_total_bytes),
            temperature_c=system.temperature_c,
            outbox_items=stats.items,
            outbox_bytes=stats.bytes,
            outbox_oldest_age_s=stats.oldest_age_s,
            outbox_dropped=dict(stats.dropped),
            quarantined=stats.quarantined,
            clock_offset_s=_bounded(self._link.clock_offset_s),
            versions=self._versions,
            cameras=tuple(camera_health(s, now) for s in statuses),
        )

    async def report(self) -> NodeHealth:
        """Build a report, append it to the outbox (durably) and wake the syncer.

        The pipelines are read on the event loop (their state is the loop's);
        the machine and the outbox, which may block, in a worker thread.

        Raises:
            StorageError: The outbox could not store it.
        """
        now = self._clock()
        statuses = self._pipelines.statuses()
        system, stats = await asyncio.to_thread(self._measure, now)
        health = self._compose(now, statuses, system, stats)
        await asyncio.to_thread(self._outbox.append, [OutboxItem.of_health(health)], at=health.at)
        self.latest = health
        self._link.wake()
        return health

    async def run(self) -> None:
        """Report every interval until cancelled (the first report at once)."""
        while True:
            try:
                await self.report()
            except ArgusError:
                log.exception("could not make or store a health report")
            await self._sleep(self._interval())

    def start(self) -> None:
        """Start reporting in the background."""
        self._tasks.start(("edge-health", self.run))

    async def stop(self) -> None:
        """Stop reporting."""
        await self._tasks.stop()

"""Health of the cameras ``argus serve`` runs itself, turned into events like an edge node's.

An edge node's health reports become ``camera.offline`` / ``camera.online``
and ``camera.fps_low`` / ``camera.fps_recovered`` events on the control plane
(``EdgeSyncIntake``). The cameras of the embedded worker (those without an
``edge_node_id``) send no reports, so this watch reads their pipelines'
statuses every interval and derives the same camera events with the same
rules (``derive_events``), stored and published like any other event, so
that ordinary rules turn them into alerts and their clearing events clear
those alerts. Tamper events come from the pipelines themselves. Node-level
conditions (disk, outbox, clock) belong to edge nodes and are not derived
here.

The first look at a camera only raises (a camera found offline raises
``camera.offline``; one found online raises nothing). Event ids are derived
from the report, so a replay stores nothing twice.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime

from argus.domain.cameras import utc_now
from argus.domain.edge import NodeHealth
from argus.domain.errors import ArgusError
from argus.domain.event_ids import new_event_id
from argus.domain.events import Envelope
from argus.domain.node_events import HealthLimits, derive_events, derived_envelope
from argus.ports.bus import EventBus
from argus.ports.paging import MAX_PAGE, all_pages
from argus.ports.pipelines import CameraStatus
from argus.ports.repositories import Database
from argus.services.background import TaskGroup
from argus.services.edge_health import camera_health
from argus.services.intake import publish_stored

__all__ = ["LocalCameraWatch"]

log = logging.getLogger(__name__)


class LocalCameraWatch:
    """Derives camera health events for the embedded worker's cameras every interval.

    Args:
        database: The store (the cameras' configured analysis rates).
        bus: The event bus.
        subject: The subject events are published on.
        statuses: The embedded worker's pipeline statuses.
        node_id: This server's node id (the events' ``edge_node_id``).
        limits: The thresholds (``fps_low_ratio``).
        interval_s: Seconds between two looks.
        clock: The current UTC time.
        sleep: Waits between looks (injected in tests).
    """

    def __init__(
        self,
        database: Database,
        bus: EventBus,
        subject: str,
        statuses: Callable[[], Sequence[CameraStatus]],
        *,
        node_id: str,
        limits: HealthLimits,
        interval_s: float,
        clock: Callable[[], datetime] = utc_now,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._db = database
        self._bus = bus
        self._subject = subject
        self._statuses = statuses
        self._node_id = node_id
        self._limits = limits
        self._interval_s = interval_s
        self._clock = clock
        self._sleep = sleep
        self._previous: NodeHealth | None = None
        self._tasks = TaskGroup()

    async def check(self) -> tuple[Envelope, ...]:
        """Look at every local camera once; store and publish the changes. Returns them."""
        now = self._clock()
        cameras = await all_pages(lambda skip: self._db.cameras.list(limit=MAX_PAGE, offset=skip))
        local = {c.id: c.detect_fps for c in cameras if c.edge_node_id is None}
        report = NodeHealth(
            report_id=new_event_id(now),
            node_id=self._node_id,
            at=now,
            state="online",
            cpu_percent=0.0,
            memory_percent=0.0,
            disk_free_bytes=0,
            disk_total_bytes=0,
            temperature_c=None,
            outbox_items=0,
            outbox_bytes=0,
            outbox_oldest_age_s=None,
            outbox_dropped={},
            quarantined=0,
            clock_offset_s=None,
            versions={},
            cameras=tuple(camera_health(s, now) for s in self._statuses() if s.camera_id in local),
        )
        derived = [
            event
            for event in derive_events(self._previous, report, self._limits, local)
            if event.type.startswith("camera.")
        ]
        self._previous = report
        envelopes = tuple(derived_envelope(report, event) for event in derived)
        if envelopes:
            await publish_stored(self._db.events, self._bus, self._subject, envelopes)
        return envelopes

    async def run(self) -> None:
        """Look every interval until cancelled (the first look after one interval)."""
        while True:
            await self._sleep(self._interval_s)
            try:
                await self.check()
            except ArgusError:
                log.exception("could not derive the local cameras' health events")

    def start(self) -> None:
        """Start watching in the background."""
        self._tasks.start(("local-camera-health", self.run))

    async def stop(self) -> None:
        """Stop watching."""
        await self._tasks.stop()

"""The retention sweep of continuous recordings: by days, by disk budget, legal holds kept.

Every ``interval`` seconds (and once at start) the sweep lists the segments
on disk, plans with ``argus.domain.recording.plan_retention`` and deletes
what the plan names. Segments that overlap an alert of an incident under
legal hold (the alert's camera, its event time plus or minus ``hold_margin``)
are locked: neither age nor the budget deletes them. The segment being
written is never listed (it is still a ``.part`` file), so it is never
deleted. A sweep that deletes something is audited as ``recording.sweep``
(actor ``system``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from argus.domain.actor import SYSTEM_ACTOR, Actor
from argus.domain.errors import NotFoundError
from argus.domain.recording import Segment, plan_retention
from argus.ports.repositories import Database
from argus.services.background import TaskGroup, periodic
from argus.services.legal_hold import held_incidents
from argus.services.writes import record

__all__ = ["HeldWindow", "RecordingSweep", "RecordingSweeper", "locked_segments"]

log = logging.getLogger(__name__)

Scan = Callable[[], list[Segment]]
"""Lists every closed segment on disk (blocking)."""
Delete = Callable[[Sequence[Segment]], int]
"""Deletes segments and returns the bytes freed (blocking)."""


@dataclass(frozen=True, slots=True)
class HeldWindow:
    """A stretch of one camera's recording that a legal hold keeps.

    Attributes:
        camera_id: The camera.
        start: Start of the stretch (aware).
        end: End of the stretch (aware).
        incident_id: The held incident.
    """

    camera_id: str
    start: datetime
    end: datetime
    incident_id: str


def locked_segments(segments: Sequence[Segment], windows: Sequence[HeldWindow]) -> set[str]:
    """Paths of the segments that share time with a held window of their camera."""
    return {
        s.path
        for s in segments
        for w in windows
        if s.camera_id == w.camera_id and s.overlaps(w.start, w.end)
    }


@dataclass(frozen=True, slots=True)
class RecordingSweep:
    """What one sweep did.

    Attributes:
        at: When it ran.
        expired: Segments deleted for their age.
        over_budget: Segments deleted to fit the disk budget.
        freed_bytes: Bytes freed.
        locked: Segments kept for a legal hold.
        kept_bytes: Bytes of the segments left.
        over_budget_bytes: Bytes still over the budget (held segments alone exceed it).
        usage: Bytes left on disk per camera.
    """

    at: datetime
    expired: int = 0
    over_budget: int = 0
    freed_bytes: int = 0
    locked: int = 0
    kept_bytes: int = 0
    over_budget_bytes: int = 0
    usage: Mapping[str, int] = field(default_factory=dict)

    @property
    def deleted(self) -> int:
        """Segments deleted."""
        return self.expired + self.over_budget


class RecordingSweeper:
    """Deletes recordings past their retention, in the background.

    Args:
        database: The store: incidents under legal hold, their alerts, the audit log.
        scan: Lists the segments on disk.
        delete: Deletes segments.
        clock: The current time (aware).
        keep_days: Days a segment is kept.
        max_bytes: The disk budget of all recordings; ``None`` for none.
        interval: Seconds between two sweeps.
        hold_margin: How much recording either side of a held alert's time is kept.
        on_usage: Told the bytes left per camera after each sweep.
    """

    def __init__(
        self,
        database: Database,
        *,
        scan: Scan,
        delete: Delete,
        clock: Callable[[], datetime],
        keep_days: float,
        max_bytes: int | None,
        interval: float,
        hold_margin: timedelta = timedelta(minutes=5),
        on_usage: Callable[[Mapping[str, int]], None] | None = None,
    ) -> None:
        self._db = database
        self._scan = scan
        self._delete = delete
        self._clock = clock
        self._keep_days = keep_days
        self._max_bytes = max_bytes
        self._interval = interval
        self._margin = hold_margin
        self._on_usage = on_usage
        self._lock = asyncio.Lock()
        self._tasks = TaskGroup()
        self.last: RecordingSweep | None = None
        """The latest sweep's report, if one ran."""

    def start(self) -> None:
        """Sweep at once and then every ``interval`` seconds, in the background (once)."""
        self._tasks.start(
            (
                "argus-recording-retention",
                periodic(self.sweep, self._interval, log, "the recording retention sweep"),
            )
        )

    async def stop(self) -> None:
        """Stop sweeping (a sweep under way is cancelled)."""
        await self._tasks.stop()

    async def held_windows(self) -> list[HeldWindow]:
        """The stretches of recording that incidents under legal hold keep."""
        windows: list[HeldWindow] = []
        for incident in await held_incidents(self._db):
            for alert_id in incident.alert_ids:
                try:
                    alert = await self._db.alerts.get(alert_id)
                except NotFoundError:
                    continue  # a dangling link: nothing to keep
                at = alert.event_time
                windows.append(
                    HeldWindow(alert.camera_id, at - self._margin, at + self._margin, incident.id)
                )
        return windows

    async def sweep(self, *, actor: Actor = SYSTEM_ACTOR) -> RecordingSweep:
        """Delete the segments past their retention now (sweeps never overlap).

        Returns:
            What was deleted and kept; audited as ``recording.sweep`` when
            something was deleted.
        """
        async with self._lock:
            windows = await self.held_windows()
            segments = await asyncio.to_thread(self._scan)
            now = self._clock()
            locked = locked_segments(segments, windows)
            plan = plan_retention(
                segments,
                now=now,
                keep_days=self._keep_days,
                max_bytes=self._max_bytes,
                locked=locked,
            )
            freed = await asyncio.to_thread(self._delete, plan.delete) if plan.delete else 0
            gone = {s.path for s in plan.delete}
            usage: dict[str, int] = {}
            for segment in segments:
                if segment.path not in gone:
                    usage[segment.camera_id] = usage.get(segment.camera_id, 0) + segment.bytes
            report = RecordingSweep(
                at=now,
                expired=len(plan.expired),
                over_budget=len(plan.over_budget),
                freed_bytes=freed,
                locked=len(locked),
                kept_bytes=plan.kept_bytes,
                over_budget_bytes=plan.over_budget_bytes,
                usage=usage,
            )
            if report.deleted:
                cameras = sorted({s.camera_id for s in plan.delete})
                await record(
                    self._db.audit,
                    actor,
                    "recording.sweep",
                    "recordings",
                    at=now,
                    expired=report.expired,
                    over_budget=report.over_budget,
                    freed_bytes=report.freed_bytes,
                    locked=report.locked,
                    cameras=cameras,
                    oldest_kept=None if not plan.kept_bytes else _oldest(segments, gone),
                )
                log.info(
                    "recordings: deleted %d segment(s) (%d expired, %d over budget), %d bytes",
                    report.deleted,
                    report.expired,
                    report.over_budget,
                    report.freed_bytes,
                )
            if report.over_budget_bytes:
                log.warning(
                    "recordings are %d bytes over their budget: held segments alone exceed it",
                    report.over_budget_bytes,
                )
            if self._on_usage is not None:
                self._on_usage(usage)
        self.last = report
        return report


def _oldest(segments: Sequence[Segment], gone: set[str]) -> str | None:
    kept = [s.start for s in segments if s.path not in gone]
    return min(kept).isoformat() if kept else None

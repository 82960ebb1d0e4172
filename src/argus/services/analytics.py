"""Analytics use cases: counts per interval, dwell, detection metrics and heatmap images.

Every statistic is computed by the event store from the stored events, so any
control-plane replica answers the same (the edge workers publish one
``heatmap.minute`` event per camera and minute for heatmaps). Counts come from
the store's rollups (a year of days costs about as much as a day of hours);
dwell, detection metrics and heatmaps scan the events of the period.

The cost of one principal is bounded three ways: periods are bounded
(``MAX_SPAN``, hence the buckets of one answer), every query holds a slot of a
``WorkBudget`` while it runs (a few at once per principal, a few more in all;
over budget: ``RateLimitedError``, 429 with ``Retry-After``), and the request
rate limit per user applies on top.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Final

from argus.domain.errors import NotFoundError, ValidationError
from argus.domain.event_stats import (
    CountBucket,
    DetectionStats,
    DwellStats,
    HeatmapGrid,
    Interval,
)
from argus.domain.identity import Principal
from argus.ports.pipelines import PipelineSupervisor
from argus.ports.repositories import EventFilter, EventRepository
from argus.services.dwell_visits import DwellVisits
from argus.services.workbudget import WorkBudget

__all__ = [
    "DEFAULT_SPAN",
    "MAX_SPAN",
    "AnalyticsService",
    "HeatmapPainter",
    "check_period",
]

HeatmapPainter = Callable[[HeatmapGrid, bytes | None], bytes]
"""Draws a summed heatmap over a JPEG frame of its camera (or a plain canvas) as PNG."""

DEFAULT_SPAN: Final = timedelta(days=1)
"""The period a query covers when it gives no ``since``."""

MAX_SPAN: Final[dict[Interval | None, timedelta]] = {
    "minute": timedelta(days=2),
    "hour": timedelta(days=93),
    "day": timedelta(days=366),
    None: timedelta(days=366),
}
"""Longest period per count interval (at most a few thousand buckets per group);
``None``: for dwell, detection metrics and heatmaps."""


def _budget_key(caller: Principal) -> str:
    """Whose slots a query takes: ``kind:id`` of the user or API key."""
    return f"{caller.kind}:{caller.id}"


def check_period(since: datetime, until: datetime, interval: Interval | None = None) -> str | None:
    """Return what is wrong with a period, or ``None`` when it is fine.

    A period must be timezone-aware, non-empty (``since < until``) and no
    longer than ``MAX_SPAN`` for its interval.
    """
    for moment in (since, until):
        if moment.tzinfo is None or moment.utcoffset() is None:
            return "must be timezone-aware (give a UTC offset)"
    if since >= until:
        return "must be after since"
    limit = MAX_SPAN[interval]
    if until - since > limit:
        return f"must be at most {limit.days} days after since"
    return None


class AnalyticsService:
    """Statistics over the event store, and heatmap images.

    Args:
        events: The event store.
        pipelines: Where the latest frame of a camera comes from (the heatmap's background).
        paint: Draws and encodes a heatmap image.
        budget: The concurrent queries each principal (and everyone) may run;
            each query takes a slot of the principal that asks it.
        clock: The current UTC time (the default end of a period).
    """

    def __init__(
        self,
        events: EventRepository,
        pipelines: PipelineSupervisor,
        paint: HeatmapPainter,
        *,
        budget: WorkBudget,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        visits: DwellVisits | None = None,
    ) -> None:
        self._events = events
        self._pipelines = pipelines
        self._paint = paint
        self._budget = budget
        self._clock = clock
        self._visits = visits

    def period(
        self, since: datetime | None, until: datetime | None, interval: Interval | None = None
    ) -> tuple[datetime, datetime]:
        """Fill in a period's open ends (until now, since ``DEFAULT_SPAN`` before) and check it.

        Raises:
            ValidationError: The period is naive, empty or too long.
        """
        end = until if until is not None else self._clock()
        start = since if since is not None else end - min(DEFAULT_SPAN, MAX_SPAN[interval])
        problem = check_period(start, end, interval)
        if problem is not None:
            raise ValidationError(f"until {problem}")
        return start, end

    async def counts(
        self,
        caller: Principal,
        where: EventFilter,
        interval: Interval,
        tz: tzinfo = UTC,
    ) -> tuple[CountBucket, ...]:
        """Crossings and entries per ``interval`` (see ``EventRepository.counts``).

        Every query takes a slot of ``caller``'s budget while it runs.

        Raises:
            RateLimitedError: The principal (or the server) runs its budget of queries.
        """
        with self._budget.slot(_budget_key(caller)):
            return await self._events.counts(where, interval=interval, tz=tz)

    async def dwell(
        self, caller: Principal, where: EventFilter, zone: str | None = None
    ) -> tuple[DwellStats, ...]:
        """Dwell statistics per zone and class, per exit (see ``EventRepository.dwell``).

        Raises:
            RateLimitedError: The principal (or the server) runs its budget of queries.
        """
        with self._budget.slot(_budget_key(caller)):
            return await self._events.dwell(where, zone=zone)

    async def dwell_visits(
        self,
        caller: Principal,
        camera_id: str,
        since: datetime,
        until: datetime,
        zone: str | None = None,
    ) -> tuple[DwellStats, ...]:
        """Dwell per visit of one camera's zones, fragments joined (``DwellVisits``).

        Raises:
            ValidationError: This service was built without the trajectory reader, or
                the period is longer than ``MAX_VISIT_SPAN`` (31 days).
            RateLimitedError: The principal (or the server) runs its budget of queries.
        """
        if self._visits is None:
            raise ValidationError("dwell per visit is not available on this server")
        with self._budget.slot(_budget_key(caller)):
            return await self._visits.stats(camera_id, since, until, zone)

    async def detections(self, caller: Principal, where: EventFilter) -> tuple[DetectionStats, ...]:
        """Events and mean confidence per type and class.

        Raises:
            RateLimitedError: The principal (or the server) runs its budget of queries.
        """
        with self._budget.slot(_budget_key(caller)):
            return await self._events.detections(where)

    async def heatmap(
        self, caller: Principal, camera_id: str, since: datetime, until: datetime
    ) -> HeatmapGrid:
        """The camera's ``heatmap.minute`` counts of ``[since, until)``, summed.

        Raises:
            NotFoundError: No ``heatmap.minute`` event of the camera lies in the period.
            RateLimitedError: The principal (or the server) runs its budget of queries.
        """
        with self._budget.slot(_budget_key(caller)):
            grid = await self._events.heatmap(camera_id, since, until)
        if grid is None:
            raise NotFoundError(f"camera {camera_id} has no heatmap data in the period")
        return grid

    async def heatmap_png(
        self, caller: Principal, camera_id: str, since: datetime, until: datetime
    ) -> bytes:
        """The camera's heatmap of ``[since, until)`` over its latest frame, as PNG.

        Raises:
            NotFoundError: No ``heatmap.minute`` event of the camera lies in the period.
            RateLimitedError: The principal (or the server) runs its budget of queries.
        """
        grid = await self.heatmap(caller, camera_id, since, until)
        return self._paint(grid, self._pipelines.snapshot(camera_id))

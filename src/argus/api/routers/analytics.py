"""``/api/v1/analytics``: counts per interval, dwell and detection metrics; camera heatmaps.

Every statistic covers a period ``[since, until)``: ``until`` defaults to now
and ``since`` to a day before it. Times need a UTC offset; a period must not
be empty and is bounded (``MAX_SPAN``), so one answer has a bounded number of
buckets. Each query takes a slot of the runtime's analytics ``WorkBudget``
for the caller while it runs; over budget the answer is 429 with
``Retry-After``. Problems with the period are reported at ``("query", "until")``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import APIRouter, Depends, Query, Response
from fastapi.exceptions import RequestValidationError

from argus.api.deps import CameraId, RuntimeDep
from argus.api.schemas.analytics import (
    CountBucketPublic,
    CountList,
    DetectionsList,
    DetectionStatsPublic,
    DwellList,
    DwellStatsPublic,
    HeatmapPublic,
)
from argus.api.schemas.common import AUTH_RESPONSES, ERROR_RESPONSES, Moment, Name
from argus.api.security import Caller
from argus.domain.errors import ValidationError
from argus.domain.event_stats import COUNTED_TYPES, DWELL_TYPE, Interval
from argus.ports.repositories import EventFilter
from argus.services.analytics import AnalyticsService

__all__ = ["router"]

router = APIRouter(tags=["analytics"], responses={**ERROR_RESPONSES, **AUTH_RESPONSES})

_TZ_NAME = r"^[A-Za-z][A-Za-z0-9_+\-]*(/[A-Za-z0-9_+\-]+)*$"


Since = Annotated[
    Moment | None, Query(description="Start, inclusive, with a UTC offset; a day before until.")
]
Until = Annotated[Moment | None, Query(description="End, exclusive, with a UTC offset; now.")]
CameraFilter = Annotated[
    str | None, Query(min_length=1, max_length=64, description="Only this camera.")
]
ClassFilter = Annotated[
    str | None, Query(min_length=1, max_length=200, description="Only this object class.")
]


def get_analytics(runtime: RuntimeDep) -> AnalyticsService:
    """The app's analytics service (each query is charged to its caller)."""
    return runtime.analytics


AnalyticsDep = Annotated[AnalyticsService, Depends(get_analytics)]


def _period(
    analytics: AnalyticsService,
    since: datetime | None,
    until: datetime | None,
    interval: Interval | None = None,
) -> tuple[datetime, datetime]:
    try:
        return analytics.period(since, until, interval)
    except ValidationError as exc:
        error = {"type": "value_error", "loc": ("query", "until"), "msg": str(exc)}
        raise RequestValidationError([error]) from exc


def _time_zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:  # OSError: "America" is a folder
        error = {"type": "value_error", "loc": ("query", "tz"), "msg": "unknown time zone"}
        raise RequestValidationError([error]) from exc


@router.get("/analytics/counts", summary="Counts per interval")
async def counts(
    analytics: AnalyticsDep,
    who: Caller,
    camera_id: CameraFilter = None,
    since: Since = None,
    until: Until = None,
    interval: Annotated[Interval, Query(description="Length of each bucket.")] = "hour",
    class_name: ClassFilter = None,
    tz: Annotated[
        str,
        Query(
            min_length=1,
            max_length=64,
            pattern=_TZ_NAME,
            description="IANA time zone whose clock the buckets follow (days from midnight).",
        ),
    ] = "UTC",
) -> CountList:
    """Line crossings per direction and zone entries, per interval, camera, name and class.

    Only buckets with at least one event are listed. A minute interval covers
    at most 2 days, an hour 93 and a day 366.
    """
    zone = _time_zone(tz)
    start, end = _period(analytics, since, until, interval)
    where = EventFilter(
        camera_ids=who.camera_filter(camera_id),
        types=COUNTED_TYPES,
        class_name=class_name,
        since=start,
        until=end,
    )
    buckets = await analytics.counts(who, where, interval, zone)
    items = [CountBucketPublic.of(b) for b in buckets]
    return CountList(interval=interval, tz=tz, since=start, until=end, items=items)


@router.get("/analytics/dwell", summary="Dwell statistics")
async def dwell(
    analytics: AnalyticsDep,
    who: Caller,
    camera_id: CameraFilter = None,
    zone: Annotated[Name | None, Query(description="Only this zone.")] = None,
    since: Since = None,
    until: Until = None,
    per: Annotated[
        Literal["exit", "visit"],
        Query(
            description="visit: one figure per person's stay, tracks joined across gaps "
            "(needs camera_id); exit: one per zone.exited event, i.e. per track fragment "
            "(the default, for compatibility)."
        ),
    ] = "exit",
) -> DwellList:
    """Count, mean, median, 90th percentile and maximum of the dwell times per zone and class.

    ``per=visit`` (what the dashboard shows) measures each visit to the camera's zones from
    its trajectory log: fragments of one person's track are joined and absences of up to
    2 s do not end a visit, so a person lost and found again by the tracker is one visit.
    ``per=exit`` summarises the zone exits, one per track (at most 366 days; per visit
    at most 31: it reads every minute of the trajectory log).
    """
    start, end = _period(analytics, since, until)
    if per == "visit":
        if camera_id is None:
            error = {"type": "missing", "loc": ("query", "camera_id"), "msg": "per=visit needs it"}
            raise RequestValidationError([error])
        who.camera_filter(camera_id)
        stats = await analytics.dwell_visits(who, camera_id, start, end, zone)
    else:
        where = EventFilter(
            camera_ids=who.camera_filter(camera_id), types=(DWELL_TYPE,), since=start, until=end
        )
        stats = await analytics.dwell(who, where, zone)
    items = [DwellStatsPublic.of(s) for s in stats]
    return DwellList(since=start, until=end, per=per, items=items)


@router.get("/analytics/detections", summary="Detection metrics")
async def detections(
    analytics: AnalyticsDep,
    who: Caller,
    camera_id: CameraFilter = None,
    since: Since = None,
    until: Until = None,
) -> DetectionsList:
    """Events per camera, type and class with the detector's mean confidence (at most 366 days)."""
    start, end = _period(analytics, since, until)
    stats = await analytics.detections(
        who, EventFilter(camera_ids=who.camera_filter(camera_id), since=start, until=end)
    )
    return DetectionsList(since=start, until=end, items=[DetectionStatsPublic.of(s) for s in stats])


@router.get(
    "/cameras/{camera_id}/heatmap.png",
    response_class=Response,
    summary="Heatmap of a period",
    responses={
        200: {
            "content": {"image/png": {"schema": {"type": "string", "format": "binary"}}},
            "description": "Where tracks stood in the period, over the latest frame, as PNG.",
        }
    },
)
async def heatmap(
    camera_id: CameraId,
    analytics: AnalyticsDep,
    who: Caller,
    since: Since = None,
    until: Until = None,
) -> Response:
    """The camera's heatmap of the period (at most 366 days); 404 when it has no heatmap data."""
    start, end = _period(analytics, since, until)
    png = await analytics.heatmap_png(who, camera_id, start, end)
    return Response(content=png, media_type="image/png")


@router.get("/cameras/{camera_id}/heatmap", summary="Heatmap counts of a period")
async def heatmap_counts(
    camera_id: CameraId,
    analytics: AnalyticsDep,
    who: Caller,
    since: Since = None,
    until: Until = None,
) -> HeatmapPublic:
    """Where people stood in the period (at most 366 days), per grid cell, for a client to draw.

    The same counts as ``heatmap.png``; 404 when the camera has no heatmap data in the period.
    """
    start, end = _period(analytics, since, until)
    grid = await analytics.heatmap(who, camera_id, start, end)
    return HeatmapPublic.of(camera_id, start, end, grid)

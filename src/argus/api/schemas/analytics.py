"""Analytics schemas: counts per interval, dwell statistics and detection metrics."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from argus.domain.event_stats import CountBucket, DetectionStats, DwellStats, Interval
from argus.domain.heatmap_stats import HeatmapGrid

__all__ = [
    "CountBucketPublic",
    "CountList",
    "DetectionStatsPublic",
    "DetectionsList",
    "DwellList",
    "DwellStatsPublic",
    "HeatmapPublic",
]


class CountBucketPublic(BaseModel):
    """Crossings of a line in one direction, or entries into a zone, in one interval."""

    start: datetime = Field(description="First instant of the interval, in the requested tz.")
    camera_id: str
    type: Literal["line.crossed", "zone.entered"] = Field(description="What was counted.")
    name: str = Field(description="The line or zone.")
    direction: Literal["in", "out"] | None = Field(description="Line direction; null for zones.")
    class_name: str = Field(description="Object class.")
    count: int = Field(ge=0)

    @classmethod
    def of(cls, bucket: CountBucket) -> CountBucketPublic:
        """The public view of a bucket."""
        return cls.model_validate(bucket, from_attributes=True)


class CountList(BaseModel):
    """Counts of a period, by interval start, camera, type, name, direction and class."""

    interval: Interval
    tz: str = Field(description="Time zone whose clock the intervals follow.")
    since: datetime = Field(description="Start of the period (inclusive).")
    until: datetime = Field(description="End of the period (exclusive).")
    items: list[CountBucketPublic]


class DwellStatsPublic(BaseModel):
    """How long objects of one class stayed in one zone (per visit, or per zone.exited event)."""

    camera_id: str
    zone: str
    class_name: str
    count: int = Field(ge=0, description="Visits (per=visit) or exits (per=exit) summarised.")
    mean_seconds: float
    p50_seconds: float = Field(description="Median dwell.")
    p90_seconds: float = Field(description="90th percentile of the dwell.")
    max_seconds: float

    @classmethod
    def of(cls, stats: DwellStats) -> DwellStatsPublic:
        """The public view of dwell statistics."""
        return cls.model_validate(stats, from_attributes=True)


class DwellList(BaseModel):
    """Dwell statistics of a period, by camera, zone and class."""

    since: datetime
    until: datetime
    per: Literal["exit", "visit"] = Field(
        "exit", description="What one figure is: a visit (tracks joined) or a zone exit."
    )
    items: list[DwellStatsPublic]


class DetectionStatsPublic(BaseModel):
    """Events of one type and class, and the detector's mean confidence in them."""

    camera_id: str
    type: str = Field(description="Event type, e.g. line.crossed.")
    class_name: str | None = Field(description="Object class; null for events about no object.")
    count: int = Field(ge=0, description="Events.")
    scored: int = Field(ge=0, description="Events that carry a detection confidence.")
    mean_confidence: float | None = Field(
        ge=0, le=1, description="Mean confidence of the scored events; null when none is."
    )

    @classmethod
    def of(cls, stats: DetectionStats) -> DetectionStatsPublic:
        """The public view of detection metrics."""
        return cls.model_validate(stats, from_attributes=True)


class DetectionsList(BaseModel):
    """Detection metrics of a period, by camera, type and class."""

    since: datetime
    until: datetime
    items: list[DetectionStatsPublic]


class HeatmapPublic(BaseModel):
    """Where tracks stood in a period: counts per cell of a coarse grid over the frame.

    A count is one object (of the scene's heatmap classes, people by default)
    seen with its anchor (bottom centre) in the cell in one analysed frame;
    ``seconds_per_frame`` turns counts into seconds of presence.
    """

    camera_id: str
    since: datetime
    until: datetime
    grid_width: int = Field(ge=1, description="Columns of the grid.")
    grid_height: int = Field(ge=1, description="Rows of the grid.")
    frame_width: int = Field(ge=1, description="Frame width in pixels the grid covers.")
    frame_height: int = Field(ge=1, description="Frame height in pixels.")
    frames: int = Field(ge=0, description="Frames analysed in the period.")
    minutes: int = Field(ge=0, description="Per-minute heatmap events summed.")
    skipped: int = Field(ge=0, description="Events left out (another frame size, malformed).")
    seconds_per_frame: float | None = Field(
        description="Seconds one count stands for (from the fullest minute); null when unknown."
    )
    peak: int = Field(ge=0, description="The largest count of one cell.")
    cells: list[tuple[int, int]] = Field(
        description="[index, count] of every visited cell; index = row * grid_width + column."
    )

    @classmethod
    def of(
        cls, camera_id: str, since: datetime, until: datetime, grid: HeatmapGrid
    ) -> HeatmapPublic:
        """The public view of a summed heatmap."""
        flat = grid.counts.ravel()
        visited = flat.nonzero()[0]
        return cls(
            camera_id=camera_id,
            since=since,
            until=until,
            grid_width=grid.grid_width,
            grid_height=grid.grid_height,
            frame_width=grid.frame_width,
            frame_height=grid.frame_height,
            frames=grid.frames,
            minutes=grid.minutes,
            skipped=grid.skipped,
            seconds_per_frame=grid.seconds_per_frame,
            peak=grid.peak,
            cells=[(int(i), int(flat[i])) for i in visited.tolist()],
        )

"""Continuous recording: segment values, retention planning and timeline queries.

Pure: nothing here touches the disk or reads a clock. A recorder writes MP4
segments and describes each with a ``Segment``; an index lists them; the
functions below decide what to delete and answer timeline questions, and the
caller acts on the answer::

    plan = plan_retention(segments, now=clock(), keep_days=30, max_bytes=budget,
                          locked=evidence_paths, active=paths_being_written)
    index.delete(plan.delete)

Retention deletes what is older than ``keep_days`` first, then the oldest
segments until the rest fits ``max_bytes``. A locked segment (evidence or an
export refers to it) and an active one (still being written) are never
deleted, even when that leaves the recordings over budget; the plan says so.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import PurePosixPath
from typing import Literal

from argus.domain.errors import ValidationError

__all__ = [
    "RECORDING_STATES",
    "Gap",
    "RecordingState",
    "RecordingStatus",
    "RetentionPlan",
    "Segment",
    "gaps",
    "overlapping",
    "plan_retention",
]


def _check_aware(name: str, value: datetime) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValidationError(f"{name} must be timezone-aware, got {value!r}")


@dataclass(frozen=True, slots=True)
class Segment:
    """One closed MP4 segment of a camera's continuous recording.

    Attributes:
        camera_id: The camera recorded.
        start: Time of the segment's first frame (aware).
        end: Time just after its last frame (aware, ``>= start``).
        path: POSIX path relative to the recordings root (no ``..``, not absolute).
        bytes: File size.
        codec: Codec name as FFmpeg spells it (``h264``, ``hevc``).
    """

    camera_id: str
    start: datetime
    end: datetime
    path: str
    bytes: int
    codec: str

    def __post_init__(self) -> None:
        if not self.camera_id:
            raise ValidationError("segment camera_id must not be empty")
        _check_aware("segment start", self.start)
        _check_aware("segment end", self.end)
        if self.end < self.start:
            raise ValidationError(f"segment ends ({self.end}) before it starts ({self.start})")
        parts = PurePosixPath(self.path).parts
        if not parts or self.path.startswith("/") or ".." in parts or "\\" in self.path:
            raise ValidationError(f"segment path must be relative to the root, got {self.path!r}")
        if self.bytes < 0:
            raise ValidationError(f"segment bytes must be >= 0, got {self.bytes}")

    @property
    def duration(self) -> timedelta:
        """How long the segment plays."""
        return self.end - self.start

    def overlaps(self, start: datetime, end: datetime) -> bool:
        """Whether the segment shares some time with ``[start, end)``."""
        return self.start < end and self.end > start


@dataclass(frozen=True, slots=True)
class Gap:
    """A stretch of time without recording (the stream dropped, or nothing was written).

    Attributes:
        camera_id: The camera concerned.
        start: First moment not recorded (aware).
        end: First moment recorded again, or the end of the queried range (aware).
    """

    camera_id: str
    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        _check_aware("gap start", self.start)
        _check_aware("gap end", self.end)
        if self.end < self.start:
            raise ValidationError(f"gap ends ({self.end}) before it starts ({self.start})")

    @property
    def duration(self) -> timedelta:
        """How long nothing was recorded."""
        return self.end - self.start


RecordingState = Literal["starting", "recording", "reconnecting", "off", "error"]
"""What a camera's recorder is doing: ``starting`` until its first packet, ``recording``
while packets arrive, ``reconnecting`` while a live stream is lost, ``off`` when the camera
is not recorded (disabled, ``record`` false, run by an edge node), ``error`` after a failure
(it retries)."""

RECORDING_STATES: tuple[RecordingState, ...] = (
    "starting",
    "recording",
    "reconnecting",
    "off",
    "error",
)
"""Every ``RecordingState``, in a stable order (metrics list one series per state)."""


@dataclass(frozen=True, slots=True)
class RecordingStatus:
    """One camera's continuous recording, as health checks and metrics show it.

    Attributes:
        camera_id: The camera.
        state: What its recorder is doing.
        segments: Segments closed since this server started.
        bytes_written: Bytes of those segments.
        gaps: Interruptions since this server started (a dropped stream, a failure).
        disk_bytes: Bytes of the camera's segments on disk (every run's).
        last_segment_end: End of the latest segment closed, ``None`` before the first.
        last_error: Text of the latest error, if any.
        reason: Why the camera is not recorded when ``state`` is ``off``.
    """

    camera_id: str
    state: RecordingState
    segments: int = 0
    bytes_written: int = 0
    gaps: int = 0
    disk_bytes: int = 0
    last_segment_end: datetime | None = None
    last_error: str | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class RetentionPlan:
    """What a retention pass deletes, and why.

    Attributes:
        expired: Segments that ended before the retention horizon, oldest first.
        over_budget: Further segments deleted to fit the disk budget, oldest first.
        kept_bytes: Bytes of the segments left after the plan.
        over_budget_bytes: Bytes still over the budget afterwards (locked or
            active segments alone exceed it); 0 when the budget is met.
    """

    expired: tuple[Segment, ...]
    over_budget: tuple[Segment, ...]
    kept_bytes: int
    over_budget_bytes: int

    @property
    def delete(self) -> tuple[Segment, ...]:
        """Every segment to delete: expired ones first, then the over-budget ones."""
        return self.expired + self.over_budget

    @property
    def freed_bytes(self) -> int:
        """Bytes the plan frees."""
        return sum(segment.bytes for segment in self.delete)


def _age_order(segment: Segment) -> tuple[datetime, str]:
    return segment.start, segment.path


def plan_retention(
    segments: Iterable[Segment],
    *,
    now: datetime,
    keep_days: float | None,
    max_bytes: int | None,
    locked: Collection[str] = (),
    active: Collection[str] = (),
) -> RetentionPlan:
    """Decide which segments to delete.

    Args:
        segments: Every segment known (any cameras, any order).
        now: The current time (aware), injected by the caller.
        keep_days: Segments that ended more than this many days before ``now``
            expire; ``None`` keeps them whatever their age.
        max_bytes: Disk budget of all the segments together; ``None`` for none.
        locked: Paths of segments that evidence or an export refers to.
        active: Paths of segments still being written.

    Returns:
        The plan; locked and active segments are never in it.

    Raises:
        ValidationError: ``now`` is naive, or a limit is negative or not finite.
    """
    _check_aware("now", now)
    if keep_days is not None and not (math.isfinite(keep_days) and keep_days >= 0):
        raise ValidationError(f"keep_days must be a finite number >= 0, got {keep_days}")
    if max_bytes is not None and max_bytes < 0:
        raise ValidationError(f"max_bytes must be >= 0, got {max_bytes}")
    protected = set(locked) | set(active)
    ordered = sorted(segments, key=_age_order)
    horizon = None if keep_days is None else now - timedelta(days=keep_days)
    expired = [
        s for s in ordered if horizon is not None and s.end <= horizon and s.path not in protected
    ]
    gone = {s.path for s in expired}
    remaining = [s for s in ordered if s.path not in gone]
    total = sum(s.bytes for s in remaining)
    over: list[Segment] = []
    if max_bytes is not None:
        for segment in remaining:
            if total <= max_bytes:
                break
            if segment.path in protected:
                continue
            over.append(segment)
            total -= segment.bytes
    excess = 0 if max_bytes is None else max(0, total - max_bytes)
    return RetentionPlan(tuple(expired), tuple(over), total, excess)


def overlapping(
    segments: Iterable[Segment],
    start: datetime,
    end: datetime,
    *,
    camera_id: str | None = None,
) -> list[Segment]:
    """Return the segments that share time with ``[start, end)``, in time order.

    Args:
        segments: Segments to search.
        start: Start of the range (aware).
        end: End of the range (aware, ``>= start``).
        camera_id: Only this camera's segments when given.

    Raises:
        ValidationError: The range is naive or reversed.
    """
    _check_range(start, end)
    found = [
        s
        for s in segments
        if s.overlaps(start, end) and (camera_id is None or s.camera_id == camera_id)
    ]
    return sorted(found, key=_age_order)


def gaps(
    segments: Iterable[Segment],
    start: datetime,
    end: datetime,
    *,
    camera_id: str,
    tolerance: timedelta = timedelta(0),
) -> list[Gap]:
    """Return the stretches of ``[start, end)`` that no segment of ``camera_id`` covers.

    Args:
        segments: Segments to consider (other cameras' are ignored).
        start: Start of the range (aware).
        end: End of the range (aware, ``>= start``).
        camera_id: The camera whose timeline is asked for.
        tolerance: Gaps this short or shorter are ignored (the few
            milliseconds between two segments cut at a keyframe).

    Raises:
        ValidationError: The range is naive or reversed, or the tolerance negative.
    """
    _check_range(start, end)
    if tolerance < timedelta(0):
        raise ValidationError(f"gap tolerance must be >= 0, got {tolerance}")
    found: list[Gap] = []
    cursor = start
    for segment in overlapping(segments, start, end, camera_id=camera_id):
        if segment.start > cursor:
            found.append(Gap(camera_id, cursor, segment.start))
        cursor = max(cursor, segment.end)
    if cursor < end:
        found.append(Gap(camera_id, cursor, end))
    return [g for g in found if g.duration > tolerance]


def _check_range(start: datetime, end: datetime) -> None:
    _check_aware("range start", start)
    _check_aware("range end", end)
    if end < start:
        raise ValidationError(f"range ends ({end}) before it starts ({start})")

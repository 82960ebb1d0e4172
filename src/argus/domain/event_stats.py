"""Statistics over stored events: counts per interval, dwell, heatmaps, detection metrics.

The event store streams the events a query matches through one of the
tallies below, so every store (memory, SQLite, PostgreSQL) computes exactly
the same numbers from the same payloads. A tally keeps one small record per
group (camera, line or zone, direction, class, interval), never the events
themselves; only ``DwellTally`` keeps one float per exit, which the
percentiles need.

Payloads come from edge nodes and are checked here, not trusted: an event
whose payload lacks a field a statistic needs, or holds a value of the wrong
type, is left out of that statistic.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Literal

from argus.domain.codec import field_number, field_text
from argus.domain.heatmap_stats import HEATMAP_TYPE, MAX_HEATMAP_CELLS, HeatmapGrid, HeatmapTally

__all__ = [
    "COUNTED_TYPES",
    "DWELL_TYPE",
    "HEATMAP_TYPE",
    "MAX_HEATMAP_CELLS",
    "CountBucket",
    "CountKey",
    "CountTally",
    "DetectionStats",
    "DetectionTally",
    "DwellStats",
    "DwellTally",
    "HeatmapGrid",
    "HeatmapTally",
    "Interval",
    "bucket_start",
    "count_key",
]

Interval = Literal["minute", "hour", "day"]

COUNTED_TYPES = ("line.crossed", "zone.entered")
"""Event types ``CountTally`` counts: crossings per line and direction, entries per zone."""
DWELL_TYPE = "zone.exited"
"""The event type whose ``dwell_seconds`` ``DwellTally`` summarises."""


def bucket_start(moment: datetime, interval: Interval, tz: tzinfo = UTC) -> datetime:
    """Return the start of the ``interval`` that holds ``moment``, on the clock of ``tz``.

    Days start at local midnight and hours at the local full hour, so a day
    of a time zone with daylight saving time may last 23 or 25 hours.

    Args:
        moment: A timezone-aware time.
        interval: ``"minute"``, ``"hour"`` or ``"day"``.
        tz: The time zone whose clock the buckets follow.

    Returns:
        The bucket's first instant, expressed in ``tz``.
    """
    local = moment.astimezone(tz)
    if interval == "minute":
        start = local.replace(second=0, microsecond=0)
    elif interval == "hour":
        start = local.replace(minute=0, second=0, microsecond=0)
    else:
        start = local.replace(hour=0, minute=0, second=0, microsecond=0, fold=0)
    # Round trip through UTC so the offset matches the (possibly shifted) wall time.
    return start.astimezone(UTC).astimezone(tz)


@dataclass(frozen=True, slots=True)
class CountBucket:
    """How many objects crossed a line (per direction) or entered a zone in one interval.

    Attributes:
        start: First instant of the interval, in the query's time zone.
        camera_id: The camera.
        type: ``"line.crossed"`` or ``"zone.entered"``.
        name: The line or zone.
        direction: ``"in"`` or ``"out"`` for lines; ``None`` for zones.
        class_name: The object class.
        count: Events in the interval.
    """

    start: datetime
    camera_id: str
    type: str
    name: str
    direction: str | None
    class_name: str
    count: int


CountKey = tuple[str, str, str, str, str]
"""A count group: camera, type, line or zone name, direction (``""`` for zones), class."""


def count_key(camera_id: str, type: str, payload: Mapping[str, object]) -> CountKey | None:
    """The group an event counts in, or ``None`` when it counts in none.

    ``line.crossed`` events count per line, direction (``in`` or ``out``) and
    class; ``zone.entered`` events per zone and class. Other types, and
    payloads that lack a field or hold the wrong type, do not count. Rollups
    and ``CountTally`` share this one definition, so they cannot disagree.
    """
    direction = ""
    if type == "line.crossed":
        name = field_text(payload, "line")
        direction = field_text(payload, "direction") or ""
        if direction not in ("in", "out"):
            return None
    elif type == "zone.entered":
        name = field_text(payload, "zone")
    else:
        return None
    class_name = field_text(payload, "class_name")
    if name is None or class_name is None:
        return None
    return (camera_id, type, name, direction, class_name)


class CountTally:
    """Counts ``line.crossed`` and ``zone.entered`` events per interval and group."""

    def __init__(self, interval: Interval, tz: tzinfo = UTC) -> None:
        """Count into buckets of ``interval`` on the clock of ``tz``."""
        self.interval: Interval = interval
        self.tz = tz
        # Keyed by the bucket's UTC start: aware datetimes sharing a tzinfo compare by
        # wall time, which would merge the two 01:00 hours of a DST change.
        self._counts: dict[tuple[datetime, str, str, str, str, str], int] = {}

    def add(
        self, timestamp: datetime, camera_id: str, type: str, payload: Mapping[str, object]
    ) -> None:
        """Count one event; other types and malformed payloads are ignored."""
        key = count_key(camera_id, type, payload)
        if key is not None:
            self.add_count(bucket_start(timestamp, self.interval, self.tz), key, 1)

    def add_count(self, start: datetime, key: CountKey, count: int) -> None:
        """Add ``count`` events of group ``key`` to the bucket that starts at ``start``.

        This is how pre-aggregated counts (rollups) join the tally: the caller
        has already placed them in their bucket of this tally's clock.

        Args:
            start: The first instant of the bucket (any time zone).
            key: The group, as ``count_key`` makes it.
            count: Events to add (positive).
        """
        full = (start.astimezone(UTC), *key)
        self._counts[full] = self._counts.get(full, 0) + count

    def result(self) -> tuple[CountBucket, ...]:
        """The buckets by start, camera, type, name, direction and class."""
        return tuple(
            CountBucket(
                start=start.astimezone(self.tz),
                camera_id=camera_id,
                type=type,
                name=name,
                direction=direction or None,
                class_name=class_name,
                count=count,
            )
            for (start, camera_id, type, name, direction, class_name), count in sorted(
                self._counts.items()
            )
        )


@dataclass(frozen=True, slots=True)
class DwellStats:
    """How long objects of one class stayed in one zone.

    Attributes:
        camera_id: The camera.
        zone: The zone.
        class_name: The object class.
        count: Exits summarised.
        mean_seconds: Mean dwell.
        p50_seconds: Median dwell (linear interpolation).
        p90_seconds: 90th percentile of the dwell (linear interpolation).
        max_seconds: Longest dwell.
    """

    camera_id: str
    zone: str
    class_name: str
    count: int
    mean_seconds: float
    p50_seconds: float
    p90_seconds: float
    max_seconds: float


def _quantile(ordered: list[float], q: float) -> float:
    """The ``q`` quantile of sorted values, interpolated linearly (numpy's default)."""
    position = q * (len(ordered) - 1)
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


class DwellTally:
    """Summarises ``dwell_seconds`` of ``zone.exited`` events per camera, zone and class."""

    def __init__(self, zone: str | None = None) -> None:
        """Summarise every zone, or only the one named ``zone``."""
        self.zone = zone
        self._values: dict[tuple[str, str, str], array[float]] = {}

    def add(self, camera_id: str, type: str, payload: Mapping[str, object]) -> None:
        """Take one event; other types, zones and malformed payloads are ignored."""
        if type != DWELL_TYPE:
            return
        zone = field_text(payload, "zone")
        class_name = field_text(payload, "class_name")
        dwell = field_number(payload, "dwell_seconds")
        if zone is None or class_name is None or dwell is None or dwell < 0:
            return
        if self.zone is not None and zone != self.zone:
            return
        self._values.setdefault((camera_id, zone, class_name), array("d")).append(dwell)

    def result(self) -> tuple[DwellStats, ...]:
        """The statistics by camera, zone and class (values rounded to milliseconds)."""
        out = []
        for (camera_id, zone, class_name), values in sorted(self._values.items()):
            ordered = sorted(values)
            out.append(
                DwellStats(
                    camera_id=camera_id,
                    zone=zone,
                    class_name=class_name,
                    count=len(ordered),
                    mean_seconds=round(math.fsum(ordered) / len(ordered), 3),
                    p50_seconds=round(_quantile(ordered, 0.5), 3),
                    p90_seconds=round(_quantile(ordered, 0.9), 3),
                    max_seconds=round(ordered[-1], 3),
                )
            )
        return tuple(out)


@dataclass(frozen=True, slots=True)
class DetectionStats:
    """How many events of one type and class there were, and how sure the detector was.

    Attributes:
        camera_id: The camera.
        type: The event type.
        class_name: The object class; ``None`` for events about no one object
            (crowding, heatmaps).
        count: Events.
        scored: Events that carry a detection confidence.
        mean_confidence: Mean confidence of those, ``None`` when none has one.
    """

    camera_id: str
    type: str
    class_name: str | None
    count: int
    scored: int
    mean_confidence: float | None


class DetectionTally:
    """Counts events per camera, type and class, with their mean detection confidence."""

    def __init__(self) -> None:
        """Start empty."""
        self._groups: dict[tuple[str, str, str], list[float]] = {}

    def add(self, camera_id: str, type: str, payload: Mapping[str, object]) -> None:
        """Take one event of any type."""
        key = (camera_id, type, field_text(payload, "class_name") or "")
        group = self._groups.setdefault(key, [0.0, 0.0, 0.0])
        group[0] += 1
        confidence = field_number(payload, "confidence")
        if confidence is not None and 0.0 <= confidence <= 1.0:
            group[1] += 1
            group[2] += confidence

    def result(self) -> tuple[DetectionStats, ...]:
        """The statistics by camera, type and class."""
        return tuple(
            DetectionStats(
                camera_id=camera_id,
                type=type,
                class_name=class_name or None,
                count=int(count),
                scored=int(scored),
                mean_confidence=round(total / scored, 3) if scored else None,
            )
            for (camera_id, type, class_name), (count, scored, total) in sorted(
                self._groups.items()
            )
        )

"""Pre-aggregated counts (rollups) and the plan that answers a count query from them.

The store keeps, next to the events, one row per count group (``count_key``)
and UTC *unit* of four grains: day, hour, quarter of an hour and minute. A
count query asks for buckets of a time zone's clock (local days, hours or
minutes) over a period ``[since, until)``. ``plan_counts`` splits that period
into rollup units that each lie wholly inside one local bucket, coarsest
first, and leaves only the sub-minute edges (and periods whose local buckets
do not start on a whole UTC minute) to the raw events:

* UTC (and any zone whose offset is a whole number of days, i.e. zero) reads
  day rows for local days, hour rows for hours.
* A zone with whole-hour offsets (Europe/Berlin, America/New_York, DST
  included) reads each local day as one or two partial UTC days of hour rows
  around the local midnight: local days are assembled from UTC hours.
* Half- and quarter-hour offsets (Asia/Kolkata +05:30, Asia/Kathmandu
  +05:45) split the hour that holds a local boundary into quarter-hour rows.
* Offsets with seconds (the local mean times of zones before ~1900) split at
  minute rows and raw events; past ``MAX_RAW_RANGES`` raw pieces the whole
  period is read from the events, exactly as before rollups.

So a query reads a bounded number of rows per local bucket and group (one
per UTC day, at most 25 hours for a local day, four quarters for an hour),
plus the events of its first and last partial minute, whatever the number of
events. ``CountPlan.segments`` joins the units of one local bucket so that the
store can sum them and return one row per group and bucket.

The plan is pure: the adapter reads the units' rows and the raw ranges' events
and feeds both through one ``CountTally``, which is why the answer is the same
as a scan of every event.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Final, Literal

from argus.domain.event_stats import Interval, bucket_start

__all__ = [
    "GRAINS",
    "GRAIN_LENGTH",
    "MAX_RAW_RANGES",
    "CountPlan",
    "Grain",
    "plan_counts",
    "unit_start",
]

Grain = Literal["day", "hour", "quarter", "minute"]

GRAINS: Final[tuple[Grain, ...]] = ("day", "hour", "quarter", "minute")
"""Every rollup grain, coarsest first."""
GRAIN_LENGTH: Final[Mapping[Grain, timedelta]] = {
    "day": timedelta(days=1),
    "hour": timedelta(hours=1),
    "quarter": timedelta(minutes=15),
    "minute": timedelta(minutes=1),
}
"""How long one unit of each grain lasts; units start at multiples of it since the UTC epoch."""
_USABLE: Final[Mapping[Interval, tuple[Grain, ...]]] = {
    # A unit longer than the interval can never lie inside one bucket.
    "day": GRAINS,
    "hour": ("hour", "quarter", "minute"),
    "minute": ("minute",),
}
MAX_RAW_RANGES: Final = 16
"""Raw pieces a plan may read before it reads the whole period from the events instead."""
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_TICK: Final = timedelta(microseconds=1)


def unit_start(moment: datetime, grain: Grain) -> datetime:
    """The start (UTC) of the ``grain`` unit that holds ``moment``."""
    length = GRAIN_LENGTH[grain]
    return _EPOCH + ((moment - _EPOCH) // length) * length


def _unit_ceil(moment: datetime, grain: Grain) -> datetime:
    start = unit_start(moment, grain)
    return start if start == moment else start + GRAIN_LENGTH[grain]


@dataclass(slots=True)
class CountPlan:
    """Where a count query's numbers come from.

    Attributes:
        units: Per grain, the UTC units to read, each mapped to the UTC start of
            the local bucket it lies in.
        raw: ``[start, end)`` ranges (UTC) read from the raw events, in order.
    """

    units: dict[Grain, dict[datetime, datetime]] = field(
        default_factory=lambda: {grain: {} for grain in GRAINS}
    )
    raw: list[tuple[datetime, datetime]] = field(default_factory=list)

    def segments(self, grain: Grain) -> list[tuple[datetime, datetime, datetime]]:
        """The units of ``grain`` as ``(start, end, local)`` runs, one per local bucket and gap.

        Consecutive units of one local bucket form one segment, so the store
        can sum a local day of UTC hours itself and return one row per group
        and local bucket, not one per unit.
        """
        length = GRAIN_LENGTH[grain]
        segments: list[tuple[datetime, datetime, datetime]] = []
        for unit, local in sorted(self.units[grain].items()):
            if segments and segments[-1][1] == unit and segments[-1][2] == local:
                segments[-1] = (segments[-1][0], unit + length, local)
            else:
                segments.append((unit, unit + length, local))
        return segments

    def _raw(self, start: datetime, end: datetime) -> None:
        if start >= end:
            return
        if self.raw and self.raw[-1][1] == start:
            self.raw[-1] = (self.raw[-1][0], end)
        else:
            self.raw.append((start, end))


class _Planner:
    def __init__(self, interval: Interval, tz: tzinfo) -> None:
        self.interval: Interval = interval
        self.tz = tz
        self.grains = _USABLE[interval]
        self.plan = CountPlan()

    def local(self, moment: datetime) -> datetime:
        return bucket_start(moment, self.interval, self.tz).astimezone(UTC)

    def cover(self, start: datetime, end: datetime, level: int, local: datetime | None) -> None:
        """Cover ``[start, end)`` with units of ``grains[level:]`` and raw ranges.

        ``local`` is the local bucket the whole range lies in when that is
        known (no boundary inside), else ``None``.
        """
        if start >= end:
            return
        if level == len(self.grains):
            self.plan._raw(start, end)
            return
        grain = self.grains[level]
        length = GRAIN_LENGTH[grain]
        first, last = _unit_ceil(start, grain), unit_start(end, grain)
        if first >= last:
            self.cover(start, end, level + 1, local)
            return
        self.cover(start, first, level + 1, local)
        chosen = self.plan.units[grain]
        unit = first
        while unit < last:
            stop = unit + length
            if local is not None:
                chosen[unit] = local
            else:
                self._unit(unit, stop, level)
            unit = stop
        self.cover(last, end, level + 1, local)

    def _unit(self, unit: datetime, stop: datetime, level: int) -> None:
        # The bucket holding the unit's last instant starts at or before the unit: the
        # whole unit lies in it. Otherwise a boundary lies inside; with one boundary the
        # two sides are known buckets and need no more look-ups.
        boundary = self.local(stop - _TICK)
        if boundary <= unit and self.local(unit) == boundary:
            self.plan.units[self.grains[level]][unit] = boundary
            return
        before = self.local(boundary - _TICK)
        if before <= unit:
            self.cover(unit, boundary, level + 1, before)
            self.cover(boundary, stop, level + 1, boundary)
        else:
            self.cover(unit, stop, level + 1, None)


def plan_counts(since: datetime, until: datetime, interval: Interval, tz: tzinfo) -> CountPlan:
    """Split ``[since, until)`` into rollup units and raw ranges for buckets of ``interval``.

    Args:
        since: Start of the period (aware), inclusive.
        until: End of the period (aware), exclusive.
        interval: The length of the buckets asked for.
        tz: The time zone whose clock the buckets follow.

    Returns:
        The plan. Every instant of the period is covered exactly once, by a
        unit or a raw range, and every unit lies inside one local bucket.
    """
    start, end = since.astimezone(UTC), until.astimezone(UTC)
    planner = _Planner(interval, tz)
    planner.cover(start, end, 0, None)
    if len(planner.plan.raw) > MAX_RAW_RANGES:
        return CountPlan(raw=[(start, end)] if start < end else [])
    return planner.plan

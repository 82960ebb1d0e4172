"""``plan_counts``: rollup units and raw ranges that cover a period once, each in one bucket."""

from __future__ import annotations

import itertools
import random
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from argus.domain.event_stats import Interval, bucket_start
from argus.domain.rollups import GRAIN_LENGTH, GRAINS, Grain, plan_counts

TICK = timedelta(microseconds=1)
ZONES = (
    "UTC",
    "Europe/Berlin",
    "America/New_York",
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "Australia/Lord_Howe",
    "Pacific/Chatham",
)
SPANS: dict[Interval, timedelta] = {
    "minute": timedelta(days=2),
    "hour": timedelta(days=93),
    "day": timedelta(days=366),
}


@pytest.mark.parametrize("zone", ZONES)
@pytest.mark.parametrize("interval", ["minute", "hour", "day"])
def test_the_plan_covers_the_period_once_and_each_unit_lies_in_one_bucket(
    zone: str, interval: Interval
) -> None:
    rng = random.Random(f"{zone}/{interval}")
    tz = ZoneInfo(zone)
    for _ in range(3):
        since = datetime(2025, 1, 1, tzinfo=UTC) + timedelta(
            seconds=rng.uniform(0, 300 * 86400), microseconds=rng.randrange(1_000_000)
        )
        until = since + timedelta(seconds=rng.uniform(1, SPANS[interval].total_seconds()))
        plan = plan_counts(since, until, interval, tz)
        pieces = list(plan.raw)
        for grain in GRAINS:
            for unit, local in plan.units[grain].items():
                last = unit + GRAIN_LENGTH[grain] - TICK
                assert bucket_start(unit, interval, tz) == local == bucket_start(last, interval, tz)
                pieces.append((unit, unit + GRAIN_LENGTH[grain]))
        pieces.sort()
        assert pieces[0][0] == since
        assert pieces[-1][1] == until
        assert all(a[1] == b[0] for a, b in itertools.pairwise(pieces))


@pytest.mark.parametrize(
    ("zone", "grain", "most"),
    [
        ("UTC", "day", 366),
        ("Europe/Berlin", "hour", 366 * 25),
        ("Asia/Kolkata", "quarter", 366 * 4 * 2 + 8),
    ],
    ids=["utc-days", "berlin-days-from-hours", "kolkata-days-split-at-half-hours"],
)
def test_a_year_per_day_reads_rollup_units_not_events(zone: str, grain: Grain, most: int) -> None:
    since = datetime(2025, 3, 1, 10, 17, 3, 5, tzinfo=UTC)
    plan = plan_counts(since, since + timedelta(days=365), "day", ZoneInfo(zone))
    assert 0 < len(plan.units[grain]) <= most
    assert len(plan.raw) == 2  # the seconds before the first and after the last whole minute
    assert all(end - start < timedelta(minutes=1) for start, end in plan.raw)
    # Summed per local day: at most two runs a day (Kolkata's quarters either side of 18:30 UTC).
    assert len(plan.segments(grain)) <= 2 * 367


def test_offsets_with_seconds_are_read_from_the_events() -> None:
    # Amsterdam's local mean time (+00:19:32) before 1937: no rollup unit fits its days.
    since = datetime(1910, 1, 1, tzinfo=UTC)
    plan = plan_counts(since, since + timedelta(days=30), "day", ZoneInfo("Europe/Amsterdam"))
    assert plan.raw == [(since, since + timedelta(days=30))]
    assert not any(plan.units[grain] for grain in GRAINS)

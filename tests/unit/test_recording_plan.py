"""Retention plans and timeline queries over recorded segments: pure tables, no files."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from argus.domain.errors import ValidationError
from argus.domain.recording import Gap, Segment, gaps, overlapping, plan_retention

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def seg(
    name: str, hours_ago: float, *, minutes: float = 10, size: int = 100, camera: str = "a"
) -> Segment:
    """A segment of ``camera`` that started ``hours_ago`` before NOW and lasts ``minutes``."""
    start = NOW - timedelta(hours=hours_ago)
    return Segment(
        camera, start, start + timedelta(minutes=minutes), f"{camera}/{name}.mp4", size, "h264"
    )


def names(segments: tuple[Segment, ...] | list[Segment]) -> list[str]:
    return [s.path.split("/")[-1].removesuffix(".mp4") for s in segments]


DAY = 24.0
SEGMENTS = [
    seg("d10", 10 * DAY),
    seg("d8", 8 * DAY),
    seg("d3", 3 * DAY),
    seg("d1", DAY),
    seg("h1", 1),
]


@pytest.mark.parametrize(
    ("keep_days", "max_bytes", "locked", "active", "expected"),
    [
        pytest.param(None, None, (), (), ([], [], 0), id="no-limits-keep-all"),
        pytest.param(7, None, (), (), (["d10", "d8"], [], 0), id="expired-oldest-first"),
        pytest.param(7, None, ("a/d8.mp4",), (), (["d10"], [], 0), id="locked-never-expires"),
        pytest.param(None, 300, (), (), ([], ["d10", "d8"], 0), id="budget-deletes-oldest"),
        pytest.param(None, 500, (), (), ([], [], 0), id="exactly-at-budget"),
        pytest.param(None, 299, (), (), ([], ["d10", "d8", "d3"], 0), id="one-byte-over"),
        pytest.param(7, 200, (), (), (["d10", "d8"], ["d3"], 0), id="expiry-then-budget"),
        pytest.param(
            None, 200, ("a/d10.mp4",), (), ([], ["d8", "d3", "d1"], 0), id="budget-skips-locked"
        ),
        pytest.param(
            None, 0, (), ("a/h1.mp4",), ([], ["d10", "d8", "d3", "d1"], 100), id="active-kept"
        ),
        pytest.param(
            None,
            100,
            ("a/d10.mp4", "a/d8.mp4"),
            (),
            ([], ["d3", "d1", "h1"], 100),
            id="locked-over",
        ),
        pytest.param(
            0, None, (), ("a/h1.mp4",), (["d10", "d8", "d3", "d1"], [], 0), id="keep-zero"
        ),
    ],
)
def test_retention_plan(
    keep_days: float | None,
    max_bytes: int | None,
    locked: tuple[str, ...],
    active: tuple[str, ...],
    expected: tuple[list[str], list[str], int],
) -> None:
    """Expected: (expired, deleted over budget, bytes still over budget)."""
    expired, over, excess = expected
    plan = plan_retention(
        reversed(SEGMENTS),
        now=NOW,
        keep_days=keep_days,
        max_bytes=max_bytes,
        locked=locked,
        active=active,
    )
    assert names(plan.expired) == expired
    assert names(plan.over_budget) == over
    assert names(plan.delete) == expired + over
    assert plan.freed_bytes == 100 * len(expired + over)
    assert plan.kept_bytes == 500 - plan.freed_bytes
    assert plan.over_budget_bytes == excess
    assert not {s.path for s in plan.delete} & (set(locked) | set(active))


def test_expiry_counts_from_the_segment_end() -> None:
    # Started 7 days and 5 minutes ago, ended 6 days 23 h 55 min ago: not expired yet.
    horizon = NOW - timedelta(days=7)
    straddling = Segment(
        "a", horizon - timedelta(minutes=5), horizon + timedelta(minutes=5), "a/edge.mp4", 1, "h264"
    )
    assert plan_retention([straddling], now=NOW, keep_days=7, max_bytes=None).delete == ()
    exact = Segment("a", horizon - timedelta(minutes=10), horizon, "a/exact.mp4", 1, "h264")
    assert names(plan_retention([exact], now=NOW, keep_days=7, max_bytes=None).delete) == ["exact"]


def test_budget_spans_cameras_and_ties_break_by_path() -> None:
    same_time = [
        seg("x", 5, camera="b", size=50),
        seg("x", 5, camera="a", size=50),
        seg("y", 1, size=50),
    ]
    plan = plan_retention(same_time, now=NOW, keep_days=None, max_bytes=60)
    assert [s.path for s in plan.delete] == ["a/x.mp4", "b/x.mp4"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"now": NOW.replace(tzinfo=None), "keep_days": 1, "max_bytes": None}, "timezone-aware"),
        ({"now": NOW, "keep_days": -1, "max_bytes": None}, "keep_days"),
        ({"now": NOW, "keep_days": float("nan"), "max_bytes": None}, "keep_days"),
        ({"now": NOW, "keep_days": None, "max_bytes": -1}, "max_bytes"),
    ],
    ids=["naive-now", "negative-days", "nan-days", "negative-budget"],
)
def test_retention_rejects_bad_limits(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        plan_retention(SEGMENTS, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("start", "end", "path", "size", "message"),
    [
        (NOW, NOW - timedelta(seconds=1), "a/x.mp4", 1, "before it starts"),
        (NOW.replace(tzinfo=None), NOW, "a/x.mp4", 1, "timezone-aware"),
        (NOW, NOW, "/abs/x.mp4", 1, "relative"),
        (NOW, NOW, "a/../../x.mp4", 1, "relative"),
        (NOW, NOW, "", 1, "relative"),
        (NOW, NOW, "a/x.mp4", -1, "bytes"),
    ],
    ids=["reversed", "naive", "absolute", "dotdot", "empty", "negative-size"],
)
def test_segment_invariants(
    start: datetime, end: datetime, path: str, size: int, message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        Segment("a", start, end, path, size, "h264")


# A camera's day: 10:00-10:10, 10:10-10:20 (back to back), then 10:30-10:40; camera b overlaps.
T = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)


def at(minute: float) -> datetime:
    return T + timedelta(minutes=minute)


TIMELINE = [
    Segment("a", at(30), at(40), "a/3.mp4", 1, "h264"),
    Segment("a", at(0), at(10), "a/1.mp4", 1, "h264"),
    Segment("a", at(10), at(20), "a/2.mp4", 1, "h264"),
    Segment("b", at(0), at(60), "b/1.mp4", 1, "h264"),
]


@pytest.mark.parametrize(
    ("start", "end", "camera", "expected"),
    [
        (at(5), at(15), "a", ["a/1.mp4", "a/2.mp4"]),
        (at(10), at(10.5), "a", ["a/2.mp4"]),  # half-open: a/1 ends where the range starts
        (at(20), at(30), "a", []),  # exactly the hole
        (at(-5), at(100), "a", ["a/1.mp4", "a/2.mp4", "a/3.mp4"]),
        (at(35), at(36), None, ["a/3.mp4", "b/1.mp4"]),
    ],
    ids=["two", "half-open", "hole", "all", "any-camera"],
)
def test_overlapping(
    start: datetime, end: datetime, camera: str | None, expected: list[str]
) -> None:
    found = overlapping(TIMELINE, start, end, camera_id=camera)
    assert sorted(s.path for s in found) == sorted(expected)
    assert [s.start for s in found] == sorted(s.start for s in found)


@pytest.mark.parametrize(
    ("start", "end", "tolerance", "expected"),
    [
        (at(0), at(40), timedelta(0), [(20, 30)]),
        (at(-5), at(50), timedelta(0), [(-5, 0), (20, 30), (40, 50)]),
        (at(-5), at(50), timedelta(minutes=5), [(20, 30), (40, 50)]),
        (at(2), at(18), timedelta(0), []),
        (at(21), at(29), timedelta(0), [(21, 29)]),
        (at(50), at(50), timedelta(0), []),
    ],
    ids=["hole", "edges", "tolerance", "covered", "inside-hole", "empty-range"],
)
def test_gaps(
    start: datetime, end: datetime, tolerance: timedelta, expected: list[tuple[int, int]]
) -> None:
    found = gaps(TIMELINE, start, end, camera_id="a", tolerance=tolerance)
    assert found == [Gap("a", at(a), at(b)) for a, b in expected]


def test_gaps_of_a_camera_without_segments_is_the_whole_range() -> None:
    assert gaps(TIMELINE, at(0), at(5), camera_id="c") == [Gap("c", at(0), at(5))]


def test_gap_and_range_checks() -> None:
    with pytest.raises(ValidationError, match="before it starts"):
        gaps(TIMELINE, at(5), at(0), camera_id="a")
    with pytest.raises(ValidationError, match="tolerance"):
        gaps(TIMELINE, at(0), at(5), camera_id="a", tolerance=timedelta(seconds=-1))
    with pytest.raises(ValidationError, match="timezone-aware"):
        overlapping(TIMELINE, at(0).replace(tzinfo=None), at(5))
    assert Gap("a", at(0), at(5)).duration == timedelta(minutes=5)
    assert TIMELINE[0].duration == timedelta(minutes=10)

"""The Analytics page's pure modules (site-clock periods, slot grids, totals, CSV) run under Node.

``pages/analytics_time.js`` and ``pages/analytics_data.js`` hold the arithmetic the page
shows; here they run in ``node`` (no browser) against answers computed with ``zoneinfo``,
including days of 23 and 25 hours. Skips, saying why, where ``node`` is not installed.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

PAGES = Path(__file__).resolve().parents[2] / "src" / "argus" / "api" / "static" / "pages"
NODE = shutil.which("node")


def run_js(body: str) -> Any:
    """Run ``body`` (an ES module that prints one JSON value) with both modules imported."""
    if NODE is None:
        pytest.skip("node is not installed: the dashboard's pure modules are checked with it")
    script = (
        f'import * as t from "{(PAGES / "analytics_time.js").as_uri()}";\n'
        f'import * as d from "{(PAGES / "analytics_data.js").as_uri()}";\n{body}'
    )
    done = subprocess.run(
        [NODE, "--input-type=module", "-e", script],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def iso(value: int) -> datetime:
    return datetime.fromtimestamp(value / 1000, UTC)


@pytest.mark.parametrize(
    ("zone", "now", "hours"),
    [
        ("America/New_York", datetime(2026, 3, 8, 15, tzinfo=UTC), 23),  # spring forward
        ("America/New_York", datetime(2026, 11, 1, 15, tzinfo=UTC), 25),  # fall back
        ("Asia/Kolkata", datetime(2026, 12, 6, 20, 0, tzinfo=UTC), 24),  # +05:30, after midnight
        ("Pacific/Kiritimati", datetime(2026, 12, 6, 9, 59, tzinfo=UTC), 24),  # +14
    ],
    ids=["dst-23h", "dst-25h", "half-hour-offset", "plus-14"],
)
def test_presets_are_days_and_weeks_on_the_site_clock(zone: str, now: datetime, hours: int) -> None:
    site = ZoneInfo(zone)
    out = run_js(f"""
        const now = {ms(now)};
        const p = (name) => t.presetPeriod(name, "{zone}", now);
        const today = p("today");
        console.log(JSON.stringify({{ today, yesterday: p("yesterday"), week: p("week"),
          hours: t.slotStarts(today.start, today.end, "hour", "{zone}").length,
          before: t.previousPeriod("week", p("week"), "{zone}") }}));
    """)
    local = now.astimezone(site).date()
    midnight = datetime(local.year, local.month, local.day, tzinfo=site)
    assert iso(out["today"]["start"]) == midnight
    assert iso(out["today"]["end"]) == midnight + timedelta(days=1)  # wall-clock day
    assert out["hours"] == hours
    assert iso(out["yesterday"]["end"]) == midnight
    assert iso(out["yesterday"]["start"]) == midnight - timedelta(days=1)
    monday = midnight - timedelta(days=local.weekday())
    assert iso(out["week"]["start"]) == monday
    assert iso(out["week"]["end"]) == monday + timedelta(days=7)
    assert iso(out["before"]["start"]) == monday - timedelta(days=7)
    assert iso(out["before"]["end"]) == monday


def test_a_typed_time_is_read_on_the_site_clock_and_hours_follow_it() -> None:
    out = run_js("""
        const at = t.instantOfLocal("Asia/Kolkata", "2026-12-06T14:30");
        const [from, to] = [Date.UTC(2026, 11, 6, 9, 10), Date.UTC(2026, 11, 6, 12)];
        const slots = t.slotStarts(from, to, "hour", "Asia/Kolkata");
        console.log(JSON.stringify({ at, back: t.localOfInstant("Asia/Kolkata", at), slots,
          empty: Number.isNaN(t.instantOfLocal("Asia/Kolkata", "")) }));
    """)
    assert iso(out["at"]) == datetime(2026, 12, 6, 9, 0, tzinfo=UTC)
    assert out["back"] == "2026-12-06T14:30"
    # Buckets start at the local full hour (:30 in UTC), as the server's do.
    assert [iso(s).strftime("%H:%M") for s in out["slots"]] == ["08:30", "09:30", "10:30", "11:30"]
    assert out["empty"] is True


@pytest.mark.parametrize(
    ("span_h", "interval"),
    [(1, "minute"), (3, "minute"), (4, "hour"), (48, "hour"), (49, "day"), (24 * 7, "day")],
)
def test_the_automatic_interval(span_h: int, interval: str) -> None:
    assert run_js(f"console.log(JSON.stringify(t.autoInterval({span_h} * 3_600_000)));") == interval


def test_traffic_fills_empty_hours_sums_lines_and_tracks_occupancy() -> None:
    start = datetime(2026, 12, 6, 5, tzinfo=UTC)  # midnight in New York
    items = [
        {
            "start": "2026-12-06T05:00:00+00:00",
            "name": "door",
            "direction": "in",
            "class_name": "person",
            "count": 4,
        },
        {
            "start": "2026-12-06T05:00:00+00:00",
            "name": "door",
            "direction": "in",
            "class_name": "dog",
            "count": 1,
        },
        {
            "start": "2026-12-06T07:00:00+00:00",
            "name": "door",
            "direction": "out",
            "class_name": "person",
            "count": 3,
        },
        {
            "start": "2026-12-06T07:00:00+00:00",
            "name": "back",
            "direction": "in",
            "class_name": "person",
            "count": 2,
        },
        {
            "start": "2026-12-06T06:00:00+00:00",
            "name": "till",
            "direction": None,
            "class_name": "person",
            "count": 6,
        },
    ]
    lines = [{"name": "door", "in_label": "entering", "out_label": "leaving"}]
    given = {
        "start": ms(start),
        "end": ms(start + timedelta(days=1)),
        "now": ms(start + timedelta(hours=3, minutes=5)),
        "items": items,
        "lines": lines,
    }
    out = run_js(f"""
        const g = {json.dumps(given)};
        const tz = "America/New_York";
        const slots = t.slotStarts(g.start, g.end, "hour", tz);
        const data = d.traffic(g.items, slots, g.lines, g.now);
        const perLine = d.perLine(g.items, slots);
        const rows = d.rowsOf(tz, {{ name: "Shop", slots, data, perLine }});
        console.log(JSON.stringify({{ in: data.in, out: data.out, occupancy: data.occupancy,
          totals: data.totals, lines: [...data.lines.values()], zones: [...data.zones.values()],
          series: [...data.series.keys()], rows,
          csv: d.csvOf([["=cmd()", "a,b", -3, 'say "hi"']]) }}));
    """)
    assert out["in"][:5] == [5, 0, 2, 0, None]  # hours after now are not counted yet
    assert out["out"][:4] == [0, 0, 3, 0]
    assert out["occupancy"][:5] == [5, 5, 4, 4, None]
    assert out["totals"] == {"in": 7, "out": 3, "net": 4}
    assert out["lines"] == [
        {"name": "door", "in": 5, "out": 3, "inLabel": "entering", "outLabel": "leaving"},
        {"name": "back", "in": 2, "out": 0, "inLabel": "in", "outLabel": "out"},
    ]
    assert out["zones"] == [{"name": "till", "entries": 6}]
    assert out["series"] == [
        "Line door · entering",
        "Line door · leaving",
        "Line back · in",
        "Zone till · entries",
    ]
    header, *rows = out["rows"]
    assert header == [
        "Start (America/New_York)", "Start (UTC)", "In", "Out", "Net", "Occupancy",
        "door entering", "door leaving", "back in", "back out",
    ]  # fmt: skip
    assert len(rows) == 4  # up to now
    assert rows[0] == ["2026-12-06 00:00", "2026-12-06T05:00:00.000Z", 5, 0, 5, 5, 5, 0, 0, 0]
    assert rows[2][2:] == [2, 3, -1, 4, 0, 3, 2, 0]
    # A spreadsheet does not run a name as a formula; commas and quotes are quoted.
    assert out["csv"] == '\'=cmd(),"a,b",-3,"say ""hi"""\r\n'

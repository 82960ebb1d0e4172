"""The Analytics page of issue 23 in chromium against a busy ``argus serve``: a manager reads it.

The server has raised more than 200 alerts (``console_support.seed``: the "North gate"
camera). Two more cameras, "Shop" (line ``door``: entering / leaving) and "Car park"
(line ``gate``), get crossings posted through the ingest API at known times: today and
yesterday on the clock of the site, whose zone is set to New York while the browser runs
on Tokyo time, so a period taken from the browser's clock would show. Each test checks the
page against those posted events or against the API itself; none asserts on the wall clock.

The browser's clock is fixed at ``World.now``, the latest Thursday 15:00 in New York before
the run: "today" is then long enough for hourly bars and "this week" for daily ones at
whatever hour and weekday the suite runs (at 00:30 on a Monday, the wall clock's "today"
and "this week" would be half an hour long). The crossings are dated from that instant.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import cv2
import numpy as np
import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from argus.domain.events import Envelope, EventSource, LineCrossed
from tests.auth_support import ADMIN, ADMIN_PASSWORD
from tests.e2e.browser_support import shoot, sign_in
from tests.e2e.console_support import Seeded, busy_server, seed
from tests.e2e.dashboard_support import call, camera, fits_a_phone
from tests.e2e.serve_support import ServeProcess

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(600)]

SITE = ZoneInfo("America/New_York")
BROWSER_ZONE = "Asia/Tokyo"
"""The browser's own zone: far from the site's, so a period on the wrong clock shows."""
Direction = Literal["in", "out"]


@dataclass(frozen=True, slots=True)
class Posted:
    """The crossings posted for one camera: (time, direction) each."""

    camera_id: str
    crossings: tuple[tuple[datetime, Direction], ...]

    def count(self, direction: Direction, since: datetime, until: datetime) -> int:
        """Crossings in ``direction`` within ``[since, until)``."""
        return sum(1 for at, d in self.crossings if d == direction and since <= at < until)


@dataclass(frozen=True, slots=True)
class World:
    """The server, its seeded alerts and the two counted cameras."""

    server: ServeProcess
    seeded: Seeded
    shop: Posted
    car_park: Posted
    now: datetime
    """The browser's fixed clock (``site_afternoon``)."""


def _midnight(day_offset: int, now: datetime) -> datetime:
    """Midnight on the site's clock of ``now``'s day (+ ``day_offset`` days), as a UTC instant."""
    local = now.astimezone(SITE)
    day = local.date() + timedelta(days=day_offset)
    return datetime(day.year, day.month, day.day, tzinfo=SITE).astimezone(UTC)


def site_afternoon(now: datetime) -> datetime:
    """The latest Thursday 15:00 on the site's clock at least an hour before ``now``.

    Fifteen hours into its day and three and a half days into its week: the page's
    automatic interval is then hours for "today" and days for "this week".
    """
    local = (now - timedelta(hours=1)).astimezone(SITE)
    back = (local.weekday() - 3) % 7  # Thursday is weekday 3
    day = local.date() - timedelta(days=back)
    at = datetime(day.year, day.month, day.day, 15, tzinfo=SITE)
    if at > local:
        at -= timedelta(days=7)
    return at.astimezone(UTC)


def _post(
    server: ServeProcess, name: str, line: str, crossings: list[tuple[datetime, Direction]]
) -> Posted:
    camera_id = camera(server, name)
    labels = {"in_label": "entering", "out_label": "leaving"} if line == "door" else {}
    call(
        server,
        "POST",
        f"/cameras/{camera_id}/lines",
        {"name": line, "start": [100, 50], "end": [100, 400], **labels},
    )
    source = EventSource("analytics-e2e", camera_id)
    envelopes = [
        Envelope.wrap(
            LineCrossed(
                line=line,
                track_id=100 + i,
                class_id=0,
                class_name="person",
                direction=d,
                timestamp=float(i),
                confidence=0.9,
            ),
            source,
            at,
        )
        for i, (at, d) in enumerate(crossings)
    ]
    call(server, "POST", "/events", {"events": [e.to_dict() for e in envelopes]})
    return Posted(camera_id, tuple(crossings))


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    root = tmp_path_factory.mktemp("console-analytics")
    with busy_server(root, demo=False) as server:
        seeded = seed(server)
        call(server, "PUT", "/site", {"timezone": "America/New_York"})
        now = site_afternoon(datetime.now(UTC))
        noon_yesterday = _midnight(-1, now) + timedelta(hours=12)
        shop: list[tuple[datetime, Direction]] = [
            (now - timedelta(minutes=35 - 4 * k), "in") for k in range(7)
        ]
        shop += [(now - timedelta(minutes=33 - 5 * k), "out") for k in range(3)]
        shop += [(noon_yesterday + timedelta(minutes=k), "in") for k in range(5)]
        car: list[tuple[datetime, Direction]] = [
            (now - timedelta(minutes=30 - 2 * k), "in") for k in range(12)
        ]
        car += [(now - timedelta(minutes=29 - 3 * k), "out") for k in range(4)]
        yield World(
            server,
            seeded,
            _post(server, "Shop", "door", shop),
            _post(server, "Car park", "gate", car),
            now,
        )


@pytest.fixture(scope="module")
def errors() -> list[str]:
    return []


@pytest.fixture(scope="module")
def page(chromium: Browser, world: World, errors: list[str]) -> Iterator[Page]:
    context = chromium.new_context(
        viewport={"width": 1280, "height": 900}, accept_downloads=True, timezone_id=BROWSER_ZONE
    )
    context.clock.set_fixed_time(world.now)
    opened = context.new_page()
    opened.on("pageerror", lambda error: errors.append(f"{error.name}: {error.message}"))
    opened.set_default_timeout(30_000)
    sign_in(opened, f"{world.server.base}/ui/", ADMIN, ADMIN_PASSWORD)
    expect(opened.get_by_role("heading", name="Live")).to_be_visible()
    yield opened
    context.close()


def _open(page: Page, world: World, camera_id: str) -> Locator:
    """The Analytics page of ``camera_id`` through its link; the period form."""
    page.goto(f"{world.server.base}/ui/#/live")  # a fresh page: the same hash would not re-route
    expect(page.get_by_role("heading", name="Live")).to_be_visible()
    page.goto(f"{world.server.base}/ui/#/analytics?camera={camera_id}")
    form = page.get_by_role("form", name="Analytics period")
    expect(form.get_by_label("Camera")).to_have_value(camera_id)
    expect(page.get_by_role("table", name="Totals")).to_be_visible()
    return form


def _period(page: Page) -> tuple[datetime, datetime]:
    line = page.locator("p.period")
    expect(line).not_to_have_attribute("data-since", "")
    since = line.get_attribute("data-since")
    until = line.get_attribute("data-until")
    assert since
    assert until
    return datetime.fromisoformat(since), datetime.fromisoformat(until)


def _totals(page: Page, column: int = 0) -> tuple[int, int, int]:
    table = page.get_by_role("table", name="Totals")
    values = [
        int(table.locator(f"td[data-total='{k}']").nth(column).inner_text())
        for k in ("in", "out", "net")
    ]
    return values[0], values[1], values[2]


def _ticks(chart: Locator) -> list[float]:
    """The values on a chart's value axis (gridline labels), bottom to top."""
    texts = chart.locator("text.tick:not([data-time])").all_text_contents()
    return sorted(float(t) for t in texts)


def _shoot_both(page: Page, shots: list[Path], name: str) -> None:
    """Screenshots at desktop and phone size (the charts are redrawn for the phone's width)."""
    shoot(page, shots, f"{name}-desktop")
    page.set_viewport_size({"width": 390, "height": 844})
    try:
        expect(page.locator("svg.trend").first).to_have_attribute(
            "width", re.compile(r"^[23]\d\d$")
        )
        shoot(page, shots, f"{name}-phone")
    finally:
        page.set_viewport_size({"width": 1280, "height": 900})


def test_today_on_the_site_clock_with_totals_axes_and_hour_labels(
    page: Page, world: World, errors: list[str], shots: list[Path]
) -> None:
    form = _open(page, world, world.shop.camera_id)
    expect(form.get_by_label("Period")).to_have_value("today")
    since, until = _period(page)
    # New York's midnight, not Tokyo's (the browser's): the day the manager means.
    assert since == _midnight(0, world.now)
    assert until - since in {timedelta(hours=h) for h in (23, 24, 25)}
    seen_until = min(until, world.now)
    want_in = world.shop.count("in", since, seen_until)
    want_out = world.shop.count("out", since, seen_until)
    expect(page.get_by_role("table", name="Totals").locator("td[data-total='in']")).to_have_text(
        str(want_in)
    )
    assert _totals(page) == (want_in, want_out, want_in - want_out)
    lines = page.get_by_role("table", name="Per line and zone")
    if want_in or want_out:
        expect(lines.locator("tbody tr").first).to_contain_text(f"{want_in} entering")
        expect(lines.locator("tbody tr").first).to_contain_text(f"{want_out} leaving")

    chart = page.get_by_role("img", name=re.compile("^In and out per hour"))
    expect(chart).to_be_visible()
    expect(chart).to_have_attribute(
        "aria-label", re.compile(f": {want_in + want_out} in the period")
    )
    # Hour labels on the site's clock: the axis starts at its midnight, "00:00".
    first = chart.locator("text.tick[data-time]").first
    expect(first).to_have_text("00:00")
    assert datetime.fromisoformat(str(first.get_attribute("data-time"))) == since
    hours = chart.locator("text.tick[data-time]").all_text_contents()
    assert all(re.fullmatch(r"\d\d:00", h) for h in hours)
    assert len(hours) >= 4
    # A labelled value axis that reaches the busiest hour.
    ticks = _ticks(chart)
    assert ticks[0] == 0
    assert len(ticks) >= 2
    bars = chart.locator("rect[data-series='in']").evaluate_all(
        "rs => rs.map(r => r.querySelector('title').textContent)"
    )
    peak = max((int(re.search(r": (\d+) in$", b).group(1)) for b in bars), default=0)  # type: ignore[union-attr]
    assert ticks[-1] >= peak
    expect(chart.locator("text.axis-title")).to_have_text(
        ["Crossings per hour", "Time (America/New_York)"]
    )
    occupancy = page.get_by_role("img", name=re.compile("^Occupancy"))
    expect(occupancy.locator("polyline")).to_have_count(1)
    # H6's heatmap and dwell panels follow the period (nothing was seen by this camera).
    expect(page.get_by_role("region", name="Heatmap")).to_have_attribute("data-state", "empty")
    expect(page.get_by_role("region", name="Dwell")).to_be_visible()
    _shoot_both(page, shots, "01-today")
    fits_a_phone(page, "the Analytics page")
    assert errors == []


def test_totals_of_the_busy_camera_match_the_api(
    page: Page, world: World, errors: list[str]
) -> None:
    # The seed's crossings were posted at the wall clock's time: this test reads that day.
    now = datetime.now(UTC)
    page.context.clock.set_fixed_time(now)
    try:
        _open(page, world, world.seeded.camera_id)
        since, until = _period(page)
    finally:
        page.context.clock.set_fixed_time(world.now)
    query = {
        "camera_id": world.seeded.camera_id,
        "interval": "hour",
        "tz": "America/New_York",
        "since": since.isoformat(),
        "until": min(until, now).isoformat(),
    }
    items = call(world.server, "GET", f"/analytics/counts?{urlencode(query)}")["items"]
    crossed_in = sum(b["count"] for b in items if b["direction"] == "in")
    expect(page.get_by_role("table", name="Totals").locator("td[data-total='in']")).to_have_text(
        str(crossed_in)
    )
    if since <= now - timedelta(minutes=31):  # the seed's crossings all fall in today
        assert crossed_in == 214
    assert errors == []


def test_yesterday_and_this_week_follow_the_site_clock(
    page: Page, world: World, errors: list[str]
) -> None:
    form = _open(page, world, world.shop.camera_id)
    form.get_by_label("Period").select_option("yesterday")
    expect(page.locator("p.period")).to_contain_text("Shop")
    since, until = _period(page)
    assert until == _midnight(0, world.now)
    assert since == _midnight(-1, until + timedelta(hours=1))
    want = world.shop.count("in", since, until)
    expect(page.get_by_role("table", name="Totals").locator("td[data-total='in']")).to_have_text(
        str(want)
    )
    assert want >= 5  # noon yesterday

    form.get_by_label("Period").select_option("week")
    expect(page.get_by_role("img", name=re.compile("^In and out per day"))).to_be_visible()
    since, until = _period(page)
    local = since.astimezone(SITE)
    assert (local.weekday(), local.hour, local.minute) == (0, 0, 0)  # Monday, midnight in New York
    assert until - since in {timedelta(days=7) + timedelta(hours=h) for h in (-1, 0, 1)}
    days = page.get_by_role("img", name=re.compile("^In and out per day")).locator(
        "text.tick[data-time]"
    )
    expect(days).to_have_count(7)
    expect(days.first).to_contain_text("Mon")
    assert errors == []


def test_two_cameras_and_two_periods_on_one_scale(
    page: Page, world: World, errors: list[str], shots: list[Path]
) -> None:
    form = _open(page, world, world.shop.camera_id)
    since, until = _period(page)
    seen = min(until, world.now)
    form.get_by_label("Compare with").select_option(label="Camera Car park")
    chart_in = page.get_by_role("img", name=re.compile("^In per hour"))
    chart_out = page.get_by_role("img", name=re.compile("^Out per hour"))
    expect(chart_in).to_be_visible()
    legend = page.get_by_role("list", name="Series of In")
    shop_in = world.shop.count("in", since, seen)
    car_in = world.car_park.count("in", since, seen)
    expect(legend).to_contain_text(f"Shop: {shop_in}")
    expect(legend).to_contain_text(f"Car park: {car_in}")
    assert _totals(page, 1)[0] == car_in
    # One value axis for both cameras, and the same for in and out: bars compare by height.
    assert _ticks(chart_in) == _ticks(chart_out)
    heights = chart_in.locator("rect").evaluate_all(
        "rs => rs.map(r => [r.dataset.series, Number(r.getAttribute('height')), "
        "Number(r.querySelector('title').textContent.match(/: (\\d+) /)[1])])"
    )
    per_unit = {round(height / value, 6) for _, height, value in heights}
    assert len(per_unit) <= 1, f"bars of the two cameras on different scales: {heights}"
    _shoot_both(page, shots, "02-compare-cameras")

    form.get_by_label("Compare with").select_option("previous")
    expect(page.get_by_role("list", name="Series of In")).to_contain_text("Yesterday: ")
    table = page.get_by_role("table", name="Totals")
    expect(table.locator("thead th")).to_have_text(["", "Today", "Yesterday"])
    yesterday = world.shop.count("in", _midnight(-1, since + timedelta(hours=1)), since)
    expect(table.locator("td[data-total='in']").nth(1)).to_have_text(str(yesterday))
    expect(
        page.get_by_role("img", name=re.compile("^Occupancy")).locator("polyline")
    ).to_have_count(2)
    shoot(page, shots, "03-compare-periods")
    form.get_by_label("Compare with").select_option("")
    assert errors == []


def test_table_view_and_csv_hold_the_same_numbers(
    page: Page, world: World, errors: list[str], shots: list[Path]
) -> None:
    form = _open(page, world, world.car_park.camera_id)
    form.get_by_label("View").select_option("table")
    table = page.get_by_role("table", name="Counts per interval")
    expect(table).to_be_visible()
    expect(page.get_by_role("region", name="Charts")).to_be_hidden()
    header = table.locator("thead th").all_inner_texts()
    assert header[:6] == [
        "Start (America/New_York)",
        "Start (UTC)",
        "In",
        "Out",
        "Net",
        "Occupancy",
    ]
    body = [row.locator("td").all_inner_texts() for row in table.locator("tbody tr").all()]
    total_in, total_out, _ = _totals(page)
    assert sum(int(r[2]) for r in body) == total_in
    assert sum(int(r[3]) for r in body) == total_out
    assert body[0][0].endswith("00:00")  # the day starts at the site's midnight
    assert int(body[-1][5]) == total_in - total_out  # occupancy: in minus out so far
    shoot(page, shots, "04-table")

    with page.expect_download() as download:
        page.get_by_role("button", name="Download CSV").click()
    assert download.value.suggested_filename.endswith(".csv")
    text = Path(download.value.path()).read_text(encoding="utf-8")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == header
    assert rows[1:] == body
    form.get_by_label("View").select_option("charts")
    expect(page.get_by_role("img", name=re.compile("^In and out per"))).to_be_visible()
    assert errors == []


def test_png_export_draws_the_charts(
    page: Page, world: World, errors: list[str], shots: list[Path]
) -> None:
    _open(page, world, world.shop.camera_id)
    expect(page.get_by_role("img", name=re.compile("^In and out per"))).to_be_visible()
    with page.expect_download() as download:
        page.get_by_role("button", name="Download PNG").click()
    assert download.value.suggested_filename.endswith(".png")
    data = Path(download.value.path()).read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    for folder in shots:  # the exported image itself, beside the page's screenshots
        (folder / "06-export.png").write_bytes(data)
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    assert image is not None
    height, width = image.shape[:2]
    assert width >= 1000
    assert height >= 800
    # Not a blank canvas: dark text and coloured bars on white.
    assert (image < 100).all(axis=2).sum() > 500
    blue = (image[:, :, 0] > 180) & (image[:, :, 2] < 120)
    assert blue.sum() > 50 or world.shop.count("in", *_period(page)) == 0
    assert errors == []


def test_a_custom_range_on_the_site_clock(page: Page, world: World, errors: list[str]) -> None:
    form = _open(page, world, world.shop.camera_id)
    ins = sorted(at for at, d in world.shop.crossings if d == "in")[5:8]  # the first three of today
    start = (ins[0] - timedelta(seconds=30)).astimezone(SITE)
    end = (ins[-1] + timedelta(seconds=30)).astimezone(SITE)
    form.get_by_label("Period").select_option("custom")
    # The range is typed on the site's clock (New York), whatever the browser's zone.
    form.get_by_label("From").fill(start.strftime("%Y-%m-%dT%H:%M"))
    form.get_by_label("Until").fill((end + timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M"))
    since, until = _period(page)
    assert since == start.replace(second=0)
    assert until == (end + timedelta(minutes=1)).replace(second=0)
    want = world.shop.count("in", since, until)
    assert want >= 3
    expect(page.get_by_role("table", name="Totals").locator("td[data-total='in']")).to_have_text(
        str(want)
    )
    expect(page.get_by_role("img", name=re.compile("^In and out per minute"))).to_be_visible()
    assert errors == []


def test_print_shows_the_page_without_navigation(
    page: Page, world: World, errors: list[str], shots: list[Path]
) -> None:
    _open(page, world, world.shop.camera_id)
    expect(page.get_by_role("navigation", name="Main")).to_be_visible()
    page.emulate_media(media="print")
    try:
        expect(page.get_by_role("navigation", name="Main")).to_be_hidden()
        expect(page.get_by_role("form", name="Analytics period")).to_be_hidden()
        expect(page.get_by_role("button", name="Download CSV")).to_be_hidden()
        expect(page.get_by_role("img", name=re.compile("^In and out per"))).to_be_visible()
        expect(page.get_by_role("table", name="Totals")).to_be_visible()
        page.screenshot(path=str(shots[0] / "05-print.png"), full_page=True)
        for folder in shots[1:]:
            page.screenshot(path=str(folder / "05-print.png"), full_page=True)
    finally:
        page.emulate_media(media="screen")
    assert errors == []


def test_a_camera_elsewhere_counts_days_on_its_own_clock(
    page: Page, world: World, errors: list[str]
) -> None:
    london = ZoneInfo("Europe/London")
    zones = {
        "timezone": "America/New_York",
        "camera_timezones": {world.car_park.camera_id: "Europe/London"},
    }
    call(world.server, "PUT", "/site", zones)
    try:
        _open(page, world, world.car_park.camera_id)
        since, _ = _period(page)
        day = world.now.astimezone(london).date()
        midnights = {
            datetime(day.year, day.month, day.day, tzinfo=london) + timedelta(days=k)
            for k in (-1, 0)
        }
        assert since in midnights
        expect(page.locator("p.period")).to_contain_text("(Europe/London)")
        page.get_by_role("form", name="Analytics period").get_by_label("Camera").select_option(
            label="Shop"
        )
        expect(page.locator("p.period")).to_contain_text("(America/New_York)")
    finally:
        call(world.server, "PUT", "/site", {"timezone": "America/New_York"})
    assert errors == []

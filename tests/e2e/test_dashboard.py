"""The dashboard in headless chromium against a real ``argus serve --demo``.

One server for the module; the steps run in order as a person would use it:
sign in, enrol MFA, sign in again with a code, watch the live image change,
see an alert arrive without reloading, acknowledge and confirm it, find the
incident, draw a zone, and check that a viewer cannot act.
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

from tests.auth_support import ADMIN, ADMIN_PASSWORD, USER_PASSWORD
from tests.e2e.browser_support import browser, screenshot_dirs
from tests.e2e.serve_support import ServeProcess, serving

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(600)]

ALERT_TIMEOUT_MS = 180_000
"""An alert needs the demo scene to make a crossing; generous for a loaded machine."""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    root = tmp_path_factory.mktemp("dashboard")
    with serving(root / "data", root / "serve.log", args=("--demo",)) as running:
        yield running


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    with browser() as launched:
        yield launched


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return screenshot_dirs(tmp_path_factory.mktemp("dashboard-shots"))


@pytest.fixture(scope="module")
def page(chromium: Browser, server: ServeProcess) -> Iterator[Page]:
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    opened = context.new_page()
    opened.set_default_timeout(30_000)
    yield opened
    context.close()


def _shoot(page: Page, shots: list[Path], name: str) -> None:
    for folder in shots:
        page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def _headers(page: Page) -> dict[str, str]:
    """The signed-in page's bearer header (the server's own admin token ends with MFA)."""
    token = page.evaluate("() => sessionStorage.getItem('argus.access')")
    return {"authorization": f"Bearer {token}"}


def _sign_in(page: Page, base: str, username: str, password: str, otp: str | None = None) -> None:
    page.goto(f"{base}/ui/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    if otp is not None:
        expect(page.get_by_label("Authentication code")).to_be_visible()
        page.get_by_label("Authentication code").fill(otp)
        page.get_by_role("button", name="Sign in").click()


def test_sign_in_enrol_mfa_and_sign_in_with_a_code(
    page: Page, server: ServeProcess, shots: list[Path]
) -> None:
    page.goto(f"{server.base}/")  # redirects to /ui/
    expect(page.get_by_role("form", name="Sign in")).to_be_visible()
    _shoot(page, shots, "01-login")
    _sign_in(page, server.base, ADMIN, ADMIN_PASSWORD)
    expect(page.get_by_role("heading", name="Live")).to_be_visible()
    page.get_by_role("button", name="MFA").click()
    page.get_by_role("button", name="Start enrolment").click()
    secret = page.get_by_test_id("mfa-secret").inner_text()
    _shoot(page, shots, "02-mfa-enrol")
    page.get_by_label("Code from the app").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_text("MFA is on")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("form", name="Sign in")).to_be_visible()
    # The confirming code is spent; the next step's code is inside the accepted window.
    _sign_in(page, server.base, ADMIN, ADMIN_PASSWORD, otp=pyotp.TOTP(secret).at(time.time() + 30))
    expect(page.get_by_role("heading", name="Live")).to_be_visible()


def test_live_image_changes(page: Page, shots: list[Path]) -> None:
    image = page.locator("img[data-camera='demo']")
    expect(image).to_have_attribute("src", re.compile("^blob:"), timeout=60_000)
    page.wait_for_function(
        "() => document.querySelector(\"img[data-camera='demo']\")?.naturalWidth > 0"
    )
    first = image.screenshot()
    deadline = time.monotonic() + 30
    while image.screenshot() == first:
        assert time.monotonic() < deadline, "the live image did not change in 30 s"
        page.wait_for_timeout(500)
    expect(page.locator(".status[data-state='online']")).to_be_visible(timeout=60_000)
    _shoot(page, shots, "03-live")


def test_alert_arrives_and_is_acknowledged_and_confirmed(
    page: Page, server: ServeProcess, shots: list[Path]
) -> None:
    page.get_by_role("link", name="Alerts").click()
    expect(page.get_by_role("heading", name="Alerts")).to_be_visible()
    seen = page.locator("li.alert").evaluate_all("items => items.map(i => i.dataset.alert)")
    fresh = page.locator(
        "li.alert" + "".join(f":not([data-alert='{alert_id}'])" for alert_id in seen)
    )
    expect(fresh.first).to_be_visible(timeout=ALERT_TIMEOUT_MS)  # no reload in between
    _shoot(page, shots, "04-alerts")
    alert_id = fresh.first.get_attribute("data-alert")
    card = page.locator(f"li.alert[data-alert='{alert_id}']")
    card.get_by_role("button", name="Acknowledge").click()
    expect(card).to_have_attribute("data-state", "acknowledged")
    card.get_by_role("button", name="Confirm").click()
    page.get_by_label("State").select_option("confirmed")
    expect(card).to_have_attribute("data-state", "confirmed")
    incident = card.get_by_role("link", name="Incident")
    incident.click()
    expect(page.get_by_role("heading", name="Linked alerts")).to_be_visible()
    expect(page.get_by_text(str(alert_id))).to_be_visible()
    _shoot(page, shots, "05-incident")
    page.get_by_role("link", name="← All incidents").click()
    expect(page.get_by_role("table", name="Incidents").locator("tbody tr")).to_have_count(1)
    _shoot(page, shots, "06-incidents")
    answer = httpx.get(f"{server.base}/api/v1/alerts/{alert_id}", headers=_headers(page))
    assert answer.status_code == 200, answer.text
    assert answer.json()["state"] == "confirmed"


def test_draw_a_zone_and_see_it_saved(page: Page, server: ServeProcess, shots: list[Path]) -> None:
    page.get_by_role("link", name="Configuration").click()
    canvas = page.get_by_role("img", name="Drawing area: click to add points")
    page.wait_for_function("() => document.querySelector('.editor img')?.naturalWidth > 0")
    box = canvas.bounding_box()
    assert box is not None
    for fx, fy in ((0.1, 0.1), (0.4, 0.1), (0.4, 0.4), (0.1, 0.4)):
        canvas.click(position={"x": box["width"] * fx, "y": box["height"] * fy})
    page.get_by_label("Shape name").fill("drawn")
    _shoot(page, shots, "07-config-drawing")
    page.get_by_role("button", name="Save shape").click()
    expect(page.get_by_role("list", name="Zones").get_by_text("drawn")).to_be_visible()
    zones = httpx.get(f"{server.base}/api/v1/cameras/demo/zones", headers=_headers(page)).json()
    drawn = [z for z in zones["items"] if z["name"] == "drawn"]
    assert len(drawn) == 1
    assert len(drawn[0]["polygon"]) == 4
    _shoot(page, shots, "08-config")


def test_analytics_page_renders(page: Page, shots: list[Path]) -> None:
    page.get_by_role("link", name="Analytics").click()
    expect(page.get_by_role("heading", name="Heatmap")).to_be_visible()
    expect(page.get_by_role("img", name="Heatmap of where objects stood")).to_be_visible()
    expect(page.locator("svg.chart").first).to_be_visible()  # the demo has counted by now
    expect(page.get_by_role("table", name="Dwell statistics")).to_be_visible()
    _shoot(page, shots, "09-analytics")


def test_viewer_sees_alerts_but_cannot_act(
    chromium: Browser, page: Page, server: ServeProcess, shots: list[Path]
) -> None:
    body = {"username": "watcher", "password": USER_PASSWORD, "role": "viewer"}
    made = httpx.post(f"{server.base}/api/v1/users", json=body, headers=_headers(page))
    assert made.status_code == 201, made.text
    context = chromium.new_context(viewport={"width": 390, "height": 844})  # a phone
    phone = context.new_page()
    try:
        _sign_in(phone, server.base, "watcher", USER_PASSWORD)
        expect(phone.get_by_role("heading", name="Live")).to_be_visible()
        phone.get_by_role("link", name="Alerts").click()
        phone.get_by_label("State").select_option("")
        cards = phone.locator("li.alert")
        expect(cards.first).to_be_visible(timeout=ALERT_TIMEOUT_MS)
        for button in cards.first.get_by_role("button").all():
            expect(button).to_be_disabled()
        _shoot(phone, shots, "10-viewer-phone-alerts")
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
    _shoot(page, shots, "11-session-ended")

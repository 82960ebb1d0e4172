"""Sessions in the dashboard: an expired token renewed, a one-time password changed first.

A long-open dashboard outlives its access token: the socket and the video renew it.

The server issues 30 s access tokens. The /ws socket is closed with 4401 at
its next re-check after expiry and the MJPEG stream ends; the dashboard
refreshes its token once and reconnects both, so the operator keeps seeing
live video and new alerts without signing in again.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.auth_support import ADMIN, ADMIN_PASSWORD, server_env
from tests.e2e.browser_support import shoot, sign_in
from tests.e2e.serve_support import ServeProcess, serving

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(600)]

TOKEN_TTL_S = 30
"""The shortest access-token lifetime the settings allow."""

SOCKET_SPY = """
(() => {
  const Native = window.WebSocket;
  window.__sockets = { opened: 0, closes: [] };
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      window.__sockets.opened += 1;
      this.addEventListener("close", (e) => window.__sockets.closes.push(e.code));
    }
  };
})();
"""
"""Counts the page's sockets and records their close codes."""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    root = tmp_path_factory.mktemp("dashboard-session")
    env = server_env(ARGUS_ACCESS_TOKEN_TTL_S=str(TOKEN_TTL_S))
    with serving(root / "data", root / "serve.log", env=env, args=("--demo",)) as running:
        yield running


@pytest.fixture
def page(chromium: Browser, server: ServeProcess) -> Iterator[Page]:
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    context.add_init_script(SOCKET_SPY)
    opened = context.new_page()
    opened.set_default_timeout(30_000)
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(f"{error.name}: {error.message}"))
    yield opened
    context.close()
    assert errors == []


def test_socket_and_video_renew_an_expired_token(
    page: Page, server: ServeProcess, shots: list[Path]
) -> None:
    sign_in(page, f"{server.base}/ui/", ADMIN, ADMIN_PASSWORD)
    expect(page.get_by_role("heading", name="Live")).to_be_visible()
    first_token = page.evaluate("() => sessionStorage.getItem('argus.access')")
    image = page.locator("img[data-camera='demo']")
    expect(image).to_have_attribute("src", re.compile("^blob:"), timeout=60_000)
    # Past expiry plus one re-check interval (30 s) of the socket and the stream.
    page.wait_for_function(
        "() => window.__sockets.closes.includes(4401)", timeout=(2 * TOKEN_TTL_S + 45) * 1000
    )
    page.wait_for_function(
        "(first) => window.__sockets.opened >= 2 && "
        "sessionStorage.getItem('argus.access') !== first",
        arg=first_token,
        timeout=30_000,
    )
    # Still signed in, the video still moving, alerts still arriving live.
    expect(page.get_by_role("heading", name="Live")).to_be_visible()
    before = image.screenshot()
    deadline = time.monotonic() + 30
    while image.screenshot() == before:
        assert time.monotonic() < deadline, "the video stopped after the token expired"
        page.wait_for_timeout(300)
    page.get_by_role("link", name=re.compile("^Alerts")).click()
    seen = page.locator("li.alert").evaluate_all("items => items.map(i => i.dataset.alert)")
    fresh = page.locator(
        "li.alert" + "".join(f":not([data-alert='{alert_id}'])" for alert_id in seen)
    )
    # New alerts wait behind "N new — show" (no card moves by itself); one click shows them.
    page.get_by_role("button", name=re.compile(r"^\d+ new( or escalated)? — show$")).click(
        timeout=180_000
    )
    expect(fresh.first).to_be_visible(timeout=180_000)
    shoot(page, shots, "01-after-renewal")


def test_a_one_time_password_must_be_changed_first(
    page: Page, server: ServeProcess, shots: list[Path]
) -> None:
    one_time = "one-time-password-from-the-admin"
    body = {
        "username": "newcomer",
        "password": one_time,
        "role": "operator",
        "must_change_password": True,
    }
    admin = httpx.post(
        f"{server.base}/api/v1/auth/token",
        data={"username": ADMIN, "password": ADMIN_PASSWORD},
        timeout=30,
    )
    headers = {"authorization": f"Bearer {admin.json()['access_token']}"}  # 30 s tokens here
    made = httpx.post(f"{server.base}/api/v1/users", json=body, headers=headers, timeout=30)
    assert made.status_code == 201, made.text
    sign_in(page, f"{server.base}/ui/#/alerts", "newcomer", one_time)
    form = page.get_by_role("form", name="Change password")
    expect(form).to_be_visible()
    page.get_by_role("link", name="Alerts").click()  # nothing else until it is changed
    expect(form).to_be_visible()
    shoot(page, shots, "02-change-password")
    form.get_by_label("Current password").fill(one_time)
    form.get_by_label("New password (12 characters or more)").fill("my-own-passphrase-2026")
    form.get_by_label("New password again").fill("not-the-same-passphrase")
    form.get_by_role("button", name="Change password").click()
    expect(form.get_by_role("alert")).to_have_text("The new passwords differ.")
    form.get_by_label("New password again").fill("my-own-passphrase-2026")
    form.get_by_role("button", name="Change password").click()
    expect(page.get_by_role("heading", name="Live")).to_be_visible()
    expect(page.locator("img[data-camera='demo']")).to_have_attribute(
        "src", re.compile("^blob:"), timeout=60_000
    )
    answer = httpx.post(
        f"{server.base}/api/v1/auth/token",
        data={"username": "newcomer", "password": "my-own-passphrase-2026"},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    assert answer.json().get("restricted") is None
    # Signing in where the landing page already is (#/live) still leaves the form.
    page.get_by_role("button", name="Sign out").click()
    sign_in(page, f"{server.base}/ui/#/live", "newcomer", "my-own-passphrase-2026")
    expect(page.get_by_role("heading", name="Live")).to_be_visible()


def test_sign_out_ends_the_session_on_the_server(
    page: Page, server: ServeProcess, shots: list[Path]
) -> None:
    """The attack: the dashboard's Sign out used to send an empty body (422), so the
    session's refresh token kept minting access tokens and nothing was audited."""
    sign_in(page, f"{server.base}/ui/", ADMIN, ADMIN_PASSWORD)
    expect(page.get_by_role("heading", name="Live")).to_be_visible()
    access, refresh = page.evaluate(
        "() => [sessionStorage.getItem('argus.access'), sessionStorage.getItem('argus.refresh')]"
    )
    assert access
    assert refresh
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_label("Username")).to_be_visible()
    shoot(page, shots, "03-signed-out")
    assert page.evaluate("() => sessionStorage.getItem('argus.refresh')") is None
    # What a thief who copied both tokens before the sign-out gets now.
    refreshed = httpx.post(
        f"{server.base}/api/v1/auth/refresh", json={"refresh_token": refresh}, timeout=30
    )
    assert refreshed.status_code == 401, refreshed.text
    me = httpx.get(
        f"{server.base}/api/v1/auth/me", headers={"authorization": f"Bearer {access}"}, timeout=30
    )
    assert me.status_code == 401, me.text
    admin = httpx.post(
        f"{server.base}/api/v1/auth/token",
        data={"username": ADMIN, "password": ADMIN_PASSWORD},
        timeout=30,
    )
    headers = {"authorization": f"Bearer {admin.json()['access_token']}"}
    trail = httpx.get(
        f"{server.base}/api/v1/audit",
        params={"action": "auth.logout", "limit": 10},
        headers=headers,
        timeout=30,
    )
    assert trail.status_code == 200, trail.text
    logouts = [r for r in trail.json()["items"] if r["action"] == "auth.logout"]
    assert logouts, "the sign-out was not audited"

"""The dashboard and the API docs in Chromium under the server's Content Security Policy.

The policy refuses inline scripts, other hosts and framing; these tests make
sure nothing the dashboard or Swagger UI needs is refused (every violation the
browser reports fails the test), and that neither page asks another host for
anything.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, Route, expect

from tests.auth_support import ADMIN, ADMIN_PASSWORD
from tests.e2e.browser_support import sign_in
from tests.e2e.serve_support import ServeProcess, serving

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(600)]

VIOLATIONS = """
(() => {
  window.__violations = [];
  document.addEventListener("securitypolicyviolation", (e) =>
    window.__violations.push(`${e.violatedDirective} ${e.blockedURI}`));
})();
"""
"""Records every CSP violation the page reports."""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    root = tmp_path_factory.mktemp("browser-policy")
    with serving(root / "data", root / "serve.log", args=("--demo",)) as running:
        yield running


class Watched:
    """A page with what it did wrong: policy violations, console errors, other hosts asked."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.console: list[str] = []
        self.elsewhere: list[str] = []

    def violations(self) -> list[str]:
        found: list[str] = self.page.evaluate("() => window.__violations || []")
        return found + [m for m in self.console if "Content Security Policy" in m]


@pytest.fixture
def watched(chromium: Browser, server: ServeProcess) -> Iterator[Watched]:
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    context.add_init_script(VIOLATIONS)
    page = context.new_page()
    page.set_default_timeout(30_000)
    seen = Watched(page)
    local = urlsplit(server.base).netloc

    def only_local(route: Route) -> None:
        url = route.request.url
        if urlsplit(url).scheme in ("http", "https", "ws", "wss") and (
            urlsplit(url).netloc != local
        ):
            seen.elsewhere.append(url)
            route.abort()
        else:
            route.continue_()

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            seen.console.append(message.text)

    context.route("**/*", only_local)
    page.on("console", on_console)
    yield seen
    context.close()


def test_the_dashboard_runs_under_its_policy(watched: Watched, server: ServeProcess) -> None:
    page = watched.page
    sign_in(page, f"{server.base}/ui/", ADMIN, ADMIN_PASSWORD)
    expect(page.get_by_role("heading", name="Live")).to_be_visible()
    # Live video arrives as blob: images drawn from the MJPEG stream.
    image = page.locator("img[data-camera='demo']")
    expect(image).to_have_attribute("src", re.compile("^blob:"), timeout=60_000)
    for link, heading in (
        (re.compile("^Alerts"), "Alerts"),
        (re.compile("^Incidents"), "Incidents"),
        (re.compile("^Analytics"), "Analytics"),
        (re.compile("^Nodes"), "Nodes"),
        (re.compile("^Configuration"), "Configuration"),
        (re.compile("^Settings"), "Settings"),
        (re.compile("^Notifications"), "Notifications"),
        (re.compile("^Privacy"), "Privacy requests"),
    ):
        page.get_by_role("link", name=link).click()
        expect(page.get_by_role("heading", name=heading).first).to_be_visible()
    page.wait_for_load_state("networkidle")
    assert watched.violations() == []
    assert watched.elsewhere == []


def test_the_api_docs_render_from_the_server_alone(watched: Watched, server: ServeProcess) -> None:
    page = watched.page
    page.goto(f"{server.base}/api/docs")
    # Swagger UI ran (its inline start script is allowed by hash) and read the document.
    # (The 1.5 MB bundle and the document take a while on a loaded machine.)
    expect(page.locator(".opblock").first).to_be_visible(timeout=60_000)
    expect(page.get_by_text("/api/v1/cameras").first).to_be_visible()
    assert watched.violations() == []
    assert watched.elsewhere == []

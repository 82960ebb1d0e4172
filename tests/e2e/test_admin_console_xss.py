"""Server data that carries HTML or script, shown by the admin console pages (issue 22).

Against a real ``argus serve``: dismissal reasons, a camera name, an API key name,
an incident note and a workstation subject's and client's names are set over the
API to markup that runs script if it is parsed (``<img onerror>``, ``<svg onload>``,
an attribute break-out). The Review, Audit, API keys, Evidence and Workstations
pages must show it as text: nothing sets ``window.__pwned`` and no element of the
payload exists in the page. A new key's secret is kept in neither ``localStorage``
nor ``sessionStorage`` and is gone from the page once dismissed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.browser_support import nav_to, shoot
from tests.e2e.console_support import Seeded, busy_server, seed
from tests.e2e.dashboard_support import call, signed_in
from tests.e2e.serve_support import ServeProcess

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(600)]

MARK = "window.__pwned=(window.__pwned||0)+1"
PAYLOADS = (
    f"<img src=x onerror={MARK}>",
    f'"><svg onload="{MARK}">',
    f"</td><script>{MARK}</script>",
)
"""Each would set ``window.__pwned`` if the page parsed it as HTML."""
REASON = f"fp {PAYLOADS[0]}"
KEY_NAME = f"k {PAYLOADS[1]}"
CAMERA_NAME = f"c {PAYLOADS[2]}"
SUBJECT = f"s {PAYLOADS[0]}"
CLIENT = f"w {PAYLOADS[1]}"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    with busy_server(tmp_path_factory.mktemp("console-xss"), demo=False) as running:
        yield running


@pytest.fixture(scope="module")
def seeded(server: ServeProcess) -> Seeded:
    made = seed(server, {"north": 2, "south": 1})
    call(server, "PATCH", f"/cameras/{made.camera_id}", {"name": CAMERA_NAME})
    first, second, third = (str(alert["id"]) for alert in made.alerts)
    for alert_id in (first, second, third):
        call(server, "POST", f"/alerts/{alert_id}/acknowledge", {})
    call(server, "POST", f"/alerts/{first}/dismiss", {"note": REASON})
    call(server, "POST", f"/alerts/{third}/dismiss", {"note": PAYLOADS[1]})
    confirmed = call(server, "POST", f"/alerts/{second}/confirm", {"note": PAYLOADS[2]})
    incident = confirmed["incident"]["id"]
    call(server, "POST", f"/incidents/{incident}/notes", {"text": PAYLOADS[0]})
    subject = call(server, "POST", "/workstations/subjects", {"name": SUBJECT})
    call(server, "POST", "/workstations/clients", {"name": CLIENT, "subjects": [subject["id"]]})
    return made


@pytest.fixture(scope="module")
def page(chromium: Browser, server: ServeProcess, seeded: Seeded) -> Iterator[Page]:
    del seeded
    errors: list[str] = []
    opened = signed_in(chromium, server, errors)
    yield opened
    opened.context.close()


def _harmless(page: Page) -> None:
    """No payload ran, and none became an element."""
    assert page.evaluate("() => window.__pwned") is None
    assert page.locator("img[src=x], svg[onload], script:not([src])").count() == 0


def test_review_shows_reasons_and_camera_names_as_text(
    page: Page, server: ServeProcess, shots: list[Path]
) -> None:
    del server
    nav_to(page, "Review")
    expect(page.get_by_role("heading", name="False-positive review")).to_be_visible()
    rules = page.get_by_role("table", name="Verdicts by rule")
    expect(rules).to_contain_text(REASON)
    cameras = page.get_by_role("table", name="Verdicts by camera")
    expect(cameras).to_contain_text(CAMERA_NAME)
    for button in rules.get_by_role("button", name=re.compile("Show the false positives")).all():
        button.click()
    _harmless(page)
    shoot(page, shots, "xss-review")


def test_audit_details_are_text(page: Page, server: ServeProcess, shots: list[Path]) -> None:
    made = call(server, "POST", "/api-keys", {"name": KEY_NAME, "permissions": ["view"]})
    assert made["name"] == KEY_NAME
    nav_to(page, "Audit")
    expect(page.get_by_role("heading", name="Audit trail")).to_be_visible()
    filters = page.get_by_role("form", name="Filter the audit trail")
    filters.get_by_label("Action (or prefix)").fill("alert.")
    filters.get_by_role("button", name="Filter").click()
    records = page.get_by_role("table", name="Audit records")
    expect(records.locator("tbody tr").first).to_be_visible()
    for details in records.locator("button, summary").all():
        if details.is_visible():
            details.click()
    _harmless(page)
    filters.get_by_label("Action (or prefix)").fill("apikey.")
    filters.get_by_role("button", name="Filter").click()
    expect(page.get_by_role("table", name="Audit records")).to_contain_text(KEY_NAME)
    _harmless(page)
    shoot(page, shots, "xss-audit")


def test_key_names_are_text_and_the_secret_is_not_kept(page: Page, shots: list[Path]) -> None:
    nav_to(page, "API keys")
    expect(page.get_by_role("heading", name="API keys", exact=True)).to_be_visible()
    expect(page.get_by_role("table", name="API keys")).to_contain_text(KEY_NAME)
    form = page.get_by_role("form", name="Create an API key")
    form.get_by_label("Name", exact=True).fill(f"again {PAYLOADS[0]}")
    form.get_by_role("button", name="Create key").click()
    panel = page.locator(".secret")
    expect(panel).to_contain_text(PAYLOADS[0])
    secret = panel.locator(".copy-text").inner_text()
    assert len(secret) >= 20
    _harmless(page)
    stored = "() => JSON.stringify([{...localStorage}, {...sessionStorage}])"
    assert secret not in page.evaluate(stored)
    panel.get_by_role("button", name="Done, I have saved it").click()
    expect(page.locator(".secret")).to_have_count(0)
    assert secret not in page.content()
    assert secret not in page.evaluate(stored)
    shoot(page, shots, "xss-keys")


def test_evidence_and_workstations_pages_stay_harmless(page: Page, shots: list[Path]) -> None:
    nav_to(page, "Evidence")
    expect(page.get_by_role("heading", name="Evidence", exact=True)).to_be_visible()
    _harmless(page)
    nav_to(page, "Workstations")
    expect(page.get_by_role("heading", name="Workstations", exact=True)).to_be_visible()
    expect(page.locator("main")).to_contain_text(SUBJECT)
    expect(page.locator("main")).to_contain_text(CLIENT)
    _harmless(page)
    shoot(page, shots, "xss-workstations")

"""The workstation decision policy on the Workstations page, in chromium against ``argus serve``.

An administrator reads the thresholds in force and where each came from (the
server's settings: ``ARGUS_WORKSTATION_MATCH_THRESHOLD`` is set to 0.55 here),
stores a stricter match threshold, is told clearly when a value is refused
(more phone hits than frames), and restores the defaults; each step is checked
against the API and the audit trail. No uncaught JavaScript error and no
console error; screenshots at desktop and phone size.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from tests.e2e.browser_support import nav_to, shoot
from tests.e2e.console_support import busy_server
from tests.e2e.dashboard_support import call, fits_a_phone, signed_in
from tests.e2e.serve_support import ServeProcess

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(600)]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    root = tmp_path_factory.mktemp("console-workstation-policy")
    with busy_server(root, demo=False, ARGUS_WORKSTATION_MATCH_THRESHOLD="0.55") as running:
        yield running


@pytest.fixture(scope="module")
def page(chromium: Browser, server: ServeProcess) -> Iterator[Page]:
    errors: list[str] = []
    problems: list[str] = []
    opened = signed_in(chromium, server, errors)
    opened.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    nav_to(opened, "Workstations")
    expect(opened.get_by_role("heading", name="Workstations", exact=True)).to_be_visible()
    yield opened
    opened.context.close()
    assert errors == []
    # A refused save is answered 422 on purpose; the browser logs that response.
    assert [p for p in problems if "422" not in p] == []


def _form(page: Page) -> Locator:
    return page.get_by_role("form", name="Workstation policy")


def test_the_defaults_and_their_source_are_shown(page: Page, shots: list[Path]) -> None:
    form = _form(page)
    threshold = form.get_by_label("Match threshold")
    expect(threshold).to_have_value("0.55")
    expect(form.locator("[data-field='verification.match_threshold']")).to_have_text(
        "default (0.55)"
    )
    expect(form.get_by_label("Frames of those that must show a phone")).to_have_value("3")
    form.scroll_into_view_if_needed()
    shoot(page, shots, "workstation-policy-desktop")


def test_a_stricter_threshold_is_saved_and_audited(page: Page, server: ServeProcess) -> None:
    form = _form(page)
    form.get_by_label("Match threshold").fill("0.45")
    form.get_by_role("button", name="Save policy").click()
    expect(form.get_by_role("status")).to_contain_text("Saved: 1 value set here")
    expect(form.locator("[data-field='verification.match_threshold']")).to_have_text("set here")
    stored = call(server, "GET", "/workstations/policy")
    assert stored["verification"]["match_threshold"] == 0.45
    assert stored["sources"]["verification"]["wrong_user_frames"] == "default"
    audit = call(server, "GET", "/audit?action=workstation.policy.update")
    assert [e["details"]["after"]["verification"]["match_threshold"] for e in audit["items"]] == [
        0.45
    ]


def test_a_refused_value_is_explained_and_nothing_is_stored(
    page: Page, server: ServeProcess
) -> None:
    form = _form(page)
    form.get_by_label("Frames of those that must show a phone").fill("9")
    form.get_by_role("button", name="Save policy").click()
    status = form.get_by_role("status")
    expect(status).to_have_attribute("data-ok", "false")
    expect(status).to_contain_text("min_hits <= window")
    assert call(server, "GET", "/workstations/policy")["phone"]["min_hits"] == 3


def test_the_defaults_are_restored(page: Page, server: ServeProcess, shots: list[Path]) -> None:
    form = _form(page)
    form.get_by_role("button", name="Restore all defaults").click()
    expect(form.get_by_role("status")).to_contain_text("defaults restored")
    expect(form.get_by_label("Match threshold")).to_have_value("0.55")
    expect(form.get_by_label("Frames of those that must show a phone")).to_have_value("3")
    policy = call(server, "GET", "/workstations/policy")
    assert set(policy["sources"]["verification"].values()) == {"default"}
    fits_a_phone(page, "the workstation policy")
    page.set_viewport_size({"width": 390, "height": 844})
    try:
        form.scroll_into_view_if_needed()
        shoot(page, shots, "workstation-policy-phone")
    finally:
        page.set_viewport_size({"width": 1280, "height": 900})

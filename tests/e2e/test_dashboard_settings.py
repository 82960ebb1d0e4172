"""The Settings page in chromium against a real ``argus serve`` (issue 18).

An admin edits the risk policy (a weight, the night hours and their time
zone) and previews the risk an alert would get; sets the site's and a
camera's time zone; changes the retention of a kind of data and sweeps now;
adds and removes a maintenance window; snoozes a camera and lifts it. Each
change is checked in the API. An operator sees the policy read-only and
may snooze. No step may raise an uncaught JavaScript error.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.auth_support import USER_PASSWORD
from tests.e2e.browser_support import shoot, sign_in
from tests.e2e.dashboard_support import CLASS, call, camera, fits_a_phone, signed_in
from tests.e2e.serve_support import ServeProcess, serving

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(600)]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    root = tmp_path_factory.mktemp("dashboard-settings")
    with serving(root / "data", root / "serve.log") as running:
        gate = camera(running, "Gate")
        call(
            running,
            "POST",
            "/rules",
            {"name": "gate crossing", "camera_id": gate, "classes": [CLASS]},
        )
        yield running


@pytest.fixture(scope="module")
def errors() -> list[str]:
    return []


@pytest.fixture(scope="module")
def page(chromium: Browser, server: ServeProcess, errors: list[str]) -> Iterator[Page]:
    opened = signed_in(chromium, server, errors)
    opened.get_by_role("link", name="Settings").click()
    expect(opened.get_by_role("heading", name="Settings", exact=True)).to_be_visible()
    yield opened
    opened.context.close()


def _gate(server: ServeProcess) -> str:
    (found,) = [c["id"] for c in call(server, "GET", "/cameras")["items"] if c["name"] == "Gate"]
    return str(found)


def test_edit_the_risk_policy_and_preview_a_risk(
    page: Page, server: ServeProcess, shots: list[Path]
) -> None:
    before: dict[str, Any] = call(server, "GET", "/risk-policy")
    weight = sorted(before["weights"])[0]
    form = page.get_by_role("form", name="Risk policy")
    form.get_by_label(f"Weight: {weight}").fill("0.75")
    form.get_by_label("Night starts (hour, local)").fill("21")
    form.get_by_label("Night ends (hour, local)").fill("5")
    form.get_by_label("Night hours' time zone").fill("Europe/Berlin")
    form.get_by_role("button", name="Save risk policy").click()
    expect(form.locator(".form-status")).to_have_text("Risk policy saved: new alerts use it.")
    after = call(server, "GET", "/risk-policy")
    assert after["weights"][weight] == 0.75
    assert (after["night_start"], after["night_end"]) == (21, 5)
    assert after["timezone"] == "Europe/Berlin"
    assert {k: v for k, v in after["weights"].items() if k != weight} == {
        k: v for k, v in before["weights"].items() if k != weight
    }

    preview = page.get_by_role("form", name="Risk preview")
    preview.get_by_label("Rule").select_option(label="gate crossing")
    preview.get_by_label("Camera").select_option(label="Gate")
    preview.get_by_label("Confidence").fill("0.9")
    preview.get_by_role("button", name="Preview risk").click()
    score = preview.locator(".preview-score")
    expect(score).to_have_attribute("data-severity", re.compile("^(low|medium|high)$"))
    expect(score).to_contain_text("risk 0.")
    expect(preview.locator(".preview-result li").first).to_be_visible()
    shoot(page, shots, "01-risk-policy")


def test_site_and_camera_time_zones(page: Page, server: ServeProcess) -> None:
    form = page.get_by_role("form", name="Site time zone")
    form.get_by_label("Site time zone").fill("America/New_York")
    form.get_by_label("Gate time zone").fill("Asia/Tokyo")
    form.get_by_role("button", name="Save time zones").click()
    expect(form.locator(".form-status")).to_have_text("Time zones saved.")
    site = call(server, "GET", "/site")
    assert site["timezone"] == "America/New_York"
    assert site["camera_timezones"] == {_gate(server): "Asia/Tokyo"}
    form.get_by_label("Site time zone").fill("Not/AZone")
    form.get_by_role("button", name="Save time zones").click()
    expect(form.locator(".form-status")).to_have_attribute("data-ok", "false")
    assert call(server, "GET", "/site")["timezone"] == "America/New_York"


def test_retention_and_sweep_now(page: Page, server: ServeProcess, shots: list[Path]) -> None:
    form = page.get_by_role("form", name="Retention")
    form.get_by_label("Events (days)").fill("45")
    form.get_by_role("button", name="Save retention").click()
    expect(form.locator(".form-status")).to_have_text("Retention saved.")
    stored = call(server, "GET", "/retention")
    assert stored["policy"]["events"] == 45
    form.get_by_role("button", name="Sweep now").click()
    swept = form.get_by_role("table", name="Swept")
    expect(swept).to_be_visible()
    expect(swept.locator("tr[data-kind='events']")).to_contain_text("0")
    shoot(page, shots, "02-retention")


def test_add_and_remove_a_maintenance_window(
    page: Page, server: ServeProcess, shots: list[Path]
) -> None:
    form = page.get_by_role("form", name="New maintenance window")
    form.get_by_label("Window name").fill("lens cleaning")
    form.get_by_label("Reason").fill("quarterly service")
    form.get_by_role("checkbox", name="Gate").check()
    form.get_by_role("button", name="Add window").click()
    table = page.get_by_role("table", name="Maintenance windows")
    row = table.locator("tr", has_text="lens cleaning")
    expect(row).to_contain_text("Gate")
    (window,) = call(server, "GET", "/maintenance-windows")["items"]
    assert window["camera_ids"] == [_gate(server)]
    assert window["reason"] == "quarterly service"
    shoot(page, shots, "03-maintenance")
    fits_a_phone(page, "the Settings page")
    row.get_by_role("button", name="Remove").click()
    expect(page.get_by_role("region", name="Maintenance windows")).to_contain_text(
        "No maintenance windows."
    )
    assert call(server, "GET", "/maintenance-windows")["items"] == []


def test_snooze_a_camera_and_lift_it(page: Page, server: ServeProcess, errors: list[str]) -> None:
    form = page.get_by_role("form", name="New snooze")
    form.get_by_role("button", name="Add snooze").click()
    expect(form.locator(".form-status")).to_have_text("Choose a rule, a camera, or both.")
    form.get_by_label("Snooze camera").select_option(label="Gate")
    form.get_by_label("For", exact=True).select_option(label="4 hours")
    form.get_by_label("Snooze reason").fill("builders on site")
    form.get_by_role("button", name="Add snooze").click()
    table = page.get_by_role("table", name="Snoozes")
    expect(table.locator("tbody tr")).to_have_count(1)
    expect(table).to_contain_text("builders on site")
    (snooze,) = call(server, "GET", "/snoozes")["items"]
    assert snooze["camera_id"] == _gate(server)
    assert snooze["rule_id"] is None
    table.get_by_role("button", name="Lift snooze").click()
    expect(page.get_by_role("region", name="Snoozes")).to_contain_text("Nothing is snoozed.")
    assert errors == []


def test_an_operator_reads_the_policy_and_snoozes(chromium: Browser, server: ServeProcess) -> None:
    call(
        server, "POST", "/users", {"username": "op", "password": USER_PASSWORD, "role": "operator"}
    )
    context = chromium.new_context()
    page = context.new_page()
    try:
        sign_in(page, f"{server.base}/ui/", "op", USER_PASSWORD)
        page.get_by_role("link", name="Settings").click()
        form = page.get_by_role("form", name="Risk policy")
        expect(form.get_by_label("Night starts (hour, local)")).to_be_disabled()
        expect(form.get_by_role("button", name="Save risk policy")).to_have_count(0)
        expect(page.get_by_role("form", name="Retention")).to_have_count(0)
        expect(page.get_by_role("form", name="Risk preview")).to_have_count(0)
        expect(
            page.get_by_role("table", name="Maintenance windows").or_(
                page.get_by_text("No maintenance windows.")
            )
        ).to_be_visible()
        expect(page.get_by_role("form", name="New maintenance window")).to_have_count(0)
        expect(page.get_by_role("form", name="New snooze")).to_be_visible()
    finally:
        context.close()

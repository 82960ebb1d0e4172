"""The Notifications page in chromium against a real ``argus serve`` (issue 18).

An admin creates a webhook channel (to a real webhook receiver process) and an
email channel with a password, edits one, sends a test through the webhook
and sees it delivered in the notification log; a channel whose receiver
refuses for good (HTTP 410) dead-letters its test, which is retried from the
log; a route with targets, escalation levels, a schedule and quiet hours is
created and edited; recipient groups are saved. Every change is checked in
the API as well; secrets are never shown back. An operator sees no
Notifications link. No step may raise an uncaught JavaScript error.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from tests.auth_support import USER_PASSWORD, server_env
from tests.e2e.browser_support import shoot, sign_in
from tests.e2e.dashboard_support import (
    Sink,
    call,
    camera,
    fits_a_phone,
    signed_in,
    wait_for,
    webhook_sink,
)
from tests.e2e.serve_support import ServeProcess, serving

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(600)]


@pytest.fixture(scope="module")
def sinks(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Sink, Sink]]:
    folder = tmp_path_factory.mktemp("hooks")
    with webhook_sink(folder) as good, webhook_sink(folder, status=410) as gone:
        yield good, gone


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    root = tmp_path_factory.mktemp("dashboard-notify")
    env = server_env(ARGUS_NOTIFY_ALLOWED_NETWORKS="127.0.0.1", ARGUS_NOTIFY_POLL_S="0.2")
    with serving(root / "data", root / "serve.log", env=env) as running:
        camera(running, "Gate")
        call(running, "POST", "/rules", {"name": "gate crossing", "classes": ["unicorn"]})
        yield running


@pytest.fixture(scope="module")
def errors() -> list[str]:
    return []


@pytest.fixture(scope="module")
def page(chromium: Browser, server: ServeProcess, errors: list[str]) -> Iterator[Page]:
    opened = signed_in(chromium, server, errors)
    opened.get_by_role("link", name="Notifications").click()
    expect(opened.get_by_role("heading", name="Notifications", exact=True)).to_be_visible()
    yield opened
    opened.context.close()


def _channel(server: ServeProcess, name: str) -> dict[str, Any]:
    (found,) = [c for c in call(server, "GET", "/channels")["items"] if c["name"] == name]
    return dict(found)


def _row(page: Page, name: str) -> Locator:
    """The channel's row in the Channels table."""
    return page.get_by_role("table", name="Channels").locator("tr", has_text=name)


def _new_channel(page: Page) -> Locator:
    return page.get_by_role("form", name="New channel")


def test_create_a_webhook_and_an_email_channel(
    page: Page, server: ServeProcess, sinks: tuple[Sink, Sink], shots: list[Path]
) -> None:
    good, gone = sinks
    form = _new_channel(page)
    form.get_by_label("Name", exact=True).fill("ops hook")
    form.get_by_label("Kind").select_option("webhook")
    form.get_by_label("URL").fill(good.url)
    form.get_by_label("Format").select_option("slack")
    form.get_by_label("Extra headers (Name: value per line)").fill("X-Team: night")
    form.get_by_role("button", name="Create channel").click()
    expect(_row(page, "ops hook")).to_be_visible()
    # The signing secret Argus generated is shown once, right after creating the channel.
    generated = page.locator(".secret-once code")
    expect(generated).to_have_text(re.compile(r"^\S{16,}$"))
    hook = _channel(server, "ops hook")
    assert hook["kind"] == "webhook"
    assert hook["settings"]["format"] == "slack"
    assert hook["settings"]["url"] == good.url
    assert hook["settings"]["headers"] == {"X-Team": "night"}
    assert hook["settings"]["secret"] == {"set": True}  # generated, never shown

    form = _new_channel(page)
    form.get_by_label("Name", exact=True).fill("duty mail")
    form.get_by_label("Kind").select_option("email")
    form.get_by_label("SMTP host").fill("127.0.0.1")
    form.get_by_label("Port").fill("2525")
    form.get_by_label("Security").select_option("none")
    form.get_by_label("Username").fill("argus")
    form.get_by_label("Password").fill("s3cret-mail-pass")
    form.get_by_label("Default recipients (comma separated)").fill(
        "duty@example.org, boss@example.org"
    )
    form.get_by_role("button", name="Create channel").click()
    expect(_row(page, "duty mail")).to_contain_text("127.0.0.1:2525")
    mail = _channel(server, "duty mail")
    assert mail["settings"]["to"] == ["duty@example.org", "boss@example.org"]
    assert mail["settings"]["password"] == {"set": True}
    assert "s3cret-mail-pass" not in page.content()

    form = _new_channel(page)
    form.get_by_label("Name", exact=True).fill("gone hook")
    form.get_by_label("Kind").select_option("webhook")
    form.get_by_label("URL").fill(gone.url)
    form.get_by_role("button", name="Create channel").click()
    expect(_row(page, "gone hook")).to_be_visible()
    shoot(page, shots, "01-channels")


def test_edit_a_channel_keeps_its_secret(page: Page, server: ServeProcess) -> None:
    _row(page, "duty mail").get_by_role("button", name="Edit").click()
    form = page.get_by_role("form", name="Edit channel duty mail")
    expect(form.get_by_label("Password")).to_have_attribute(
        "placeholder", "stored: leave blank to keep"
    )
    form.get_by_label("Rate limit (per minute)").fill("12")
    form.get_by_text("Templates (blank: the built-in one)").click()
    form.get_by_label("Subject template").fill("[{{ alert.severity }}] {{ alert.rule_name }}")
    form.get_by_role("button", name="Save channel").click()
    expect(_row(page, "duty mail").locator("td").nth(3)).to_have_text("12")
    mail = _channel(server, "duty mail")
    assert mail["rate_per_minute"] == 12
    assert mail["templates"]["subject"] == "[{{ alert.severity }}] {{ alert.rule_name }}"
    assert mail["settings"]["password"] == {"set": True}
    assert mail["version"] >= 2


def test_a_test_send_is_delivered_and_a_dead_one_retried(
    page: Page, server: ServeProcess, sinks: tuple[Sink, Sink], shots: list[Path]
) -> None:
    good, _ = sinks
    _row(page, "ops hook").get_by_role("button", name="Send test").click()
    expect(page.locator("#toast")).to_contain_text("Test queued for ops hook")
    wait_for("the test at the webhook receiver", good.received, server)
    log = page.get_by_role("table", name="Notifications")
    delivered = log.locator("tr[data-state='delivered']", has_text="ops hook")
    expect(delivered).to_have_count(1, timeout=30_000)
    expect(delivered).to_contain_text("test")

    _row(page, "gone hook").get_by_role("button", name="Send test").click()
    dead = log.locator("tr[data-state='dead']", has_text="gone hook")
    expect(dead).to_have_count(1, timeout=30_000)
    shoot(page, shots, "02-log-dead")
    notification_id = dead.get_attribute("data-notification")
    dead.get_by_role("button", name="Retry").click()
    # Queued again (pending), tried once more, and dead again: the receiver still says 410.

    def tried_again() -> list[dict[str, Any]]:
        items = call(server, "GET", "/notifications?limit=100")["items"]
        return [n for n in items if n["id"] == notification_id and n["attempts"] >= 2]

    stored = wait_for("a second attempt", tried_again, server)
    assert stored[0]["state"] in ("pending", "dead")
    page.get_by_label("Delivery state").select_option("delivered")
    expect(log.locator("tbody tr")).to_have_count(1)
    expect(log.locator("tbody tr[data-state='delivered']")).to_have_count(1)
    page.get_by_label("Delivery state").select_option("")


def test_create_and_edit_a_route(page: Page, server: ServeProcess, shots: list[Path]) -> None:
    form = page.get_by_role("form", name="New route")
    form.get_by_label("Route name").fill("night watch")
    form.get_by_label("Lowest severity").select_option("medium")
    form.get_by_label("Time zone (blank: the camera's or the site's)").fill("Europe/Berlin")
    form.get_by_role("checkbox", name="gate crossing").check()
    quiet = form.get_by_role("group", name="Quiet hours")
    quiet.get_by_role("checkbox", name="On", exact=True).check()
    quiet.get_by_label("Quiet hours: from").fill("22:00")
    quiet.get_by_label("Quiet hours: until (24:00 = midnight)").fill("06:00")
    form.get_by_label("During quiet hours, only from").select_option("high")
    form.locator(".target").first.get_by_label("Channel").select_option(label="ops hook (webhook)")
    form.get_by_role("button", name="Add target").click()
    second = form.locator(".target").nth(1)
    second.get_by_label("Channel").select_option(label="duty mail (email)")
    second.get_by_label("Escalation level (0 = when raised)").fill("1")
    second.get_by_label("Recipients (addresses or group:name)").fill("group:night-shift")
    form.get_by_role("button", name="Create route").click()
    row = page.get_by_role("table", name="Routes").locator("tr", has_text="night watch")
    expect(row).to_contain_text("≥ medium")
    expect(row).to_contain_text("L1: duty mail → group:night-shift")
    (route,) = call(server, "GET", "/routes")["items"]
    assert route["min_severity"] == "medium"
    assert route["timezone"] == "Europe/Berlin"
    assert route["quiet_hours"] == {"days": [0, 1, 2, 3, 4, 5, 6], "start": "22:00", "end": "06:00"}
    assert route["schedule"] is None
    assert [(t["level"], t["to"]) for t in route["targets"]] == [
        (0, []),
        (1, ["group:night-shift"]),
    ]
    shoot(page, shots, "03-route")
    fits_a_phone(page, "the Notifications page")

    row.get_by_role("button", name="Edit").click()
    edit = page.get_by_role("form", name="Edit route night watch")
    schedule = edit.get_by_role("group", name="Schedule")
    schedule.get_by_role("checkbox", name="On", exact=True).check()
    schedule.get_by_role("checkbox", name="Sat").uncheck()
    schedule.get_by_role("checkbox", name="Sun").uncheck()
    edit.get_by_role("button", name="Save route").click()
    expect(row).to_contain_text("Mon Tue Wed Thu Fri 00:00\N{EN DASH}24:00")
    (route,) = call(server, "GET", "/routes")["items"]
    assert route["schedule"]["days"] == [0, 1, 2, 3, 4]


def test_recipient_groups(page: Page, server: ServeProcess, errors: list[str]) -> None:
    form = page.get_by_role("form", name="Recipient groups")
    form.get_by_label("Group name").first.fill("night-shift")
    form.get_by_label("Addresses (comma separated)").first.fill("ann@example.org, bo@example.org")
    form.get_by_role("button", name="Save groups").click()
    expect(form.locator(".form-status")).to_have_text("Saved 1 group(s).")
    saved = call(server, "GET", "/recipient-groups")
    assert saved["groups"] == {"night-shift": ["ann@example.org", "bo@example.org"]}
    page.reload()
    expect(
        page.get_by_role("form", name="Recipient groups").get_by_label("Group name").first
    ).to_have_value("night-shift")
    assert errors == []


def test_delete_a_route_after_confirming(page: Page, server: ServeProcess) -> None:
    row = page.get_by_role("table", name="Routes").locator("tr", has_text="night watch")
    page.once("dialog", lambda dialog: dialog.dismiss())
    row.get_by_role("button", name="Delete").click()
    expect(row).to_be_visible()  # not confirmed: kept
    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="Delete").click()
    expect(page.get_by_role("region", name="Routes")).to_contain_text("No routes yet")
    assert call(server, "GET", "/routes")["items"] == []


def test_an_operator_has_no_notifications_page(chromium: Browser, server: ServeProcess) -> None:
    body = {"username": "op", "password": USER_PASSWORD, "role": "operator"}
    call(server, "POST", "/users", body)
    context = chromium.new_context()
    page = context.new_page()
    try:
        sign_in(page, f"{server.base}/ui/", "op", USER_PASSWORD)
        expect(page.get_by_role("heading", name="Live")).to_be_visible()
        expect(page.get_by_role("link", name="Notifications")).to_be_hidden()
        expect(page.get_by_role("link", name="Privacy")).to_be_hidden()
        expect(page.get_by_role("link", name="Settings")).to_be_visible()
        page.goto(f"{server.base}/ui/#/notify")
        expect(page.get_by_role("heading", name="Not available")).to_be_visible()
    finally:
        context.close()

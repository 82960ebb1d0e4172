"""The Alerts page's groups, paging, snoozes and delivery logs in chromium (issue 18).

A real ``argus serve`` (no demo) with one camera that never streams; line
crossings posted to the API raise the alerts, so what the page must show is
exactly known. Repeats of one rule on one camera and line collapse into one
group with a count, first and last seen; groups and single alerts page by
cursor ("Load more", with the total); a group is acknowledged in one click;
a rule and a camera are snoozed and lifted again; an active maintenance
window is shown and its alerts say why they were not notified; each alert
card shows the deliveries of its notifications, received by a real webhook
process. No step may raise an uncaught JavaScript error.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.auth_support import server_env
from tests.e2e.browser_support import shoot
from tests.e2e.dashboard_support import (
    CLASS,
    Sink,
    alerts_of,
    call,
    camera,
    crossings,
    fits_a_phone,
    signed_in,
    wait_for,
    webhook_sink,
)
from tests.e2e.serve_support import ServeProcess, serving

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(600)]

PAGE = 20
"""Items the page reads at once (``PAGE`` in pages/alerts.js)."""


@pytest.fixture(scope="module")
def sink(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sink]:
    with webhook_sink(tmp_path_factory.mktemp("hooks")) as running:
        yield running


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    root = tmp_path_factory.mktemp("dashboard-groups")
    env = server_env(ARGUS_NOTIFY_ALLOWED_NETWORKS="127.0.0.1", ARGUS_NOTIFY_POLL_S="0.2")
    with serving(root / "data", root / "serve.log", env=env) as running:
        yield running


@pytest.fixture(scope="module")
def setup(server: ServeProcess, sink: Sink) -> dict[str, str]:
    """A camera, a rule on it, and a webhook channel every alert is routed to."""
    gate = camera(server, "Gate")
    rule = call(
        server,
        "POST",
        "/rules",
        {"name": "unicorn crossing", "camera_id": gate, "classes": [CLASS]},
    )
    channel = call(
        server,
        "POST",
        "/channels",
        {"name": "ops hook", "kind": "webhook", "settings": {"url": sink.url}},
    )
    call(
        server,
        "POST",
        "/routes",
        {"name": "everything", "targets": [{"channel_id": channel["id"]}]},
    )
    return {"camera": gate, "rule": str(rule["id"]), "channel": str(channel["id"])}


@pytest.fixture(scope="module")
def errors() -> list[str]:
    return []


@pytest.fixture(scope="module")
def page(chromium: Browser, server: ServeProcess, errors: list[str]) -> Iterator[Page]:
    opened = signed_in(chromium, server, errors)
    yield opened
    opened.context.close()


def _group_of(server: ServeProcess, alert: dict[str, Any]) -> dict[str, Any]:
    return dict(call(server, "GET", f"/alert-groups/{alert['group_id']}"))


def test_repeats_collapse_into_one_group_with_count_and_times(
    page: Page, server: ServeProcess, setup: dict[str, str], shots: list[Path]
) -> None:
    alerts = alerts_of(server, crossings(server, setup["camera"], ["kerb"] * 3))
    assert len({a["group_id"] for a in alerts}) == 1
    group = _group_of(server, alerts[0])
    page.get_by_role("link", name=re.compile("^Alerts")).click()
    card = page.locator(f"article.group[data-group='{group['id']}']")
    expect(card.locator(".count")).to_have_attribute("data-count", "3")
    expect(card).to_contain_text("unicorn crossing")
    expect(card).to_contain_text("Gate · kerb")
    expect(card.locator(".seen")).to_contain_text("first seen")
    expect(card.locator(".seen time")).to_have_attribute("datetime", group["last_seen"])
    # The newest open alert of the group is on its card; the others on demand.
    expect(card.locator("li.alert")).to_have_count(1)
    expect(card.locator("li.alert")).to_have_attribute("data-alert", alerts[-1]["id"])
    card.locator("details.group-alerts summary").click()
    expect(card.locator("details.group-alerts li.alert")).to_have_count(3)
    # A fourth repeat arrives live: the count goes up without a reload.
    alerts_of(server, crossings(server, setup["camera"], ["kerb"]))
    expect(card.locator(".count")).to_have_attribute("data-count", "4", timeout=30_000)
    expect(page.locator("article.group")).to_have_count(1)
    shoot(page, shots, "01-alert-group")


def test_the_delivery_log_on_an_alert_card(
    page: Page, server: ServeProcess, setup: dict[str, str], sink: Sink, shots: list[Path]
) -> None:
    card = page.locator("article.group").first.locator("ul.latest > li.alert")
    alert_id = card.get_attribute("data-alert")
    # The first alert of the group was notified; wait until the receiver has it.
    wait_for("a webhook delivery", sink.received, server)
    first = page.locator("article.group").first
    first.locator("details.group-alerts li.alert").last.locator(
        "details.deliveries summary"
    ).click()
    log = first.locator("details.group-alerts li.alert").last.locator("details.deliveries")
    expect(log.locator("li.delivery")).to_have_count(1)
    expect(log.locator("li.delivery")).to_have_attribute("data-state", "delivered")
    expect(log.locator("li.delivery")).to_contain_text("ops hook (webhook)")
    expect(log.locator("ol.attempts li[data-ok='true']")).to_have_count(1)
    expect(log.locator("summary")).to_have_text("Deliveries: 1 of 1 delivered")
    # A repeat is not notified on its own, and says so.
    card.locator("details.deliveries summary").click()
    expect(card.locator("details.deliveries")).to_contain_text("not notified")
    assert alert_id
    shoot(page, shots, "02-deliveries")


def test_acknowledge_a_group_in_one_click(
    page: Page, server: ServeProcess, setup: dict[str, str], shots: list[Path]
) -> None:
    group = page.locator("article.group").first
    group_id = group.get_attribute("data-group")
    group.get_by_role("button", name=re.compile(r"^Acknowledge group \(4\)")).click()
    expect(group.locator("ul.latest > li.alert")).to_have_attribute("data-state", "acknowledged")
    # The group's history shows all of them acknowledged (it is open from the first test).
    expect(group.locator("details.group-alerts li.alert[data-state='acknowledged']")).to_have_count(
        4
    )
    listed = call(server, "GET", f"/alert-groups/{group_id}/alerts?limit=100")["items"]
    assert [a["state"] for a in listed] == ["acknowledged"] * 4
    shoot(page, shots, "03-group-acknowledged")


def test_groups_and_alerts_page_by_cursor(
    page: Page, server: ServeProcess, setup: dict[str, str], shots: list[Path]
) -> None:
    # One rule, 24 lines: 24 more groups (25 in all), 28 alerts.
    alerts_of(server, crossings(server, setup["camera"], [f"line-{i:02}" for i in range(24)]))
    page.get_by_label("State").select_option("")
    shown = page.locator("p.shown")
    expect(shown).to_have_text(f"Showing {PAGE} of 25 alert groups", timeout=30_000)
    expect(page.locator("article.group")).to_have_count(PAGE)
    page.get_by_role("button", name="Load more").click()
    expect(page.locator("article.group")).to_have_count(25)
    expect(shown).to_have_text("Showing 25 of 25 alert groups")
    expect(page.get_by_role("button", name="Load more")).to_be_hidden()
    page.get_by_label("Show").select_option("alerts")
    expect(shown).to_have_text(f"Showing {PAGE} of 28 alerts")
    page.get_by_role("button", name="Load more").click()
    expect(page.locator("ul.list[data-kind='alerts'] > li.alert")).to_have_count(28)
    ids = page.locator("li.alert").evaluate_all("items => items.map(i => i.dataset.alert)")
    assert len(set(ids)) == 28  # no alert twice across the pages
    shoot(page, shots, "04-paged")
    page.get_by_label("Show").select_option("groups")
    page.get_by_label("State").select_option("open")


def test_snooze_a_rule_and_a_camera_then_lift_them(
    page: Page, server: ServeProcess, setup: dict[str, str], shots: list[Path]
) -> None:
    first = page.locator("article.group").first.get_attribute("data-group")
    group = page.locator(f"article.group[data-group='{first}']")
    group.get_by_label("Snooze for").select_option(label="1 hour")
    group.get_by_role("button", name="Snooze rule").click()
    strip = page.get_by_role("region", name="Active snoozes")
    expect(strip.locator("p.snoozed")).to_have_count(1)
    expect(strip).to_contain_text("rule unicorn crossing")
    group.get_by_role("button", name="Snooze camera").click()
    expect(strip.locator("p.snoozed")).to_have_count(2)
    expect(strip).to_contain_text("camera Gate")
    stored = call(server, "GET", "/snoozes")["items"]
    assert sorted((s["rule_id"] or "", s["camera_id"] or "") for s in stored) == sorted(
        [(setup["rule"], ""), ("", setup["camera"])]
    )
    # While snoozed an alert is kept, not notified, and its card says why.
    (alert,) = alerts_of(server, crossings(server, setup["camera"], ["snoozed-line"]))
    assert alert["suppressed"]
    # Its new group waits behind "1 new — show" (no card moves by itself) until asked for.
    page.get_by_role("button", name=re.compile(r"^\d+ new( or escalated)? — show$")).click()
    card = page.locator(f"li.alert[data-alert='{alert['id']}']")
    expect(card.locator(".suppressed")).to_contain_text("Not notified")
    shoot(page, shots, "05-snoozed")
    fits_a_phone(page, "the Alerts page")
    for left in (1, 0):
        strip.get_by_role("button", name="Lift snooze").first.click()
        expect(strip.locator("p.snoozed")).to_have_count(left)
    assert call(server, "GET", "/snoozes")["items"] == []


def test_dismiss_a_group_with_a_reason(
    page: Page, server: ServeProcess, setup: dict[str, str], errors: list[str]
) -> None:
    group_id = page.locator("article.group").first.get_attribute("data-group")
    group = page.locator(f"article.group[data-group='{group_id}']")  # not .first: order changes
    group.get_by_role("button", name="Dismiss group").click()
    expect(page.locator("#toast")).to_contain_text("give a reason first")
    group.get_by_label("Dismissal reason").fill("a film crew's costume")
    group.get_by_role("button", name="Dismiss group").click()
    expect(page.locator(f"article.group[data-group='{group_id}']")).to_have_count(0)
    listed = call(server, "GET", f"/alert-groups/{group_id}/alerts?limit=100")["items"]
    assert {a["state"] for a in listed} == {"false_positive"}
    assert errors == []


def test_a_maintenance_window_shows_and_mutes_alerts(
    page: Page, server: ServeProcess, setup: dict[str, str], errors: list[str]
) -> None:
    now = datetime.now(UTC)
    window = call(
        server,
        "POST",
        "/maintenance-windows",
        {
            "name": "gate repaint",
            "camera_ids": [setup["camera"]],
            "start": (now - timedelta(minutes=1)).isoformat(),
            "end": (now + timedelta(hours=1)).isoformat(),
        },
    )
    (alert,) = alerts_of(server, crossings(server, setup["camera"], ["repaint-line"]))
    assert "maintenance" in str(alert["suppressed"])
    page.reload()
    strip = page.get_by_role("region", name="Active snoozes")
    expect(strip.locator("p.maintenance")).to_contain_text('Maintenance "gate repaint" (Gate)')
    # Triage order: of groups alike, the oldest comes first; the newest is on the second page.
    page.get_by_role("button", name="Load more").click()
    card = page.locator(f"li.alert[data-alert='{alert['id']}']")
    expect(card.locator(".suppressed")).to_contain_text("maintenance")
    call(server, "DELETE", f"/maintenance-windows/{window['id']}")
    assert errors == []

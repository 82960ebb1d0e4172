"""Rule suggestions on the false-positive review page in chromium (issue 21, part E).

Against a real ``argus serve``: a camera with one line and its rule; crossings
are posted with detection scores, and operators dismiss the weak ones and
confirm the confident ones over the API. In the browser the admin recomputes
the suggestions, sees the threshold one with its effect on those alerts,
applies it (asked again in place), and the rule's threshold changes on the
server; the decision shows under "All". The crossings' trajectory log puts the
dismissed ones in one corner (these crossings carry no ``point`` of their own, as
events recorded before the pipeline wrote one), so an exclusion zone is proposed
too: drawn, with its effect; applied (asked again, in words saying what it does),
the area joins the rule's ``exclude_areas`` on the server. The rule editor then
shows it ("Keep 1 excluded area") and clearing it there removes it.
Shot at desktop and phone size; no step may raise an uncaught JavaScript error.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from argus.domain.event_payloads import TracksMinute
from argus.domain.events import Envelope, EventSource, LineCrossed
from tests.e2e.browser_support import nav_to, shoot
from tests.e2e.console_support import busy_server
from tests.e2e.dashboard_support import CLASS, alerts_of, call, camera, fits_a_phone, signed_in
from tests.e2e.serve_support import ServeProcess

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(600)]

SCORES = (0.31, 0.34, 0.36, 0.38, 0.9, 0.92, 0.95)
"""Scores of the posted crossings: the four weak ones are dismissed, the rest confirmed."""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    with busy_server(tmp_path_factory.mktemp("console-suggestions"), demo=False) as running:
        yield running


@pytest.fixture(scope="module")
def rule_id(server: ServeProcess) -> str:
    gate = camera(server, "East gate")
    call(
        server,
        "POST",
        f"/cameras/{gate}/lines",
        {"name": "east", "start": [100, 50], "end": [100, 400]},
    )
    rule = call(
        server,
        "POST",
        "/rules",
        {
            "name": "East line crossed",
            "camera_id": gate,
            "event_types": ["line.crossed"],
            "classes": [CLASS],
            "line": "east",
        },
    )
    start = datetime.now(UTC) - timedelta(minutes=10)
    envelopes = [
        Envelope.wrap(
            LineCrossed("east", 5000 + i, 0, CLASS, "in", float(i), confidence=score),
            EventSource("suggestions-e2e", gate),
            start + timedelta(seconds=i),
        )
        for i, score in enumerate(SCORES)
    ]
    # The trajectory log puts the weak ones' objects top right, the others bottom left.
    logs = [
        Envelope.wrap(
            TracksMinute(
                640,
                480,
                1,
                i,
                0,
                (CLASS,),
                (
                    (
                        5000 + i,
                        0,
                        e.timestamp.second * 10 + e.timestamp.microsecond // 100_000,
                        *((600, 40 + i) if score < 0.5 else (80, 440)),
                        60,
                    ),
                ),
            ),
            EventSource("suggestions-e2e", gate),
            e.timestamp.replace(second=0, microsecond=0),
        )
        for i, (e, score) in enumerate(zip(envelopes, SCORES, strict=True))
    ]
    call(server, "POST", "/events", {"events": [e.to_dict() for e in [*logs, *envelopes]]})
    alerts = alerts_of(server, [e.event_id for e in envelopes])
    for alert, score in zip(alerts, SCORES, strict=True):
        call(server, "POST", f"/alerts/{alert['id']}/acknowledge", {})
        action = "dismiss" if score < 0.5 else "confirm"
        call(server, "POST", f"/alerts/{alert['id']}/{action}", {"note": "e2e"})
    assert isinstance(rule, dict)
    return str(rule["id"])


@pytest.fixture(scope="module")
def errors() -> list[str]:
    return []


@pytest.fixture(scope="module")
def page(
    chromium: Browser, server: ServeProcess, rule_id: str, errors: list[str]
) -> Iterator[Page]:
    del rule_id
    opened = signed_in(chromium, server, errors)
    yield opened
    opened.context.close()


def test_an_admin_recomputes_and_applies_a_threshold_and_an_exclusion_zone(
    page: Page, server: ServeProcess, rule_id: str, errors: list[str], shots: list[Path]
) -> None:
    nav_to(page, "Review")
    card = page.get_by_role("region", name="Rule suggestions")
    expect(card).to_contain_text("No suggestions")
    card.get_by_role("button", name="Recompute").click()
    row = card.locator("tr[data-kind='threshold']")
    expect(row).to_contain_text("East line crossed")
    expect(row).to_contain_text("Raise the confidence threshold for unicorn to 0.39")
    expect(row).to_contain_text("4 of 4 false positives suppressed · 0 of 3 confirmed alerts lost")
    zone = card.locator("tr[data-kind='exclusion_zone']")
    expect(zone).to_contain_text("4 of 4 false positives suppressed · 0 of 3 confirmed alerts lost")
    expect(zone.get_by_role("img", name=re.compile("false positives cluster"))).to_be_visible()
    expect(zone.get_by_role("button", name="Apply")).to_be_visible()
    page.set_viewport_size({"width": 1280, "height": 900})
    shoot(page, shots, "suggestions-desktop")
    fits_a_phone(page, "suggestions")
    page.set_viewport_size({"width": 390, "height": 844})
    shoot(page, shots, "suggestions-phone")
    page.set_viewport_size({"width": 1280, "height": 900})

    row.get_by_role("button", name="Apply").click()
    row.get_by_role("group", name="Change East line crossed?").get_by_role(
        "button", name="Yes"
    ).click()
    expect(card.locator("tr[data-kind='threshold']")).to_have_count(0)  # no longer open
    stored = call(server, "GET", f"/rules/{rule_id}")
    assert isinstance(stored, dict)
    assert stored["min_confidence"] == 0.39
    assert stored["exclude_areas"] == []

    zone.get_by_role("button", name="Apply").click()
    ask = zone.get_by_role("group", name=re.compile("Exclude this area from East line crossed"))
    expect(ask).to_contain_text("Events without a position still match")
    shoot(page, shots, "suggestions-zone-confirm")
    ask.get_by_role("button", name="Yes").click()
    expect(card.locator("tr[data-kind='exclusion_zone']")).to_have_count(0)
    stored = call(server, "GET", f"/rules/{rule_id}")
    assert isinstance(stored, dict)
    [area] = stored["exclude_areas"]
    assert len(area) == 4
    assert all(x > 0.8 and y < 0.2 for x, y in area)  # the top right corner of the frame

    card.get_by_role("combobox", name="Which suggestions").select_option("")
    decided = card.locator("tr[data-kind='threshold']")
    expect(decided).to_have_attribute("data-state", "applied")
    expect(decided).to_contain_text("applied by user:admin")
    expect(card.locator("tr[data-kind='exclusion_zone']")).to_have_attribute(
        "data-state", "applied"
    )
    shoot(page, shots, "suggestions-applied")

    # The rule editor shows the area and can clear it (nothing else changes).
    nav_to(page, "Configuration")
    rules = page.get_by_role("region", name="Rules")
    rules.locator(
        "details.rule", has=page.locator("summary", has_text="East line crossed")
    ).locator("summary").first.click()
    form = rules.get_by_role("form", name="Rule East line crossed")
    keep = form.get_by_role("checkbox", name=re.compile("Keep 1 excluded area of the frame"))
    expect(keep).to_be_checked()
    shoot(page, shots, "suggestions-rule-editor-area")
    keep.uncheck()
    form.get_by_role("button", name="Save rule").click()
    expect(page.get_by_text("Rule East line crossed saved")).to_be_visible()
    stored = call(server, "GET", f"/rules/{rule_id}")
    assert isinstance(stored, dict)
    assert (stored["exclude_areas"], stored["min_confidence"]) == ([], 0.39)
    assert errors == []

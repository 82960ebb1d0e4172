"""Search in words in chromium, against a real ``argus serve`` and the real MiniLM encoder.

``console_support.seed`` gives the server the "North gate" camera with lines
north, south and kerb, and crossings (class ``unicorn``) that raise alerts.
The server indexes them as they arrive. In the browser a question becomes
chips (camera, line, kind) and results; alerts link to their detail page;
the page fits a phone.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from tests.e2e.browser_support import shoot
from tests.e2e.console_support import Seeded, busy_server, seed
from tests.e2e.dashboard_support import fits_a_phone, signed_in
from tests.e2e.serve_support import ServeProcess

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(600)]

INDEXED_MS = 120_000
"""How long the page may wait for the server to index the seeded crossings (model load)."""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    with busy_server(tmp_path_factory.mktemp("console-search"), demo=False) as running:
        yield running


@pytest.fixture(scope="module")
def seeded(server: ServeProcess) -> Seeded:
    return seed(server, {"north": 2, "south": 2, "kerb": 3})


def test_a_question_in_words_finds_the_alerts_and_opens_one(
    chromium: Browser, server: ServeProcess, seeded: Seeded, tmp_path: Path
) -> None:
    errors: list[str] = []
    page = signed_in(chromium, server, errors)
    shots = [tmp_path]
    page.goto(f"{server.base}/ui/#/search")
    expect(page.get_by_role("heading", name="Search")).to_be_visible()
    question = page.get_by_role("searchbox", name="Question")
    hits = page.locator(".search-hit")
    # The crossings and their alerts are indexed in the background: ask until all are found.
    deadline_tries = INDEXED_MS // 2000
    for _ in range(deadline_tries):
        question.fill("unicorn crossings on the kerb line at north gate")
        page.get_by_role("button", name="Search", exact=True).click()
        expect(page.locator(".search-ranking")).to_be_visible()
        if hits.count() >= 6:
            break
        page.wait_for_timeout(2000)
    chips = page.get_by_role("list", name="What the question became")
    expect(chips).to_contain_text("Line: kerb")
    expect(chips).to_contain_text("Camera: north gate")
    expect(chips).to_contain_text("Words: unicorn")
    expect(page.locator('.search-hit[data-kind="event"]')).to_have_count(3)
    expect(page.locator('.search-hit[data-kind="alert"]')).to_have_count(3)
    expect(hits.first).to_contain_text("unicorn crossing line kerb")
    shoot(page, shots, "search-events")

    question.fill("alerts on the kerb line")
    page.get_by_role("button", name="Search", exact=True).click()
    expect(page.locator('.search-hit[data-kind="alert"]')).to_have_count(3, timeout=INDEXED_MS)
    expect(chips).to_contain_text("Only: alerts")
    fits_a_phone(page, "search")
    shoot(page, shots, "search-alerts")
    page.locator(".search-hit").first.get_by_role("link", name="Open alert").click()
    expect(page).to_have_url(re.compile(r"#/alerts/"))
    assert errors == [], errors
    assert seeded.camera_id

"""The Re-count panel of the Analytics page in chromium against a real ``argus serve`` (issue 20).

A camera's trajectory log (``tracks.minute`` events, as a pipeline writes
them) and its live crossings are posted through the ingest API; an admin
picks the camera and a custom period, runs the re-count and reads live beside
re-counted per line: the person lost and found across the line, whom the live
counter missed, is counted. No step may raise an uncaught JavaScript error.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from argus.domain.events import EventSource
from tests.e2e.browser_support import shoot
from tests.e2e.dashboard_support import call, camera, fits_a_phone, signed_in
from tests.e2e.serve_support import ServeProcess, serving
from tests.recount_support import LINE, SAMPLES, live_crossings, walks

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(600)]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    root = tmp_path_factory.mktemp("dashboard-recount")
    with serving(root / "data", root / "serve.log") as running:
        yield running


@pytest.fixture(scope="module")
def errors() -> list[str]:
    return []


@pytest.fixture(scope="module")
def page(chromium: Browser, server: ServeProcess, errors: list[str]) -> Iterator[Page]:
    opened = signed_in(chromium, server, errors)
    yield opened
    opened.context.close()


def test_a_recount_shows_live_beside_recounted_per_line(
    page: Page, server: ServeProcess, errors: list[str], shots: list[Path]
) -> None:
    camera(server, "Car park")
    shop = camera(server, "Shop")
    call(server, "POST", f"/cameras/{shop}/lines", LINE)
    start = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=30)
    source = EventSource("dashboard-e2e", shop)
    events = [*walks(source, start), *live_crossings(source, start)]
    call(server, "POST", "/events", {"events": [e.to_dict() for e in events]})

    page.get_by_role("link", name="Analytics").click()
    panel = page.get_by_role("region", name="Re-count")
    expect(panel.get_by_role("heading", name="Re-count")).to_be_visible()
    form = panel.get_by_role("form", name="Re-count a period")
    form.get_by_label("Camera").select_option(label="Shop")
    expect(form.get_by_label("From")).to_be_hidden()
    form.get_by_label("Period").select_option("custom")
    local = "%Y-%m-%dT%H:%M"
    form.get_by_label("From").fill((start - timedelta(minutes=5)).astimezone().strftime(local))
    form.get_by_label("Until").fill((start + timedelta(minutes=5)).astimezone().strftime(local))
    form.get_by_role("button", name="Run re-count").click()

    expect(panel.locator(".form-status")).to_contain_text(f"from {SAMPLES} trajectory samples")
    result = panel.get_by_role("table", name="Live and re-counted crossings")
    row = result.locator("tbody tr")
    expect(row).to_have_count(1)
    expect(row.locator("th, td")).to_have_text(["door", "1", "1", "2", "1"])
    shoot(page, shots, "01-recount")
    jobs = call(server, "GET", f"/recounts?camera_id={shop}")["items"]
    assert [(j["status"], j["requested_by"]) for j in jobs] == [("done", "user:admin")]
    fits_a_phone(page, "the Analytics page with a re-count")
    assert errors == []

"""The Privacy page in chromium against a real ``argus serve`` (issue 18).

An admin exports what is held about a face subject (a sealed bundle is
downloaded: not a readable zip), erases that subject, and erases a camera's
events over a time range (events outside the range stay); every request is
listed in the request log with its reason and counts. A viewer or operator
has no Privacy link. No step may raise an uncaught JavaScript error.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.browser_support import shoot
from tests.e2e.dashboard_support import call, camera, crossings, fits_a_phone, signed_in
from tests.e2e.serve_support import ServeProcess, serving

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(600)]

PASSPHRASE = "correct horse battery staple"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    root = tmp_path_factory.mktemp("dashboard-privacy")
    with serving(root / "data", root / "serve.log") as running:
        yield running


@pytest.fixture(scope="module")
def errors() -> list[str]:
    return []


@pytest.fixture(scope="module")
def page(chromium: Browser, server: ServeProcess, errors: list[str]) -> Iterator[Page]:
    for name in ("Ada Lovelace", "Grace Hopper"):
        call(server, "POST", "/workstations/subjects", {"name": name})
    opened = signed_in(chromium, server, errors)
    opened.get_by_role("link", name="Privacy").click()
    expect(opened.get_by_role("heading", name="Privacy requests")).to_be_visible()
    yield opened
    opened.context.close()


def _subject(server: ServeProcess, name: str) -> str:
    items = call(server, "GET", "/workstations/subjects?limit=100")["items"]
    (found,) = [s["id"] for s in items if s["name"] == name]
    return str(found)


def test_export_a_subject_as_a_sealed_bundle(
    page: Page, server: ServeProcess, tmp_path: Path, shots: list[Path]
) -> None:
    section = page.get_by_role("region", name="Face subject")
    section.get_by_label("Subject", exact=True).select_option(label="Grace Hopper (0 descriptors)")
    form = page.get_by_role("form", name="Export a subject")
    form.get_by_label("Bundle passphrase").fill(PASSPHRASE)
    form.get_by_label("Passphrase again").fill("something else entirely")
    form.get_by_role("button", name="Export subject").click()
    expect(form.locator(".form-status")).to_have_text("The passphrases differ.")
    form.get_by_label("Passphrase again").fill(PASSPHRASE)
    form.get_by_label("Export reason (optional)").fill("SAR 2026-7")
    with page.expect_download() as download:
        form.get_by_role("button", name="Export subject").click()
    saved = tmp_path / "bundle"
    download.value.save_as(saved)
    assert download.value.suggested_filename.startswith("argus-subject-")
    sealed = saved.read_bytes()
    assert len(sealed) > 32
    assert not sealed.startswith(b"PK")  # encrypted, not a plain zip
    expect(form.locator(".form-status")).to_contain_text("Bundle of")
    shoot(page, shots, "01-export")


def test_erase_a_subject(page: Page, server: ServeProcess, shots: list[Path]) -> None:
    ada = _subject(server, "Ada Lovelace")
    section = page.get_by_role("region", name="Face subject")
    section.get_by_label("Subject", exact=True).select_option(ada)
    form = page.get_by_role("form", name="Erase a subject")
    form.get_by_label("Erasure reason").fill("GDPR art. 17 request 2026-041")
    form.get_by_role("checkbox", name="I understand this cannot be undone").check()
    form.get_by_role("button", name="Erase subject").click()
    expect(form.locator(".form-status")).to_have_text(f"Subject {ada} erased.")
    expect(form.locator(".privacy-result")).to_contain_text("erased descriptors: 0")
    call(server, "GET", f"/workstations/subjects/{ada}", status=404)
    options = section.get_by_label("Subject", exact=True).locator("option")
    expect(options).to_have_count(2)  # Grace, and "Another id…"
    shoot(page, shots, "02-erase-subject")


def test_erase_a_camera_range_and_read_the_request_log(
    page: Page, server: ServeProcess, errors: list[str], shots: list[Path]
) -> None:
    yard = camera(server, "Yard")
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    old = now - timedelta(days=2)
    crossings(server, yard, ["a", "b"], at=old)
    crossings(server, yard, ["c", "d", "e"], at=now - timedelta(minutes=30))
    page.reload()
    form = page.get_by_role("form", name="Erase a camera's range")
    form.get_by_label("Camera").select_option(label="Yard")
    form.get_by_label("Since").fill(
        (now - timedelta(hours=1)).astimezone().strftime("%Y-%m-%dT%H:%M")
    )
    form.get_by_label("Until").fill(
        (now + timedelta(minutes=1)).astimezone().strftime("%Y-%m-%dT%H:%M")
    )
    form.get_by_label("Range erasure reason").fill("filmed a neighbour's garden")
    form.get_by_role("checkbox", name="I understand this cannot be undone").check()
    form.get_by_role("button", name="Erase range").click()
    expect(form.locator(".form-status")).to_have_text("Range erased.")
    expect(form.locator(".privacy-result")).to_contain_text("erased events: 3")
    left = call(server, "GET", f"/events?camera_id={yard}&limit=100")["items"]
    assert len(left) == 2  # the older ones, outside the range

    log = page.get_by_role("table", name="Privacy requests")
    expect(log.locator("tbody tr")).to_have_count(3)
    expect(log.locator("tr[data-action='privacy.erase_range']")).to_contain_text(
        "filmed a neighbour's garden"
    )
    expect(log.locator("tr[data-action='privacy.erase_range']")).to_contain_text("events 3")
    expect(log.locator("tr[data-action='privacy.erase_subject']")).to_contain_text(
        "GDPR art. 17 request 2026-041"
    )
    expect(log.locator("tr[data-action='privacy.export_subject']")).to_contain_text("SAR 2026-7")
    shoot(page, shots, "03-erase-range")
    fits_a_phone(page, "the Privacy page")
    assert errors == []

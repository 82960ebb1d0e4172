"""The admin console's audit, API key, evidence and review pages in chromium (issue 22).

Against a real ``argus serve`` with the "North gate" camera of ``console_support.seed``:
operators' verdicts are made over the API (dismissals with reasons, one
confirmation, whose incident gets two uploaded documents). Then, in the
browser: the audit trail filtered, the chain verified and its head recorded
(copied, and checked again against it); an API key created, its secret shown
once (copied, downloaded, then gone) and the key revoked; evidence verified,
locked and exported as a bundle whose signature checks against the server's
key; false positives counted per rule and camera with a drill-down; and a
viewer who sees Evidence and Review but neither Audit nor API keys. Every page
is shot at desktop and phone size. No step may raise an uncaught JavaScript error.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, ViewportSize, expect

from argus.services.evidence import verify_bundle
from tests.auth_support import USER_PASSWORD
from tests.e2e.browser_support import nav_to, shoot, sign_in
from tests.e2e.console_support import Seeded, busy_server, seed
from tests.e2e.dashboard_support import call, fits_a_phone, signed_in
from tests.e2e.serve_support import ServeProcess

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(600)]

PHONE: ViewportSize = {"width": 390, "height": 844}
DESKTOP: ViewportSize = {"width": 1280, "height": 900}
VIEWER = "vera"
REASON = "a cleaner with a mop"
HEAD = re.compile(r"^\d+:[0-9a-f]{64}$")


@dataclass(frozen=True, slots=True)
class Verdicts:
    """What the module's setup did: the seed, the confirmed incident and its documents."""

    seeded: Seeded
    incident_id: str
    documents: list[str]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    with busy_server(tmp_path_factory.mktemp("console-admin"), demo=False) as running:
        yield running


def _verdict(server: ServeProcess, alert_id: str, action: str, note: str = "") -> object:
    call(server, "POST", f"/alerts/{alert_id}/acknowledge", {})
    body: dict[str, str] = {"note": note}
    return call(server, "POST", f"/alerts/{alert_id}/{action}", body)


def _upload(server: ServeProcess, incident_id: str, name: str, text: str) -> str:
    answer = httpx.post(
        f"{server.base}/api/v1/incidents/{incident_id}/evidence",
        headers=server.headers,
        files={"file": (name, text.encode(), "text/plain")},
        timeout=30,
    )
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


@pytest.fixture(scope="module")
def verdicts(server: ServeProcess) -> Verdicts:
    seeded = seed(server, {"north": 3, "south": 2})
    by_rule: dict[str, list[str]] = {}
    for alert in seeded.alerts:
        by_rule.setdefault(str(alert["rule_id"]), []).append(str(alert["id"]))
    north, south = by_rule[seeded.rules["north"]], by_rule[seeded.rules["south"]]
    _verdict(server, north[0], "dismiss", REASON)
    _verdict(server, north[1], "dismiss", REASON)
    confirmed = _verdict(server, north[2], "confirm", "a real intruder")
    assert isinstance(confirmed, dict)
    incident_id = str(confirmed["incident"]["id"])
    _verdict(server, south[0], "dismiss", "shadow of a tree")
    documents = [
        _upload(server, incident_id, "guard-report.txt", "The guard saw the intruder at 02:10."),
        _upload(server, incident_id, "police-ref.txt", "Police reference 2026/4471."),
    ]
    return Verdicts(seeded, incident_id, documents)


@pytest.fixture(scope="module")
def errors() -> list[str]:
    return []


@pytest.fixture(scope="module")
def page(
    chromium: Browser, server: ServeProcess, verdicts: Verdicts, errors: list[str]
) -> Iterator[Page]:
    del verdicts
    opened = signed_in(chromium, server, errors)
    opened.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.base)
    yield opened
    opened.context.close()


def _shoot_both(page: Page, shots: list[Path], name: str) -> None:
    """Desktop and phone screenshots; the phone's page must not scroll sideways."""
    page.set_viewport_size(DESKTOP)
    shoot(page, shots, f"{name}-desktop")
    fits_a_phone(page, name)
    page.set_viewport_size(PHONE)
    shoot(page, shots, f"{name}-phone")
    page.set_viewport_size(DESKTOP)


def test_the_audit_trail_filters_verifies_and_shows_the_head_to_record(
    page: Page, server: ServeProcess, shots: list[Path]
) -> None:
    nav_to(page, "Audit")
    expect(page.get_by_role("heading", name="Audit trail")).to_be_visible()
    filters = page.get_by_role("form", name="Filter the audit trail")
    filters.get_by_label("Action (or prefix)").fill("alert.dismiss")
    filters.get_by_role("button", name="Filter").click()
    records = page.get_by_role("table", name="Audit records")
    expect(records.locator("tbody tr")).to_have_count(3)
    for action in records.locator("tbody tr td[data-label=Action]").all_inner_texts():
        assert action == "alert.dismiss"
    listed = call(server, "GET", "/audit?action=alert.dismiss")
    assert listed["total"] == 3
    expect(page.locator(".audit-records .page-of")).to_have_text("1\u20133 of 3")

    chain = page.get_by_role("form", name="Verify the audit chain")
    chain.get_by_role("button", name="Verify the chain").click()
    expect(chain.locator(".integrity")).to_contain_text("The chain is intact")
    expect(chain.get_by_role("heading", name="Record this head")).to_be_visible()
    head = chain.locator(".head").get_attribute("data-head")
    assert head is not None
    assert HEAD.match(head), head
    chain.get_by_role("button", name="Copy the head").click()
    assert page.evaluate("() => navigator.clipboard.readText()") == head
    checked = call(server, "GET", f"/audit/verify?expect_head={head}")
    assert checked["ok"] is True
    _shoot_both(page, shots, "audit")

    # Later: verify against the recorded head (records were added since; none were cut off).
    chain.get_by_label("Head recorded earlier (optional)").fill(head)
    chain.get_by_role("button", name="Verify the chain").click()
    expect(chain.locator(".head")).not_to_have_attribute("data-head", head)
    expect(chain.locator(".integrity")).to_contain_text("The chain is intact")
    later = chain.locator(".head").get_attribute("data-head")
    assert later is not None
    assert int(later.split(":")[0]) > int(head.split(":")[0])


def test_an_api_key_is_created_its_secret_shown_once_then_revoked(
    page: Page, server: ServeProcess, shots: list[Path], tmp_path: Path
) -> None:
    nav_to(page, "API keys")
    expect(page.get_by_role("heading", name="API keys", exact=True)).to_be_visible()
    form = page.get_by_role("form", name="Create an API key")
    form.get_by_label("Name", exact=True).fill("nightly export")
    form.get_by_label(re.compile("^Operate")).check()
    form.get_by_role("button", name="Create key").click()
    panel = page.locator(".secret")
    expect(panel).to_contain_text("shown only this once")
    secret = panel.locator(".copy-text").inner_text()
    assert len(secret) >= 20
    key_id = panel.get_attribute("data-key-id")
    answer = httpx.get(f"{server.base}/api/v1/alerts", headers={"X-API-Key": secret}, timeout=30)
    assert answer.status_code == 200, answer.text
    panel.get_by_role("button", name="Copy the secret").click()
    assert page.evaluate("() => navigator.clipboard.readText()") == secret
    with page.expect_download() as download:
        panel.get_by_role("button", name="Download").click()
    saved = tmp_path / "key.txt"
    download.value.save_as(saved)
    assert saved.read_text().strip() == secret
    _shoot_both(page, shots, "keys-secret")

    panel.get_by_role("button", name="Done, I have saved it").click()
    expect(page.locator(".secret")).to_have_count(0)
    assert secret not in page.content()
    page.reload()
    expect(page.get_by_role("heading", name="API keys", exact=True)).to_be_visible()
    assert secret not in page.content()

    row = page.locator(f"tr[data-key='{key_id}']")
    expect(row).to_have_attribute("data-revoked", "false")
    row.get_by_role("button", name="Revoke").click()
    row.get_by_role("button", name="Yes").click()
    expect(page.locator(f"tr[data-key='{key_id}']")).to_have_attribute("data-revoked", "true")
    refused = httpx.get(f"{server.base}/api/v1/alerts", headers={"X-API-Key": secret}, timeout=30)
    assert refused.status_code == 401
    _shoot_both(page, shots, "keys-revoked")


def test_evidence_is_verified_locked_and_exported_as_a_signed_bundle(
    page: Page, server: ServeProcess, verdicts: Verdicts, shots: list[Path], tmp_path: Path
) -> None:
    nav_to(page, "Evidence")
    expect(page.get_by_role("heading", name="Evidence", exact=True)).to_be_visible()
    first, second = verdicts.documents
    row = page.locator(f"tr[data-evidence='{first}']")
    row.get_by_role("button", name="Verify").click()
    expect(row.locator(".integrity")).to_have_text("✓ intact")
    link = row.get_by_role("link", name="incident")
    expect(link).to_have_attribute("href", f"#/incidents/{verdicts.incident_id}")

    row.get_by_role("button", name="Lock").click()
    expect(page.locator(f"tr[data-evidence='{first}']")).to_contain_text("locked")
    assert call(server, "GET", f"/evidence/{first}")["locked"] is True

    for evidence_id in (first, second):
        page.locator(f"tr[data-evidence='{evidence_id}'] input[type=checkbox]").check()
    expect(page.locator(".chosen")).to_have_text("2 selected")
    with page.expect_download() as download:
        page.get_by_role("button", name="Export selected as a signed bundle").click()
    saved = tmp_path / "bundle.zip"
    download.value.save_as(saved)
    assert download.value.suggested_filename == "argus-evidence.zip"
    key = call(server, "GET", "/evidence/keys/signing")
    report = verify_bundle(saved.read_bytes(), bytes.fromhex(key["public_key_hex"]))
    assert report.ok, report
    assert report.items == 2
    expect(page.locator(".export-bundle .form-status")).to_contain_text("Bundle of 2 item(s)")

    filters = page.get_by_role("form", name="Filter evidence")
    filters.get_by_label("Incident id").fill(verdicts.incident_id)
    filters.get_by_label("Lock").select_option(label="Locked")
    filters.get_by_role("button", name="Filter").click()
    expect(page.locator("tr[data-evidence]")).to_have_count(1)
    _shoot_both(page, shots, "evidence")


def test_review_counts_false_positives_per_rule_and_camera(
    page: Page, verdicts: Verdicts, shots: list[Path]
) -> None:
    nav_to(page, "Review")
    expect(page.get_by_role("heading", name="False-positive review")).to_be_visible()
    expect(page.locator(".review-totals")).to_contain_text("3 of 4 reviewed alerts")
    rules = page.get_by_role("table", name="Verdicts by rule")
    north = rules.locator(f"tr[data-rule='{verdicts.seeded.rules['north']}']")
    expect(north.locator("td.fp")).to_have_text("2")
    expect(north).to_contain_text("66.7%")
    expect(north).to_contain_text(f"{REASON} \u00d72")
    south = rules.locator(f"tr[data-rule='{verdicts.seeded.rules['south']}']")
    expect(south).to_contain_text("100%")
    cameras = page.get_by_role("table", name="Verdicts by camera")
    gate = cameras.locator(f"tr[data-camera='{verdicts.seeded.camera_id}']")
    expect(gate).to_contain_text("North gate")
    expect(gate.locator("td.fp")).to_have_text("3")

    north.get_by_role("button", name=re.compile("Show the false positives")).click()
    drill = page.get_by_role("table", name=re.compile("^False positives of North"))
    expect(drill.locator("tbody tr")).to_have_count(2)
    expect(drill).to_contain_text(REASON)
    _shoot_both(page, shots, "review")


def test_the_navigation_holds_the_new_links_on_desktop_and_phone(
    page: Page, shots: list[Path]
) -> None:
    page.set_viewport_size(DESKTOP)
    nav = page.get_by_role("navigation", name="Main")
    for name in ("Evidence", "Review", "Workstations", "Audit", "API keys"):
        expect(nav.get_by_role("link", name=name)).to_be_visible()
    bar = page.locator("header.top").bounding_box()
    assert bar is not None
    assert bar["height"] <= 110, bar
    shoot(page, shots, "nav-desktop")
    page.set_viewport_size(PHONE)
    page.get_by_role("button", name="Menu", exact=True).click()
    for name in ("Evidence", "Review", "Audit", "API keys"):
        expect(nav.get_by_role("link", name=name)).to_be_visible()
    shoot(page, shots, "nav-phone")
    page.keyboard.press("Escape")
    page.set_viewport_size(DESKTOP)


def test_a_viewer_sees_evidence_and_review_but_not_audit_or_keys(
    chromium: Browser,
    server: ServeProcess,
    verdicts: Verdicts,
    shots: list[Path],
    errors: list[str],
) -> None:
    call(
        server, "POST", "/users", {"username": VIEWER, "password": USER_PASSWORD, "role": "viewer"}
    )
    context = chromium.new_context(viewport=DESKTOP)
    viewer = context.new_page()
    viewer.on("pageerror", lambda error: errors.append(f"{error.name}: {error.message}"))
    viewer.set_default_timeout(30_000)
    try:
        sign_in(viewer, f"{server.base}/ui/", VIEWER, USER_PASSWORD)
        expect(viewer.get_by_role("heading", name="Live")).to_be_visible()
        nav = viewer.get_by_role("navigation", name="Main")
        for hidden in ("Audit", "API keys", "Workstations"):
            expect(nav.get_by_role("link", name=hidden)).to_be_hidden()
        nav_to(viewer, "Evidence")
        expect(viewer.locator(f"tr[data-evidence='{verdicts.documents[1]}']")).to_be_visible()
        expect(viewer.get_by_role("button", name="Lock")).to_have_count(0)
        expect(viewer.get_by_role("button", name=re.compile("^Export"))).to_have_count(0)
        _shoot_both(viewer, shots, "evidence-viewer")
        nav_to(viewer, "Review")
        expect(viewer.locator(".review-totals")).to_contain_text("3 of 4 reviewed alerts")
        for page_hash in ("#/audit", "#/keys"):
            viewer.goto(f"{server.base}/ui/{page_hash}")
            expect(viewer.get_by_role("heading", name="Not available")).to_be_visible()
        _shoot_both(viewer, shots, "viewer-refused")
    finally:
        context.close()
    assert errors == [], errors

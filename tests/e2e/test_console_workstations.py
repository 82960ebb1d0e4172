"""The Workstations page of issue 22 in chromium against a real ``argus serve``: an admin at work.

An administrator creates a face subject and enrols it from a real photo
(``../shared/eval/face``: skipped with a reason when absent), sees the face it
kept, registers a workstation client and sees its key once, pauses, blocks and
unblocks it, watches it take a pipeline while a real ``/ws/verify`` client
streams frames of another person, and finds the lock decision with its
evidence frame in the history. Deleting the subject erases its faces. No step
may raise an uncaught JavaScript error, log a console error or meet a 404 (the
favicon included); screenshots at desktop and phone size.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Locator, Page, expect
from websockets.sync.client import connect
from websockets.sync.connection import Connection

from tests.e2e.browser_support import nav_to, shoot
from tests.e2e.console_support import busy_server
from tests.e2e.dashboard_support import WAIT_S, call, fits_a_phone, signed_in, wait_for
from tests.e2e.serve_support import ServeProcess
from tests.integration.verify_support import PHOTOS, eval_photo, jpeg, webcam

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(900)]

SUBJECT = "Barack Obama"
DESK = "Front desk"
WS = "/workstations"


@dataclass
class World:
    """The server and what the tests made on it, in order."""

    server: ServeProcess
    subject_id: str = ""
    client_id: str = ""
    key: str = ""
    problems: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    if not (PHOTOS / "obama.jpg").is_file():
        pytest.skip(f"{PHOTOS} is absent: ../shared/eval is only beside a project checkout")
    root = tmp_path_factory.mktemp("console-workstations")
    with busy_server(root, demo=False) as server:
        yield World(server)


@pytest.fixture(scope="module")
def errors() -> list[str]:
    return []


@pytest.fixture(scope="module")
def page(chromium: Browser, world: World, errors: list[str]) -> Iterator[Page]:
    opened = signed_in(chromium, world.server, errors)
    opened.on("dialog", lambda dialog: dialog.accept())
    opened.on(
        "console",
        lambda m: (
            world.problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None
        ),
    )
    opened.on(
        "response",
        lambda r: world.problems.append(f"{r.status} {r.url}") if r.status == 404 else None,
    )
    nav_to(opened, "Workstations")
    expect(opened.get_by_role("heading", name="Workstations", exact=True)).to_be_visible()
    yield opened
    opened.context.close()
    assert errors == []
    assert world.problems == []


def _subjects(page: Page) -> Locator:
    return page.get_by_role("region", name="Face subjects")


def _clients(page: Page) -> Locator:
    return page.get_by_role("region", name="Clients")


def _client_row(page: Page, world: World) -> Locator:
    return _clients(page).locator(f"tr[data-client='{world.client_id}']")


def test_a_subject_is_created_and_enrolled_from_a_photo(
    page: Page, world: World, shots: list[Path]
) -> None:
    section = _subjects(page)
    form = section.get_by_role("form", name="Add a subject")
    form.get_by_label("Name").fill(SUBJECT)
    form.get_by_role("button", name="Add subject").click()
    expect(form.get_by_role("status")).to_contain_text(f"{SUBJECT} added")
    card = section.locator("li.ws-subject", has_text=SUBJECT)
    expect(card).to_contain_text("No face enrolled yet.")
    world.subject_id = str(card.get_attribute("data-subject"))

    card.get_by_label(f"Photos of {SUBJECT}").set_input_files(str(PHOTOS / "obama.jpg"))
    card.get_by_role("button", name="Enrol photos").click()
    face = page.get_by_role("img", name=f"Face 1 of {SUBJECT}")
    expect(face).to_be_visible(timeout=120_000)  # the face models are built on first use
    page.wait_for_function(
        "img => img.complete && img.naturalWidth === 128", arg=face.element_handle()
    )
    expect(page.locator("li.ws-subject", has_text=SUBJECT)).to_contain_text("1 descriptor")
    stored = call(world.server, "GET", f"{WS}/subjects/{world.subject_id}")
    assert (stored["embeddings"], len(stored["photos"])) == (1, 1)
    shoot(page, shots, "workstations-subject")


def test_a_registered_clients_key_is_shown_once(
    page: Page, world: World, shots: list[Path]
) -> None:
    form = _clients(page).get_by_role("form", name="Register a client")
    form.get_by_label("Workstation name").fill(DESK)
    form.get_by_label(SUBJECT).check()
    form.get_by_role("button", name="Register client").click()
    secret = _clients(page).locator("code.ws-secret")
    expect(secret).to_be_visible()
    world.key = secret.inner_text().strip()
    assert len(world.key) >= 40
    expect(_clients(page).locator("tr[data-client]")).to_have_count(1)
    world.client_id = str(_clients(page).locator("tr[data-client]").get_attribute("data-client"))
    row = _client_row(page, world)
    expect(row).to_contain_text(DESK)
    expect(row).to_contain_text(SUBJECT)
    expect(row).to_contain_text("not connected")
    shoot(page, shots, "workstations-key-once")
    # shown once: gone after "I have saved it" and after coming back, never in the API's lists
    _clients(page).get_by_role("button", name="I have saved it").click()
    expect(secret).to_have_count(0)
    nav_to(page, "Live")
    nav_to(page, "Workstations")
    expect(_client_row(page, world)).to_contain_text(DESK)
    assert world.key not in page.content()
    listed = json.dumps(call(world.server, "GET", f"{WS}/clients"))
    assert world.key not in listed


@pytest.mark.parametrize(
    ("button", "status"), [("Pause", "paused"), ("Block", "blocked"), ("Unblock", "active")]
)
def test_a_client_is_paused_blocked_and_unblocked(
    page: Page, world: World, button: str, status: str
) -> None:
    _clients(page).get_by_role("button", name=f"{button} {DESK}", exact=True).click()
    row = _clients(page).locator(f"tr[data-client='{world.client_id}'][data-status='{status}']")
    expect(row.locator(".ws-status")).to_have_text(status)
    assert call(world.server, "GET", f"{WS}/clients/{world.client_id}")["status"] == status
    action = {"paused": "pause", "blocked": "block", "active": "unblock"}[status]
    audit = call(world.server, "GET", f"/audit?action=workstation.client.{action}")
    assert audit["items"][0]["target"] == f"verify-client:{world.client_id}"


def _expect_message(socket: Connection, kind: str) -> dict[str, Any]:
    deadline = time.monotonic() + WAIT_S * 4  # the verification models load on first frame
    while time.monotonic() < deadline:
        message: dict[str, Any] = json.loads(socket.recv(timeout=WAIT_S * 4))
        if message.get("type") == kind:
            return message
    pytest.fail(f"no {kind} message within {WAIT_S * 4} s")


def test_a_connected_client_takes_a_pipeline_and_its_lock_has_evidence(
    page: Page, world: World, shots: list[Path]
) -> None:
    other = webcam(eval_photo("biden.jpg"))
    url = world.server.base.replace("http://", "ws://") + "/ws/verify"
    with connect(url, open_timeout=WAIT_S, max_size=None) as socket:
        socket.send(json.dumps({"type": "auth", "client_id": world.client_id, "key": world.key}))
        _expect_message(socket, "assigned")
        pipelines = page.get_by_role("region", name="Pipelines and queue")
        expect(pipelines.get_by_role("table", name="Pipelines")).to_contain_text(DESK)
        expect(_client_row(page, world).locator("[data-field='connection']")).to_contain_text(
            "connected (pipeline"
        )
        actions = []
        for _ in range(6):  # another person: "pending" twice, then the screen locks
            socket.send(jpeg(other))
            actions.append(_expect_message(socket, "decision")["action"])
            if actions[-1] == "lock_screen":
                break
        assert actions[-1] == "lock_screen", actions
        shoot(page, shots, "workstations-pipelines")
    history = page.get_by_role("region", name="Decision history")
    history.get_by_role("button", name="Refresh decisions").click()
    row = history.locator("tr[data-action='lock_screen']")
    expect(row).to_have_count(1)
    expect(row).to_contain_text(DESK)
    expect(row).to_contain_text("wrong user")
    row.get_by_role("button", name=re.compile("^Show the evidence")).click()
    [decision] = call(world.server, "GET", f"{WS}/decisions")["items"]
    evidence = history.locator(f"tr[data-evidence-of='{decision['id']}']")
    frame = evidence.get_by_role("img", name=re.compile("the evidence of this decision"))
    expect(frame).to_be_visible()
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=frame.element_handle()
    )
    record = call(world.server, "GET", f"/evidence/{decision['evidence_id']}")
    expect(evidence).to_contain_text(record["sha256"])
    evidence.get_by_role("button", name="Check integrity").click()
    expect(evidence.locator(".integrity")).to_have_text("Intact: the content matches its sha256.")
    shoot(page, shots, "workstations-decision-evidence")


def test_the_page_fits_a_phone(page: Page, shots: list[Path]) -> None:
    fits_a_phone(page, "Workstations")
    page.set_viewport_size({"width": 390, "height": 844})
    try:
        shoot(page, shots, "workstations-phone")
    finally:
        page.set_viewport_size({"width": 1280, "height": 900})


def test_deleting_the_subject_erases_its_faces(page: Page, world: World) -> None:
    photos = call(world.server, "GET", f"{WS}/subjects/{world.subject_id}")["photos"]
    _subjects(page).get_by_role("button", name=f"Delete {SUBJECT}").click()  # confirm accepted
    expect(_subjects(page)).to_contain_text("No subjects yet.")
    expect(_client_row(page, world)).to_contain_text("nobody")
    call(world.server, "GET", f"{WS}/subjects/{world.subject_id}", status=404)
    for photo in photos:
        answer = httpx.get(
            f"{world.server.base}/api/v1{WS}/subjects/{world.subject_id}/photos/{photo}",
            headers=world.server.headers,
            timeout=30,
        )
        assert answer.status_code == 404


def test_deleting_the_client(page: Page, world: World) -> None:
    _clients(page).get_by_role("button", name=f"Delete {DESK}", exact=True).click()  # confirmed
    expect(_clients(page)).to_contain_text("No clients registered yet.")
    call(world.server, "GET", f"{WS}/clients/{world.client_id}", status=404)
    # its decision history stays
    assert call(world.server, "GET", f"{WS}/decisions")["total"] == 1
    audit = call(world.server, "GET", "/audit?action=workstation.client.delete")
    assert audit["items"][0]["target"] == f"verify-client:{world.client_id}"


def test_the_favicon_never_answers_404(page: Page, world: World) -> None:
    """Chromium asks ``/favicon.ico`` for pages that name no icon (JSON, /health)."""
    extra = page.context.new_page()
    try:
        extra.goto(f"{world.server.base}/health/ready")
        wait_for(
            "chromium asking for /favicon.ico",
            lambda: '"GET /favicon.ico HTTP/1.1" 301' in world.server.output(),
            world.server,
        )
    finally:
        extra.close()
    answer = httpx.get(f"{world.server.base}/favicon.ico", follow_redirects=True, timeout=30)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("image/svg+xml")
    # Nothing the browser asked for since the server started met a 404: sign-in, this page,
    # its thumbnails and evidence, the favicon (the 404s the tests asked for are the API's).
    asked = (f"{WS}/subjects/{world.subject_id}", f"{WS}/clients/{world.client_id}")
    missing = [
        line
        for line in world.server.output().splitlines()
        if '" 404' in line and not any(path in line for path in asked)
    ]
    assert missing == []

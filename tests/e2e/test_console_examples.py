"""The Examples page of issue 21 in chromium against a real ``argus serve --demo``: labelling.

The examples come the real way: the demo camera (bikes.mp4) raises kerb-line
alerts with stored snapshots; the test dismisses two of them as false
positives and the server queues each as a hard example with its frame.

At desktop size the admin opens one, draws a box on the frame with the mouse,
picks its class with a shortcut key and submits it; a second user (an
operator) finds it under Review, sees the box and accepts it. At phone width
(390 px) the operator labels the other one (drawn with the mouse, class from
the list) and the admin sends it back with a note. The stored labels match
the drawn rectangles in frame pixels, and each change is in the audit trail.
No step may raise an uncaught JavaScript error or log a console error.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, ViewportSize, expect

from tests.auth_support import USER_PASSWORD
from tests.e2e.browser_support import nav_to, shoot, sign_in
from tests.e2e.console_support import busy_server
from tests.e2e.dashboard_support import call, signed_in
from tests.e2e.serve_support import ServeProcess

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(900)]

OPERATOR = "olga"
PHONE: ViewportSize = {"width": 390, "height": 844}
DESKTOP: ViewportSize = {"width": 1280, "height": 900}
DEMO_WAIT_S = 300.0
"""Longest wait for demo alerts with snapshots, and for their examples (loaded 2-core box)."""
REASON = "a shadow on the kerb"


@dataclass
class World:
    """The server, the two examples the dismissals queued, and problems seen on the way."""

    server: ServeProcess
    examples: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def _snapshotted_alerts(server: ServeProcess, count: int) -> list[str]:
    """Ids of ``count`` demo alerts with a stored snapshot (bounded poll)."""
    deadline = time.monotonic() + DEMO_WAIT_S
    found: list[str] = []
    while time.monotonic() < deadline:
        for alert in call(server, "GET", "/alerts?camera_id=demo&limit=50")["items"]:
            if alert["id"] in found or alert["state"] not in {"new", "notified", "escalated"}:
                continue
            evidence = call(server, "GET", f"/evidence?alert_id={alert['id']}")["items"]
            if any(e["kind"] == "snapshot" for e in evidence):
                found.append(alert["id"])
            if len(found) == count:
                return found
        time.sleep(2)
    pytest.fail(f"{len(found)} of {count} demo alerts with snapshots:\n{server.output()[-4000:]}")


def _example_of(server: ServeProcess, alert_id: str) -> str:
    """The hard example the alert's dismissal queued (bounded poll)."""
    deadline = time.monotonic() + DEMO_WAIT_S
    while time.monotonic() < deadline:
        page = call(server, "GET", "/examples?source=false_positive&limit=200")
        for example in page["items"]:
            if example["alert_id"] == alert_id:
                return str(example["id"])
        time.sleep(0.5)
    pytest.fail(f"no example from dismissed alert {alert_id}:\n{server.output()[-4000:]}")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with busy_server(tmp_path_factory.mktemp("console-examples"), demo=True) as server:
        made = World(server)
        for alert_id in _snapshotted_alerts(server, 2):
            call(server, "POST", f"/alerts/{alert_id}/acknowledge", {})
            call(server, "POST", f"/alerts/{alert_id}/dismiss", {"note": REASON})
            made.examples.append(_example_of(server, alert_id))
        body = {"username": OPERATOR, "password": USER_PASSWORD, "role": "operator"}
        call(server, "POST", "/users", body)
        yield made


@pytest.fixture(scope="module")
def errors() -> list[str]:
    return []


def _watch(page: Page, world: World) -> Page:
    page.on(
        "console",
        lambda m: (
            world.problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None
        ),
    )
    return page


@pytest.fixture(scope="module")
def admin(chromium: Browser, world: World, errors: list[str]) -> Iterator[Page]:
    opened = _watch(signed_in(chromium, world.server, errors), world)
    yield opened
    opened.context.close()
    assert errors == []
    assert world.problems == []


@pytest.fixture(scope="module")
def operator(chromium: Browser, world: World, errors: list[str]) -> Iterator[Page]:
    context = chromium.new_context(viewport=DESKTOP)
    opened = _watch(context.new_page(), world)
    opened.on("pageerror", lambda error: errors.append(f"{error.name}: {error.message}"))
    opened.set_default_timeout(30_000)
    sign_in(opened, f"{world.server.base}/ui/", OPERATOR, USER_PASSWORD)
    expect(opened.get_by_role("heading", name="Live")).to_be_visible()
    yield opened
    context.close()


def _open_examples(page: Page, tab: str) -> None:
    nav_to(page, "Examples")
    expect(page.get_by_role("heading", name="Examples", exact=True)).to_be_visible()
    page.get_by_role("tab", name=tab).click()
    page.get_by_label("Source").select_option("false_positive")


def _draw(page: Page, start: tuple[float, float], end: tuple[float, float]) -> dict[str, float]:
    """Drag from ``start`` to ``end`` (fractions of the canvas); the box in frame pixels."""
    canvas = page.locator("canvas.annotation-canvas")
    expect(canvas).to_be_visible()
    canvas.scroll_into_view_if_needed()
    rect = canvas.bounding_box()
    assert rect is not None
    size = canvas.evaluate("c => [c.width, c.height]")
    points = [
        (rect["x"] + fx * rect["width"], rect["y"] + fy * rect["height"]) for fx, fy in (start, end)
    ]
    page.mouse.move(*points[0])
    page.mouse.down()
    page.mouse.move(*points[1], steps=8)
    page.mouse.up()
    sx, sy = size[0] / rect["width"], size[1] / rect["height"]
    return {
        "x1": (points[0][0] - rect["x"]) * sx,
        "y1": (points[0][1] - rect["y"]) * sy,
        "x2": (points[1][0] - rect["x"]) * sx,
        "y2": (points[1][1] - rect["y"]) * sy,
    }


def _stored(world: World, example_id: str) -> dict[str, Any]:
    return dict(call(world.server, "GET", f"/examples/{example_id}"))


def _assert_box(stored: dict[str, Any], drawn: dict[str, float], class_name: str) -> None:
    assert len(stored["labels"]) == 1, stored["labels"]
    label = stored["labels"][0]
    assert label["class_name"] == class_name
    for key, value in drawn.items():
        assert abs(label[key] - value) <= 2.0, (key, label, drawn)


def _actions(world: World, example_id: str) -> list[str]:
    records = call(world.server, "GET", f"/audit?target=example:{example_id}&limit=50")["items"]
    return sorted({r["action"] for r in records})


def test_a_box_drawn_with_the_mouse_is_saved_at_desktop_size(
    admin: Page, world: World, shots: list[Path]
) -> None:
    first = world.examples[0]
    _open_examples(admin, "Label")
    row = admin.locator(f"tr[data-example='{first}']")
    expect(row).to_contain_text("false positive")
    row.get_by_role("button", name="Label example").click()
    work = admin.get_by_role("region", name="Annotation")
    expect(work.get_by_role("heading", name=re.compile("^Label: "))).to_be_visible()
    canvas = "document.querySelector('canvas.annotation-canvas')"
    admin.wait_for_function(f"() => {canvas}?.getBoundingClientRect().width > 200")
    drawn = _draw(admin, (0.2, 0.25), (0.45, 0.7))
    boxes = work.get_by_role("list", name="Boxes")
    expect(boxes.get_by_role("button", name="Box 1:")).to_be_visible()
    admin.locator("canvas.annotation-canvas").focus()
    admin.keyboard.press("3")  # the shortcut for "car"
    expect(work.get_by_label("Class of box 1")).to_have_value("car")
    expect(work.get_by_text("Keyboard shortcuts")).to_be_visible()
    shoot(admin, shots, "examples-label-desktop")
    work.get_by_role("button", name="Submit for review").click()
    expect(admin.locator(".examples-status")).to_contain_text("Submitted for review (1 box)")
    stored = _stored(world, first)
    assert (stored["state"], stored["labelled_by"], stored["assignee"]) == (
        "labelled",
        "user:admin",
        None,
    )
    _assert_box(stored, drawn, "car")
    assert {"example.collect", "example.claim", "example.label"} <= set(_actions(world, first))
    # The labeller's own label is not offered to them for review.
    admin.get_by_role("tab", name="Review").click()
    expect(admin.locator(f"tr[data-example='{first}']")).to_have_count(0)


def test_a_second_user_reviews_and_accepts_it(
    operator: Page, world: World, shots: list[Path]
) -> None:
    first = world.examples[0]
    _open_examples(operator, "Review")
    row = operator.locator(f"tr[data-example='{first}']")
    expect(row).to_contain_text("admin")
    row.get_by_role("button", name="Review example").click()
    work = operator.get_by_role("region", name="Annotation")
    expect(work.get_by_role("heading", name=re.compile("^Review: "))).to_be_visible()
    expect(work.get_by_role("list", name="Boxes")).to_contain_text("car")
    work.get_by_label("Review note").fill("box fits")
    shoot(operator, shots, "examples-review-desktop")
    work.get_by_role("button", name="Accept").click()
    expect(operator.locator(".examples-status")).to_contain_text("Accepted")
    stored = _stored(world, first)
    assert (stored["state"], stored["reviewed_by"], stored["review_note"]) == (
        "accepted",
        f"user:{OPERATOR}",
        "box fits",
    )
    assert "example.review" in _actions(world, first)


def test_at_phone_width_a_box_is_drawn_and_the_label_sent_back(
    operator: Page, admin: Page, world: World, shots: list[Path]
) -> None:
    second = world.examples[1]
    operator.set_viewport_size(PHONE)
    _open_examples(operator, "Label")
    operator.locator(f"tr[data-example='{second}']").get_by_role(
        "button", name="Label example"
    ).click()
    work = operator.get_by_role("region", name="Annotation")
    expect(work.get_by_role("heading", name=re.compile("^Label: "))).to_be_visible()
    drawn = _draw(operator, (0.5, 0.3), (0.8, 0.9))
    expect(
        work.get_by_role("list", name="Boxes").get_by_role("button", name="Box 1:")
    ).to_be_visible()
    work.get_by_label("Class of box 1").select_option("bicycle")
    width = operator.evaluate("() => document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the Examples page is {width} px wide on a phone"
    shoot(operator, shots, "examples-label-phone")
    work.get_by_role("button", name="Submit for review").click()
    expect(operator.locator(".examples-status")).to_contain_text("Submitted for review")
    _assert_box(_stored(world, second), drawn, "bicycle")

    admin.set_viewport_size(PHONE)
    _open_examples(admin, "Review")
    admin.locator(f"tr[data-example='{second}']").get_by_role(
        "button", name="Review example"
    ).click()
    review = admin.get_by_role("region", name="Annotation")
    expect(review.get_by_role("list", name="Boxes")).to_contain_text("bicycle")
    review.get_by_label("Review note").fill("the rider too")
    shoot(admin, shots, "examples-review-phone")
    review.get_by_role("button", name="Send back").click()
    expect(admin.locator(".examples-status")).to_contain_text("Sent back")
    stored = _stored(world, second)
    assert (stored["state"], stored["review_note"]) == ("rejected", "the rider too")
    admin.set_viewport_size(DESKTOP)
    operator.set_viewport_size(DESKTOP)

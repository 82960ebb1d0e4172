"""The alert detail view (issue 23, part 2) in chromium against a busy real server.

``busy_server`` + ``seed`` give a real ``argus serve`` that has raised 214 alerts of mixed
severity on "North gate" (lines north, south and kerb), its high alerts escalating
``ACK_HIGH_S`` seconds after they are raised. The view is opened through its hash route
``#/alerts/<id>``. Checked here: the overlay (the rule's line, the object's box and path
from a trajectory log posted to the API like a pipeline's, scaled to the frame); the risk
explanation; the history with usernames; a note on acknowledge; a false positive needs a
reason and can be undone; confirming links to the incident; the deadline counts down and
the view stays open, with a typed note and the focus kept, through an escalation; the
high-alert signal toggle is kept and fires on a new high alert. No uncaught JavaScript
error. Screenshots at desktop and phone size.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from argus.domain.event_payloads import TracksMinute
from argus.domain.events import Envelope, EventSource
from tests.auth_support import ADMIN
from tests.e2e.browser_support import shoot
from tests.e2e.console_support import ACK_HIGH_S, Seeded, busy_server, seed
from tests.e2e.dashboard_support import alerts_of, call, crossings, fits_a_phone, signed_in
from tests.e2e.serve_support import ServeProcess

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(600)]

FRAME = (640, 480)
"""The frame size of the posted trajectory logs (the lines of ``seed`` fit in it)."""
ESCALATION_WAIT_MS = (ACK_HIGH_S + 40) * 1000
"""Longest wait for a fresh high alert to escalate (its deadline, the tick, the socket)."""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    with busy_server(tmp_path_factory.mktemp("console-detail"), demo=False) as running:
        yield running


@pytest.fixture(scope="module")
def seeded(server: ServeProcess) -> Seeded:
    return seed(server)


@pytest.fixture
def page(chromium: Browser, server: ServeProcess, seeded: Seeded) -> Iterator[Page]:
    errors: list[str] = []
    signed = signed_in(chromium, server, errors)
    yield signed
    signed.context.close()
    assert errors == [], errors


def fresh_alert(
    server: ServeProcess, seeded: Seeded, name: str, severity: str = "high"
) -> dict[str, Any]:
    """The first alert of a new line and rule (a new group: it gets a deadline and escalates)."""
    x = 400.0 + 10 * len(name)
    call(
        server,
        "POST",
        f"/cameras/{seeded.camera_id}/lines",
        {"name": name, "start": [x, 40.0], "end": [x, 440.0]},
    )
    floor = {
        "high": {"weight": 1.0, "severity_floor": "high"},
        "medium": {"weight": 0.6, "severity_floor": "medium", "severity_ceiling": "medium"},
    }
    call(
        server,
        "POST",
        "/rules",
        {
            "name": f"{name.capitalize()} line crossed",
            "camera_id": seeded.camera_id,
            "event_types": ["line.crossed"],
            "classes": ["unicorn"],
            "line": name,
            **floor[severity],
        },
    )
    [alert] = alerts_of(server, crossings(server, seeded.camera_id, [name]))
    return alert


def post_track(server: ServeProcess, alert: dict[str, Any], line_x: float) -> None:
    """The alert's track crossing x = ``line_x`` at y = 300 (120 px high), as pipelines log it."""
    at = datetime.fromisoformat(str(alert["event_time"]))
    minutes: dict[datetime, list[int]] = {}
    for step in range(-10, 11):  # 2 s either side, every 0.2 s, 8 px a step
        moment = at + timedelta(seconds=step / 5)
        minute = moment.replace(second=0, microsecond=0)
        tick = int((moment - minute).total_seconds() * 10)
        minutes.setdefault(minute, []).extend([tick, int(line_x + 8 * step), 300, 120])
    envelopes = [
        Envelope.wrap(
            TracksMinute(
                frame_width=FRAME[0],
                frame_height=FRAME[1],
                run=1,
                part=0,
                dropped=0,
                classes=("unicorn",),
                tracks=((int(alert["track_id"]), 0, *samples),),
            ),
            EventSource("dashboard-e2e", str(alert["camera_id"])),
            minute,
        )
        for minute, samples in minutes.items()
    ]
    call(server, "POST", "/events", {"events": [e.to_dict() for e in envelopes]})


def open_detail(page: Page, server: ServeProcess, alert_id: str) -> None:
    """Open ``#/alerts/<id>`` and wait for the view."""
    page.goto(f"{server.base}/ui/#/alerts/{alert_id}")
    expect(page.locator(f'article.alert-detail[data-alert="{alert_id}"]')).to_be_visible(
        timeout=30_000
    )


def seeded_alert(server: ServeProcess, seeded: Seeded, rule_line: str) -> dict[str, Any]:
    """The newest seeded alert of a line's rule, read again."""
    mine = [a for a in seeded.alerts if a["rule_id"] == seeded.rules[rule_line]]
    return dict(call(server, "GET", f"/alerts/{mine[-1]['id']}"))


def test_the_detail_draws_box_path_and_line_and_explains_the_alert(
    page: Page, server: ServeProcess, seeded: Seeded, shots: list[Path]
) -> None:
    alert = seeded_alert(server, seeded, "north")
    post_track(server, alert, line_x=100.0)
    open_detail(page, server, alert["id"])
    view = page.locator("article.alert-detail")
    expect(view.get_by_role("heading", name="North line crossed")).to_be_visible()
    # Names, not ids: the camera, the system's steps.
    expect(view.locator("dl.facts")).to_contain_text("North gate")
    expect(view.locator("dl.facts")).to_contain_text(f"unicorn #{alert['track_id']}")
    expect(view.locator("ol.history")).to_contain_text("Argus (automatic)")
    expect(view.locator("ol.history")).not_to_contain_text("system")
    # The overlay: in the analysed frame's pixels, stretched over the (empty) scene.
    svg = view.locator('svg[data-overlay="snapshot"]')
    expect(svg).to_have_attribute("viewBox", f"0 0 {FRAME[0]} {FRAME[1]}")
    line = svg.locator('line[data-shape="line"]')
    expect(line).to_have_attribute("x1", "100")
    expect(line).to_have_attribute("y2", "400")
    box = svg.locator("rect[data-box]")
    expect(box).to_have_count(1)
    x1, y1, x2, y2 = (float(v) for v in str(box.get_attribute("data-box")).split(","))
    assert (y1, y2) == (180.0, 300.0)
    assert x1 < 100.0 < x2  # the box stands on the line it crossed
    expect(svg.locator("polyline[data-path]")).to_have_attribute("data-path", "21")
    expect(svg).to_have_attribute("aria-label", re.compile("line north.*box of unicorn"))
    assert box.bounding_box() is not None
    # The risk explanation is on view, part by part.
    risk = view.get_by_role("table", name="Risk explanation")
    expect(risk.locator("tr[data-component=rule]")).to_be_visible()
    shoot(page, shots, "alert-detail-desktop")
    fits_a_phone(page, "the alert detail")
    page.set_viewport_size({"width": 390, "height": 844})
    expect(svg).to_be_visible()
    shoot(page, shots, "alert-detail-phone")


def test_the_detail_stays_open_through_an_escalation_and_acknowledges_with_a_note(
    page: Page, server: ServeProcess, seeded: Seeded, shots: list[Path]
) -> None:
    alert = fresh_alert(server, seeded, "east")
    assert alert["escalation_level"] == 0
    open_detail(page, server, alert["id"])
    view = page.locator("article.alert-detail")
    countdown = view.locator("p.countdown")
    expect(countdown).to_have_text(re.compile(r"Acknowledge within \d+:\d\d"))
    first = countdown.inner_text()
    expect(countdown).not_to_have_text(first, timeout=5_000)  # it counts down live
    # Tag the view: a rebuilt view would lose the tag.
    page.evaluate("() => { document.querySelector('article.alert-detail').dataset.kept = 'yes'; }")
    note = view.get_by_label("Note (kept in the history)")
    note.fill("guard sent to the east gate")
    note.focus()
    expect(view).to_have_attribute("data-escalation-level", "1", timeout=ESCALATION_WAIT_MS)
    expect(view.locator(".escalation-badge")).to_have_text("Escalated \N{MULTIPLICATION SIGN}1")
    expect(view.locator("ol.history li[data-to=escalated]")).to_have_count(1)
    expect(view).to_have_attribute("data-kept", "yes")
    expect(note).to_have_value("guard sent to the east gate")
    assert page.evaluate("() => document.activeElement?.name") == "note"
    shoot(page, shots, "alert-detail-escalated")
    view.get_by_role("button", name="Acknowledge").click()
    expect(view).to_have_attribute("data-state", "acknowledged")
    step = view.locator("ol.history li[data-to=acknowledged]")
    expect(step).to_contain_text(ADMIN)
    expect(step).to_contain_text("guard sent to the east gate")
    expect(countdown).to_have_text("Acknowledged: no deadline runs.")
    stored = call(server, "GET", f"/alerts/{alert['id']}")
    assert stored["history"][-1]["note"] == "guard sent to the east gate"


def test_a_false_positive_needs_a_reason_and_can_be_undone_then_confirmed(
    page: Page, server: ServeProcess, seeded: Seeded, shots: list[Path]
) -> None:
    alert = seeded_alert(server, seeded, "south")
    open_detail(page, server, alert["id"])
    view = page.locator("article.alert-detail")
    view.get_by_role("button", name="False positive").click()
    expect(view.locator(".form-status")).to_contain_text("give a reason first")
    expect(view.get_by_label("False-positive reason (required)")).to_be_focused()
    assert call(server, "GET", f"/alerts/{alert['id']}")["state"] == alert["state"]
    view.get_by_label("False-positive reason (required)").fill("a delivery van, not a person")
    view.get_by_role("button", name="False positive").click()
    expect(view).to_have_attribute("data-state", "false_positive")
    expect(view.locator("ol.history li[data-to=false_positive]")).to_contain_text("a delivery van")
    undo = view.get_by_role("button", name="Undo false positive")
    expect(undo).to_be_visible()
    expect(view.locator(".undo")).to_contain_text("possible until")
    shoot(page, shots, "alert-detail-dismissed")
    undo.click()
    expect(view).to_have_attribute("data-state", "acknowledged")
    expect(undo).to_be_hidden()
    expect(view.locator("ol.history li").last).to_contain_text("false positive → acknowledged")
    audit = call(server, "GET", f"/audit?target=alert:{alert['id']}&limit=50")
    assert "alert.undo_dismiss" in [r["action"] for r in audit["items"]]
    # Now confirmed as real: the incident is one click away.
    view.get_by_role("button", name="Confirm").click()
    link = view.get_by_role("link", name="Open the incident this alert confirmed")
    expect(link).to_be_visible()
    incident = call(server, "GET", f"/alerts/{alert['id']}")["incident_id"]
    expect(link).to_have_attribute("href", f"#/incidents/{incident}")
    shoot(page, shots, "alert-detail-confirmed")
    link.click()
    expect(page).to_have_url(re.compile(f"#/incidents/{incident}$"))


def test_the_high_alert_signal_is_kept_and_fires_for_a_new_high_alert(
    page: Page, server: ServeProcess, seeded: Seeded
) -> None:
    alert = seeded_alert(server, seeded, "kerb")
    open_detail(page, server, alert["id"])
    toggle = page.get_by_label("Sound or desktop notification for high alerts")
    expect(toggle).not_to_be_checked()
    toggle.check()
    page.reload()
    expect(page.locator("article.alert-detail")).to_be_visible(timeout=30_000)
    expect(page.get_by_label("Sound or desktop notification for high alerts")).to_be_checked()
    assert page.evaluate("() => document.documentElement.dataset.highAlertSignals") is None
    html = page.locator("html")
    west = fresh_alert(server, seeded, "west")
    expect(html).to_have_attribute("data-high-alert-signal-alert", west["id"], timeout=30_000)
    assert html.get_attribute("data-high-alert-signals") == "1"
    # A low alert gives none: raised before the next high one, it would have been counted first.
    alerts_of(server, crossings(server, seeded.camera_id, ["kerb"]))
    north = fresh_alert(server, seeded, "north2")
    expect(html).to_have_attribute("data-high-alert-signal-alert", north["id"], timeout=30_000)
    assert html.get_attribute("data-high-alert-signals") == "2"


DEMO_WAIT_S = 300.0
"""Longest wait for a demo alert with a stored snapshot and trajectory log (loaded 2-core box)."""


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    """``argus serve --demo``: bikes.mp4 raising kerb-line alerts with real snapshots and clips."""
    with busy_server(tmp_path_factory.mktemp("console-detail-demo"), demo=True) as running:
        seed(running)
        yield running


def drawn_demo_alert(server: ServeProcess) -> dict[str, Any]:
    """A demo kerb-line alert whose snapshot and the object's box are both stored (bounded poll)."""
    deadline = time.monotonic() + DEMO_WAIT_S
    while time.monotonic() < deadline:
        page = call(server, "GET", "/alerts?camera_id=demo&limit=50")
        for alert in page["items"]:
            if alert["track_id"] is None or alert["event_type"] != "line.crossed":
                continue
            kinds = {
                e["kind"] for e in call(server, "GET", f"/evidence?alert_id={alert['id']}")["items"]
            }
            if "snapshot" in kinds and call(server, "GET", f"/alerts/{alert['id']}/overlay")["box"]:
                return dict(alert)
        time.sleep(2)
    pytest.fail(f"no demo alert with a snapshot and a box:\n{server.output()[-4000:]}")


def test_on_a_real_snapshot_the_overlay_is_the_frames_size_and_covers_the_picture(
    chromium: Browser, demo: ServeProcess, shots: list[Path]
) -> None:
    alert = drawn_demo_alert(demo)
    overlay = call(demo, "GET", f"/alerts/{alert['id']}/overlay")
    errors: list[str] = []
    page = signed_in(chromium, demo, errors)
    try:
        open_detail(page, demo, alert["id"])
        view = page.locator("article.alert-detail")
        image = view.get_by_role("img", name="Alert snapshot")
        expect(image).to_be_visible()
        natural = image.evaluate("(i) => [i.naturalWidth, i.naturalHeight]")
        # The trajectory log is measured on the frames the snapshot is cut from.
        assert natural == [overlay["frame_width"], overlay["frame_height"]]
        svg = view.locator('svg[data-overlay="snapshot"]')
        expect(svg.locator('line[data-shape="line"]')).to_have_count(1)
        expect(svg.locator("rect[data-box]")).to_have_count(1)
        picture, drawn = image.bounding_box(), svg.bounding_box()
        assert picture is not None
        assert drawn is not None
        for key in ("x", "y", "width", "height"):
            assert abs(picture[key] - drawn[key]) <= 1.5, (key, picture, drawn)
        shoot(page, shots, "alert-detail-snapshot-desktop")
        view.get_by_role("button", name=re.compile("Play clip")).click()
        expect(view.get_by_label("Alert clip")).to_be_visible()
        expect(view.locator('svg[data-overlay="clip"] line[data-shape="line"]')).to_have_count(1)
        page.set_viewport_size({"width": 390, "height": 844})
        expect(svg).to_be_visible()
        shoot(page, shots, "alert-detail-snapshot-phone")
    finally:
        page.context.close()
    assert errors == [], errors

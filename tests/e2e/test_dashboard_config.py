"""The dashboard's Configuration page in headless chromium against ``argus serve --demo``.

One server for the module; the steps run in order as an admin would use the
page: test a new camera's connection (a good and a dead URL) and add it, draw
a counting line on the demo camera's snapshot and reverse its direction, edit
and add alert rules, manage users and roles, and finally check on a phone that
a camera-scoped viewer sees only its camera and cannot change anything.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Dialog, Locator, Page, ViewportSize, expect

from tests.auth_support import ADMIN, ADMIN_PASSWORD, USER_PASSWORD
from tests.e2e.browser_support import bearer_of, nav_to, sign_in
from tests.e2e.browser_support import shoot as _shoot
from tests.e2e.serve_support import ServeProcess, serving

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(600)]

DEMO = "demo"
DEMO_NAME = "Street demo (bikes.mp4)"
NEW_CAMERA = "Gate camera"
CAMERA_PASSWORD = "stream-secret-never-shown"
PHONE: ViewportSize = {"width": 390, "height": 844}
DESKTOP: ViewportSize = {"width": 1280, "height": 900}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    root = tmp_path_factory.mktemp("dashboard-config")
    with serving(root / "data", root / "serve.log", args=("--demo",)) as running:
        yield running


def _accept(dialog: Dialog) -> None:
    dialog.accept()


@pytest.fixture(scope="module")
def page(chromium: Browser, server: ServeProcess) -> Iterator[Page]:
    context = chromium.new_context(viewport=DESKTOP)
    opened = context.new_page()
    opened.set_default_timeout(30_000)
    opened.on("dialog", _accept)  # confirm() before deleting
    yield opened
    context.close()


def _api(page: Page, server: ServeProcess, path: str) -> Any:
    answer = httpx.get(f"{server.base}/api/v1{path}", headers=bearer_of(page), timeout=30)
    assert answer.status_code == 200, answer.text
    return answer.json()


def _sign_in(page: Page, base: str, username: str, password: str) -> None:
    sign_in(page, f"{base}/ui/", username, password)
    expect(page.get_by_role("heading", name="Live")).to_be_visible()


def _open_config(page: Page) -> None:
    nav_to(page, "Configuration")
    expect(page.get_by_role("heading", name="Configuration")).to_be_visible()


def _fits_the_width(page: Page) -> bool:
    width: bool = page.evaluate(
        "() => document.documentElement.scrollWidth <= window.innerWidth + 1"
    )
    return width


def _camera(page: Page, name: str) -> Locator:
    return page.get_by_role("region", name=f"Camera {name}", exact=True)


def test_the_admin_opens_the_configuration(page: Page, server: ServeProcess) -> None:
    _sign_in(page, server.base, ADMIN, ADMIN_PASSWORD)
    _open_config(page)
    expect(_camera(page, DEMO_NAME)).to_be_visible()
    expect(page.get_by_role("note")).to_have_count(0)  # not read-only


def test_add_a_camera_after_testing_its_connection(
    page: Page, server: ServeProcess, shots: list[Path]
) -> None:
    video = _api(page, server, f"/cameras/{DEMO}")["stream_url"]
    form = page.get_by_role("form", name="Add a camera")
    form.get_by_label("Name", exact=True).fill(NEW_CAMERA)
    form.get_by_label("Stream URL").fill("rtsp://127.0.0.1:9/x")
    form.get_by_role("button", name="Test connection").click()
    result = form.get_by_role("status")
    expect(result).to_have_text(re.compile(r"^Failed: .+"), timeout=30_000)
    expect(form.get_by_role("img", name="Test snapshot")).to_be_hidden()
    _shoot(page, shots, "01-probe-failed")

    form.get_by_label("Stream URL").fill(video)
    form.get_by_label("Stream username").fill("gate")
    form.get_by_label("Stream password").fill(CAMERA_PASSWORD)
    form.get_by_role("button", name="Test connection").click()
    expect(result).to_have_text(re.compile(r"^OK 640\u00d7272 in \d+\.\d s$"), timeout=30_000)
    snapshot = form.get_by_role("img", name="Test snapshot")
    expect(snapshot).to_be_visible()
    assert snapshot.evaluate("img => img.naturalWidth") == 640
    _shoot(page, shots, "02-probe-ok")

    form.get_by_label("Location").fill("north gate")
    form.get_by_label("Run its pipeline").uncheck()  # spare the CPU: the demo runs already
    form.get_by_role("button", name="Add camera").click()
    section = _camera(page, NEW_CAMERA)
    expect(section).to_be_visible()
    expect(section.get_by_role("form", name=f"Edit camera {NEW_CAMERA}")).to_be_visible()
    assert CAMERA_PASSWORD not in page.content()  # credentials are write-only
    added = [c for c in _api(page, server, "/cameras")["items"] if c["name"] == NEW_CAMERA]
    assert len(added) == 1
    assert added[0]["stream_url"] == video
    assert added[0]["has_credentials"] is True
    assert added[0]["enabled"] is False
    assert added[0]["location"] == "north gate"
    _shoot(page, shots, "03-camera-added")


def test_draw_a_line_reverse_its_direction_and_save(
    page: Page, server: ServeProcess, shots: list[Path]
) -> None:
    section = _camera(page, DEMO_NAME)
    section.get_by_role("button", name="Test connection").click()
    expect(section.get_by_role("status").first).to_have_text(
        re.compile("snapshot OK"), timeout=30_000
    )
    draw = section.get_by_role("form", name=f"Draw a line or zone on {DEMO_NAME}")
    draw.get_by_label("Shape", exact=True).select_option("line")
    image = draw.get_by_role("img", name=f"Snapshot of {DEMO_NAME}")
    page.wait_for_function(
        "img => img.naturalWidth > 0", arg=image.element_handle(), timeout=60_000
    )
    width, height = image.evaluate("img => [img.naturalWidth, img.naturalHeight]")
    canvas = draw.get_by_role("img", name="Drawing area: click to add points")
    box = canvas.bounding_box()
    assert box is not None
    clicks = ((0.2, 0.3), (0.7, 0.6))
    for fx, fy in clicks:
        canvas.click(position={"x": box["width"] * fx, "y": box["height"] * fy})
    draw.get_by_label("Shape name").fill("gate")
    draw.get_by_label("In label").fill("arriving")
    draw.get_by_label("Out label").fill("leaving")
    expect(draw.get_by_label("Counting", exact=True)).to_have_value("robust")
    draw.get_by_label("Band (px, 0 = auto)").fill("12")
    draw.get_by_label("Stitch gap (s, 0 = off)").fill("2.5")
    expect(draw.get_by_text("counts as “arriving”")).to_be_visible()
    _shoot(page, shots, "04-line-drawn")
    draw.get_by_role("button", name="Reverse direction").click()
    expect(draw.get_by_role("status")).to_have_text("Direction reversed.")
    _shoot(page, shots, "05-line-reversed")
    draw.get_by_role("button", name="Save shape").click()
    lines = section.get_by_role("list", name="Lines")
    expect(lines.get_by_text("gate", exact=True)).to_be_visible()
    expect(lines.get_by_role("button", name="Remove line gate")).to_be_enabled()

    saved = [
        line
        for line in _api(page, server, f"/cameras/{DEMO}/lines")["items"]
        if line["name"] == "gate"
    ]
    assert len(saved) == 1
    line = saved[0]
    (first_x, first_y), (second_x, second_y) = ((fx * width, fy * height) for fx, fy in clicks)
    # Reversed: the line starts where the second click was and ends at the first.
    assert line["start"] == pytest.approx([second_x, second_y], abs=2)
    assert line["end"] == pytest.approx([first_x, first_y], abs=2)
    assert (line["in_label"], line["out_label"]) == ("arriving", "leaving")
    assert (line["counting"], line["band_px"], line["stitch_seconds"]) == ("robust", 12.0, 2.5)
    _shoot(page, shots, "06-line-saved")


def test_edit_a_rule_and_add_one(page: Page, server: ServeProcess, shots: list[Path]) -> None:
    rules = page.get_by_role("region", name="Rules")
    name = "The street is crowded"
    rules.locator("summary", has_text=name).click()
    form = rules.get_by_role("form", name=f"Rule {name}")
    form.get_by_label("Enabled", exact=True).uncheck()
    form.get_by_label("Cooldown (s)").fill("90")
    form.get_by_label("Weight", exact=False).fill("0.75")
    _shoot(page, shots, "07-rule-editing")
    form.get_by_role("button", name="Save rule").click()
    expect(rules.locator("summary", has_text=name)).to_contain_text("disabled")
    edited = [r for r in _api(page, server, "/rules")["items"] if r["name"] == name]
    assert len(edited) == 1
    assert edited[0]["enabled"] is False
    assert edited[0]["cooldown_seconds"] == 90
    assert edited[0]["weight"] == 0.75
    assert edited[0]["zone"] == "street"  # untouched fields keep their value

    rules.locator("summary", has_text="Add a rule").click()
    new = rules.get_by_role("form", name="Add a rule")
    new.get_by_label("Name", exact=True).fill("Arrivals at the gate")
    new.get_by_label("Camera", exact=True).select_option(label=DEMO_NAME)
    new.get_by_label("Event types").fill("line.crossed")
    new.get_by_label("Line", exact=True).select_option("gate")  # the camera's own lines
    new.get_by_label("Direction", exact=True).select_option("in")
    new.get_by_label("Count", exact=True).fill("3")
    new.get_by_label("Window (s)").fill("60")
    new.get_by_role("button", name="Add rule").click()
    expect(rules.locator("summary", has_text="Arrivals at the gate")).to_be_visible()
    made = [r for r in _api(page, server, "/rules")["items"] if r["name"] == "Arrivals at the gate"]
    assert len(made) == 1
    assert made[0]["camera_id"] == DEMO
    assert made[0]["event_types"] == ["line.crossed"]
    assert (made[0]["line"], made[0]["direction"]) == ("gate", "in")
    assert (made[0]["count"], made[0]["window_seconds"]) == (3, 60)
    _shoot(page, shots, "08-rules")

    # A bad value comes back as the API's reason, in the toast.
    rules.locator("summary", has_text="Add a rule").click()
    new = rules.get_by_role("form", name="Add a rule")
    new.get_by_label("Name", exact=True).fill("Direction without a line")
    new.get_by_label("Direction", exact=True).select_option("out")
    new.get_by_role("button", name="Add rule").click()
    expect(page.locator("#toast")).to_contain_text("direction needs a line")


def _add_user(page: Page, username: str, role: str, cameras: list[str] | None) -> None:
    form = page.get_by_role("form", name="Add a user")
    form.get_by_label("Username").fill(username)
    form.get_by_label("Password", exact=True).fill(USER_PASSWORD)
    form.get_by_label("Role", exact=True).select_option(role)
    if cameras is not None:
        form.get_by_label("All cameras").uncheck()
        for camera in cameras:
            form.get_by_label(camera, exact=True).check()
    form.get_by_role("button", name="Add user").click()
    expect(page.locator(f"tr[data-user='{username}']")).to_be_visible()


def test_manage_users_and_roles(page: Page, server: ServeProcess, shots: list[Path]) -> None:
    _add_user(page, "scoped", "operator", [DEMO_NAME])
    _add_user(page, "spare", "viewer", None)
    row = page.locator("tr[data-user='scoped']")
    expect(row.get_by_label("Role of scoped")).to_have_value("operator")
    expect(row.get_by_label(DEMO_NAME, exact=True)).to_be_checked()
    row.get_by_label("Role of scoped").select_option("viewer")
    row.get_by_role("button", name="Save").click()
    expect(page.locator("tr[data-user='scoped']").get_by_label("Role of scoped")).to_have_value(
        "viewer"
    )
    page.locator("tr[data-user='spare']").get_by_role("button", name="Delete spare").click()
    expect(page.locator("tr[data-user='spare']")).to_have_count(0)
    own = page.locator(f"tr[data-user='{ADMIN}']")
    expect(own.get_by_role("button", name=f"Delete {ADMIN}")).to_be_disabled()
    _shoot(page, shots, "09-users")

    users = {u["username"]: u for u in _api(page, server, "/users")["items"]}
    assert "spare" not in users
    assert users["scoped"]["role"] == "viewer"
    assert users["scoped"]["cameras"] == [DEMO]

    page.set_viewport_size(PHONE)  # the admin's page fits a phone too
    page.get_by_role("region", name="Users").scroll_into_view_if_needed()
    assert _fits_the_width(page)
    _shoot(page, shots, "10-admin-phone")
    page.set_viewport_size(DESKTOP)


def test_scoped_viewer_on_a_phone_sees_only_its_camera_read_only(
    chromium: Browser, server: ServeProcess, shots: list[Path]
) -> None:
    context = chromium.new_context(viewport=PHONE)
    phone = context.new_page()
    phone.set_default_timeout(30_000)
    try:
        _sign_in(phone, server.base, "scoped", USER_PASSWORD)
        _open_config(phone)
        expect(phone.get_by_role("note")).to_contain_text("Read-only")
        cameras = phone.get_by_role("region", name=re.compile("^Camera "))
        expect(cameras).to_have_count(1)
        expect(_camera(phone, DEMO_NAME)).to_be_visible()
        expect(phone.get_by_role("form", name="Add a camera")).to_have_count(0)
        expect(phone.get_by_role("region", name="Users")).to_have_count(0)
        controls = phone.locator("#view input, #view select, #view textarea")
        assert controls.count() > 10
        for control in controls.all():
            expect(control).to_be_disabled()
        for name in ("Save camera", "Save shape", "Save rule", "Remove camera"):
            for button in phone.get_by_role("button", name=name).all():
                expect(button).to_be_disabled()
        assert _fits_the_width(phone)
        _shoot(phone, shots, "11-scoped-viewer-phone")
    finally:
        context.close()

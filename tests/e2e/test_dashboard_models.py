"""The Models page in chromium against a real ``argus serve`` (issue 21, model registry).

Two versions of one pack are imported before the server starts (the second
import keeps the first); an admin sees both, promotes the older one to two
cameras in a chosen order, and rolls one camera back to the current version.
The API then shows the same assignments and their history; no step may raise
an uncaught JavaScript error; the page fits a phone.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from argus.bootstrap.container import build_container
from argus.config import Settings
from tests.e2e.browser_support import shoot
from tests.e2e.dashboard_support import DEAD_STREAM, call, fits_a_phone, signed_in
from tests.e2e.serve_support import ServeProcess, serving
from tests.factories import Candidate, write_yolo_model, yolo_output

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(600)]


def _import(data_dir: Path, tmp: Path, class_id: int) -> str:
    base = yolo_output("yolov8", [Candidate(32, 32, 20, 20, class_id, 0.9)], 3, rows=10)
    model = write_yolo_model(tmp / f"toy-{class_id}.onnx", base, input_size=64)
    names = tmp / "names.txt"
    names.write_text("person\ncar\nbicycle\n")
    container = build_container(Settings(data_dir=data_dir))
    return container.import_model("toy", model, names_file=names).version


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServeProcess, str, str]]:
    root = tmp_path_factory.mktemp("dashboard-models")
    first = _import(root / "data", root, 0)
    second = _import(root / "data", root, 2)
    with serving(root / "data", root / "serve.log") as running:
        yield running, first, second


@pytest.fixture(scope="module")
def errors() -> list[str]:
    return []


@pytest.fixture(scope="module")
def page(
    chromium: Browser, served: tuple[ServeProcess, str, str], errors: list[str]
) -> Iterator[Page]:
    opened = signed_in(chromium, served[0], errors)
    yield opened
    opened.context.close()


def _camera(server: ServeProcess, name: str) -> str:
    body = {"name": name, "stream_url": DEAD_STREAM, "model": "toy"}
    return str(call(server, "POST", "/cameras", body)["id"])


def test_promote_a_version_to_cameras_then_roll_one_back(
    page: Page, served: tuple[ServeProcess, str, str], errors: list[str], shots: list[Path]
) -> None:
    server, first, second = served
    gate, door = _camera(server, "Gate"), _camera(server, "Door")

    page.get_by_role("link", name="Models").click()
    expect(page.get_by_role("heading", name="Models", exact=True)).to_be_visible()
    versions = page.get_by_role("region", name="Model versions")
    old = versions.locator(f'tr[data-ref="toy@{first}"]')
    new = versions.locator(f'tr[data-ref="toy@{second}"]')
    expect(old).to_contain_text("kept")
    expect(new).to_contain_text("current")
    expect(new.locator(".model-cameras")).to_have_text("Gate, Door")
    rows = page.get_by_role("region", name="Cameras and their models")
    expect(rows.locator(f'tr[data-camera="{gate}"] .model-runs')).to_have_text(f"toy@{second}")

    old.get_by_text("Promote…").click()
    form = page.get_by_role("form", name=f"Promote toy@{first}")
    form.get_by_label("Gate").check()
    form.get_by_label("Door").check()
    expect(form).to_contain_text("Rollout order: Gate → Door")
    shoot(page, shots, "models-promote")
    form.get_by_role("button", name="Promote").click()
    expect(page.locator("#toast")).to_contain_text(f"toy@{first} now runs on 2 camera(s).")
    for camera_id in (gate, door):
        runs = rows.locator(f'tr[data-camera="{camera_id}"] .model-runs')
        expect(runs).to_have_text(f"toy@{first}")
    expect(
        page.get_by_role("region", name="Model versions").locator(
            f'tr[data-ref="toy@{first}"] .model-cameras'
        )
    ).to_have_text("Gate, Door")

    rows.locator(f'tr[data-camera="{gate}"]').get_by_role("button", name="Roll back").click()
    expect(rows.locator(f'tr[data-camera="{gate}"] .model-runs')).to_have_text(f"toy@{second}")
    expect(rows.locator(f'tr[data-camera="{gate}"]')).to_contain_text("follows current")
    expect(rows.locator(f'tr[data-camera="{door}"] .model-runs')).to_have_text(f"toy@{first}")
    gate_row = rows.locator(f'tr[data-camera="{gate}"]')
    gate_row.get_by_text("History").click()
    expect(gate_row.locator(".model-history li")).to_have_count(2)
    expect(gate_row.locator(".model-history li").first).to_contain_text("rollback")
    shoot(page, shots, "models-rolled-back")

    assert call(server, "GET", f"/cameras/{gate}/model")["assigned"] == "toy"
    history = call(server, "GET", f"/cameras/{door}/model")["history"]
    assert [(h["action"], h["ref"], h["previous_ref"]) for h in history] == [
        ("promote", f"toy@{first}", "toy")
    ]
    fits_a_phone(page, "the Models page")
    assert errors == []

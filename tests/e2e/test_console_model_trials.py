"""Shadow runs and evaluations on the Models page, in chromium against a real ``argus serve``.

A toy pack is imported before the server starts. An admin starts a shadow
run of it on a camera from the page (the run appears in force and in the
API), queues an evaluation (the server has no accepted hard examples, so it
ends as failed with that reason, shown on the page), then stops the run. No
step may raise an uncaught JavaScript error; the page fits a phone.
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


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    root = tmp_path_factory.mktemp("console-model-trials")
    base = yolo_output("yolov8", [Candidate(32, 32, 20, 20, 0, 0.9)], 3, rows=10)
    model = write_yolo_model(root / "toy.onnx", base, input_size=64)
    names = root / "names.txt"
    names.write_text("person\ncar\nbicycle\n")
    build_container(Settings(data_dir=root / "data")).import_model("toy", model, names_file=names)
    with serving(root / "data", root / "serve.log") as running:
        yield running


@pytest.fixture(scope="module")
def errors() -> list[str]:
    return []


@pytest.fixture(scope="module")
def page(chromium: Browser, served: ServeProcess, errors: list[str]) -> Iterator[Page]:
    opened = signed_in(chromium, served, errors)
    yield opened
    opened.context.close()


def test_start_a_shadow_run_evaluate_and_stop(
    page: Page, served: ServeProcess, errors: list[str], shots: list[Path]
) -> None:
    body = {"name": "Gate", "stream_url": DEAD_STREAM, "model": "toy"}
    gate = str(call(served, "POST", "/cameras", body)["id"])

    page.get_by_role("link", name="Models").click()
    shadow = page.get_by_role("region", name="Shadow runs")
    expect(shadow).to_contain_text("No shadow run is in force.")
    form = page.get_by_role("form", name="Start a shadow run")
    form.get_by_label("Camera").select_option(gate)
    form.get_by_label("Candidate").select_option("toy")
    form.get_by_label("One frame in").fill("5")
    form.get_by_role("button", name="Start shadow run").click()
    expect(page.locator("#toast")).to_contain_text("Shadow run of toy started on Gate.")
    row = page.get_by_role("region", name="Shadow runs").locator(f'tr[data-camera="{gate}"]')
    expect(row).to_contain_text("toy")
    expect(row).to_contain_text("1 in 5")
    (plan,) = call(served, "GET", "/models/shadow")["plans"]
    assert (plan["camera_id"], plan["candidate"], plan["sample_every"]) == (gate, "toy", 5)

    evaluations = page.get_by_role("region", name="Evaluations")
    ask = page.get_by_role("form", name="Evaluate a model")
    ask.get_by_label("Model").select_option("toy")
    ask.get_by_role("button", name="Evaluate").click()
    run = evaluations.locator("tr[data-evaluation]")
    expect(run).to_have_attribute("data-state", "failed", timeout=30_000)
    expect(run).to_contain_text("no accepted hard examples")
    shoot(page, shots, "models-trials")

    page.get_by_role("region", name="Shadow runs").get_by_role("button", name="Stop").click()
    expect(page.get_by_role("region", name="Shadow runs")).to_contain_text(
        "No shadow run is in force."
    )
    assert call(served, "GET", "/models/shadow")["plans"] == []
    fits_a_phone(page, "the Models page with shadow runs")
    assert errors == []

"""Dataset export on the Examples page in chromium against a real ``argus serve --demo``.

The whole loop runs the real way: the demo camera (bikes.mp4) raises alerts
with stored snapshots, two are dismissed as false positives and become hard
examples with their frames; the admin labels them and an operator accepts
the labels (through the API: the labelling page has its own test). Then the
admin opens the Examples page, previews the export (counts per split) and
downloads the ZIP, at desktop size and at phone width. The downloaded ZIP
holds both frames, COCO annotations that faster-coco-eval loads, YOLO labels,
and a manifest whose hashes match the files. No step may raise an uncaught
JavaScript error.
"""

from __future__ import annotations

import hashlib
import json
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from faster_coco_eval import COCO  # type: ignore[import-untyped]
from playwright.sync_api import Browser, Page, expect

from tests.auth_support import USER_PASSWORD, bearer
from tests.e2e.browser_support import nav_to, shoot
from tests.e2e.console_support import busy_server
from tests.e2e.dashboard_support import call, fits_a_phone, signed_in
from tests.e2e.serve_support import ServeProcess

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(900)]

DEMO_WAIT_S = 300.0
"""Longest wait for demo alerts with snapshots and their examples (loaded 2-core box)."""


def _labelled_examples(server: ServeProcess, count: int) -> list[str]:
    """``count`` dismissed demo alerts' examples, labelled by the admin, accepted by an operator."""
    deadline = time.monotonic() + DEMO_WAIT_S
    dismissed: set[str] = set()
    while len(dismissed) < count and time.monotonic() < deadline:
        for alert in call(server, "GET", "/alerts?camera_id=demo&limit=50")["items"]:
            if len(dismissed) == count or alert["state"] not in {"new", "notified", "escalated"}:
                continue
            evidence = call(server, "GET", f"/evidence?alert_id={alert['id']}")["items"]
            if any(e["kind"] == "snapshot" for e in evidence):
                call(server, "POST", f"/alerts/{alert['id']}/acknowledge", {})
                call(server, "POST", f"/alerts/{alert['id']}/dismiss", {"note": "kerb shadow"})
                dismissed.add(alert["id"])
        time.sleep(1)
    examples: list[dict[str, object]] = []
    while len(examples) < count and time.monotonic() < deadline:
        page = call(server, "GET", "/examples?source=false_positive&limit=200")["items"]
        examples = [e for e in page if e["alert_id"] in dismissed]
        time.sleep(0.5)
    assert len(examples) == count, server.output()[-4000:]

    call(
        server,
        "POST",
        "/users",
        {"username": "rita", "password": USER_PASSWORD, "role": "operator"},
    )
    token = httpx.post(
        f"{server.base}/api/v1/auth/token",
        data={"username": "rita", "password": USER_PASSWORD, "grant_type": "password"},
        timeout=30,
    ).json()["access_token"]
    ids = [str(e["id"]) for e in examples]
    for example_id in ids:
        call(server, "POST", f"/examples/{example_id}/claim", {})
        box = {"x1": 10, "y1": 20, "x2": 120, "y2": 200, "class_name": "person"}
        call(server, "PUT", f"/examples/{example_id}/labels", {"labels": [box], "submit": True})
        call(
            server,
            "POST",
            f"/examples/{example_id}/review",
            {"accept": True},
            headers=bearer(token),
        )
    return ids


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServeProcess, list[str]]]:
    with busy_server(tmp_path_factory.mktemp("console-datasets"), demo=True) as server:
        yield server, _labelled_examples(server, 2)


def _check_zip(path: Path, examples: list[str]) -> None:
    with zipfile.ZipFile(path) as archive:
        files = {name: archive.read(name) for name in archive.namelist()}
    manifest = json.loads(files["manifest.json"])
    assert {i["example_id"] for i in manifest["images"]} == set(examples)
    assert {i["camera_id"] for i in manifest["images"]} == {"demo"}
    assert all("@" in i["model_ref"] for i in manifest["images"])
    for entry in manifest["files"]:
        assert hashlib.sha256(files[entry["path"]]).hexdigest() == entry["sha256"]
    loaded = [COCO(json.loads(files[f"annotations/{s}.json"])) for s in ("train", "val")]
    assert sum(len(c.getAnnIds()) for c in loaded) == 2
    assert len([n for n in files if n.startswith("labels/")]) == 2


@pytest.mark.parametrize("width", [1280, 390], ids=["desktop", "phone"])
def test_preview_and_download_from_the_examples_page(
    chromium: Browser,
    world: tuple[ServeProcess, list[str]],
    shots: list[Path],
    tmp_path: Path,
    width: int,
) -> None:
    server, examples = world
    errors: list[str] = []
    page: Page = signed_in(chromium, server, errors)
    try:
        page.set_viewport_size({"width": width, "height": 900})
        nav_to(page, "Examples")
        section = page.get_by_role("region", name="Dataset export")
        expect(section).to_be_visible()
        section.get_by_label("Validation share").fill("0.5")
        section.get_by_label("Licence").fill("site footage, north gate")
        section.get_by_role("button", name="Preview counts").click()
        expect(section.get_by_text("2 image(s) would be exported.")).to_be_visible()
        expect(section.get_by_role("table", name="Dataset by split")).to_contain_text("Images")
        name = "datasets-desktop" if width > 500 else "datasets-phone"
        section.scroll_into_view_if_needed()
        shoot(page, shots, name)
        if width <= 500:
            fits_a_phone(page, name)  # (it leaves the page at desktop size)
        with page.expect_download() as waiting:
            section.get_by_role("button", name="Export ZIP").click()
        download = waiting.value
        assert download.suggested_filename.startswith("argus-dataset-")
        target = tmp_path / download.suggested_filename
        download.save_as(target)
        _check_zip(target, examples)
        expect(section.get_by_text("Downloaded argus-dataset-")).to_be_visible()
    finally:
        page.context.close()
    assert errors == []

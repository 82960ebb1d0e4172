"""The live wall in headless chromium says when the box is saturated, with each camera's grant.

A real ``argus serve --demo`` with one ONNX Runtime thread is asked for far more
than any 2-core box analyses: the demo camera and three copies of its clip at
25 fps each (100 full-frame detections per second of yolov7-tiny at 416 px). The
shared inference scheduler grants each camera a share; the tiles say
"analysing N of 25.0 fps — box saturated" and the camera status API agrees.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from tests.e2e.browser_support import shoot
from tests.e2e.dashboard_support import call, fits_a_phone, signed_in
from tests.e2e.serve_support import serving

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(600)]

WAIT_S = 180.0
"""Longest wait for the grants to settle (model build and first batches included)."""
FPS = 25.0
NAMES = ["Street demo (bikes.mp4)", "Copy 0", "Copy 1", "Copy 2"]


def test_the_live_wall_shows_each_cameras_grant_when_saturated(
    chromium: Browser, tmp_path: Path, shots: list[Path]
) -> None:
    env = {"ARGUS_INTRA_OP_THREADS": "1", "ARGUS_TAMPER_CHECKS_PER_S": "0"}
    with serving(tmp_path / "data", tmp_path / "serve.log", env, ("--demo",)) as server:
        demo = call(server, "GET", "/cameras/demo")
        call(server, "PATCH", "/cameras/demo", {"detect_fps": FPS})
        ids = ["demo"]
        for name in NAMES[1:]:
            made = call(
                server,
                "POST",
                "/cameras",
                {"name": name, "stream_url": demo["stream_url"], "detect_fps": FPS},
            )
            ids.append(made["id"])
        deadline = time.monotonic() + WAIT_S
        while not all(call(server, "GET", f"/cameras/{c}/status")["saturated"] for c in ids):
            assert time.monotonic() < deadline, server.output()
            time.sleep(1.0)
        for camera_id in ids:
            status = call(server, "GET", f"/cameras/{camera_id}/status")
            assert status["target_fps"] == FPS
            assert 0 < status["granted_fps"] < FPS

        errors: list[str] = []
        page = signed_in(chromium, server, errors)
        saturated = re.compile(r"analysing \d+\.\d of 25\.0 fps — box saturated")
        for name in NAMES:
            tile = page.get_by_role("article", name=name)
            expect(tile.locator(".status[data-saturated='true']")).to_contain_text(
                saturated, timeout=60_000
            )
        shoot(page, shots, "live-saturated")
        fits_a_phone(page, "the saturated live wall")
        assert errors == []
        assert server.stop() == 0, server.output()

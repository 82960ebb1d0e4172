"""A camera with a detect sub-stream, added from the Configuration page of a real
``argus serve --demo`` in headless Chromium: the server opens both streams (the
bikes clip as main stream, a quarter-size copy made by PyAV as sub-stream), the
snapshot keeps the main stream's size, and the field can be cleared again.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import cv2
import httpx
import numpy as np
import pytest
from playwright.sync_api import Browser, Page, ViewportSize, expect

from tests.auth_support import ADMIN, ADMIN_PASSWORD
from tests.e2e.browser_support import bearer_of, nav_to, sign_in
from tests.e2e.browser_support import shoot as _shoot
from tests.e2e.serve_support import ServeProcess, serving

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(600)]

NAME = "Gate with sub-stream"
DESKTOP: ViewportSize = {"width": 1280, "height": 900}
WAIT = 120.0
"""Seconds to wait for the camera's pipeline; generous for a loaded 2-core machine."""


def _quarter_copy(src: Path, dst: Path) -> Path:
    """Re-encode ``src`` at half its width and height (a camera's sub-stream)."""
    with av.open(str(src)) as inp, av.open(str(dst), mode="w") as out:
        video = inp.streams.video[0]
        rate = Fraction(video.average_rate or 25)
        stream = out.add_stream("libx264", rate=rate)
        assert isinstance(stream, av.VideoStream)
        stream.width, stream.height = video.width // 2, video.height // 2
        stream.pix_fmt = "yuv420p"
        for index, frame in enumerate(inp.decode(video)):
            small = frame.reformat(width=stream.width, height=stream.height, format="yuv420p")
            small.pts = index
            small.time_base = 1 / rate
            out.mux(stream.encode(small))
        out.mux(stream.encode(None))
    return dst


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("substream-media")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, media: Path) -> Iterator[ServeProcess]:
    root = tmp_path_factory.mktemp("console-substreams")
    env = {"ARGUS_MEDIA_DIRS": str(media)}
    with serving(root / "data", root / "serve.log", env=env, args=("--demo",)) as running:
        yield running


@pytest.fixture(scope="module")
def page(chromium: Browser, server: ServeProcess) -> Iterator[Page]:
    context = chromium.new_context(viewport=DESKTOP)
    opened = context.new_page()
    opened.set_default_timeout(30_000)
    yield opened
    context.close()


def _api(page: Page, server: ServeProcess, path: str) -> Any:
    answer = httpx.get(f"{server.base}/api/v1{path}", headers=bearer_of(page), timeout=30)
    assert answer.status_code == 200, answer.text
    return answer.json() if "json" in answer.headers["content-type"] else answer.content


def _added(page: Page, server: ServeProcess) -> dict[str, Any]:
    found = [c for c in _api(page, server, "/cameras")["items"] if c["name"] == NAME]
    assert len(found) == 1
    camera: dict[str, Any] = found[0]
    return camera


def test_add_a_camera_with_a_sub_stream(
    page: Page, server: ServeProcess, media: Path, shots: list[Path]
) -> None:
    sign_in(page, f"{server.base}/ui/", ADMIN, ADMIN_PASSWORD)
    expect(page.get_by_role("heading", name="Live")).to_be_visible()
    video = Path(_api(page, server, "/cameras/demo")["stream_url"])
    small = _quarter_copy(video, media / "bikes-sub.mp4")
    nav_to(page, "Configuration")
    form = page.get_by_role("form", name="Add a camera")
    form.get_by_label("Name", exact=True).fill(NAME)
    form.get_by_label("Stream URL").fill(str(video))
    form.get_by_label("Sub-stream for detection (optional)").fill(str(small))
    _shoot(page, shots, "01-sub-stream-filled")
    form.get_by_role("button", name="Add camera").click()
    section = page.get_by_role("region", name=f"Camera {NAME}", exact=True)
    expect(section).to_be_visible()
    camera = _added(page, server)
    assert camera["detect_stream_url"] == str(small)
    assert camera["stream_url"] == str(video)

    # The server runs it: detection on the 320x136 copy, evidence at 640x272.
    deadline = time.monotonic() + WAIT
    while True:
        status = _api(page, server, f"/cameras/{camera['id']}/status")
        if status["state"] == "online" and status["fps_detected"] > 0:
            break
        assert time.monotonic() < deadline, f"camera not online: {status}"
        time.sleep(0.5)
    jpeg = _api(page, server, f"/cameras/{camera['id']}/snapshot")
    image = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert image is not None
    assert image.shape == (272, 640, 3)
    edit = section.get_by_role("form", name=f"Edit camera {NAME}")
    expect(edit.get_by_label("Sub-stream for detection (optional)")).to_have_value(str(small))
    _shoot(page, shots, "02-camera-with-sub-stream")


def test_a_sub_stream_elsewhere_is_refused_and_the_field_can_be_cleared(
    page: Page, server: ServeProcess, shots: list[Path]
) -> None:
    section = page.get_by_role("region", name=f"Camera {NAME}", exact=True)
    edit = section.get_by_role("form", name=f"Edit camera {NAME}")
    field = edit.get_by_label("Sub-stream for detection (optional)")
    field.fill("rtsp://10.0.0.9:554/sub")
    edit.get_by_role("button", name="Save camera").click()
    expect(page.locator("#toast")).to_contain_text("same scheme, host and port")
    _shoot(page, shots, "03-sub-stream-refused")
    assert _added(page, server)["detect_stream_url"] is not None

    section = page.get_by_role("region", name=f"Camera {NAME}", exact=True)
    edit = section.get_by_role("form", name=f"Edit camera {NAME}")
    edit.get_by_label("Sub-stream for detection (optional)").fill("")
    edit.get_by_role("button", name="Save camera").click()
    expect(page.locator("#toast")).to_contain_text(f"Camera {NAME} saved")
    assert _added(page, server)["detect_stream_url"] is None

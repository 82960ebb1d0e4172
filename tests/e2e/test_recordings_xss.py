"""HTML injection into the recordings page (``pages/recordings.js``, ``timeline.js``), in chromium.

Against a real ``argus serve`` that records a file camera: the camera's name,
its line's name, the class of a crossing and the rule's name (hence the alert
and event markers' labels) are all markup that would run script if the page
put them into the DOM as HTML. The page must show them as text: the markers are
on the timeline and in its list, and no injected element or script ran.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from argus.domain.events import Envelope, EventSource, LineCrossed
from tests.e2e.conftest import eval_media
from tests.e2e.console_support import busy_server
from tests.e2e.dashboard_support import call, signed_in, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(600)]

CAMERA = "<img src=x onerror=\"window.__xss='camera'\">Lobby"
LINE = "<img src=x onerror=window.__xss=1>"
CLASS = "<svg onload=window.__xss=2>"
RULE = "<b class=injected>Door</b><script>window.__xss=3</script>"
INJECTED = "img[src='x'], svg[onload], b.injected, script:not([src])"
"""What the payloads would add to the page if any of them were parsed as HTML."""


def test_names_and_labels_on_the_recordings_page_stay_text(
    chromium: Browser, tmp_path: Path
) -> None:
    media = tmp_path / "media"
    media.mkdir()
    clip = media / "bikes.mp4"
    clip.write_bytes(eval_media("bikes.mp4").read_bytes())
    env = {
        "ARGUS_MEDIA_DIRS": str(media),
        "ARGUS_RECORDING": "true",
        "ARGUS_RECORDING_SEGMENT_S": "2",
    }
    with busy_server(tmp_path, demo=False, **env) as server:
        body = {"name": CAMERA, "stream_url": str(clip), "detect_fps": 1.0}
        camera_id = str(call(server, "POST", "/cameras", body)["id"])
        line = {"name": LINE, "start": [100.0, 20.0], "end": [100.0, 250.0]}
        call(server, "POST", f"/cameras/{camera_id}/lines", line)
        rule = {"name": RULE, "camera_id": camera_id, "event_types": ["line.crossed"]}
        call(server, "POST", "/rules", rule)
        at = datetime.now(UTC) - timedelta(seconds=30)
        crossing = Envelope.wrap(
            LineCrossed(
                line=LINE,
                track_id=7,
                class_id=0,
                class_name=CLASS,
                direction="in",
                timestamp=1.0,
                confidence=0.9,
            ),
            EventSource("xss-e2e", camera_id),
            at,
        )
        call(server, "POST", "/events", {"events": [crossing.to_dict()]})
        wait_for(
            "the alert and event markers",
            lambda: (
                {
                    m["kind"]
                    for m in call(server, "GET", f"/cameras/{camera_id}/recordings")["markers"]
                }
                == {"alert", "event"}
            ),
            server,
        )

        errors: list[str] = []
        page = signed_in(chromium, server, errors)
        page.goto(f"{server.base}/ui/#/recordings?camera={camera_id}")
        markers = page.locator(".tl-marker")
        expect(markers).to_have_count(2)
        # The payloads are there, as text: in the camera picker and the markers' names.
        picker = page.get_by_role("combobox", name="Camera")
        assert picker.locator("option:checked").inner_text() == CAMERA
        names = [markers.nth(i).get_attribute("aria-label") or "" for i in range(2)]
        assert any(f"{RULE}: {CLASS}" in name for name in names), names
        assert any(f"{CLASS} crossed {LINE}" in name for name in names), names
        expect(page.get_by_text(f"{CLASS} crossed {LINE}", exact=False).first).to_be_visible()

        assert page.evaluate("() => window.__xss") is None
        assert page.locator(INJECTED).count() == 0
        assert errors == []

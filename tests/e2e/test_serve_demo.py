"""``argus serve --demo``: the demo camera is registered once and produces events over the API."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.serve_support import ServeProcess, serving

pytestmark = [pytest.mark.integration, pytest.mark.slow]

EVENTS_TIMEOUT = 180.0
"""Seconds to wait for the first line or zone events (generous for a loaded machine)."""

ANALYTICS = {"line.crossed", "zone.entered", "zone.exited"}


def _event_types(base: str, headers: dict[str, str]) -> set[str]:
    page = httpx.get(
        f"{base}/api/v1/events", params={"camera_id": "demo", "limit": "1000"}, headers=headers
    )
    assert page.status_code == 200, page.text
    return {item["type"] for item in page.json()["items"]}


def _get(server: ServeProcess, path: str) -> Any:
    answer = httpx.get(f"{server.base}{path}", headers=server.headers, timeout=10)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_demo_camera_produces_line_and_zone_events(tmp_path: Path) -> None:
    data_dir, log = tmp_path / "data", tmp_path / "serve.log"
    with serving(data_dir, log, args=("--demo",)) as server:
        cameras = httpx.get(
            f"{server.base}/api/v1/cameras", timeout=10, headers=server.headers
        ).json()
        assert [c["id"] for c in cameras["items"]] == ["demo"]
        lines = httpx.get(
            f"{server.base}/api/v1/cameras/demo/lines", timeout=10, headers=server.headers
        ).json()
        zones = httpx.get(
            f"{server.base}/api/v1/cameras/demo/zones", timeout=10, headers=server.headers
        ).json()
        assert [line["name"] for line in lines["items"]] == ["kerb"]
        assert [zone["name"] for zone in zones["items"]] == ["street"]

        deadline = time.monotonic() + EVENTS_TIMEOUT
        seen: set[str] = set()
        while not seen & ANALYTICS:
            if server.process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"no line or zone events (saw {sorted(seen)}):\n{server.output()}")
            time.sleep(1.0)
            seen = _event_types(server.base, server.headers)
        assert server.stop() == 0, server.output()

    # A restart keeps the one demo camera (registration is idempotent) and its edits.
    with serving(data_dir, log, args=("--demo",)) as server:
        renamed = httpx.patch(
            f"{server.base}/api/v1/cameras/demo",
            json={"name": "Renamed demo"},
            headers=server.headers,
            timeout=10,
        )
        assert renamed.status_code == 200, renamed.text
        assert server.stop() == 0, server.output()
    with serving(data_dir, log, args=("--demo",)) as server:
        cameras = httpx.get(
            f"{server.base}/api/v1/cameras", timeout=10, headers=server.headers
        ).json()
        assert [(c["id"], c["name"]) for c in cameras["items"]] == [("demo", "Renamed demo")]
        assert server.stop() == 0, server.output()
    assert log.read_text().count("registered the demo camera") == 1

"""``argus serve``: the demo camera detects through the shared inference scheduler (the default),
whose grant shows in the camera's status and in ``/metrics``; switched off, neither shows."""

from __future__ import annotations

import re
import time
from pathlib import Path

import httpx
import pytest

from tests.e2e.serve_support import ServeProcess, serving

pytestmark = [pytest.mark.integration, pytest.mark.slow]

WAIT = 180.0
"""Seconds to wait for analysed frames (model build included) on a loaded machine."""


def _status(server: ServeProcess) -> dict[str, object]:
    answer = httpx.get(
        f"{server.base}/api/v1/cameras/demo/status", headers=server.headers, timeout=10
    )
    assert answer.status_code == 200, answer.text
    body: dict[str, object] = answer.json()
    return body


def _metrics(server: ServeProcess) -> str:
    answer = httpx.get(f"{server.base}/metrics", headers=server.headers, timeout=10)
    assert answer.status_code == 200, answer.text
    return answer.text


def _batches(text: str) -> float:
    found = re.search(r'^argus_inference_batch_size_count\{scheduler="0"\} (\S+)$', text, re.M)
    return float(found.group(1)) if found else 0.0


def test_serve_runs_cameras_through_the_scheduler_and_shows_the_grant(tmp_path: Path) -> None:
    with serving(tmp_path / "data", tmp_path / "serve.log", args=("--demo",)) as server:
        deadline = time.monotonic() + WAIT
        while _batches(text := _metrics(server)) < 1:
            if server.process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"no inference batch:\n{server.output()}")
            time.sleep(1.0)
        status = _status(server)
        assert status["target_fps"] == 8.0  # the demo camera's detect fps
        granted = status["granted_fps"]
        assert isinstance(granted, float)
        assert 0 < granted <= 8.0
        assert status["saturated"] is (granted < 8.0)
        assert 'argus_camera_target_fps{camera_id="demo"} 8.0' in text
        assert 'argus_camera_granted_fps{camera_id="demo"}' in text
        assert 'argus_inference_saturated{camera_id="demo"}' in text
        assert server.stop() == 0, server.output()


def test_serve_without_the_scheduler_shows_no_grant(tmp_path: Path) -> None:
    env = {"ARGUS_INFERENCE_SCHEDULER": "false"}
    with serving(tmp_path / "data", tmp_path / "serve.log", env, ("--demo",)) as server:
        deadline = time.monotonic() + WAIT
        while (status := _status(server))["state"] != "online":
            if server.process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the demo camera never came online:\n{server.output()}")
            time.sleep(1.0)
        assert (status["target_fps"], status["granted_fps"], status["saturated"]) == (
            None,
            None,
            False,
        )
        text = _metrics(server)
        assert "argus_camera_granted_fps{" not in text
        assert "argus_inference_batch_size_count{" not in text
        assert server.stop() == 0, server.output()

"""``argus serve`` with ``ARGUS_RECORDING=true``: a file camera's segments appear on disk while
its pipeline runs, and a graceful stop closes the segment in progress (no ``.part`` left)."""

from __future__ import annotations

import time
from pathlib import Path

import av
import httpx
import pytest

from argus.adapters.recording import SegmentIndex
from tests.e2e.serve_support import serving
from tests.integration.conftest import Media

pytestmark = [pytest.mark.integration, pytest.mark.slow]

WAIT = 180.0
"""Seconds to wait for segments: the server builds its model pack and starts the camera first."""


def _recording(base: str, camera_id: str, headers: dict[str, str]) -> dict[str, object]:
    deadline = time.monotonic() + WAIT
    while True:
        answer = httpx.get(f"{base}/api/v1/cameras/{camera_id}/status", headers=headers, timeout=30)
        assert answer.status_code == 200, answer.text
        recording = answer.json()["recording"]
        if recording is not None and recording["segments"] >= 2:
            return dict(recording)
        if time.monotonic() > deadline:
            pytest.fail(f"no two segments in {WAIT} s: {answer.json()}")
        time.sleep(0.2)


def test_serve_records_a_file_camera_and_closes_its_segment_on_stop(tmp_path: Path) -> None:
    media = tmp_path / "media"
    media.mkdir()
    clip = Media(media).video(frames=50, fps=25)
    data, recordings = tmp_path / "data", tmp_path / "nvr"
    env = {
        "ARGUS_RECORDING": "true",
        "ARGUS_RECORDING_DIR": str(recordings),
        "ARGUS_RECORDING_SEGMENT_S": "1",
        "ARGUS_MEDIA_DIRS": str(media),
    }
    with serving(data, tmp_path / "serve.log", env) as server:
        body = {"name": "Yard", "stream_url": str(clip), "detect_fps": 1.0}
        made = httpx.post(
            f"{server.base}/api/v1/cameras", json=body, headers=server.headers, timeout=30
        )
        assert made.status_code == 201, made.text
        camera_id = made.json()["id"]
        recording = _recording(server.base, camera_id, server.headers)
        assert recording["state"] in {"recording", "starting"}, recording
        ready = httpx.get(f"{server.base}/health/ready", timeout=30).json()
        assert ready["checks"]["recording"]["ok"] is True
        assert server.stop() == 0, server.output()

    index = SegmentIndex(recordings)
    assert index.partials() == []
    segments = index.scan(camera_id)
    assert len(segments) >= 3  # the two seen, then the one the stop closed
    for segment in segments:
        with av.open(str(recordings / segment.path)) as container:
            assert sum(1 for _ in container.decode(video=0)) > 0
        assert segment.codec == "h264"

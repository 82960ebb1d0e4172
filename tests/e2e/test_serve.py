"""``argus serve`` as a real process: ready, serves, stops cleanly on SIGTERM, keeps its data."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import ARGUS

pytestmark = [pytest.mark.integration, pytest.mark.slow]

START_TIMEOUT = 90.0
"""Seconds the server may take to become ready on a loaded machine."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def server(data_dir: Path, log: Path) -> Iterator[str]:
    """Run ``argus serve`` until the block ends, then SIGTERM it and expect a clean exit."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARGUS_")}
    with log.open("ab") as sink:
        process = subprocess.Popen(
            [ARGUS, "serve", "--port", str(port), "--data-dir", str(data_dir)],
            stdout=sink,
            stderr=subprocess.STDOUT,
            env=env,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if process.poll() is not None:
                pytest.fail(f"argus serve exited {process.returncode}:\n{log.read_text()}")
            try:
                if httpx.get(f"{base}/health/ready", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"argus serve was not ready in {START_TIMEOUT} s:\n{log.read_text()}")
            time.sleep(0.1)
        yield base
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            code = process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            pytest.fail(f"argus serve ignored SIGTERM:\n{log.read_text()}")
    assert code == 0, log.read_text()


def test_serve_persists_across_restarts(tmp_path: Path) -> None:
    data_dir, log = tmp_path / "data", tmp_path / "serve.log"
    camera = {
        "name": "Gate",
        "stream_url": "rtsp://10.0.0.9/stream",
        "credentials": {"username": "op", "password": "hunter2-hunter2"},
    }
    with server(data_dir, log) as base:
        created = httpx.post(f"{base}/api/v1/cameras", json=camera, timeout=10)
        assert created.status_code == 201, created.text
        cid = created.json()["id"]
        read = httpx.get(f"{base}/api/v1/cameras/{cid}", timeout=10).json()
        assert read["name"] == "Gate"
        assert read["has_credentials"] is True
    assert (data_dir / "argus.db").is_file()
    assert b"hunter2-hunter2" not in (data_dir / "argus.db").read_bytes()

    with server(data_dir, log) as base:
        again = httpx.get(f"{base}/api/v1/cameras/{cid}", timeout=10)
        assert again.status_code == 200
        assert again.json() == read
        assert httpx.get(f"{base}/api/v1/cameras/{cid}/status", timeout=10).status_code == 200
    assert "Application shutdown complete" in log.read_text()

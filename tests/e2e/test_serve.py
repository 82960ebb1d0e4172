"""``argus serve`` as a real process: ready, serves, stops cleanly on SIGTERM, keeps its data."""

from __future__ import annotations

import os
import re
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


NEW_PASSWORD = "a-long-new-admin-passphrase"


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


def _one_time_password(log: Path) -> str:
    # The log is not a terminal: the password is in a private file the log names.
    match = re.search(r"one-time password of 'admin' is in (\S+) ", log.read_text())
    assert match is not None, f"no one-time password file named:\n{log.read_text()}"
    path = Path(match.group(1))
    assert path.stat().st_mode & 0o077 == 0, oct(path.stat().st_mode)
    password = path.read_text().strip()
    assert password not in log.read_text()
    return password


def _first_sign_in(base: str, one_time: str) -> dict[str, str]:
    """Sign in with the printed password, change it as required; the new token's header."""
    form = {"username": "admin", "password": one_time}
    first = httpx.post(f"{base}/api/v1/auth/token", data=form, timeout=30).json()
    assert first["restricted"] == "password_change"
    restricted = {"Authorization": f"Bearer {first['access_token']}"}
    assert httpx.get(f"{base}/api/v1/cameras", headers=restricted, timeout=10).status_code == 403
    changed = httpx.post(
        f"{base}/api/v1/auth/password",
        json={"current_password": one_time, "new_password": NEW_PASSWORD},
        headers=restricted,
        timeout=30,
    )
    assert changed.status_code == 200, changed.text
    return {"Authorization": f"Bearer {changed.json()['access_token']}"}


def test_serve_persists_across_restarts(tmp_path: Path) -> None:
    data_dir, log = tmp_path / "data", tmp_path / "serve.log"
    camera = {
        "name": "Gate",
        "stream_url": "rtsp://10.0.0.9/stream",
        "credentials": {"username": "op", "password": "hunter2-hunter2"},
    }
    with server(data_dir, log) as base:
        # No ARGUS_ADMIN_PASSWORD: the first start makes a one-time password.
        auth = _first_sign_in(base, _one_time_password(log))
        assert httpx.get(f"{base}/api/v1/cameras", timeout=10).status_code == 401
        created = httpx.post(f"{base}/api/v1/cameras", json=camera, headers=auth, timeout=10)
        assert created.status_code == 201, created.text
        cid = created.json()["id"]
        read = httpx.get(f"{base}/api/v1/cameras/{cid}", headers=auth, timeout=10).json()
        assert read["name"] == "Gate"
        assert read["has_credentials"] is True
    assert (data_dir / "argus.db").is_file()
    assert b"hunter2-hunter2" not in (data_dir / "argus.db").read_bytes()

    with server(data_dir, log) as base:
        # The admin exists now: no second password is printed, the changed one works.
        assert len(re.findall(r"one-time password of 'admin' is in ", log.read_text())) == 1
        form = {"username": "admin", "password": NEW_PASSWORD}
        token = httpx.post(f"{base}/api/v1/auth/token", data=form, timeout=30).json()
        auth = {"Authorization": f"Bearer {token['access_token']}"}
        again = httpx.get(f"{base}/api/v1/cameras/{cid}", headers=auth, timeout=10)
        assert again.status_code == 200
        assert again.json() == read
        status = httpx.get(f"{base}/api/v1/cameras/{cid}/status", headers=auth, timeout=10)
        assert status.status_code == 200
    assert "Application shutdown complete" in log.read_text()
    assert NEW_PASSWORD not in log.read_text()

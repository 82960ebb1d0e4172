"""``argus serve`` as a child process: start, wait until ready, stop or kill, read the log."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.auth_support import ADMIN, ADMIN_PASSWORD, bearer, server_env
from tests.e2e.conftest import ARGUS

START_TIMEOUT = 120.0
"""Seconds the server may take to become ready on a loaded machine (model build included)."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class ServeProcess:
    """One ``argus serve`` process on a free port, its output appended to ``log``.

    Args:
        data_dir: ``--data-dir`` (the SQLite file and the model packs live there).
        log: File collecting stdout and stderr of every run.
        env: ``ARGUS_*`` variables for the process; the caller's are dropped. The
            test admin's credentials are always set (``tests.auth_support``);
            ``headers`` carry its access token once the server is ready.
        args: More ``argus serve`` options (``--demo``).
    """

    def __init__(
        self,
        data_dir: Path,
        log: Path,
        env: Mapping[str, str] | None = None,
        args: tuple[str, ...] = (),
    ) -> None:
        self.data_dir = data_dir
        self.log = log
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        clean = {k: v for k, v in os.environ.items() if not k.startswith("ARGUS_")}
        self._env = {**clean, **server_env(), **(env or {})}
        self.headers: dict[str, str] = {}
        self._args = args
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def process(self) -> subprocess.Popen[bytes]:
        assert self._process is not None, "not started"
        return self._process

    def start(self) -> None:
        """Start the process and wait until ``/health/ready`` answers 200."""
        command = [ARGUS, "serve", "--port", str(self.port), "--data-dir", str(self.data_dir)]
        with self.log.open("ab") as sink:
            self._process = subprocess.Popen(
                [*command, *self._args], stdout=sink, stderr=subprocess.STDOUT, env=self._env
            )
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if self.process.poll() is not None:
                pytest.fail(f"argus serve exited {self.process.returncode}:\n{self.output()}")
            try:
                if httpx.get(f"{self.base}/health/ready", timeout=2).status_code == 200:
                    self.headers = self._sign_in()
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                self.kill()
                pytest.fail(f"argus serve was not ready in {START_TIMEOUT} s:\n{self.output()}")
            time.sleep(0.1)

    def _sign_in(self) -> dict[str, str]:
        form = {"username": ADMIN, "password": ADMIN_PASSWORD}
        answer = httpx.post(f"{self.base}/api/v1/auth/token", data=form, timeout=30)
        assert answer.status_code == 200, answer.text
        return bearer(answer.json()["access_token"])

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, as in a crash or an OOM kill."""
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
            self._process.wait()

    def stop(self) -> int:
        """SIGTERM and wait for a graceful exit; returns the exit status."""
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.kill()
            pytest.fail(f"argus serve ignored SIGTERM:\n{self.output()}")

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@contextmanager
def serving(
    data_dir: Path,
    log: Path,
    env: Mapping[str, str] | None = None,
    args: tuple[str, ...] = (),
) -> Iterator[ServeProcess]:
    """A started server; killed at the end of the block unless the block stopped it."""
    server = ServeProcess(data_dir, log, env, args)
    server.start()
    try:
        yield server
    finally:
        server.kill()


def stored_ids(base: str, camera_id: str, headers: Mapping[str, str]) -> list[str]:
    """Every stored event id of ``camera_id``, over all pages (repeats kept, to count them)."""
    ids: list[str] = []
    cursor: str | None = None
    while True:
        params = {"camera_id": camera_id, "limit": "1000"}
        if cursor is not None:
            params["cursor"] = cursor
        page = httpx.get(f"{base}/api/v1/events", params=params, headers=headers, timeout=30)
        assert page.status_code == 200, page.text
        body = page.json()
        ids += [item["event_id"] for item in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            return ids

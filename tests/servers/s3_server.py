"""A real S3-compatible server for tests: moto's ``moto_server`` on a free loopback port.

``running_s3_server()`` starts the server as a subprocess of this virtualenv's
``moto_server``, waits until it answers HTTP (never for a fixed time), yields
its endpoint URL and stops it at exit. The server keeps everything in memory,
so a fresh one starts empty. It accepts any credentials; ``ACCESS_KEY`` and
``SECRET_KEY`` are what the tests pass, so boto3 never looks for real ones.
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

__all__ = ["ACCESS_KEY", "REGION", "SECRET_KEY", "running_s3_server"]

ACCESS_KEY = "argus-test-access"
SECRET_KEY = "argus-test-secret"
REGION = "us-east-1"
START_TIMEOUT = 60.0
"""Seconds the server may take to start on a loaded machine."""

MOTO_SERVER = Path(sys.executable).with_name("moto_server")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _answers(port: int) -> bool:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        connection.request("GET", "/")
        connection.getresponse().read()
    except OSError:
        return False
    finally:
        connection.close()
    return True


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)


@contextlib.contextmanager
def running_s3_server(attempts: int = 3) -> Iterator[str]:
    """Start ``moto_server`` on a free loopback port; yield ``http://127.0.0.1:<port>``.

    A port taken between choosing and binding it makes the server exit; it is
    started again on another port, up to ``attempts`` times.

    Raises:
        RuntimeError: ``moto_server`` is missing or never answered.
    """
    if not MOTO_SERVER.exists():
        raise RuntimeError(f"{MOTO_SERVER} is missing: pip install 'moto[server]'")
    errors = ""
    for _ in range(attempts):
        port = _free_port()
        with tempfile.TemporaryFile() as stderr:
            process = subprocess.Popen(
                [str(MOTO_SERVER), "-H", "127.0.0.1", "-p", str(port)],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
            )
            try:
                deadline = time.monotonic() + START_TIMEOUT
                while process.poll() is None and time.monotonic() < deadline:
                    if _answers(port):
                        yield f"http://127.0.0.1:{port}"
                        return
                    time.sleep(0.05)
            finally:
                _stop(process)
            stderr.seek(0)
            errors = stderr.read().decode(errors="replace")[-2000:]
    raise RuntimeError(f"moto_server did not start: {errors}")

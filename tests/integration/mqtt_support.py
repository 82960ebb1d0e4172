"""Real MQTT brokers for the MQTT tests: the shared Mosquitto and private ones.

``SHARED`` is the Mosquitto ``make test`` starts on 127.0.0.1:1883 (override
with ``ARGUS_TEST_MQTT_PORT``). ``PrivateBroker`` runs a Mosquitto process of
the test's own on a free port, without persistence, optionally with a password
file, so a test can kill it (losing every retained message, as a broker
without persistence does) and start it again on the same port. ``Listener``
is a separate subscriber client that collects what arrives, and waits for
a condition with an explicit deadline, never a fixed sleep.
"""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import os
import shutil
import signal
import socket
import ssl
import subprocess
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import aiomqtt

__all__ = ["SHARED_HOST", "SHARED_PORT", "WAIT_S", "Listener", "PrivateBroker", "free_port"]

SHARED_HOST = "127.0.0.1"
SHARED_PORT = int(os.environ.get("ARGUS_TEST_MQTT_PORT", "1883"))
WAIT_S = 30.0
"""Longest wait for a message or a state; generous for a loaded 2-core machine."""
MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"


def free_port() -> int:
    """A TCP port nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PrivateBroker:
    """A Mosquitto process of one test: start, kill (SIGKILL), start again on the same port.

    Args:
        directory: Where its configuration, password file and log go.
        port: Its port (a free one by default).
        login: ``(user, password)`` to require a login; anonymous clients otherwise.
        tls: ``(certificate, key)`` files to speak only TLS (``mqtts://``).
    """

    def __init__(
        self,
        directory: Path,
        *,
        port: int | None = None,
        login: tuple[str, str] | None = None,
        tls: tuple[Path, Path] | None = None,
    ) -> None:
        self.directory = directory
        self.port = port if port is not None else free_port()
        self.login = login
        self.tls = tls
        self._process: subprocess.Popen[bytes] | None = None

    def _config(self) -> Path:
        # Started as root, mosquitto drops to the user "mosquitto", who cannot read the
        # test's directory; as this user it keeps the test's own rights (no effect otherwise).
        lines = [
            f"listener {self.port} 127.0.0.1",
            "persistence false",
            f"user {getpass.getuser()}",
        ]
        if self.tls is not None:
            lines += [f"certfile {self.tls[0]}", f"keyfile {self.tls[1]}"]
        if self.login is None:
            lines.append("allow_anonymous true")
        else:
            passwords = self.directory / "passwords"
            subprocess.run(
                ["mosquitto_passwd", "-b", "-c", str(passwords), *self.login],
                check=True,
                capture_output=True,
            )
            passwords.chmod(0o600)
            lines += ["allow_anonymous false", f"password_file {passwords}"]
        config = self.directory / f"mosquitto-{self.port}.conf"
        config.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return config

    def start(self) -> None:
        """Start it and wait until it accepts connections."""
        with (self.directory / f"mosquitto-{self.port}.log").open("ab") as log:
            self._process = subprocess.Popen(
                [MOSQUITTO, "-c", str(self._config())], stdout=log, stderr=log
            )
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"mosquitto exited with {self._process.returncode}")
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), timeout=1.0),
            ):
                return
            time.sleep(0.05)
        raise RuntimeError(f"mosquitto did not listen on {self.port} within {WAIT_S} s")

    def kill(self) -> None:
        """SIGKILL it and wait for it to exit (its retained messages are gone)."""
        if self._process is not None and self._process.poll() is None:
            self._process.send_signal(signal.SIGKILL)
            self._process.wait(timeout=WAIT_S)
        self._process = None


class Listener:
    """A subscriber on its own connection that records every message it gets."""

    def __init__(self, client: aiomqtt.Client) -> None:
        self.client = client
        self.messages: list[tuple[str, bytes, bool]] = []
        self.latest: dict[str, bytes] = {}
        self._changed = asyncio.Event()

    @classmethod
    @contextlib.asynccontextmanager
    async def open(
        cls,
        *topics: str,
        host: str = SHARED_HOST,
        port: int = SHARED_PORT,
        tls: ssl.SSLContext | None = None,
    ) -> AsyncIterator[Listener]:
        """Connect, subscribe to ``topics`` and collect in the background until the block ends."""
        async with aiomqtt.Client(host, port, timeout=WAIT_S, tls_context=tls) as client:
            listener = cls(client)
            for topic in topics:
                await client.subscribe(topic, qos=1)
            task = asyncio.create_task(listener._collect())
            try:
                yield listener
            finally:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    async def _collect(self) -> None:
        async for message in self.client.messages:
            payload = message.payload
            body = payload if isinstance(payload, bytes) else str(payload or "").encode()
            self.messages.append((str(message.topic), body, bool(message.retain)))
            self.latest[str(message.topic)] = body
            self._changed.set()

    async def wait_for(
        self, condition: Callable[[Listener], bool], what: str, timeout: float = WAIT_S
    ) -> None:
        """Wait until ``condition(self)`` holds (``AssertionError`` naming ``what`` at timeout)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while not condition(self):
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise AssertionError(f"timed out waiting for {what}; latest: {self.latest}")
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), remaining)

    async def wait_value(self, topic: str, value: bytes, timeout: float = WAIT_S) -> None:
        """Wait until the latest message on ``topic`` is ``value``."""
        await self.wait_for(lambda s: s.latest.get(topic) == value, f"{topic} = {value!r}", timeout)

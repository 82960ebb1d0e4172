"""``argus edge`` as a child process, and the control plane calls its tests make.

``EdgeProcess`` runs one node like ``ServeProcess`` runs a server: its own
environment, data directory and log file, start / SIGTERM / SIGKILL /
restart. With ``listen`` it serves its own ``/health`` (``ARGUS_EDGE_LISTEN``,
on a port kept across restarts), the only place that shows the node's link
state while its link is cut. ``pending`` reads its durable outbox (SQLite,
read-only) so a test knows which events a node holds at a given moment.

Every wait is bounded (``wait_for``) and fails with the tails of the logs of
the processes it names.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
import subprocess
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol, TypeVar

import httpx
import pytest

from tests.auth_support import server_env
from tests.e2e.conftest import ARGUS
from tests.e2e.serve_support import ServeProcess, free_port

__all__ = [
    "EdgeProcess",
    "Logged",
    "alerts",
    "create_camera",
    "create_line",
    "create_node_key",
    "create_rule",
    "create_zone",
    "describe_node",
    "exit_status",
    "node_state",
    "node_view",
    "set_camera_enabled",
    "stored_events",
    "tails",
    "wait_for",
]

START_TIMEOUT = 120.0
"""Seconds a node may take to answer its /health (model load included) on a loaded machine."""

_T = TypeVar("_T")


class Logged(Protocol):
    """A started child process with a log: ``ServeProcess`` or ``EdgeProcess``."""

    log: Path

    @property
    def process(self) -> subprocess.Popen[bytes]: ...

    def output(self) -> str: ...


def exit_status(process: Logged) -> int | None:
    """The exit status of ``process``, ``None`` while it runs."""
    return process.process.poll()


def tails(processes: Iterable[Logged], chars: int = 4000) -> str:
    """The last ``chars`` of each process's log, headed by its file name."""
    parts = []
    for process in processes:
        text = process.output()[-chars:] if process.log.exists() else "(no log)"
        parts.append(f"----- {process.log.name} (exit {exit_status(process)}) -----\n{text}")
    return "\n".join(parts)


def wait_for(
    condition: Callable[[], _T | None],
    what: str,
    timeout: float,
    *,
    watch: Sequence[Logged] = (),
    describe: Callable[[], str] | None = None,
    interval: float = 0.25,
) -> _T:
    """Poll ``condition`` until it returns a truthy value, and return that value.

    Fails the test after ``timeout`` seconds, or as soon as one of ``watch``
    has exited, with what ``describe`` says of the state then and the tails of
    their logs. Transport errors count as "not yet" (a server may be restarting).
    """
    deadline = time.monotonic() + timeout
    last_error = ""
    while True:
        try:
            value = condition()
        except httpx.TransportError as exc:
            value, last_error = None, f"{type(exc).__name__}: {exc}"
        if value:
            return value
        dead = [p.log.name for p in watch if exit_status(p) is not None]
        if dead or time.monotonic() > deadline:
            why = f"{', '.join(dead)} exited" if dead else f"timed out after {timeout:.0f} s"
            state = _safely(describe) if describe is not None else ""
            pytest.fail(f"{why} waiting for {what} {last_error}\n{state}\n{tails(watch)}")
        time.sleep(interval)


def _safely(describe: Callable[[], str]) -> str:
    try:
        return describe()
    except (httpx.HTTPError, AssertionError, OSError, sqlite3.Error) as exc:
        return f"(cannot describe the state: {exc!r})"


def describe_node(server: ServeProcess, node: EdgeProcess) -> str:
    """The control plane's and the node's own view of ``node``, for failure messages."""
    view = node_view(server, node.node_id) or {}
    report = view.get("last_report") or {}
    health = node.health() or {}
    return (
        f"server view of {node.node_id}: state={view.get('state')} offline={view.get('offline')} "
        f"last_seen_at={view.get('last_seen_at')} last report at={report.get('at')} "
        f"state={report.get('state')}; node /health: state={health.get('state')} "
        f"registered={health.get('registered')} last_error={health.get('last_error')} "
        f"outbox={health.get('outbox')}; pending events={len(node.pending())}"
    )


class EdgeProcess:
    """One ``argus edge`` process, its output appended to ``log``.

    Args:
        node_id: ``ARGUS_EDGE_NODE_ID``.
        data_dir: ``ARGUS_EDGE_DATA_DIR`` (models, ``edge-<node_id>/`` with the outbox).
        log: File collecting stdout and stderr of every run.
        server_urls: Control plane base URLs, in failover order.
        api_key: The node's key (``edge`` permission).
        health_interval_s: Seconds between health reports (the server's setting wins).
        listen: Serve the node's /health on a loopback port (kept across restarts).
        env: More variables (``ARGUS_MEDIA_DIRS``...); the caller's ``ARGUS_*`` are dropped.
    """

    def __init__(
        self,
        node_id: str,
        data_dir: Path,
        log: Path,
        server_urls: Sequence[str],
        api_key: str,
        *,
        health_interval_s: float = 2.0,
        listen: bool = True,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.node_id = node_id
        self.data_dir = data_dir
        self.log = log
        self.health_port = free_port() if listen else None
        clean = {k: v for k, v in os.environ.items() if not k.startswith("ARGUS_")}
        edge = {
            "ARGUS_EDGE_SERVER_URLS": ",".join(server_urls),
            "ARGUS_EDGE_API_KEY": api_key,
            "ARGUS_EDGE_NODE_ID": node_id,
            "ARGUS_EDGE_DATA_DIR": str(data_dir),
            "ARGUS_EDGE_HEALTH_INTERVAL_S": str(health_interval_s),
            # A cut link is noticed within seconds, not after the default 30 s timeout.
            "ARGUS_EDGE_REQUEST_TIMEOUT_S": "10",
        }
        if self.health_port is not None:
            edge["ARGUS_EDGE_LISTEN"] = f"127.0.0.1:{self.health_port}"
        self._env = {**clean, **server_env(), **edge, **(env or {})}
        self._process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def process(self) -> subprocess.Popen[bytes]:
        assert self._process is not None, "not started"
        return self._process

    @property
    def outbox_path(self) -> Path:
        """The node's durable outbox file."""
        return self.data_dir / f"edge-{self.node_id}" / "outbox.db"

    def exit_status(self) -> int | None:
        """The exit status of the current run, ``None`` while it runs (or before a start)."""
        return None if self._process is None else self._process.poll()

    def start(self) -> None:
        """Start the process; with ``listen``, wait until its /health answers."""
        assert self.exit_status() is not None or self._process is None, "already running"
        with self.log.open("ab") as sink:
            sink.write(f"\n===== start {self.starts + 1} of {self.node_id} =====\n".encode())
            sink.flush()
            self._process = subprocess.Popen(
                [ARGUS, "edge"], stdout=sink, stderr=subprocess.STDOUT, env=self._env
            )
        self.starts += 1
        if self.health_port is not None:
            wait_for(self.health, f"{self.node_id}'s /health", START_TIMEOUT, watch=[self])

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, as in a crash or a power cut of the process."""
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
            self._process.wait()

    def stop(self) -> int:
        """SIGTERM and wait for a graceful exit; returns the exit status."""
        if self.exit_status() is not None:
            return self.process.returncode
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.kill()
            pytest.fail(f"argus edge ignored SIGTERM:\n{tails([self])}")

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def health(self) -> dict[str, Any] | None:
        """The node's own /health JSON, or ``None`` when it does not answer (yet)."""
        if self.health_port is None or self.exit_status() is not None:
            return None
        try:
            answer = httpx.get(f"http://127.0.0.1:{self.health_port}/health", timeout=5)
        except httpx.TransportError:
            return None
        if answer.status_code != 200:
            return None
        body: dict[str, Any] = answer.json()
        return body

    def state(self) -> str | None:
        """The node's link state (online, buffering, syncing) from its /health."""
        body = self.health()
        return None if body is None else _state_of(body)

    def pending(self, kinds: tuple[str, ...] = ("event",)) -> list[str]:
        """Ids of the outbox items of ``kinds`` not acknowledged yet, oldest first.

        Read through a read-only connection while the node runs (WAL readers do
        not block its writer).
        """
        if not self.outbox_path.exists():
            return []
        marks = ",".join("?" * len(kinds))
        with _read_only(self.outbox_path) as conn:
            rows = conn.execute(
                f"SELECT id FROM outbox WHERE kind IN ({marks}) ORDER BY seq",
                kinds,
            ).fetchall()
        return [str(row[0]) for row in rows]

    def quarantined(self) -> list[tuple[str, str]]:
        """(id, reason) of every item the server rejected."""
        if not self.outbox_path.exists():
            return []
        with _read_only(self.outbox_path) as conn:
            rows = conn.execute("SELECT id, reason FROM quarantine ORDER BY seq").fetchall()
        return [(str(a), str(b)) for a, b in rows]


def _read_only(path: Path) -> contextlib.closing[sqlite3.Connection]:
    return contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10))


def _state_of(body: Mapping[str, Any]) -> str | None:
    """The link state in a node's /health body (flat, or the NodeHealth under ``report``)."""
    for key in ("state", "link_state"):
        if isinstance(body.get(key), str):
            return str(body[key])
    for key in ("report", "health", "node"):
        inner = body.get(key)
        if isinstance(inner, Mapping) and isinstance(inner.get("state"), str):
            return str(inner["state"])
    return None


# --- the control plane's API -----------------------------------------------------------------


def _call(server: ServeProcess, method: str, path: str, expect: int, **kwargs: Any) -> Any:
    answer = httpx.request(
        method, f"{server.base}/api/v1{path}", headers=server.headers, timeout=30, **kwargs
    )
    assert answer.status_code == expect, f"{method} {path}: {answer.status_code} {answer.text}"
    return answer.json() if answer.content else None


def create_node_key(server: ServeProcess, name: str) -> str:
    """A new API key with the ``edge`` permission (as the admin); the secret, shown once."""
    body = {"name": name, "permissions": ["edge"]}
    return str(_call(server, "POST", "/api-keys", 201, json=body)["key"])


def create_camera(
    server: ServeProcess, name: str, stream_url: str, node_id: str, detect_fps: float
) -> str:
    """Register a camera assigned to edge node ``node_id``; its id."""
    body = {
        "name": name,
        "stream_url": stream_url,
        "edge_node_id": node_id,
        "detect_fps": detect_fps,
    }
    return str(_call(server, "POST", "/cameras", 201, json=body)["id"])


def set_camera_enabled(server: ServeProcess, camera_id: str, enabled: bool) -> None:
    """Start or stop a camera's pipeline (on whichever node runs it)."""
    _call(server, "PATCH", f"/cameras/{camera_id}", 200, json={"enabled": enabled})


def create_line(
    server: ServeProcess,
    camera_id: str,
    name: str,
    start: tuple[float, float],
    end: tuple[float, float],
) -> str:
    """Add a counting line (``min_crossing_frames`` 2); its id."""
    body = {"name": name, "start": list(start), "end": list(end), "min_crossing_frames": 2}
    return str(_call(server, "POST", f"/cameras/{camera_id}/lines", 201, json=body)["id"])


def create_zone(
    server: ServeProcess, camera_id: str, name: str, polygon: Sequence[tuple[float, float]]
) -> str:
    """Add a zone; its id."""
    body = {"name": name, "polygon": [list(p) for p in polygon]}
    return str(_call(server, "POST", f"/cameras/{camera_id}/zones", 201, json=body)["id"])


def create_rule(
    server: ServeProcess, name: str, event_types: Sequence[str], **conditions: Any
) -> str:
    """Add an alert rule for ``event_types`` (no cooldown unless given); its id."""
    body = {"name": name, "event_types": list(event_types), **conditions}
    return str(_call(server, "POST", "/rules", 201, json=body)["id"])


def node_view(server: ServeProcess, node_id: str) -> dict[str, Any] | None:
    """``GET /api/v1/nodes/{node_id}``; ``None`` while the node is unknown."""
    answer = httpx.get(f"{server.base}/api/v1/nodes/{node_id}", headers=server.headers, timeout=30)
    if answer.status_code == 404:
        return None
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def node_state(server: ServeProcess, node_id: str) -> str | None:
    """The control plane's view of a node: ``offline`` when it marked it so, else its state."""
    view = node_view(server, node_id)
    if view is None:
        return None
    if view.get("offline") is True:
        return "offline"
    return _state_of(view) or _state_of(view.get("last_report") or {})


def alerts(server: ServeProcess, **filters: str) -> list[dict[str, Any]]:
    """Every alert matching ``filters`` (camera_id, rule_id, state...), newest first."""
    found: list[dict[str, Any]] = []
    while True:
        params = {**filters, "limit": "200", "offset": str(len(found))}
        page = _call(server, "GET", "/alerts", 200, params=params)
        found += page["items"]
        if not page["items"] or len(found) >= page["total"]:
            return found


def stored_events(server: ServeProcess, camera_id: str) -> list[dict[str, Any]]:
    """Every stored event of ``camera_id`` (all pages, repeats kept so they can be counted)."""
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        params = {"camera_id": camera_id, "limit": "1000"}
        if cursor is not None:
            params["cursor"] = cursor
        body = _call(server, "GET", "/events", 200, params=params)
        items += body["items"]
        cursor = body["next_cursor"]
        if cursor is None:
            return items

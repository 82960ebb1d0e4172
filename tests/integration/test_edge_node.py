"""An edge node assembled in-process against a real control plane (``argus serve``).

The control plane runs as a child process (so the test can stop and restart
it on the same port and database); the node runs in a thread with its own
event loop, as ``argus edge`` would, with a real file camera (bikes.mp4,
played in real time and looped) and the real detector. The node registers,
receives its camera, and its events reach the control plane exactly once
across a control-plane outage (it buffers, then syncs) and a node restart
while the control plane is down (it runs its cached configuration).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from argus.adapters.edge.http_link import HttpEdgeLink
from argus.bootstrap.edge_node import run_edge_node
from argus.bootstrap.edge_node_parts import EdgeNode, NodeLink
from argus.config import Settings
from argus.config.edge import EdgeSettings
from argus.domain.edge import SyncBatch, SyncReply
from argus.domain.event_types import EVENT_TYPES
from tests.auth_support import TEST_DENY_NETWORKS
from tests.e2e.edge_support import (
    create_camera,
    create_line,
    create_node_key,
    create_rule,
    create_zone,
    set_camera_enabled,
    stored_events,
    wait_for,
)
from tests.e2e.serve_support import ServeProcess

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(600)]

NODE = "node-it"
WAIT = 120.0
"""Seconds a state may take on a loaded machine (model build, video, a server start)."""

T = TypeVar("T")


class RecordingLink(HttpEdgeLink):
    """The real HTTP link, noting which items the control plane acknowledged."""

    acknowledged: dict[str, str]  # item id -> kind, shared by every run of the node

    async def sync(self, batch: SyncBatch) -> SyncReply:
        reply = await super().sync(batch)
        kinds = {item.id: item.kind for item in batch.items}
        for result in reply.results:
            if result.status in ("stored", "duplicate") and result.id in kinds:
                self.acknowledged[result.id] = kinds[result.id]
        return reply


class NodeThread:
    """One run of the node: ``run_edge_node`` on its own loop in a thread."""

    def __init__(
        self, settings: Settings, edge: EdgeSettings, acknowledged: dict[str, str]
    ) -> None:
        self._settings, self._edge = settings, edge
        self._acknowledged = acknowledged
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self.node: EdgeNode | None = None
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._main, name="edge-node", daemon=True)

    def _main(self) -> None:
        try:
            asyncio.run(self._run())
        except BaseException as exc:  # noqa: BLE001 - reported by the test's thread
            self.error = exc

    async def _run(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        api_key = self._edge.api_key.get_secret_value() if self._edge.api_key else ""
        link = RecordingLink(self._edge.server_url_list, api_key, timeout_s=5.0)
        link.acknowledged = self._acknowledged

        def started(node: EdgeNode) -> None:
            self.node = node

        await run_edge_node(self._settings, self._edge, stop=self._stop, link=link, started=started)

    def start(self) -> EdgeNode:
        self._thread.start()
        wait_for(lambda: self._alive() and self.node, "the node to start", WAIT)
        assert self.node is not None
        return self.node

    def _alive(self) -> bool:
        if self.error is not None:
            raise AssertionError(f"the node failed: {self.error!r}") from self.error
        return True

    def call(self, work: Callable[[EdgeNode], T]) -> T:
        """Run ``work`` on the node's loop (its state is the loop's) and return its result."""
        assert self._loop is not None
        assert self.node is not None
        node = self.node

        async def run() -> T:
            return work(node)

        return asyncio.run_coroutine_threadsafe(run(), self._loop).result(timeout=30)

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout=60)
        assert not self._thread.is_alive(), "the node did not stop"
        if self.error is not None:
            raise AssertionError(f"the node failed: {self.error!r}") from self.error


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServeProcess]:
    process = ServeProcess(
        tmp_path / "server",
        tmp_path / "server.log",
        env={"ARGUS_EDGE_HEALTH_INTERVAL_S": "2", "ARGUS_DEV_MODE": "1"},
    )
    process.start()
    try:
        yield process
    finally:
        process.kill()


def _pending(node: EdgeNode, kind: str = "event") -> int:
    return sum(1 for s in node.outbox.peek(10_000, 1 << 40) if s.item.kind == kind)


def _status(port: int | None) -> dict[str, Any]:
    """The node's own ``/health``."""
    answer = httpx.get(f"http://127.0.0.1:{port}/health", timeout=10)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def _metrics(port: int | None) -> str:
    """The node's own ``/metrics``."""
    answer = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10)
    assert answer.status_code == 200, answer.text
    return answer.text


def _alert_evidence(server: ServeProcess, camera_id: str) -> set[str]:
    """Kinds of the camera's evidence stored for an alert (the node's snapshot and clip)."""
    answer = httpx.get(
        f"{server.base}/api/v1/evidence",
        params={"camera_id": camera_id, "limit": "200"},
        headers=server.headers,
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    items = answer.json()["items"]
    return {str(item["kind"]) for item in items if item["alert_id"] and not item["tampered"]}


def _state(node: EdgeNode) -> str:
    return NodeLink(node.syncer).state


def _outbox_items(node: EdgeNode) -> int:
    return node.outbox.stats(node.started_at).items


def _camera_enabled(camera_id: str) -> Callable[[EdgeNode], object]:
    def enabled(node: EdgeNode) -> object:
        entry = node.keeper.camera(camera_id)
        return None if entry is None else entry.camera.get("enabled")

    return enabled


def _sent_by_node(event: dict[str, Any]) -> bool:
    """Whether the node made the event (not derived by the server from its health)."""
    kind = EVENT_TYPES.get(str(event["type"]))
    return kind is None or kind.origin != "health"


def test_a_node_runs_its_camera_buffers_through_outages_and_syncs_exactly_once(
    server: ServeProcess, tmp_path: Path, bikes_mp4: Path
) -> None:
    key = create_node_key(server, NODE)
    camera_id = create_camera(server, "kerb", str(bikes_mp4), NODE, 5.0)
    create_line(server, camera_id, "kerb", (320.0, 272.0), (320.0, 0.0))
    create_zone(server, camera_id, "street", [(0, 120), (640, 120), (640, 272), (0, 272)])
    create_rule(server, "zone activity", ["zone.entered"])

    settings = Settings(
        data_dir=tmp_path / "node", camera_deny_networks=TEST_DENY_NETWORKS, dev_mode=True
    )
    edge = EdgeSettings(
        server_urls=server.base,
        api_key=key,
        node_id=NODE,
        health_interval_s=2.0,
        config_wait_s=2.0,
        request_timeout_s=5.0,
        listen="127.0.0.1:0",
    )
    acknowledged: dict[str, str] = {}

    # 1. The node registers, gets its camera, and its events and evidence arrive.
    run = NodeThread(settings, edge, acknowledged)
    run.start()
    try:
        wait_for(lambda: run.call(lambda n: n.keeper.cameras) == [camera_id], "its camera", WAIT)
        wait_for(lambda: len(stored_events(server, camera_id)) >= 3, "stored events", WAIT)
        wait_for(lambda: "evidence" in acknowledged.values(), "evidence of an event", WAIT)
        kinds = wait_for(lambda: _alert_evidence(server, camera_id), "an alert's evidence", WAIT)
        assert kinds >= {"snapshot", "clip"}

        # 2. The control plane goes away: the node keeps analysing into its outbox.
        assert server.stop() == 0
        wait_for(lambda: run.call(_state) == "buffering", "the node buffering", WAIT)
        wait_for(lambda: run.call(_pending) >= 3, "events buffered", WAIT)
        status = _status(run.call(lambda n: n.status_port))
        assert status["state"] == "buffering"
        assert status["outbox"]["items"] >= 3
        assert [c["camera_id"] for c in status["cameras"]] == [camera_id]
        node_metrics = _metrics(run.call(lambda n: n.status_port))
        assert 'argus_edge_state{state="buffering"} 1.0' in node_metrics
        # Its camera detects through the node's shared inference scheduler.
        assert f'argus_edge_camera_target_fps{{camera="{camera_id}"}} 5.0' in node_metrics

        # 3. It comes back: the node syncs its backlog.
        server.start()
        wait_for(lambda: run.call(_state) == "online", "the node online again", WAIT)
    finally:
        run.stop()

    # 4. The node restarts while the control plane is down: it runs its cached config.
    assert server.stop() == 0
    run = NodeThread(settings, edge, acknowledged)
    run.start()
    try:
        assert run.call(lambda n: n.keeper.cameras) == [camera_id]
        assert run.call(lambda n: n.registrar.key) is not None
        wait_for(lambda: run.call(_pending) >= 3, "events buffered after a restart", WAIT)

        # 5. The control plane returns; the camera is stopped; everything drains.
        server.start()
        set_camera_enabled(server, camera_id, False)
        wait_for(lambda: run.call(_camera_enabled(camera_id)) is False, "camera off", WAIT)
        wait_for(lambda: run.call(_outbox_items) == 0, "a drained outbox", WAIT)
        quarantined = run.call(lambda n: n.outbox.stats(n.started_at).quarantined)
    finally:
        run.stop()

    stored = [e["event_id"] for e in stored_events(server, camera_id) if _sent_by_node(e)]
    sent = {item_id for item_id, kind in acknowledged.items() if kind == "event"}
    assert quarantined == 0
    assert len(stored) == len(set(stored)), "an event was stored twice"
    assert set(stored) == sent, "the stored events differ from those the node sent"
    assert len(stored) >= 6

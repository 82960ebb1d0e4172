"""Steps of the edge node scenarios (``test_edge_nodes``): processes, cuts, drains, checks."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tests.e2e.edge_checks import analytic_events, duplicate_keys, split_runs
from tests.e2e.edge_media import SQUARE_LINES, SQUARE_ZONE
from tests.e2e.edge_support import (
    EdgeProcess,
    Logged,
    alerts,
    create_camera,
    create_line,
    create_zone,
    describe_node,
    node_state,
    set_camera_enabled,
    stored_events,
    wait_for,
)
from tests.e2e.serve_support import ServeProcess
from tests.servers.tcp_relay import TcpRelay

__all__ = [
    "INTERVAL_S",
    "WAIT_S",
    "Running",
    "analytic_count",
    "check_stored",
    "cut_link",
    "drain",
    "make_node",
    "online",
    "open_alert",
    "restore_link",
    "square_camera",
    "stream_seconds",
]

INTERVAL_S = 2.0
"""Health interval of the nodes: offline after three missed reports, about 6 s."""
WAIT_S = 90.0
"""Bound of each wait for a state on a loaded 2-core machine."""


def home(root: Path, models: Path) -> Path:
    """``root`` made, with the built model packs linked in as ``models/`` (no rebuild)."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "models").symlink_to(models, target_is_directory=True)
    return root


class Running:
    """The processes of one test: every one is killed at the end, the relay closed."""

    def __init__(self) -> None:
        self.processes: list[ServeProcess | EdgeProcess] = []
        self.relays: list[TcpRelay] = []

    def server(self, root: Path, models: Path, env: dict[str, str]) -> ServeProcess:
        server = ServeProcess(home(root, models), root.with_suffix(".log"), env)
        self.processes.append(server)
        server.start()
        return server

    def node(self, node: EdgeProcess) -> EdgeProcess:
        self.processes.append(node)
        node.start()
        return node

    def close(self) -> None:
        for relay in self.relays:
            relay.close()
        for process in reversed(self.processes):
            process.kill()


def make_node(
    tmp_path: Path, node_id: str, *, models: Path, media: Path, url: str, key: str
) -> EdgeProcess:
    """An ``EdgeProcess`` (not started) talking to ``url``, with its /health on loopback."""
    return EdgeProcess(
        node_id,
        home(tmp_path / node_id, models),
        tmp_path / f"{node_id}.log",
        [url],
        key,
        health_interval_s=INTERVAL_S,
        # One inference thread per node: two nodes share two cores, and ONNX Runtime's
        # spinning thread pools slow each other down when oversubscribed.
        env={"ARGUS_MEDIA_DIRS": str(media), "ARGUS_INTRA_OP_THREADS": "1"},
    )


def square_camera(server: ServeProcess, name: str, clip: Path, node_id: str, fps: float) -> str:
    """A file camera of ``node_id`` with the square's lines and zone; its id."""
    camera = create_camera(server, name, str(clip), node_id, fps)
    for line, (start, end) in SQUARE_LINES.items():
        create_line(server, camera, line, start, end)
    create_zone(server, camera, "square", SQUARE_ZONE)
    return camera


def stream_seconds(server: ServeProcess, camera: str, seconds: float, *, run: int = 1) -> bool:
    """Whether run ``run`` of ``camera`` has stored events ``seconds`` into its stream."""
    runs = split_runs(analytic_events(stored_events(server, camera)))
    return len(runs) >= run and runs[run - 1][-1][1] >= seconds


def analytic_count(server: ServeProcess, camera: str) -> int:
    """Line and zone events of ``camera`` stored so far."""
    return len(analytic_events(stored_events(server, camera)))


def open_alert(server: ServeProcess, rule: str, camera: str) -> dict[str, object] | None:
    """An alert of ``rule`` for ``camera`` (``node:<id>`` for a node) not cleared yet."""
    found = [a for a in alerts(server, rule_id=rule, camera_id=camera) if a["state"] != "cleared"]
    return found[0] if found else None


def cut_link(
    server: ServeProcess,
    relay: TcpRelay,
    node: EdgeProcess,
    offline_rule: str,
    watch: Sequence[Logged],
) -> list[str]:
    """Stop the relay; wait for buffering, the offline mark and alert, and buffered events.

    Returns:
        The ids of the events the node holds in its outbox at the end.
    """
    relay.stop()
    describe = functools.partial(describe_node, server, node)
    wait_for(
        lambda: node.state() == "buffering", "buffering", WAIT_S, watch=watch, describe=describe
    )
    node_cam = f"node:{node.node_id}"
    wait_for(
        lambda: node_state(server, node.node_id) == "offline",
        "offline mark",
        WAIT_S,
        watch=watch,
        describe=describe,
    )
    wait_for(
        lambda: open_alert(server, offline_rule, node_cam),
        "node.offline alert",
        WAIT_S,
        watch=watch,
        describe=describe,
    )

    def buffered() -> list[str] | None:
        pending = node.pending()
        return pending if len(pending) >= 3 else None

    return wait_for(buffered, "three buffered events", WAIT_S, watch=watch, describe=describe)


def restore_link(
    server: ServeProcess,
    relay: TcpRelay,
    node: EdgeProcess,
    offline_rule: str,
    watch: Sequence[Logged],
) -> None:
    """Start the relay again; wait for the node online and its offline alert cleared."""
    relay.start()
    describe = functools.partial(describe_node, server, node)
    wait_for(
        lambda: node.state() == "online",
        "node online again",
        WAIT_S,
        watch=watch,
        describe=describe,
    )
    wait_for(
        lambda: node_state(server, node.node_id) == "online",
        "server sees it online",
        WAIT_S,
        watch=watch,
        describe=describe,
    )
    node_cam = f"node:{node.node_id}"
    cleared = wait_for(
        lambda: [
            a
            for a in alerts(server, rule_id=offline_rule, camera_id=node_cam)
            if a["state"] == "cleared"
        ],
        "node.offline alert cleared",
        WAIT_S,
        watch=watch,
        describe=describe,
    )
    assert open_alert(server, offline_rule, node_cam) is None, cleared


def drain(
    server: ServeProcess, cameras: list[str], nodes: list[EdgeProcess], watch: Sequence[Logged]
) -> None:
    """Disable ``cameras``, wait until no pipeline of ``nodes`` runs and every outbox is empty."""
    for camera in cameras:
        set_camera_enabled(server, camera, False)
    for node in nodes:
        wait_for(
            functools.partial(_stopped, node, cameras),
            f"{node.node_id}'s pipelines stopped",
            WAIT_S,
            watch=watch,
        )
        wait_for(
            functools.partial(_drained, node),
            f"{node.node_id}'s outbox drained",
            WAIT_S,
            watch=watch,
            describe=functools.partial(describe_node, server, node),
        )
        assert node.quarantined() == [], node.quarantined()


def _stopped(node: EdgeProcess, cameras: list[str]) -> bool:
    """Whether none of ``cameras`` runs on ``node`` (disabled, or gone from its /health)."""
    health = node.health()
    if health is None:
        return False
    running = [c for c in health.get("cameras", []) if c.get("camera_id") in cameras]
    return all(c.get("state") == "disabled" for c in running)


def _drained(node: EdgeProcess) -> bool:
    """Whether no event and no evidence waits in the node's outbox."""
    return node.pending(("event", "evidence")) == []


def online(server: ServeProcess, node_id: str) -> bool:
    """Whether the control plane sees ``node_id`` online."""
    return node_state(server, node_id) == "online"


def check_stored(server: ServeProcess, camera: str, held: list[str]) -> list[dict[str, Any]]:
    """Exactly once: unique ids, nothing the node held lost, no event under two ids."""
    events = stored_events(server, camera)
    ids = [str(e["event_id"]) for e in events]
    assert len(ids) == len(set(ids)), "an event id was stored twice"
    lost = set(held) - set(ids)
    assert not lost, f"{len(lost)} of {len(held)} events held in the outbox were never stored"
    assert duplicate_keys(events) == [], "one event stored twice under two ids"
    return events

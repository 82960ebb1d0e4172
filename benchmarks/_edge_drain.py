"""The drain half of ``benchmarks.edge_outbox``: a backlog sent to a control plane.

``drain(count)`` starts ``argus``'s app on uvicorn in a child process on
loopback (SQLite store, in-process bus: the single-box default), enrols a node
through the API as an operator would (cameras assigned to it, an API key with
the ``edge`` permission), fills a fresh ``SqliteOutbox`` with ``count``
line crossings of its cameras (the outage), and times ``EdgeSyncer`` sending
them through ``HttpEdgeLink`` to ``POST /api/v1/edge/sync`` until the last is
acknowledged. The reference is ``events.add_many`` of the same events in
batches of the same size into a fresh SQLite store of the same kind.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from benchmarks._auth import SERVER_ENV, sign_in
from benchmarks._common import REPO_ROOT, progress
from benchmarks.api_load import _free_port, _wait_ready

if TYPE_CHECKING:
    import httpx

    from argus.domain.edge import OutboxItem
    from argus.domain.events import Envelope

__all__ = ["BATCH", "NODE", "T0", "DrainRun", "drain", "envelopes", "items"]

NODE = "bench-node"
CAMERAS = 3
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
BATCH = 200
"""Items per sync batch: ``ARGUS_EDGE_SYNC_BATCH_ITEMS``'s default."""


@dataclass(frozen=True, slots=True)
class DrainRun:
    """One drained backlog.

    Attributes:
        events: Events in the backlog.
        seconds: First batch sent to last acknowledgement.
        reference_seconds: ``add_many`` of the same events, same batch size.
        acknowledged: Items the control plane stored (or already had).
        quarantined: Items it rejected (should be none).
    """

    events: int
    seconds: float
    reference_seconds: float
    acknowledged: int
    quarantined: int

    @property
    def rate(self) -> float:
        """Events drained per second."""
        return self.events / self.seconds if self.seconds > 0 else 0.0

    @property
    def reference_rate(self) -> float:
        """Events per second of the plain batched insert."""
        return self.events / self.reference_seconds if self.reference_seconds > 0 else 0.0


def envelopes(count: int, cameras: Sequence[str]) -> list[Envelope]:
    """``count`` line crossings of this node's cameras, 0.1 s apart."""
    from argus.domain.events import Envelope, EventSource, LineCrossed

    made = []
    for n in range(count):
        event = LineCrossed(
            line="gate",
            track_id=n % 97,
            class_id=0,
            class_name="person",
            direction="in" if n % 2 else "out",
            timestamp=n / 10,
            confidence=0.875,
        )
        source = EventSource(NODE, cameras[n % len(cameras)])
        made.append(Envelope.wrap(event, source, T0 + timedelta(seconds=n / 10)))
    return made


def items(made: Sequence[Envelope]) -> list[OutboxItem]:
    """The outbox items carrying ``made``."""
    from argus.domain.edge import OutboxItem

    return [OutboxItem.of_event(envelope) for envelope in made]


async def _enrol(client: httpx.AsyncClient) -> tuple[str, list[str]]:
    """An ``edge`` API key and this node's cameras, made through the API as an operator would."""
    headers = await sign_in(client)
    cameras = []
    for n in range(CAMERAS):
        answer = await client.post(
            "/api/v1/cameras",
            headers=headers,
            json={
                "name": f"bench gate {n}",
                "stream_url": f"rtsp://cam{n}.example/stream",
                "edge_node_id": NODE,
            },
        )
        answer.raise_for_status()
        cameras.append(str(answer.json()["id"]))
    answer = await client.post(
        "/api/v1/api-keys", headers=headers, json={"name": NODE, "permissions": ["edge"]}
    )
    answer.raise_for_status()
    return str(answer.json()["key"]), cameras


async def _reference_seconds(directory: Path, made: Sequence[Envelope]) -> float:
    from argus.adapters.db.sql import SqlDatabase

    database = await SqlDatabase.open(
        f"sqlite:///{directory / 'reference.db'}", secret_key=os.urandom(32)
    )
    try:
        started = time.perf_counter()
        for start in range(0, len(made), BATCH):
            await database.events.add_many(made[start : start + BATCH])
        return time.perf_counter() - started
    finally:
        await database.close()


async def _drain_once(base_url: str, count: int, directory: Path) -> DrainRun:
    import httpx

    from argus import __version__
    from argus.adapters.edge.http_link import HttpEdgeLink
    from argus.adapters.edge.outbox_sqlite import SqliteOutbox
    from argus.domain.edge import NodeRegistration
    from argus.services.edge_sync import EdgeSyncer

    async with httpx.AsyncClient(base_url=base_url, timeout=60) as client:
        key, cameras = await _enrol(client)
    made = envelopes(count, cameras)
    outbox = SqliteOutbox(directory / "outbox.db")
    for start in range(0, count, 500):
        outbox.append(items(made[start : start + 500]), at=T0)
    link = HttpEdgeLink([base_url], key, timeout_s=120.0)
    try:
        await link.register(NodeRegistration(NODE, __version__, (), ()))
        syncer = EdgeSyncer(outbox, link, NODE, batch_items=BATCH)
        progress(f"edge_outbox: draining {count} events through POST /api/v1/edge/sync")
        started = time.perf_counter()
        while (await syncer.send_batch()).sent:
            pass
        seconds = time.perf_counter() - started
        stats = outbox.stats(T0)
    finally:
        await link.close()
        outbox.close()
    progress(f"edge_outbox: the reference, add_many of {count} events in batches of {BATCH}")
    reference = await _reference_seconds(directory, made)
    return DrainRun(count, seconds, reference, syncer.sent_items, stats.quarantined)


def drain(count: int) -> DrainRun:
    """Drain a backlog of ``count`` events into a control plane in a child process."""
    port = _free_port()
    with tempfile.TemporaryDirectory(prefix="argus-bench-edge-") as tmp:
        directory = Path(tmp)
        (directory / "plane").mkdir()
        command = [
            sys.executable,
            "-c",
            "import sys; from benchmarks.api_load import serve; "
            "serve(int(sys.argv[1]), sys.argv[2])",
            str(port),
            str(directory / "plane"),
        ]
        env = {k: v for k, v in os.environ.items() if not k.startswith("ARGUS_")}
        env.update(SERVER_ENV)
        server = subprocess.Popen(command, cwd=REPO_ROOT, env=env)
        try:
            return asyncio.run(
                _serve_and_drain(f"http://127.0.0.1:{port}", server, count, directory)
            )
        finally:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


async def _serve_and_drain(
    base_url: str, server: subprocess.Popen[bytes], count: int, directory: Path
) -> DrainRun:
    import httpx

    async with httpx.AsyncClient(base_url=base_url, timeout=10) as client:
        await _wait_ready(client, server)
    return await _drain_once(base_url, count, directory)

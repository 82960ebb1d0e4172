"""``argus edge``: an edge node, assembled and run until SIGTERM or SIGINT.

The node runs its cameras' pipelines itself and talks to its control plane
over HTTP(S) only (``HttpEdgeLink``). Its parts, in the order they start
(``Lifecycle``; they stop in reverse):

1. the durable outbox (SQLite, WAL) in ``<data_dir>/edge-<node_id>/outbox.db``;
2. the link to the control plane (``ARGUS_EDGE_SERVER_URLS``, failover in order);
3. the camera pipelines (``edge_pipelines`` with a ``sink``: every event is
   written to the outbox in its video thread, then the syncer is woken and
   the node's evidence is told);
4. the cached registration and configuration (sealed files next to the
   outbox): with them the node runs its cameras at once, control plane or not;
5. evidence (``NodeEvidence``), health reports (``HealthReporter``);
6. registration, retried in the background until it succeeds; once the node
   is known to the server (a cached registration counts) the syncer and the
   configuration long poll start;
7. the node's own status endpoint (``ARGUS_EDGE_LISTEN``), when set.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
from collections.abc import Awaitable, Callable
from datetime import datetime

from argus import __version__
from argus.adapters.bus.memory import MemoryEventBus
from argus.adapters.crypto.seal import evidence_aad, seal
from argus.adapters.edge.http_link import HttpEdgeLink
from argus.adapters.edge.outbox_sqlite import SqliteOutbox
from argus.adapters.edge.sealed_file import SealedFile
from argus.adapters.edge.system import system_probe
from argus.adapters.pipelines import EdgePipelines
from argus.bootstrap.container import build_container
from argus.bootstrap.edge_node_parts import (
    CAPABILITIES,
    EdgeNode,
    NodeLink,
    discarding,
    models_of,
    node_settings,
    now,
    open_pipelines,
    opened,
    versions,
)
from argus.bootstrap.lifecycle import Lifecycle, Step
from argus.config import Settings
from argus.config.edge import EdgeSettings
from argus.domain.edge import NodeRegistration, OutboxItem, RegistrationReply
from argus.domain.events import Envelope
from argus.ports.edge_link import EdgeLink
from argus.services.edge_config import ConfigKeeper
from argus.services.edge_evidence import NodeEvidence
from argus.services.edge_health import HealthReporter
from argus.services.edge_registration import Registrar
from argus.services.edge_sync import EdgeSyncer

__all__ = ["EdgeNode", "assemble", "node_settings", "run_edge_node"]

log = logging.getLogger(__name__)


async def assemble(
    lifecycle: Lifecycle,
    settings: Settings,
    edge: EdgeSettings,
    *,
    link: EdgeLink | None = None,
    clock: Callable[[], datetime] = now,
) -> EdgeNode:
    """Open and declare a node's parts in ``lifecycle`` (``lifecycle.start()`` runs them).

    Args:
        lifecycle: Where the parts are opened and declared.
        settings: The node's ``Settings`` (``node_settings``: its data dir and id).
        edge: The node's ``EdgeSettings`` (``require()`` checked).
        link: A link to use instead of the HTTP one (tests, benchmarks).
        clock: The node's clock.
    """
    edge.require()
    api_key = edge.api_key.get_secret_value() if edge.api_key is not None else ""
    state_dir = edge.state_dir(settings.data_dir)
    state_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    container = build_container(settings)

    outbox = await lifecycle.open(
        "outbox",
        opened(SqliteOutbox(state_dir / "outbox.db", max_bytes=edge.outbox_max_bytes)),
        SqliteOutbox.close,
    )
    if link is None:
        link = HttpEdgeLink(
            edge.server_url_list,
            api_key,
            verify_tls=edge.verify_tls,
            ca_file=edge.ca_file,
            timeout_s=edge.request_timeout_s,
        )
    the_link: EdgeLink = link
    await lifecycle.open("link", opened(the_link), lambda _: the_link.close())

    syncer = EdgeSyncer(
        outbox,
        the_link,
        edge.node_id,
        batch_items=edge.sync_batch_items,
        batch_bytes=edge.sync_batch_bytes,
        clock=clock,
        on_state=lambda old, new: log.info("link state: %s -> %s", old, new),
    )
    evidence_box: list[NodeEvidence] = []

    def sink(camera_id: str, envelopes: tuple[Envelope, ...]) -> None:
        # In the camera's video thread: the events are on disk before the next frame.
        outbox.append([OutboxItem.of_event(e) for e in envelopes], at=clock())
        syncer.wake()
        if evidence_box:
            evidence_box[0].notify(camera_id, envelopes)

    bus = await lifecycle.open("bus", opened(MemoryEventBus()), MemoryEventBus.close)
    pipelines = await lifecycle.open(
        "pipelines", open_pipelines(settings, container, bus, sink), EdgePipelines.close
    )
    caches = {
        purpose: SealedFile(
            state_dir / f"{purpose}.sealed", api_key, purpose=purpose, node_id=edge.node_id
        )
        for purpose in ("config", "registration")
    }
    keeper = ConfigKeeper(
        the_link, pipelines, caches["config"], node_id=edge.node_id, wait_s=edge.config_wait_s
    )

    def registered(_: RegistrationReply) -> None:
        if not syncer.running:
            syncer.start()
        keeper.start()

    registration = NodeRegistration(
        node_id=edge.node_id,
        version=__version__,
        models=models_of(container),
        capabilities=CAPABILITIES,
        hostname=socket.gethostname()[:255],
    )
    registrar = Registrar(the_link, caches["registration"], registration, on_registered=registered)

    def evidence_types(camera_id: str) -> tuple[str, ...]:
        entry = keeper.camera(camera_id)
        return () if entry is None else entry.evidence_types

    def rolls() -> tuple[float, float]:
        config = keeper.config
        if config is None:
            return settings.evidence_pre_roll_s, settings.evidence_post_roll_s
        return config.pre_roll_s, config.post_roll_s

    evidence = NodeEvidence(
        node_id=edge.node_id,
        source=pipelines,
        outbox=outbox,
        evidence_types=evidence_types,
        rolls=rolls,
        key=lambda: registrar.key,
        seal=seal,
        aad=evidence_aad,
        wake=syncer.wake,
        clock=clock,
        concurrency=edge.evidence_captures,
        queue_size=edge.evidence_queue,
    )
    evidence_box.append(evidence)
    node: EdgeNode
    reporter = HealthReporter(
        node_id=edge.node_id,
        outbox=outbox,
        pipelines=pipelines,
        link=NodeLink(syncer),
        probe=system_probe(settings.data_dir),
        versions=versions(),
        interval=lambda: node.health_interval(edge.health_interval_s),
        clock=clock,
    )
    node = EdgeNode(
        edge.node_id,
        state_dir,
        outbox,
        the_link,
        pipelines,
        syncer,
        keeper,
        registrar,
        evidence,
        reporter,
    )
    lifecycle.add(
        Step("syncer", stop=syncer.stop),
        Step("configuration", start=discarding(keeper.load_cached), stop=keeper.stop),
        Step("registration cache", start=discarding(registrar.load_cached)),
        Step("evidence", start=evidence.start, stop=evidence.stop),
        Step("health", start=reporter.start, stop=reporter.stop),
        Step("registration", start=registrar.start, stop=registrar.stop),
    )
    if edge.listen_address is not None:
        from argus.bootstrap.edge_status import StatusServer

        host, port = edge.listen_address
        status = StatusServer(node, host, port)

        async def serve_status() -> None:
            await status.start()
            node.status_port = status.port

        lifecycle.add(Step("status endpoint", start=serve_status, stop=status.stop))
    return node


async def run_edge_node(
    settings: Settings,
    edge: EdgeSettings,
    *,
    stop: asyncio.Event | None = None,
    link: EdgeLink | None = None,
    started: Callable[[EdgeNode], Awaitable[None] | None] | None = None,
) -> None:
    """Run an edge node until ``stop`` is set, or SIGTERM / SIGINT (see the module docstring).

    Args:
        settings: The ``ARGUS_*`` settings (models, inference, sources).
        edge: The ``ARGUS_EDGE_*`` settings.
        stop: Ends the node when set (a new one, set by the signals, when ``None``).
        link: A link to use instead of the HTTP one.
        started: Called with the node once every part has started.

    Raises:
        ConfigError: No server URL or API key, or another invalid setting.
        StorageError: The outbox cannot be opened.
    """
    settings = node_settings(settings, edge)
    stopping = stop if stop is not None else asyncio.Event()
    loop = asyncio.get_running_loop()
    handled: list[signal.Signals] = []
    if stop is None:
        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(sig, stopping.set)
                handled.append(sig)
    try:
        async with Lifecycle() as lifecycle:
            node = await assemble(lifecycle, settings, edge, link=link)
            await lifecycle.start()
            log.info(
                "edge node %s running %d camera(s); outbox %s",
                node.node_id,
                len(node.keeper.cameras),
                node.state_dir / "outbox.db",
            )
            if started is not None:
                outcome = started(node)
                if outcome is not None:
                    await outcome
            await stopping.wait()
            log.info("edge node %s stopping", node.node_id)
    finally:
        for sig in handled:
            loop.remove_signal_handler(sig)

"""The parts of an edge node that ``edge_node`` assembles: the node, its link view, helpers."""

from __future__ import annotations

import contextlib
import importlib.metadata
import logging
import platform
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from argus import __version__
from argus.adapters.pipelines import EdgePipelines
from argus.bootstrap.container import Container
from argus.config import Settings
from argus.config.edge import EdgeSettings
from argus.domain.edge import NodeState
from argus.domain.errors import ArgusError
from argus.domain.events import Envelope
from argus.ports.bus import EventBus
from argus.ports.edge_link import EdgeLink
from argus.ports.edge_outbox import EdgeOutbox
from argus.services.edge_config import ConfigKeeper
from argus.services.edge_evidence import NodeEvidence
from argus.services.edge_health import HealthReporter
from argus.services.edge_registration import Registrar
from argus.services.edge_sync import EdgeSyncer

__all__ = [
    "CAPABILITIES",
    "EdgeNode",
    "NodeLink",
    "discarding",
    "models_of",
    "node_settings",
    "now",
    "open_pipelines",
    "opened",
    "versions",
]

log = logging.getLogger(__name__)

T = TypeVar("T")

CAPABILITIES = ("tamper", "evidence", "rtsp", "http", "file")
"""What an ``argus edge`` node can do, announced at registration."""


def now() -> datetime:
    """The node's clock: aware UTC."""
    return datetime.now(UTC)


def node_settings(settings: Settings, edge: EdgeSettings) -> Settings:
    """``settings`` as the node runs them: its data directory and node id.

    A node samples no hard examples: their frames stay in the node's frame ring,
    which the control plane that collects examples cannot read.
    """
    update: dict[str, object] = {"node_id": edge.node_id, "examples_enabled": False}
    if edge.data_dir is not None:
        update["data_dir"] = edge.data_dir
    return settings.model_copy(update=update)


def versions() -> dict[str, str]:
    """Versions a node reports: Argus, Python and the inference runtime."""
    found = {"argus": __version__, "python": platform.python_version()}
    for package in ("onnxruntime", "opencv-python-headless"):
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            found[package] = importlib.metadata.version(package)
    return found


def models_of(container: Container) -> tuple[str, ...]:
    """The model packs the node has, as ``name@version``."""
    try:
        return tuple(sorted(f"{m.name}@{m.version}" for m in container.store.manifests()))
    except (ArgusError, OSError):  # a damaged pack must not keep the node from registering
        log.warning("cannot list the model packs", exc_info=True)
        return ()


@dataclass
class EdgeNode:
    """A running edge node's parts (what tests and the status endpoint look at).

    Attributes:
        node_id: The node's id.
        state_dir: Its directory (outbox, sealed caches).
        outbox: The durable outbox.
        link: The link to the control plane.
        pipelines: The camera pipelines.
        syncer: Sends the outbox.
        keeper: The configuration.
        registrar: The registration and evidence key.
        evidence: Evidence captures.
        reporter: Health reports.
        started_at: When it was assembled.
        status_port: The port of its status endpoint once it listens (``ARGUS_EDGE_LISTEN``).
    """

    node_id: str
    state_dir: Path
    outbox: EdgeOutbox
    link: EdgeLink
    pipelines: EdgePipelines
    syncer: EdgeSyncer
    keeper: ConfigKeeper
    registrar: Registrar
    evidence: NodeEvidence
    reporter: HealthReporter
    started_at: datetime = field(default_factory=now)
    status_port: int | None = None

    def health_interval(self, default: float) -> float:
        """Seconds between health reports: the configuration's, registration's or ``default``."""
        if self.keeper.config is not None:
            return self.keeper.config.health_interval_s
        if self.registrar.reply is not None:
            return self.registrar.reply.health_interval_s
        return default


async def open_pipelines(
    settings: Settings,
    container: Container,
    bus: EventBus,
    sink: Callable[[str, tuple[Envelope, ...]], None],
) -> EdgePipelines:
    """The camera pipelines, their events going to ``sink`` (on the running loop).

    ``bus`` only satisfies their constructor: with a sink nothing is published.
    """
    from argus.bootstrap.edge import edge_pipelines

    return edge_pipelines(settings, bus, container=container, sink=sink)


async def opened(value: T) -> T:
    """``value``, awaitable (for ``Lifecycle.open`` of a resource opened synchronously)."""
    return value


def discarding(action: Callable[[], Awaitable[object]]) -> Callable[[], Awaitable[None]]:
    """``action`` with its result dropped (a ``Step``'s start returns nothing)."""

    async def run() -> None:
        await action()

    return run


class NodeLink:
    """The link state a node reports: the syncer's, ``buffering`` until it runs.

    The syncer starts once the node is known to the server (registered now
    or before); until then everything waits in the outbox, which is what
    ``buffering`` means.
    """

    def __init__(self, syncer: EdgeSyncer) -> None:
        self._syncer = syncer

    @property
    def state(self) -> NodeState:
        """``online``, ``buffering`` or ``syncing``."""
        return self._syncer.state if self._syncer.running else "buffering"

    @property
    def clock_offset_s(self) -> float | None:
        """Server minus node clock, from the latest reply."""
        return self._syncer.clock_offset_s

    def wake(self) -> None:
        """Ask the syncer to send now (from any thread)."""
        self._syncer.wake()

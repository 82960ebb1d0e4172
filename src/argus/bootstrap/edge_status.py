"""An edge node's own status endpoint (``ARGUS_EDGE_LISTEN``): ``/health`` and ``/metrics``.

``GET /health`` answers JSON: the node's link state (``online``, ``buffering``,
``syncing``), whether its key is refused, the last link error, the
configuration revision it runs, the outbox (depth, bytes, oldest item's age,
drops per kind, quarantined) and the latest health of each camera; status
200 while the node runs (a buffering node is running: it is the link that is
down). ``GET /metrics`` answers the same in Prometheus text (its own
registry): ``argus_edge_state{state}``, ``argus_edge_outbox_items``,
``argus_edge_outbox_bytes``, ``argus_edge_outbox_oldest_age_seconds``,
``argus_edge_outbox_dropped_total{kind}``, ``argus_edge_quarantined_total``,
``argus_edge_unauthorized``, ``argus_edge_sent_items_total``,
``argus_edge_clock_offset_seconds``, and per camera
``argus_edge_camera_fps_in``, ``argus_edge_camera_fps_analysed``,
``argus_edge_camera_state{state}``, ``argus_edge_camera_tamper{kind}``, and
where the shared inference scheduler serves them ``argus_edge_camera_target_fps``,
``argus_edge_camera_granted_fps`` and ``argus_edge_camera_saturated``.

It has no authentication: bind it to loopback or a management network.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import uvicorn
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import generate_latest
from prometheus_client.registry import Collector
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from argus.api.metrics_edge import GrantGauges
from argus.bootstrap.edge_node_parts import NodeLink
from argus.domain.edge import NODE_STATES, TAMPER_STATES, CameraHealth
from argus.services.edge_health import camera_health

if TYPE_CHECKING:
    from argus.bootstrap.edge_node_parts import EdgeNode

__all__ = ["StatusServer", "node_status", "status_app"]

log = logging.getLogger(__name__)

_CAMERA_STATES = ("starting", "online", "offline", "error", "disabled")


def node_status(node: EdgeNode) -> dict[str, object]:
    """What ``/health`` answers (JSON-ready)."""
    now = datetime.now(UTC)
    stats = node.outbox.stats(now)
    config = node.keeper.config
    return {
        "node_id": node.node_id,
        "state": NodeLink(node.syncer).state,
        "unauthorized": node.syncer.unauthorized,
        "last_error": node.syncer.last_error,
        "registered": node.registrar.registered,
        "registration_error": node.registrar.last_error,
        "config_revision": None if config is None else config.revision,
        "config_error": node.keeper.last_error,
        "clock_offset_s": node.syncer.clock_offset_s,
        "outbox": {
            "items": stats.items,
            "bytes": stats.bytes,
            "oldest_age_s": stats.oldest_age_s,
            "dropped": dict(stats.dropped),
            "quarantined": stats.quarantined,
        },
        "evidence": {"pending": node.evidence.pending, "skipped": node.evidence.skipped},
        "cameras": [camera_health(s, now).to_dict() for s in node.pipelines.statuses()],
    }


class _NodeCollector(Collector):
    """Reads the node at scrape time."""

    def __init__(self, node: EdgeNode) -> None:
        self._node = node

    def collect(self) -> Iterator[Metric]:
        node = self._node
        now = datetime.now(UTC)
        stats = node.outbox.stats(now)
        current = NodeLink(node.syncer).state
        state = GaugeMetricFamily(
            "argus_edge_state", "1 for the node's current link state", labels=["state"]
        )
        for name in NODE_STATES:
            if name != "offline":  # the server's view only
                state.add_metric([name], 1.0 if current == name else 0.0)
        yield state
        yield GaugeMetricFamily("argus_edge_outbox_items", "Items waiting", value=stats.items)
        yield GaugeMetricFamily(
            "argus_edge_outbox_bytes", "Bytes of the items waiting", value=stats.bytes
        )
        yield GaugeMetricFamily(
            "argus_edge_outbox_oldest_age_seconds",
            "Age of the oldest waiting item (0 when empty)",
            value=stats.oldest_age_s or 0.0,
        )
        dropped = CounterMetricFamily(
            "argus_edge_outbox_dropped", "Items dropped by the overflow policy", labels=["kind"]
        )
        for kind, count in sorted(stats.dropped.items()):
            dropped.add_metric([kind], float(count))
        yield dropped
        yield CounterMetricFamily(
            "argus_edge_quarantined", "Items the server rejected", value=stats.quarantined
        )
        yield GaugeMetricFamily(
            "argus_edge_unauthorized",
            "1 while the server refuses the node's key",
            value=1.0 if node.syncer.unauthorized else 0.0,
        )
        yield CounterMetricFamily(
            "argus_edge_sent_items",
            "Items acknowledged by the server",
            value=node.syncer.sent_items,
        )
        offset = node.syncer.clock_offset_s
        if offset is not None:
            yield GaugeMetricFamily(
                "argus_edge_clock_offset_seconds", "Server clock minus node clock", value=offset
            )
        yield from _camera_metrics([camera_health(s, now) for s in node.pipelines.statuses()])


def _camera_metrics(cameras: Sequence[CameraHealth]) -> Iterator[Metric]:
    """Per camera, from the health the node reports (one source, so no series twice).

    The grant series (target, granted, saturated) are the control plane's
    (``GrantGauges``) with the node's ``camera`` label, only for cameras the
    shared inference scheduler serves.
    """
    fps_in = GaugeMetricFamily(
        "argus_edge_camera_fps_in", "Frames per second received", labels=["camera"]
    )
    fps = GaugeMetricFamily(
        "argus_edge_camera_fps_analysed", "Frames per second analysed", labels=["camera"]
    )
    state = GaugeMetricFamily(
        "argus_edge_camera_state", "1 for the camera's state", labels=["camera", "state"]
    )
    tamper = GaugeMetricFamily(
        "argus_edge_camera_tamper", "1 for the camera's tamper state", labels=["camera", "kind"]
    )
    grants = GrantGauges(["camera"])
    for camera in cameras:
        name = camera.camera_id
        fps_in.add_metric([name], camera.fps_in)
        fps.add_metric([name], camera.fps_analysed)
        for value in _CAMERA_STATES:
            state.add_metric([name, value], 1.0 if camera.state == value else 0.0)
        for value in TAMPER_STATES:
            tamper.add_metric([name, value], 1.0 if camera.tamper == value else 0.0)
        grants.add([name], camera)
    yield from (fps_in, fps, state, tamper, *grants.families())


def status_app(node: EdgeNode) -> Starlette:
    """The status endpoint's app."""
    registry = CollectorRegistry()
    registry.register(_NodeCollector(node))

    # On the event loop: the pipelines' state is the loop's (the outbox query is short).
    async def health(_: Request) -> Response:
        return JSONResponse(node_status(node))

    async def metrics(_: Request) -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return Starlette(routes=[Route("/health", health), Route("/metrics", metrics)])


class _Server(uvicorn.Server):
    """Uvicorn without its signal handlers: the node owns SIGTERM and SIGINT."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class StatusServer:
    """Serves ``status_app`` on ``host:port`` in the background.

    Args:
        node: The node.
        host: Interface to listen on.
        port: TCP port (0: any free one; ``port`` tells which once started).
    """

    def __init__(self, node: EdgeNode, host: str, port: int) -> None:
        config = uvicorn.Config(
            status_app(node),
            host=host,
            port=port,
            lifespan="off",
            log_config=None,
            access_log=False,
            ws="none",  # no WebSocket here (and uvicorn's default one is deprecated)
        )
        self._server = _Server(config)
        self._task: asyncio.Task[None] | None = None
        self.port = port

    async def start(self) -> None:
        """Start serving; returns once listening.

        Raises:
            OSError: The address could not be bound.
        """
        self._task = asyncio.create_task(self._server.serve(), name="edge-status")
        while not self._server.started:
            if self._task.done():
                self._task.result()
                raise OSError("the status endpoint did not start (see the log)")
            await asyncio.sleep(0.02)
        for server in self._server.servers:
            for sock in server.sockets:
                self.port = int(sock.getsockname()[1])
        log.info("status endpoint on http://%s:%d/health", self._server.config.host, self.port)

    async def stop(self) -> None:
        """Stop serving."""
        if self._task is None:
            return
        self._server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None

"""Gauges of edge nodes and their cameras, read at scrape time from the node watch's view.

``argus_edge_node_up{node}`` (0 while offline), ``argus_edge_node_state{node,state}``
(1 for the current state), ``argus_edge_outbox_items{node}``,
``argus_edge_outbox_oldest_age_seconds{node}``,
``argus_edge_last_report_age_seconds{node}``,
``argus_camera_tamper{camera_id,kind}`` (1 for the camera's current tamper
state in its node's latest report) and, for the cameras a node's shared
inference scheduler serves, ``argus_edge_camera_target_fps``,
``argus_edge_camera_granted_fps`` and ``argus_edge_camera_saturated``
``{node,camera_id}`` (the server's own cameras have ``argus_camera_*_fps``:
one family name per source, never two families of one name). The view is refreshed every health
interval and by each report this server receives.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from argus.domain.edge import NODE_STATES, TAMPER_STATES, CameraHealth, EdgeNode

__all__ = ["GrantGauges", "NodeCollector", "NodeView"]

NodeView = Callable[[], Mapping[str, EdgeNode]]
"""The latest view of every edge node, by id."""


class GrantGauges:
    """The grant series of edge cameras: ``argus_edge_camera_target_fps``,
    ``argus_edge_camera_granted_fps`` and ``argus_edge_camera_saturated``, with a
    sample only for cameras a shared inference scheduler serves (both fps known).

    The control plane labels them ``node, camera_id``; a node's own ``/metrics``
    ``camera``.
    """

    def __init__(self, labels: Sequence[str]) -> None:
        names = list(labels)
        self.target = GaugeMetricFamily(
            "argus_edge_camera_target_fps",
            "Analysed fps an edge camera asks of its node's shared inference scheduler",
            labels=names,
        )
        self.granted = GaugeMetricFamily(
            "argus_edge_camera_granted_fps",
            "Analysed fps the node's shared inference scheduler grants the camera",
            labels=names,
        )
        self.saturated = GaugeMetricFamily(
            "argus_edge_camera_saturated",
            "1 while the camera's grant is below its target (the node is saturated)",
            labels=names,
        )

    def add(self, labels: Sequence[str], camera: CameraHealth) -> None:
        """Add the camera's grant under ``labels`` (nothing when no scheduler serves it)."""
        if camera.target_fps is None or camera.granted_fps is None:
            return
        values = list(labels)
        self.target.add_metric(values, camera.target_fps)
        self.granted.add_metric(values, camera.granted_fps)
        self.saturated.add_metric(values, 1.0 if camera.saturated else 0.0)

    def families(self) -> tuple[Metric, ...]:
        """The three families, to yield from a collector."""
        return (self.target, self.granted, self.saturated)


class NodeCollector(Collector):
    """Reads the edge nodes' view at scrape time (nothing while no view is bound).

    Args:
        view: Returns the bound view, or ``None`` before the services start.
        clock: The current UTC time (ages).
    """

    def __init__(
        self,
        view: Callable[[], NodeView | None],
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._view = view
        self._clock = clock

    def collect(self) -> Iterator[Metric]:
        """The gauges of every node."""
        bound = self._view()
        nodes = bound() if bound is not None else {}
        up = GaugeMetricFamily(
            "argus_edge_node_up", "1 unless the node is offline", labels=["node"]
        )
        state = GaugeMetricFamily(
            "argus_edge_node_state", "1 for the node's current state", labels=["node", "state"]
        )
        items = GaugeMetricFamily(
            "argus_edge_outbox_items", "Items in the node's outbox", labels=["node"]
        )
        oldest = GaugeMetricFamily(
            "argus_edge_outbox_oldest_age_seconds",
            "Age of the oldest item in the node's outbox",
            labels=["node"],
        )
        age = GaugeMetricFamily(
            "argus_edge_last_report_age_seconds",
            "Seconds since the node's last health report was received",
            labels=["node"],
        )
        tamper = GaugeMetricFamily(
            "argus_camera_tamper",
            "1 for the camera's current tamper state",
            labels=["camera_id", "kind"],
        )
        grants = GrantGauges(["node", "camera_id"])
        now = self._clock()
        for node_id, node in sorted(nodes.items()):
            report = node.last_report
            current = "offline" if node.offline or report is None else report.state
            up.add_metric([node_id], 0.0 if current == "offline" else 1.0)
            for name in NODE_STATES:
                state.add_metric([node_id, name], 1.0 if name == current else 0.0)
            if node.last_seen_at is not None:
                age.add_metric([node_id], max(0.0, (now - node.last_seen_at).total_seconds()))
            if report is None:
                continue
            items.add_metric([node_id], float(report.outbox_items))
            oldest.add_metric([node_id], float(report.outbox_oldest_age_s or 0.0))
            for camera in report.cameras:
                for kind in TAMPER_STATES:
                    value = 1.0 if camera.tamper == kind else 0.0
                    tamper.add_metric([camera.camera_id, kind], value)
                grants.add([node_id, camera.camera_id], camera)
        yield from (up, state, items, oldest, age, tamper, *grants.families())

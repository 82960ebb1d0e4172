"""Workstation verification series, read at scrape time from the verify hub's counters.

``argus_workstation_clients{state}`` (this server's sessions: ``connected``,
``assigned``, ``waiting``), ``argus_workstation_registered_clients{status}``
(``active``, ``paused``, ``blocked``), ``argus_workstation_queue_depth`` (clients
waiting for a pipeline, every server), ``argus_workstation_pipelines`` (this
server's), the counters ``argus_workstation_frames_analysed``,
``argus_workstation_frames_dropped`` and ``argus_workstation_decisions{action,reason}``
(``reason``: the deciding one, empty for a plain allow), and the histograms
``argus_workstation_stage_seconds{stage}`` and
``argus_workstation_decision_latency_seconds`` (a frame's arrival to its decision).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from argus.services.verify_stats import STAGES, VerifyStats

__all__ = ["PREFIX", "WorkstationCollector"]

PREFIX = "argus_workstation_"
"""The prefix of every series here (none carries a camera)."""


class WorkstationCollector(Collector):
    """Reads the hub's counters at scrape time (nothing while none is bound).

    Args:
        stats: Returns the bound counters, or ``None`` before the services start.
    """

    def __init__(self, stats: Callable[[], VerifyStats | None]) -> None:
        self._stats = stats

    def collect(self) -> Iterator[Metric]:
        """The workstation series."""
        stats = self._stats()
        if stats is None:
            return
        clients = GaugeMetricFamily(
            f"{PREFIX}clients", "Connected workstation sessions of this server", labels=["state"]
        )
        for state, count in stats.clients().items():
            clients.add_metric([state], float(count))
        registered = GaugeMetricFamily(
            f"{PREFIX}registered_clients", "Registered workstation clients", labels=["status"]
        )
        for status, count in sorted(stats.registered.items()):
            registered.add_metric([status], float(count))
        yield clients
        yield registered
        yield GaugeMetricFamily(
            f"{PREFIX}queue_depth",
            "Workstation clients waiting for a pipeline (every server)",
            value=float(stats.queue_depth),
        )
        yield GaugeMetricFamily(
            f"{PREFIX}pipelines",
            "Verification pipelines running in this server",
            value=float(stats.pipelines()),
        )
        yield CounterMetricFamily(
            f"{PREFIX}frames_analysed",
            "Workstation frames analysed and decided",
            value=float(stats.frames_analysed),
        )
        yield CounterMetricFamily(
            f"{PREFIX}frames_dropped",
            "Workstation frames dropped unanalysed (sent faster than analysed)",
            value=float(stats.frames_dropped),
        )
        decisions = CounterMetricFamily(
            f"{PREFIX}decisions",
            "Workstation decisions by action and deciding reason",
            labels=["action", "reason"],
        )
        for (action, reason), count in sorted(stats.decisions.items()):
            decisions.add_metric([action, reason], float(count))
        yield decisions
        stages = HistogramMetricFamily(
            f"{PREFIX}stage_seconds", "Time per analysis stage of a frame", labels=["stage"]
        )
        known = [s for s in STAGES if s in stats.stages]
        for stage in [*known, *sorted(set(stats.stages) - set(STAGES))]:
            histogram = stats.stages[stage]
            stages.add_metric([stage], histogram.cumulative(), histogram.total)
        yield stages
        latency = HistogramMetricFamily(
            f"{PREFIX}decision_latency_seconds",
            "From a workstation frame's arrival to its decision",
        )
        latency.add_metric([], stats.latency.cumulative(), stats.latency.total)
        yield latency

"""Prometheus metrics of one app, in a registry of its own (never the global one)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
    SummaryMetricFamily,
)
from prometheus_client.exposition import generate_latest
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from argus.api.metrics_edge import NodeCollector, NodeView
from argus.api.metrics_recording import RecordingCollector
from argus.api.metrics_workstations import PREFIX as WORKSTATION_PREFIX
from argus.api.metrics_workstations import WorkstationCollector
from argus.domain.alerts import Alert
from argus.domain.inference_schedule import SchedulerStats
from argus.domain.notify import Channel, DeliveryAttempt
from argus.ports.pipelines import INFERENCE_BUCKETS, CameraStatus, PipelineSupervisor
from argus.ports.recording_status import RecordingMonitor
from argus.services.verify_stats import VerifyStats

__all__ = ["ApiMetrics", "MetricsMiddleware"]

_STATES = ("starting", "online", "offline", "error", "disabled")


class _PipelineCollector(Collector):
    """Reads the pipelines' statuses at scrape time."""

    def __init__(self, metrics: ApiMetrics) -> None:
        self._metrics = metrics

    def collect(self) -> Iterator[Metric]:
        pipelines = self._metrics.pipelines
        statuses = pipelines.statuses() if pipelines is not None else []
        families = {
            "fps_in": GaugeMetricFamily(
                "argus_camera_fps_in", "Frames per second received", labels=["camera_id"]
            ),
            "fps_decoded": GaugeMetricFamily(
                "argus_camera_fps_decoded", "Frames per second decoded", labels=["camera_id"]
            ),
            "fps_detected": GaugeMetricFamily(
                "argus_camera_fps_detected",
                "Frames per second through the detector",
                labels=["camera_id"],
            ),
        }
        state = GaugeMetricFamily(
            "argus_camera_state",
            "1 for the pipeline's current state",
            labels=["camera_id", "state"],
        )
        depth = GaugeMetricFamily(
            "argus_camera_queue_depth",
            "Events waiting in the edge worker's outbox",
            labels=["camera_id"],
        )
        dropped = CounterMetricFamily(
            "argus_camera_events_dropped",
            "Events dropped: the outbox was full",
            labels=["camera_id"],
        )
        restarts = CounterMetricFamily(
            "argus_camera_restarts", "Pipeline restarts after failures", labels=["camera_id"]
        )
        inference = HistogramMetricFamily(
            "argus_inference_seconds", "Detector time per analysed frame", labels=["camera_id"]
        )
        scheduled = _ScheduledFamilies()
        for status in statuses:
            for name, family in families.items():
                family.add_metric([status.camera_id], float(getattr(status, name)))
            for name in _STATES:
                state.add_metric([status.camera_id, name], 1.0 if status.state == name else 0.0)
            depth.add_metric([status.camera_id], float(status.queue_depth))
            dropped.add_metric([status.camera_id], float(status.events_dropped))
            restarts.add_metric([status.camera_id], float(status.restarts))
            buckets = _cumulative(status)
            if buckets:
                inference.add_metric([status.camera_id], buckets, status.inference_sum)
            scheduled.add(status)
        yield from families.values()
        yield from (state, depth, dropped, restarts, inference)
        yield from scheduled.families()
        yield from _scheduler_families(self._metrics.inference)


class _ScheduledFamilies:
    """Per-camera series of the shared inference scheduler (cameras it serves only)."""

    def __init__(self) -> None:
        self.target = GaugeMetricFamily(
            "argus_camera_target_fps", "Analysed fps the camera asks for", labels=["camera_id"]
        )
        self.granted = GaugeMetricFamily(
            "argus_camera_granted_fps",
            "Analysed fps the shared inference scheduler grants the camera now",
            labels=["camera_id"],
        )
        self.saturated = GaugeMetricFamily(
            "argus_inference_saturated",
            "1 while the camera's grant is below its target (the box is saturated)",
            labels=["camera_id"],
        )
        self.queue = GaugeMetricFamily(
            "argus_inference_queue_depth",
            "The camera's images waiting for the shared detector",
            labels=["camera_id"],
        )

    def add(self, status: CameraStatus) -> None:
        if status.target_fps is None or status.granted_fps is None:
            return
        camera = [status.camera_id]
        self.target.add_metric(camera, status.target_fps)
        self.granted.add_metric(camera, status.granted_fps)
        self.saturated.add_metric(camera, 1.0 if status.saturated else 0.0)
        self.queue.add_metric(camera, float(status.inference_queue))

    def families(self) -> tuple[Metric, ...]:
        return (self.target, self.granted, self.saturated, self.queue)


def _scheduler_families(
    read: Callable[[], Sequence[SchedulerStats]] | None,
) -> Iterator[Metric]:
    """The shared schedulers' batch sizes and capacity, by detector (index in start order)."""
    stats = read() if read is not None else ()
    batch = SummaryMetricFamily(
        "argus_inference_batch_size",
        "Images per detector run of the shared inference scheduler",
        labels=["scheduler"],
    )
    capacity = GaugeMetricFamily(
        "argus_inference_capacity_images_per_second",
        "Images per second the shared detector can be given (measured)",
        labels=["scheduler"],
    )
    for index, entry in enumerate(stats):
        label = [str(index)]
        batch.add_metric(label, entry.batches_run, float(entry.images_run))
        if entry.capacity_images_per_s is not None:
            capacity.add_metric(label, entry.capacity_images_per_s)
    yield from (batch, capacity)


def _cumulative(status: CameraStatus) -> list[tuple[str, float]]:
    """The status's inference counts as Prometheus cumulative buckets (``le``, count)."""
    counts = status.inference_counts
    if len(counts) != len(INFERENCE_BUCKETS) + 1:
        return []
    bounds = [*(repr(b) for b in INFERENCE_BUCKETS), "+Inf"]
    total, out = 0, []
    for bound, count in zip(bounds, counts, strict=True):
        total += count
        out.append((bound, float(total)))
    return out


class ApiMetrics:
    """The metrics of one app.

    Attributes:
        registry: The app's registry.
        scrape_token: The Prometheus scraper's bearer token (``ARGUS_METRICS_TOKEN``), if any.
        pipelines: Whose statuses the camera gauges report (set once services are open).
        nodes: The edge nodes' view the node gauges report (set once services are open).
        workstations: The verify hub's counters (set once services are open).
        recording: The recorders the ``argus_recording_*`` series report (set once
            services are open).
        inference: Snapshots of the shared inference schedulers (set once services
            are open, where pipelines run them).
    """

    def __init__(self, *, scrape_token: str | None = None) -> None:
        self.registry = CollectorRegistry()
        self.pipelines: PipelineSupervisor | None = None
        self.nodes: NodeView | None = None
        self.workstations: VerifyStats | None = None
        self.recording: RecordingMonitor | None = None
        self.inference: Callable[[], Sequence[SchedulerStats]] | None = None
        self.scrape_token = scrape_token
        self.requests = Counter(
            "argus_http_requests",
            "HTTP requests answered",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "argus_http_request_duration_seconds",
            "Time to answer an HTTP request",
            ["method", "route"],
            registry=self.registry,
        )
        self.events_stored = Counter(
            "argus_events_stored", "Events stored by the ingest", registry=self.registry
        )
        self.event_duplicates = Counter(
            "argus_event_duplicates", "Redelivered events skipped", registry=self.registry
        )
        self.ingest_depth = Gauge(
            "argus_ingest_queue_depth",
            "Events read from the bus, waiting for the event store's next batch",
            registry=self.registry,
        )
        self.alerts_raised = Counter(
            "argus_alerts_raised",
            "Alerts raised by this server",
            ["severity"],
            registry=self.registry,
        )
        self.alert_latency = Histogram(
            "argus_alert_latency_seconds",
            "From the event's time to its alert being stored and published",
            buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0),
            registry=self.registry,
        )
        self.notification_attempts = Counter(
            "argus_notification_attempts",
            "Notification delivery attempts, by channel kind and result",
            ["kind", "result"],
            registry=self.registry,
        )
        self.notification_latency = Histogram(
            "argus_notification_attempt_seconds",
            "Time one delivery attempt took (SMTP, webhook or MQTT round trip)",
            ["kind"],
            buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
            registry=self.registry,
        )
        self.registry.register(_PipelineCollector(self))
        self.registry.register(NodeCollector(lambda: self.nodes))
        self.registry.register(WorkstationCollector(lambda: self.workstations))
        self.registry.register(RecordingCollector(lambda: self.recording))

    def alert_raised(self, alert: Alert) -> None:
        """Count a raised alert and observe its latency from the event."""
        self.alerts_raised.labels(alert.severity).inc()
        latency = (alert.created_at - alert.event_time).total_seconds()
        self.alert_latency.observe(max(0.0, latency))

    def notification_attempt(self, attempt: DeliveryAttempt, channel: Channel) -> None:
        """Count a delivery attempt and observe how long it took."""
        self.notification_attempts.labels(channel.kind, "ok" if attempt.ok else "failed").inc()
        self.notification_latency.labels(channel.kind).observe(attempt.latency_ms / 1000)

    def render(self, cameras: frozenset[str] | None = None) -> tuple[bytes, str]:
        """The exposition text and its content type.

        Args:
            cameras: The cameras whose series a camera-scoped reader may see
                (workstation series are not camera series: such a reader sees none);
                ``None`` for every camera (the scraper, unscoped readers).
        """
        source = self.registry
        if cameras is not None:
            source = CollectorRegistry()
            source.register(_Scoped(self.registry, cameras))
        return generate_latest(source), CONTENT_TYPE_LATEST


class _Scoped(Collector):
    """The registry's metrics without the samples of cameras outside ``cameras``, and
    without the workstation series (workstations are invisible to camera-scoped users)."""

    def __init__(self, registry: CollectorRegistry, cameras: frozenset[str]) -> None:
        self._registry = registry
        self._cameras = cameras

    def collect(self) -> Iterator[Metric]:
        for metric in self._registry.collect():
            if metric.name.startswith(WORKSTATION_PREFIX):
                continue
            kept = [
                sample
                for sample in metric.samples
                if sample.labels.get("camera_id") in self._cameras
                or "camera_id" not in sample.labels
            ]
            scoped = Metric(metric.name, metric.documentation, metric.type, metric.unit)
            scoped.samples = kept
            yield scoped


class MetricsMiddleware:
    """ASGI middleware counting and timing HTTP requests by route template."""

    def __init__(self, app: ASGIApp, metrics: ApiMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Time the request; label it with its route template (bounded cardinality)."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500
        start = time.perf_counter()

        async def recording(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, recording)
        finally:
            route = scope.get("route")
            template = str(getattr(route, "path", "unmatched"))
            method = str(scope.get("method", ""))
            self.metrics.requests.labels(method, template, str(status)).inc()
            self.metrics.latency.labels(method, template).observe(time.perf_counter() - start)

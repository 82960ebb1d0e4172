"""What handlers depend on, as ``Annotated`` aliases over the app's runtime.

The runtime is the typed bundle of services the app is handed: the app's
``RuntimeFactory`` (``argus.bootstrap.app`` builds the real one) opens it in
the app's lifespan, and requests receive it through the ASGI lifespan state
(``request.state``), never through a module or the app object. The API never
builds a service itself, and sees adapters only through their ports.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Path, Request
from fastapi.exceptions import RequestValidationError

from argus.api.metrics import ApiMetrics
from argus.api.streams import StreamSlots
from argus.ports.audit import AuditLog
from argus.ports.pipelines import PipelineSupervisor
from argus.ports.recording_status import RecordingMonitor
from argus.ports.repositories import Database
from argus.services.alerting import AlertWorker
from argus.services.alerts import AlertService
from argus.services.analytics import AnalyticsService
from argus.services.auth import AuthService
from argus.services.cameras import CameraService, EventService
from argus.services.edge_nodes import NodeService
from argus.services.edge_registry import EdgeRegistry
from argus.services.edge_sync_intake import EdgeSyncIntake
from argus.services.evidence import EvidenceService
from argus.services.evidence_capture import EvidenceCapture
from argus.services.ingest import EventIngest
from argus.services.intake import EventIntake
from argus.services.learning import Learning
from argus.services.live import LiveHub
from argus.services.notifier import Notifier
from argus.services.notify_config import NotifyConfigService
from argus.services.notify_dispatch import NotificationDispatcher
from argus.services.privacy import PrivacyService
from argus.services.ratelimit import RateLimiter
from argus.services.recordings import RecordingService
from argus.services.recount_jobs import RecountService
from argus.services.retention import RetentionService
from argus.services.risk_policy import RiskPolicyService
from argus.services.session_watch import SessionWatch
from argus.services.snapshot_links import SnapshotLinks
from argus.services.verify_hub import VerifyHub
from argus.services.workstations import WorkstationService

__all__ = [
    "AlertsDep",
    "CameraId",
    "CamerasDep",
    "EventsDep",
    "ItemId",
    "Runtime",
    "RuntimeDep",
    "RuntimeFactory",
    "single_query_values",
]

REPEATABLE_QUERY = frozenset({"type", "state", "severity"})
"""Query parameters that are lists; any other may appear once."""


@dataclass(frozen=True, slots=True)
class Runtime:
    """The running services of an app, as its handlers call them.

    Attributes:
        node_id: This server's id (in ``/ws`` greetings and the envelopes it publishes).
        database: The store, for the readiness check's ping only.
        pipelines: The camera pipelines, for the readiness check's summary.
        cameras: The camera registry.
        events: The event store reader.
        intake: Stores batches of events posted by edge nodes.
        ingest: The bus-to-store consumer.
        analytics: Statistics over the event store, and heatmaps.
        metrics: The app's metrics.
        alerts: Rules, alerts and incidents.
        alerting: The background rule evaluation and escalation.
        live: The WebSocket hub.
        auth: Sign-in, tokens, users and API keys.
        audit: The audit trail.
        user_limit: Request rate limit per user or API key.
        evidence: Encrypted, signed evidence.
        capture: Stores a snapshot and a clip for new alerts of local cameras.
        workstations: Face subjects, enrolment and workstation clients.
        verify: The workstation verify hub behind ``/ws/verify``.
        streams: The open live video streams (``GET /cameras/{id}/stream``).
        sessions: Wakes open sockets and streams when a session of their caller ends.
        edge: Registers edge nodes and serves their configuration.
        edge_sync: Stores the sync batches of edge nodes.
        nodes: Edge nodes and their health, as operators see them.
        retention: The retention policy and sweep, legal holds, audit checkpoints.
        privacy: Erasure and export requests (face subjects, camera time ranges).
        risk_policy: The editable risk policy and the site's time zones.
        notifier: Turns raised and escalated alerts into notification outbox items.
        dispatcher: Delivers the notification outbox (breaker states, health).
        snapshot_links: Opens the signed, expiring snapshot links of notifications.
        recounts: Re-count jobs (a camera's period counted again from its trajectory log).
        recordings: Continuous recordings: timeline, playback and sealed export.
        recording: This server's recorders, for the readiness check (``None``: not set up).
        learning: The learning loop: hard examples, labels, datasets, model versions,
            rule suggestions and search.
    """

    node_id: str
    database: Database
    pipelines: PipelineSupervisor
    cameras: CameraService
    events: EventService
    intake: EventIntake
    ingest: EventIngest
    analytics: AnalyticsService
    metrics: ApiMetrics
    alerts: AlertService
    alerting: AlertWorker
    live: LiveHub
    auth: AuthService
    audit: AuditLog
    user_limit: RateLimiter
    evidence: EvidenceService
    capture: EvidenceCapture
    workstations: WorkstationService
    verify: VerifyHub
    streams: StreamSlots
    sessions: SessionWatch
    edge: EdgeRegistry
    edge_sync: EdgeSyncIntake
    nodes: NodeService
    retention: RetentionService
    privacy: PrivacyService
    risk_policy: RiskPolicyService
    notifier: Notifier
    notify_config: NotifyConfigService
    dispatcher: NotificationDispatcher
    snapshot_links: SnapshotLinks
    recounts: RecountService
    learning: Learning
    recordings: RecordingService
    recording: RecordingMonitor | None = None


RuntimeFactory = Callable[[ApiMetrics], AbstractAsyncContextManager[Runtime]]
"""Opens an app's runtime for its lifespan: given the app's metrics (which the services
feed), it starts everything, yields the ``Runtime``, and stops everything on exit."""


def get_runtime(request: Request) -> Runtime:
    """The runtime from the lifespan state."""
    runtime = getattr(request.state, "runtime", None)
    if not isinstance(runtime, Runtime):
        raise RuntimeError("the app's lifespan has not run: no runtime in the request state")
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def get_cameras(runtime: RuntimeDep) -> CameraService:
    """The camera service."""
    return runtime.cameras


def get_events(runtime: RuntimeDep) -> EventService:
    """The event service."""
    return runtime.events


def get_alerts(runtime: RuntimeDep) -> AlertService:
    """The alert service."""
    return runtime.alerts


CamerasDep = Annotated[CameraService, Depends(get_cameras)]
AlertsDep = Annotated[AlertService, Depends(get_alerts)]
EventsDep = Annotated[EventService, Depends(get_events)]
CameraId = Annotated[str, Path(min_length=1, max_length=64, description="Camera id.")]
ItemId = Annotated[str, Path(min_length=1, max_length=64, description="Line or zone id.")]


def single_query_values(request: Request) -> None:
    """Reject repeated scalar and empty query parameters.

    FastAPI would silently keep the last of repeated values and read an empty
    one as absent; both hide a client's mistake.
    """
    items = request.query_params.multi_items()
    keys = [key for key, _ in items]
    repeated = sorted({k for k in keys if keys.count(k) > 1} - REPEATABLE_QUERY)
    empty = sorted({key for key, value in items if not value})
    errors = [
        {"type": "value_error", "loc": ("query", key), "msg": "given more than once"}
        for key in repeated
    ]
    errors += [
        {"type": "value_error", "loc": ("query", key), "msg": "must not be empty"} for key in empty
    ]
    if errors:
        raise RequestValidationError(errors)

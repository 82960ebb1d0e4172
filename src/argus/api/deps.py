"""What handlers depend on, as ``Annotated`` aliases over the app's runtime.

The runtime is built in the app's lifespan and handed to requests through the
ASGI lifespan state (``request.state``), never stored on a module or the app.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Path, Request
from fastapi.exceptions import RequestValidationError

from argus.api.ingest import EventIngest
from argus.api.live import LiveHub
from argus.api.metrics import ApiMetrics
from argus.api.sessions import SessionWatch
from argus.api.streams import StreamSlots
from argus.bootstrap import ControlPlane
from argus.ports.audit import AuditLog
from argus.services.alerts import AlertService, AlertWorker
from argus.services.auth import AuthService
from argus.services.cameras import CameraService, EventService
from argus.services.evidence import EvidenceService
from argus.services.evidence_capture import EvidenceCapture
from argus.services.ratelimit import RateLimiter
from argus.services.verify_hub import VerifyHub
from argus.services.workbudget import WorkBudget
from argus.services.workstations import WorkstationService

__all__ = [
    "AlertsDep",
    "CameraId",
    "CamerasDep",
    "EventsDep",
    "ItemId",
    "Runtime",
    "RuntimeDep",
    "single_query_values",
]

REPEATABLE_QUERY = frozenset({"type", "state", "severity"})
"""Query parameters that are lists; any other may appear once."""


@dataclass(frozen=True, slots=True)
class Runtime:
    """The open services of a running app.

    Attributes:
        services: The adapters (database, bus, pipelines).
        cameras: The camera registry.
        events: The event store reader.
        ingest: The bus-to-store consumer.
        metrics: The app's metrics.
        alerts: Rules, alerts and incidents.
        alerting: The background rule evaluation and escalation.
        live: The WebSocket hub.
        auth: Sign-in, tokens, users and API keys.
        audit: The audit trail.
        user_limit: Request rate limit per user or API key.
        ingest_limit: Events per second each key (or user) may post to ``/events``.
        evidence: Encrypted, signed evidence.
        capture: Stores a snapshot and a clip for new alerts of local cameras.
        workstations: Face subjects, enrolment and workstation clients.
        verify: The workstation verify hub behind ``/ws/verify``.
        streams: The open live video streams (``GET /cameras/{id}/stream``).
        sessions: Wakes open sockets and streams when a session of their caller ends.
        analytics_budget: The analytics queries each user or key (and everyone) may run at once.
    """

    services: ControlPlane
    cameras: CameraService
    events: EventService
    ingest: EventIngest
    metrics: ApiMetrics
    alerts: AlertService
    alerting: AlertWorker
    live: LiveHub
    auth: AuthService
    audit: AuditLog
    user_limit: RateLimiter
    ingest_limit: RateLimiter
    evidence: EvidenceService
    capture: EvidenceCapture
    workstations: WorkstationService
    verify: VerifyHub
    streams: StreamSlots
    sessions: SessionWatch
    analytics_budget: WorkBudget


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

"""``create_app``: the FastAPI application of the control plane.

The app opens its services in its lifespan (through ``bootstrap.open_services``
unless a test hands it another opener), resumes every stored camera's
pipeline, starts the event ingest, and closes everything on shutdown. Nothing
happens at import time and nothing is kept in module state.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, FastAPI
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

from argus import __version__
from argus.api.deps import Runtime, single_query_values
from argus.api.errors import CatchAll, install_error_handlers
from argus.api.ingest import EventIngest
from argus.api.limits import BodyLimit, RateLimitPerIp
from argus.api.live import LiveHub
from argus.api.metrics import ApiMetrics, MetricsMiddleware
from argus.api.routers import (
    alerts,
    analytics,
    audit,
    auth,
    cameras,
    events,
    evidence,
    health,
    incidents,
    lines,
    live,
    rules,
    users,
    verify,
    workstations,
    zones,
)
from argus.api.security import AuthenticateFirst, Guard
from argus.api.streams import StreamSlots
from argus.api.verify_setup import start_workstations
from argus.bootstrap import (
    ControlPlane,
    auth_config,
    encode_jpeg,
    open_evidence_service,
    open_probe_source,
)
from argus.config import Settings
from argus.domain.alerts import EscalationPolicy, RiskPolicy, Severity
from argus.services.alerts import AlertService, AlertWorker
from argus.services.auth import AuthService
from argus.services.cameras import CameraService, EventService
from argus.services.evidence import EvidenceService
from argus.services.evidence_capture import EvidenceCapture
from argus.services.ratelimit import RateLimiter

__all__ = ["API_PREFIX", "MAX_BODY", "ServicesOpener", "create_app"]

log = logging.getLogger(__name__)

API_PREFIX = "/api/v1"

MAX_BODY = 1 << 20
"""Bytes a request body may have (event batches, rules, cameras)."""

ServicesOpener = Callable[[Settings], Awaitable[ControlPlane]]
"""Opens the adapters the app runs on (``bootstrap.open_services`` by default)."""


async def _open_default(settings: Settings) -> ControlPlane:
    from argus.bootstrap import edge_pipelines, open_services

    # The embedded edge worker: one analysis pipeline per enabled camera.
    return await open_services(settings, pipelines=edge_pipelines)


def escalation_policy(settings: Settings) -> EscalationPolicy:
    """The acknowledgement deadlines of the settings; repeats come at twice the deadline."""
    deadlines: dict[Severity, float] = {
        "high": settings.ack_deadline_high_s,
        "medium": settings.ack_deadline_medium_s,
        "low": settings.ack_deadline_low_s,
    }
    return EscalationPolicy(
        ack_deadlines=deadlines,
        repeat_seconds={severity: 2 * seconds for severity, seconds in deadlines.items()},
        max_escalations=settings.escalation_max,
    )


def risk_policy(settings: Settings) -> RiskPolicy:
    """The risk weights, with the night hours and time zone of the settings."""
    return RiskPolicy(
        night_start=settings.risk_night_start,
        night_end=settings.risk_night_end,
        timezone=settings.risk_timezone,
    )


RETENTION_INTERVAL = 3600.0
"""Seconds between sweeps for evidence past its retention."""


async def _retention(evidence: EvidenceService, days: float) -> None:
    """Delete unlocked evidence older than ``days``, hourly (the top of a task loop)."""
    while True:
        try:
            purged = await evidence.purge_expired(days)
            if purged:
                log.info("retention: deleted %d evidence item(s) older than %g days", purged, days)
        except Exception:  # log and try again next time; never end the loop
            log.exception("the evidence retention sweep failed")
        await asyncio.sleep(RETENTION_INTERVAL)


async def _first_admin(auth: AuthService, settings: Settings) -> None:
    """Create the first admin on an empty installation; print a one-time password if made."""
    given = settings.admin_password.get_secret_value() if settings.admin_password else None
    one_time = await auth.ensure_admin(settings.admin_username, given)
    if one_time is not None:
        # Shown once, on the console only (not in the log files): the admin must change it.
        sys.stderr.write(
            f"\nArgus: first start. Sign in as {settings.admin_username!r} with the one-time "
            f"password\n\n    {one_time}\n\nIt must be changed at first sign-in.\n\n"
        )
        sys.stderr.flush()
        log.warning("created the first admin %r with a one-time password", settings.admin_username)


async def _cancel(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def _start(
    settings: Settings,
    services: ControlPlane,
    metrics: ApiMetrics,
    stack: contextlib.AsyncExitStack,
) -> Runtime:
    """Build and start the app's services on open adapters; their stops go on ``stack``."""
    database = services.database
    camera_service = CameraService(
        database, services.pipelines, open_probe=open_probe_source, encode_jpeg=encode_jpeg
    )
    ingest = EventIngest(
        services.bus,
        database.events,
        services.events_subject,
        on_stored=metrics.events_stored.inc,
        on_duplicate=metrics.event_duplicates.inc,
    )
    stack.push_async_callback(ingest.stop)
    alert_service = AlertService(
        database,
        services.bus.publish,
        node_id=services.node_id,
        escalation=escalation_policy(settings),
        risk=risk_policy(settings),
    )
    alerting = AlertWorker(
        alert_service,
        services.bus,
        services.events_subject,
        escalation_tick=settings.escalation_tick_s,
        on_alert=metrics.alert_raised,
    )
    stack.push_async_callback(alerting.stop)
    metrics.ingest_depth.set_function(lambda: ingest.depth)
    auth_service = AuthService(database, database.audit, services.secret, auth_config(settings))
    await _first_admin(auth_service, settings)
    hub = LiveHub(services.bus, services.pipelines)
    stack.push_async_callback(hub.stop)
    evidence = await open_evidence_service(
        settings, database.evidence, database.audit, secret=services.secret
    )
    stack.push_async_callback(evidence.close)
    capture = EvidenceCapture(
        services.bus,
        services.pipelines,
        evidence,
        pre_s=settings.evidence_pre_roll_s,
        post_s=settings.evidence_post_roll_s,
        node_id=services.node_id,
    )
    stack.push_async_callback(capture.stop)
    workstation_service, verify_hub = await start_workstations(settings, services, evidence, stack)
    resumed = await camera_service.resume()
    ingest.start()
    alerting.start()
    hub.start()
    capture.start()
    retention = asyncio.create_task(
        _retention(evidence, settings.evidence_retention_days), name="argus-retention"
    )
    stack.push_async_callback(_cancel, retention)
    streams = StreamSlots()
    stack.callback(streams.close)
    log.info("control plane ready: %d camera(s) resumed", resumed)
    return Runtime(
        services=services,
        cameras=camera_service,
        events=EventService(database),
        ingest=ingest,
        metrics=metrics,
        alerts=alert_service,
        alerting=alerting,
        live=hub,
        auth=auth_service,
        audit=database.audit,
        user_limit=RateLimiter(
            settings.rate_limit_user_per_s,
            settings.rate_limit_user_burst,
            what="requests from this user or key",
        ),
        evidence=evidence,
        capture=capture,
        workstations=workstation_service,
        verify=verify_hub,
        streams=streams,
    )


DASHBOARD_DIR = Path(__file__).with_name("static")
"""The dashboard's files, served at ``/ui``."""


def create_app(settings: Settings, *, open_services: ServicesOpener | None = None) -> FastAPI:
    """Build the app; its services open when the server starts it.

    Args:
        settings: The settings, loaded once by the entry point.
        open_services: Opens the database, bus and pipelines; defaults to
            ``bootstrap.open_services`` (SQLite file, in-process bus, the
            embedded edge worker running the cameras).
    """
    opener = open_services if open_services is not None else _open_default
    metrics = ApiMetrics()

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[dict[str, Any]]:
        # Everything started is stopped in reverse order, even when a later step fails.
        async with contextlib.AsyncExitStack() as stack:
            services = await opener(settings)
            stack.push_async_callback(services.close)
            metrics.pipelines = services.pipelines
            stack.callback(setattr, metrics, "pipelines", None)
            runtime = await _start(settings, services, metrics, stack)
            yield {"runtime": runtime}

    app = FastAPI(
        title="Argus",
        version=__version__,
        description="Self-hosted video analytics: cameras, lines, zones, events, analytics, "
        "rules, risk-scored alerts and incidents; live messages on /ws.",
        openapi_url="/api/openapi.json",
        docs_url="/api/docs",
        redoc_url=None,
        lifespan=lifespan,
    )
    install_error_handlers(app)
    # Added last = outermost: the metrics see the 500s CatchAll produces.
    app.add_middleware(AuthenticateFirst)
    app.add_middleware(CatchAll)
    app.add_middleware(
        BodyLimit,
        default=MAX_BODY,
        overrides={
            evidence.UPLOAD_PATH: evidence.UPLOAD_LIMIT + 65536,
            workstations.PHOTO_PATH: workstations.PHOTO_UPLOAD_LIMIT,
        },
    )
    app.add_middleware(
        RateLimitPerIp,
        limiter=RateLimiter(
            settings.rate_limit_ip_per_s,
            settings.rate_limit_ip_burst,
            what="requests from this address",
        ),
    )
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    api = APIRouter(prefix=API_PREFIX)
    # The guard first: a refused caller learns nothing from query validation.
    checked = Depends(single_query_values)
    api.include_router(auth.router, dependencies=[checked])
    evidence_guard = Guard("view", "operate")
    guarded = (
        (cameras.router, Guard("view", "configure")),
        (lines.router, Guard("view", "configure")),
        (zones.router, Guard("view", "configure")),
        (rules.router, Guard("view", "configure")),
        (events.router, Guard("view", "ingest")),
        (analytics.router, Guard("view", "view")),
        (alerts.router, Guard("view", "operate")),
        (incidents.router, Guard("view", "operate")),
        (evidence.router, evidence_guard),
        (evidence.incident_router, evidence_guard),
        (evidence.bundle_router, evidence_guard),
        (users.router, Guard("admin", "admin")),
        (audit.router, Guard("admin", "admin")),
        (workstations.router, Guard("admin", "admin")),
    )
    for router, guard in guarded:
        api.include_router(router, dependencies=[Depends(guard), checked])
    app.include_router(api)
    app.include_router(health.router)
    app.include_router(live.router)
    app.include_router(verify.router)
    # The operator dashboard: static ES modules, a client of /api/v1 and /ws only.
    app.mount("/ui", StaticFiles(directory=DASHBOARD_DIR, html=True), name="dashboard")
    app.add_api_route(
        "/", lambda: RedirectResponse("/ui/"), include_in_schema=False, methods=["GET"]
    )
    return app

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
import os
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, FastAPI
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from argus import __version__
from argus.api.deps import Runtime, single_query_values
from argus.api.errors import CatchAll, install_error_handlers
from argus.api.headers import SecurityHeaders, install_docs
from argus.api.ingest import EventIngest
from argus.api.input_guard import StorableText
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
from argus.api.routers import metrics as metrics_route
from argus.api.security import AuthenticateFirst, Guard
from argus.api.sessions import SessionWatch
from argus.api.streams import StreamSlots
from argus.api.verify_setup import start_workstations
from argus.bootstrap import (
    ControlPlane,
    auth_config,
    encode_jpeg,
    open_evidence_service,
    probe_opener,
    source_policy,
)
from argus.config import Settings
from argus.domain.alerts import EscalationPolicy, RiskPolicy, Severity
from argus.services.alerts import AlertService, AlertWorker
from argus.services.auth import AuthService
from argus.services.cameras import CameraService, EventService
from argus.services.evidence import EvidenceService
from argus.services.evidence_capture import EvidenceCapture
from argus.services.ratelimit import RateLimiter
from argus.services.workbudget import WorkBudget

__all__ = ["API_PREFIX", "FIRST_ADMIN_FILE", "MAX_BODY", "ServicesOpener", "create_app"]

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


FIRST_ADMIN_FILE = "first-admin-password.txt"
"""Where, in the data directory, the first admin's one-time password goes without a terminal."""


def _write_private(path: Path, text: str) -> None:
    """Write ``text`` to a new file only its owner can read (an old one is replaced)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(text)


async def _first_admin(auth: AuthService, settings: Settings) -> None:
    """Create the first admin on an empty installation and hand over its one-time password.

    On a terminal the password is shown on it. Otherwise stderr is a log (a
    service manager's journal, a redirected file), which many can read and
    which is kept: the password goes to a 0600 file in the data directory and
    only that file's path is written.
    """
    given = settings.admin_password.get_secret_value() if settings.admin_password else None
    one_time = await auth.ensure_admin(settings.admin_username, given)
    if one_time is None:
        return
    user = settings.admin_username
    if sys.stderr.isatty():
        sys.stderr.write(
            f"\nArgus: first start. Sign in as {user!r} with the one-time "
            f"password\n\n    {one_time}\n\nIt must be changed at first sign-in.\n\n"
        )
    else:
        path = settings.data_dir / FIRST_ADMIN_FILE
        _write_private(path, f"{one_time}\n")
        sys.stderr.write(
            f"\nArgus: first start. The one-time password of {user!r} is in {path} "
            "(readable by this account only). It must be changed at first sign-in; "
            "delete the file then.\n\n"
        )
    sys.stderr.flush()
    log.warning("created the first admin %r with a one-time password", user)


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
        database,
        services.pipelines,
        open_probe=probe_opener(settings),
        encode_jpeg=encode_jpeg,
        check_source=source_policy(settings).check,
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
    sessions = SessionWatch(services.bus, services.node_id)
    stack.push_async_callback(sessions.stop)
    auth_service = AuthService(
        database,
        database.audit,
        services.secret,
        auth_config(settings),
        on_revoked=sessions.announce,
    )
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
        max_concurrent=settings.evidence_captures,
        max_queue=settings.evidence_queue,
    )
    stack.push_async_callback(capture.stop)
    workstation_service, verify_hub = await start_workstations(settings, services, evidence, stack)
    resumed = await camera_service.resume()
    ingest.start()
    alerting.start()
    hub.start()
    sessions.start()
    capture.start()
    retention = asyncio.create_task(
        _retention(evidence, settings.evidence_retention_days), name="argus-retention"
    )
    stack.push_async_callback(_cancel, retention)
    streams = StreamSlots(per_principal=settings.streams_per_principal, sessions=sessions)
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
        ingest_limit=RateLimiter(
            settings.ingest_events_per_s,
            settings.ingest_events_burst,
            what="events from this key",
        ),
        evidence=evidence,
        capture=capture,
        workstations=workstation_service,
        verify=verify_hub,
        streams=streams,
        sessions=sessions,
        analytics_budget=WorkBudget(
            settings.analytics_queries_per_principal,
            settings.analytics_queries_total,
            what="analytics queries",
        ),
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
    scrape = settings.metrics_token.get_secret_value() if settings.metrics_token else None
    metrics = ApiMetrics(scrape_token=scrape)

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
        docs_url=None,  # install_docs serves Swagger UI from local files
        redoc_url=None,
        lifespan=lifespan,
    )
    install_error_handlers(app)
    # Added last = outermost: the metrics see the 500s CatchAll produces.
    # Text no database stores is refused after authentication, before any route reads it.
    app.add_middleware(StorableText)
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
    app.add_middleware(SecurityHeaders)
    trusted = settings.trusted_proxy_list
    if trusted:
        # Outermost: the client address every limit and audit record uses is the
        # forwarded one only when a configured proxy sent the request.
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=trusted)
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
    app.include_router(metrics_route.router)
    app.include_router(health.router)
    app.include_router(live.router)
    app.include_router(verify.router)
    install_docs(app, openapi_url="/api/openapi.json")
    # The operator dashboard: static ES modules, a client of /api/v1 and /ws only.
    app.mount("/ui", StaticFiles(directory=DASHBOARD_DIR, html=True), name="dashboard")
    app.add_api_route(
        "/", lambda: RedirectResponse("/ui/"), include_in_schema=False, methods=["GET"]
    )
    return app

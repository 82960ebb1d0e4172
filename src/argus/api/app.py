"""``create_app``: the FastAPI application of the control plane.

The app is handed a ``RuntimeFactory``: in its lifespan it opens the runtime
(the typed bundle of running services), hands it to requests through the
lifespan state, and closes it on shutdown. The app builds no service and
opens nothing itself; ``argus.bootstrap.app.build_app`` gives it the real
factory. Nothing happens at import time; the only module state is the route
table, built on first use and shared by every app of the process (``_routes``).
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, FastAPI
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.routing import BaseRoute
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from argus import __version__
from argus.api.deps import RuntimeFactory, single_query_values
from argus.api.errors import CatchAll, install_error_handlers
from argus.api.headers import SecurityHeaders, install_docs
from argus.api.input_guard import StorableText
from argus.api.limits import BodyLimit, RateLimitPerIp
from argus.api.metrics import ApiMetrics, MetricsMiddleware
from argus.api.routers import (
    alert_bulk,
    alert_groups,
    alerts,
    analytics,
    audit,
    auth,
    cameras,
    datasets,
    edge,
    events,
    evidence,
    examples,
    feedback_summary,
    health,
    incidents,
    labels,
    lines,
    live,
    model_registry,
    model_trials,
    nodes,
    notify,
    policy,
    privacy,
    recordings,
    recounts,
    retention,
    rules,
    search,
    shared_links,
    suggestions,
    users,
    verify,
    workstation_policy,
    workstations,
    zones,
)
from argus.api.routers import metrics as metrics_route
from argus.api.schemas.websockets import document_websockets
from argus.api.security import AuthenticateFirst, Guard
from argus.config import Settings
from argus.services.ratelimit import RateLimiter

__all__ = ["API_PREFIX", "DASHBOARD_DIR", "MAX_BODY", "create_app"]

API_PREFIX = "/api/v1"

MAX_BODY = 1 << 20
"""Bytes a request body may have (event batches, rules, cameras)."""


DASHBOARD_DIR = Path(__file__).with_name("static")
"""The dashboard's files, served at ``/ui``."""


def create_app(settings: Settings, runtime: RuntimeFactory) -> FastAPI:
    """Build the app; its runtime opens when the server starts it.

    Args:
        settings: The settings, loaded once by the entry point (limits,
            trusted proxies, the metrics token).
        runtime: Opens the running services for the app's lifespan, given the
            app's metrics (``argus.bootstrap.app.runtime_factory``).
    """
    scrape = settings.metrics_token.get_secret_value() if settings.metrics_token else None
    metrics = ApiMetrics(scrape_token=scrape)

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[dict[str, Any]]:
        async with runtime(metrics) as running:
            yield {"runtime": running}

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
            edge.SYNC_PATH: settings.edge_sync_max_bytes,
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
    # The route table is built once per process and shared (see _routes).
    app.router.routes.extend(_routes())
    document_websockets(app)
    install_docs(app, openapi_url="/api/openapi.json")
    # The operator dashboard: static ES modules, a client of /api/v1 and /ws only.
    app.mount("/ui", StaticFiles(directory=DASHBOARD_DIR, html=True), name="dashboard")
    app.add_api_route(
        "/", lambda: RedirectResponse("/ui/"), include_in_schema=False, methods=["GET"]
    )
    # Browsers ask for /favicon.ico on pages that name no icon (JSON, /health): the dashboard's.
    app.add_api_route(
        "/favicon.ico",
        lambda: RedirectResponse("/ui/favicon.svg", status_code=301),
        include_in_schema=False,
        methods=["GET", "HEAD"],
    )
    return app


@functools.cache
def _routes() -> tuple[BaseRoute, ...]:
    """Every API, metrics, health and WebSocket route, with its guard, built once per process.

    FastAPI analyses each route's signature and dependencies and builds its
    pydantic adapters when a router is included: about a second for Argus's
    380 routes on a small box. The routes hold no state of an app (the guards
    and dependencies read the request), so every app a process builds (tests
    build hundreds) shares one table. Dependency overrides are not supported.
    """
    api = APIRouter(prefix=API_PREFIX)
    # The guard first: a refused caller learns nothing from query validation.
    checked = Depends(single_query_values)
    api.include_router(auth.router, dependencies=[checked])
    # No guard: the signed token in the path is the credential (PUBLIC_PREFIXES).
    api.include_router(shared_links.router, dependencies=[checked])
    evidence_guard = Guard("view", "operate")
    guarded = (
        (cameras.router, Guard("view", "configure")),
        (lines.router, Guard("view", "configure")),
        (zones.router, Guard("view", "configure")),
        (rules.router, Guard("view", "configure")),
        (events.router, Guard("view", "ingest")),
        (analytics.router, Guard("view", "view")),
        (recounts.router, Guard("view", "operate")),
        (alerts.router, Guard("view", "operate")),
        (feedback_summary.router, Guard("view", "operate")),
        (alert_bulk.router, Guard("view", "operate")),
        (alert_groups.router, Guard("view", "operate")),
        (alert_groups.maintenance_router, Guard("view", "configure")),
        (incidents.router, Guard("view", "operate")),
        (evidence.router, evidence_guard),
        (evidence.incident_router, evidence_guard),
        (evidence.bundle_router, evidence_guard),
        # Viewers play recordings; exporting a range is an evidence export (operate).
        (recordings.router, evidence_guard),
        (users.router, Guard("admin", "admin")),
        (audit.router, Guard("admin", "admin")),
        # First, so that no later /workstations/{id} route can shadow /workstations/policy.
        (workstation_policy.router, Guard("admin", "admin")),
        (workstations.router, Guard("admin", "admin")),
        (edge.router, Guard("edge", "edge")),
        (nodes.router, Guard("view", "view")),
        (privacy.router, Guard("admin", "admin")),
        (policy.router, Guard("view", "admin")),
        (retention.router, Guard("admin", "admin")),
        (notify.router, Guard("configure", "configure")),
        (notify.deliveries_router, Guard("view", "operate")),
        (examples.router, Guard("view", "operate")),
        (labels.router, Guard("view", "operate")),
        (datasets.router, Guard("configure", "configure")),
        (model_registry.router, Guard("view", "configure")),
        (model_trials.router, Guard("view", "configure")),
        (suggestions.router, Guard("view", "admin")),
        (search.router, Guard("view", "view")),
    )
    for router, guard in guarded:
        api.include_router(router, dependencies=[Depends(guard), checked])
    top = APIRouter()
    top.include_router(api)
    top.include_router(metrics_route.router)
    top.include_router(health.router)
    top.include_router(live.router)
    top.include_router(verify.router)
    return tuple(top.routes)

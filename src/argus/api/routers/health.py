"""``/health/live`` and ``/health/ready`` (``/metrics`` is in ``routers.metrics``)."""

from __future__ import annotations

import asyncio
from collections import Counter

from fastapi import APIRouter, Response

from argus.api.deps import RuntimeDep
from argus.api.schemas.health import Check, Liveness, Readiness
from argus.domain.errors import ArgusError

__all__ = ["router"]

router = APIRouter(tags=["health"])

_PING_TIMEOUT = 5.0


@router.get("/health/live", summary="The process is up")
async def live() -> Liveness:
    """Answers while the process serves requests."""
    return Liveness()


async def _database(runtime: RuntimeDep) -> Check:
    try:
        await asyncio.wait_for(runtime.database.ping(), _PING_TIMEOUT)
    except (ArgusError, TimeoutError) as exc:
        return Check(ok=False, detail=f"database: {exc or 'ping timed out'}")
    return Check(ok=True, detail="database answers")


def _pipelines(runtime: RuntimeDep) -> Check:
    statuses = runtime.pipelines.statuses()
    states = Counter(s.state for s in statuses)
    summary = ", ".join(f"{n} {state}" for state, n in sorted(states.items())) or "no cameras"
    saturated = [s for s in statuses if s.saturated]
    if saturated:
        # Visible, not fatal: those cameras analyse fewer frames, evenly spaced. Counted,
        # not named: this answer needs no credentials, while which cameras analyse what
        # is told to those who may see them (their status, /metrics in their scope).
        summary += (
            f"; inference saturated: {len(saturated)} of {len(statuses)} cameras analyse "
            "below their fps (see each camera's status or /metrics)"
        )
    # A failing camera is reported, not fatal: it retries while the server stays ready.
    return Check(ok=True, detail=summary)


def _recording(runtime: RuntimeDep) -> Check | None:
    monitor = runtime.recording
    if monitor is None or not monitor.enabled:
        return None
    states = Counter(s.state for s in monitor.statuses() if s.state != "off")
    summary = ", ".join(f"{n} {state}" for state, n in sorted(states.items()))
    # Like a camera's pipeline, a recorder that fails is reported and retries; not fatal.
    return Check(ok=True, detail=summary or "no camera recorded")


@router.get(
    "/health/ready",
    summary="The service can work",
    responses={503: {"model": Readiness, "description": "A part is not ready."}},
)
async def ready(runtime: RuntimeDep, response: Response) -> Readiness:
    """Database ping, event store, alerting and notification consumers, notification
    delivery, pipelines, recorders (when the server records); 503 names the failing part
    (an open circuit breaker of one channel is reported, not fatal).

    A database that answers reads but refuses writes (locked, read-only, out of
    space, privileges revoked) passes the ping; ``event_store`` and
    ``alerting`` then fail while the consumers hold events the store refuses,
    and pass again once it takes them.
    """
    ok, detail = runtime.ingest.check()
    store_ok, store_detail = runtime.ingest.check_store()
    alerting_ok, alerting_detail = runtime.alerting.check()
    notifier_ok, notifier_detail = runtime.notifier.check()
    if runtime.dispatcher.started:
        delivery_ok, delivery_detail = runtime.dispatcher.check()
        delivery = Check(ok=delivery_ok, detail=delivery_detail)
    else:  # ARGUS_NOTIFY_DISPATCH=false: another server delivers the shared outbox
        delivery = Check(ok=True, detail="notification delivery is off on this server")
    checks = {
        "database": await _database(runtime),
        "bus": Check(ok=ok, detail=detail),
        "event_store": Check(ok=store_ok, detail=store_detail),
        "alerting": Check(ok=alerting_ok, detail=alerting_detail),
        "notifier": Check(ok=notifier_ok, detail=notifier_detail),
        "notify_delivery": delivery,
        "pipelines": _pipelines(runtime),
    }
    recording = _recording(runtime)
    if recording is not None:
        checks["recording"] = recording
    healthy = all(c.ok for c in checks.values())
    if not healthy:
        response.status_code = 503
    return Readiness(status="ok" if healthy else "unavailable", checks=checks)

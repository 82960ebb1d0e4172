"""``/metrics``: Prometheus exposition for the scraper and for readers with ``view``.

The scraper authenticates with ``Authorization: Bearer`` and the token of
``ARGUS_METRICS_TOKEN`` and sees every camera. A signed-in user or API key
with ``view`` sees the per-camera series of the cameras in its scope only.
"""

from __future__ import annotations

import hmac

from fastapi import APIRouter, Request, Response

from argus.api.deps import RuntimeDep
from argus.api.security import authenticate_headers
from argus.domain.errors import PermissionDeniedError

__all__ = ["router"]

router = APIRouter(tags=["health"])


def _is_scraper(request: Request, token: str | None) -> bool:
    """Whether the request carries the scrape token (compared in constant time)."""
    if token is None:
        return False
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        given.strip().encode(), token.encode()
    )


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request, runtime: RuntimeDep) -> Response:
    """The metrics, camera series limited to the caller's scope."""
    cameras: frozenset[str] | None = None
    if not _is_scraper(request, runtime.metrics.scrape_token):
        principal = await authenticate_headers(
            runtime, request.headers.get("authorization"), request.headers.get("x-api-key")
        )
        if principal.restricted is not None:
            raise PermissionDeniedError("finish signing in first")
        principal.require("view")
        cameras = principal.cameras
    body, content_type = runtime.metrics.render(cameras)
    return Response(body, media_type=content_type)

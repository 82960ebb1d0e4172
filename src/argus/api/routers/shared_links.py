"""Signed, expiring links to alert snapshots, opened without credentials.

``GET /api/v1/shared/snapshots/{token}`` is the link a notification mail or a
chat message carries (``services.snapshot_links``). The token is the only
credential: it names one alert and an expiry under an HMAC with a key derived
from the installation secret, and opens that alert's snapshot. A forged,
altered or expired token, or an alert without a snapshot (yet), is a 404 with
one text for all. The
route is public (``security.PUBLIC_PREFIXES``), so it is rate-limited per
client address like every request, and every opening is audited.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response

from argus.api.deps import RuntimeDep
from argus.api.schemas.common import ERROR_RESPONSES

__all__ = ["PREFIX", "router"]

PREFIX = "/shared/snapshots"
router = APIRouter(prefix=PREFIX, tags=["shared links"], responses=ERROR_RESPONSES)

Token = Annotated[
    str,
    Path(
        min_length=10,
        max_length=160,
        pattern=r"^[0-9A-Za-z_.-]+$",
        description="The link's token (alert id, expiry and signature).",
    ),
]


@router.get(
    "/{token}",
    summary="Open a shared snapshot",
    response_class=Response,
    responses={200: {"content": {"image/jpeg": {}, "image/png": {}}, "description": "The image."}},
)
async def open_snapshot(token: Token, runtime: RuntimeDep) -> Response:
    """The snapshot a notification linked, while its link is valid; no credentials needed."""
    item, data = await runtime.snapshot_links.open(token)
    return Response(
        data,
        media_type=item.content_type,
        headers={
            "Cache-Control": "private, no-store",
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
            "Content-Disposition": f'inline; filename="snapshot-{item.id}"',
        },
    )

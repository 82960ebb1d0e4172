"""``/api/v1/cameras``: register, list, change and remove cameras; try a stream;
snapshot, live video and status."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse

from argus.api.deps import CameraId, CamerasDep, Runtime, RuntimeDep
from argus.api.schemas.cameras import (
    CameraCreate,
    CameraList,
    CameraProbe,
    CameraProbeResult,
    CameraPublic,
    CameraStatusPublic,
    CameraUpdate,
)
from argus.api.schemas.common import AUTH_RESPONSES, ERROR_RESPONSES, ErrorBody
from argus.api.security import Acting, Caller, principal_of_headers
from argus.api.streams import MAX_STREAMS, MjpegResponse, mjpeg_parts
from argus.domain.errors import PermissionDeniedError
from argus.domain.identity import Principal
from argus.ports.paging import MAX_PAGE

__all__ = ["router"]


router = APIRouter(
    prefix="/cameras", tags=["cameras"], responses={**ERROR_RESPONSES, **AUTH_RESPONSES}
)

Limit = Annotated[int, Query(ge=1, le=MAX_PAGE, description="Page size.")]
Offset = Annotated[int, Query(ge=0, le=1_000_000, description="Items to skip.")]
Fps = Annotated[
    float, Query(ge=0.5, le=15, allow_inf_nan=False, description="Most frames per second sent.")
]
Frames = Annotated[
    int | None,
    Query(
        ge=1, le=1_000_000, description="End the stream after this many frames (default: never)."
    ),
]


@router.post("", status_code=201, summary="Register a camera")
async def create_camera(body: CameraCreate, actor: Acting, cameras: CamerasDep) -> CameraPublic:
    """Register a camera and start its pipeline (not for camera-scoped accounts)."""
    return CameraPublic.of(await cameras.create_camera(actor, body.command()))


@router.post("/probe", summary="Try a stream")
async def probe_camera(body: CameraProbe, actor: Acting, cameras: CamerasDep) -> CameraProbeResult:
    """Open a stream and read its first frame before registering it as a camera.

    A stream that cannot be read is an answer too: ``ok`` false with the reason
    (refused, timed out, not a video). The credentials are used for this try
    only; neither they nor the password appear in the answer.
    """
    return CameraProbeResult.of(await cameras.probe(actor, body.command()))


@router.get("", summary="List cameras")
async def list_cameras(
    cameras: CamerasDep,
    who: Caller,
    limit: Limit = 50,
    offset: Offset = 0,
    enabled: Annotated[bool | None, Query(description="Only (not) enabled cameras.")] = None,
    name: Annotated[
        str | None, Query(min_length=1, max_length=200, description="Name contains (any case).")
    ] = None,
) -> CameraList:
    """Cameras in creation order."""
    page = await cameras.list_cameras(
        limit=limit, offset=offset, enabled=enabled, name=name, ids=who.cameras
    )
    items = [CameraPublic.of(c) for c in page.items]
    return CameraList(items=items, total=page.total, limit=limit, offset=offset)


@router.get("/{camera_id}", summary="Get a camera")
async def get_camera(camera_id: CameraId, cameras: CamerasDep) -> CameraPublic:
    """One camera; its credentials are never returned."""
    return CameraPublic.of(await cameras.get_camera(camera_id))


@router.patch("/{camera_id}", summary="Change a camera")
async def update_camera(
    camera_id: CameraId, body: CameraUpdate, actor: Acting, cameras: CamerasDep
) -> CameraPublic:
    """Change some fields; only this camera's pipeline restarts.

    A ``stream_url`` on another scheme, host or port removes the stored login
    unless ``credentials`` comes in the same request (audited as
    ``camera.credentials.drop``): a login is never sent to a new host.
    """
    change = await cameras.update_camera(actor, camera_id, body.command())
    return CameraPublic.of(change.camera)


@router.delete("/{camera_id}", status_code=204, summary="Remove a camera")
async def delete_camera(camera_id: CameraId, actor: Acting, cameras: CamerasDep) -> None:
    """Delete the camera with its lines and zones and stop its pipeline."""
    await cameras.delete_camera(actor, camera_id)


@router.get(
    "/{camera_id}/snapshot",
    response_class=Response,
    summary="Latest frame",
    responses={
        200: {
            "content": {"image/jpeg": {"schema": {"type": "string", "format": "binary"}}},
            "description": "The latest frame as JPEG.",
        }
    },
)
async def snapshot(camera_id: CameraId, cameras: CamerasDep) -> Response:
    """The camera's latest frame; 404 when the camera is unknown or has no frame yet."""
    return Response(content=await cameras.snapshot(camera_id), media_type="image/jpeg")


@router.get("/{camera_id}/status", summary="Pipeline status")
async def status(camera_id: CameraId, cameras: CamerasDep) -> CameraStatusPublic:
    """State (online, offline, error, ...), last error and frame rates."""
    return CameraStatusPublic.of(await cameras.status(camera_id))


@router.get(
    "/{camera_id}/stream",
    response_class=Response,
    summary="Live video (MJPEG)",
    responses={
        200: {
            "content": {
                "multipart/x-mixed-replace": {"schema": {"type": "string", "format": "binary"}}
            },
            "description": "JPEG parts (boundary ``frame``), one per new frame, until the client "
            "disconnects, the credential expires or is revoked, or the server stops.",
        },
        503: {
            "model": ErrorBody,
            "description": f"The server already serves {MAX_STREAMS} live streams, or the "
            "database is unavailable.",
        },
    },
)
async def stream(
    request: Request,
    camera_id: CameraId,
    runtime: RuntimeDep,
    fps: Fps = 5.0,
    frames: Frames = None,
) -> Response:
    """The camera's live video as ``multipart/x-mixed-replace`` JPEG parts.

    A part is sent when the frame changes, at most ``fps`` a second; before
    the camera's first frame the stream waits. The caller's credential is
    checked again every 30 s, and the stream ends once it is no longer valid.
    """
    # The router's guard checked the permission and the camera scope.
    authorization = request.headers.get("authorization")
    api_key = request.headers.get("x-api-key")
    parts = await runtime.cameras.watch(camera_id, fps=fps)
    slots = runtime.streams
    if not slots.take():
        await parts.aclose()
        detail = f"too many live video streams (at most {MAX_STREAMS}); try again later"
        return JSONResponse({"detail": detail}, status_code=503, headers={"Retry-After": "5"})

    async def recheck() -> Principal:
        return await _still_allowed(runtime, authorization, api_key, camera_id)

    return MjpegResponse(mjpeg_parts(parts, recheck, closing=slots.closing, limit=frames), slots)


async def _still_allowed(
    runtime: Runtime, authorization: str | None, api_key: str | None, camera_id: str
) -> Principal:
    """The stream's caller, if its credential still grants ``view`` on an existing camera."""
    principal = await principal_of_headers(runtime, authorization, api_key)
    if principal.restricted is not None:
        raise PermissionDeniedError("the sign-in is restricted again")
    principal.require("view")
    principal.require_camera(camera_id)
    await runtime.cameras.get_camera(camera_id)
    return principal

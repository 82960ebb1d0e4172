"""``/api/v1/cameras``: register, list, change and remove cameras; snapshot and status."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from argus.api.deps import CameraId, CamerasDep, RuntimeDep
from argus.api.schemas.cameras import (
    CameraCreate,
    CameraList,
    CameraPublic,
    CameraStatusPublic,
    CameraUpdate,
)
from argus.api.schemas.common import AUTH_RESPONSES, ERROR_RESPONSES
from argus.api.security import Caller, audited
from argus.ports.repositories import MAX_PAGE

__all__ = ["router"]

router = APIRouter(
    prefix="/cameras", tags=["cameras"], responses={**ERROR_RESPONSES, **AUTH_RESPONSES}
)

Limit = Annotated[int, Query(ge=1, le=MAX_PAGE, description="Page size.")]
Offset = Annotated[int, Query(ge=0, le=1_000_000, description="Items to skip.")]


@router.post("", status_code=201, summary="Register a camera")
async def create_camera(
    request: Request, body: CameraCreate, who: Caller, runtime: RuntimeDep
) -> CameraPublic:
    """Register a camera and start its pipeline (not for camera-scoped accounts)."""
    who.require_camera(None)
    camera = await runtime.cameras.create_camera(body.model_dump())
    await audited(runtime, request, who, "camera.create", f"camera:{camera.id}", name=camera.name)
    return CameraPublic.of(camera)


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
    request: Request, camera_id: CameraId, body: CameraUpdate, who: Caller, runtime: RuntimeDep
) -> CameraPublic:
    """Change some fields; only this camera's pipeline restarts."""
    changes = body.changes()
    camera = await runtime.cameras.update_camera(camera_id, changes)
    await audited(
        runtime, request, who, "camera.update", f"camera:{camera_id}", fields=sorted(changes)
    )
    return CameraPublic.of(camera)


@router.delete("/{camera_id}", status_code=204, summary="Remove a camera")
async def delete_camera(
    request: Request, camera_id: CameraId, who: Caller, runtime: RuntimeDep
) -> None:
    """Delete the camera with its lines and zones and stop its pipeline."""
    await runtime.cameras.delete_camera(camera_id)
    await audited(runtime, request, who, "camera.delete", f"camera:{camera_id}")


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

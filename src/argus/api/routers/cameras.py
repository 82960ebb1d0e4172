"""``/api/v1/cameras``: register, list, change and remove cameras; snapshot and status."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from argus.api.deps import CameraId, CamerasDep
from argus.api.schemas.cameras import (
    CameraCreate,
    CameraList,
    CameraPublic,
    CameraStatusPublic,
    CameraUpdate,
)
from argus.api.schemas.common import ERROR_RESPONSES
from argus.ports.repositories import MAX_PAGE

__all__ = ["router"]

router = APIRouter(prefix="/cameras", tags=["cameras"], responses=ERROR_RESPONSES)

Limit = Annotated[int, Query(ge=1, le=MAX_PAGE, description="Page size.")]
Offset = Annotated[int, Query(ge=0, le=1_000_000, description="Items to skip.")]


@router.post("", status_code=201, summary="Register a camera")
async def create_camera(body: CameraCreate, cameras: CamerasDep) -> CameraPublic:
    """Register a camera and start its pipeline."""
    return CameraPublic.of(await cameras.create_camera(body.model_dump()))


@router.get("", summary="List cameras")
async def list_cameras(
    cameras: CamerasDep,
    limit: Limit = 50,
    offset: Offset = 0,
    enabled: Annotated[bool | None, Query(description="Only (not) enabled cameras.")] = None,
    name: Annotated[
        str | None, Query(min_length=1, max_length=200, description="Name contains (any case).")
    ] = None,
) -> CameraList:
    """Cameras in creation order."""
    page = await cameras.list_cameras(limit=limit, offset=offset, enabled=enabled, name=name)
    items = [CameraPublic.of(c) for c in page.items]
    return CameraList(items=items, total=page.total, limit=limit, offset=offset)


@router.get("/{camera_id}", summary="Get a camera")
async def get_camera(camera_id: CameraId, cameras: CamerasDep) -> CameraPublic:
    """One camera; its credentials are never returned."""
    return CameraPublic.of(await cameras.get_camera(camera_id))


@router.patch("/{camera_id}", summary="Change a camera")
async def update_camera(
    camera_id: CameraId, body: CameraUpdate, cameras: CamerasDep
) -> CameraPublic:
    """Change some fields; only this camera's pipeline restarts."""
    return CameraPublic.of(await cameras.update_camera(camera_id, body.changes()))


@router.delete("/{camera_id}", status_code=204, summary="Remove a camera")
async def delete_camera(camera_id: CameraId, cameras: CamerasDep) -> None:
    """Delete the camera with its lines and zones and stop its pipeline."""
    await cameras.delete_camera(camera_id)


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

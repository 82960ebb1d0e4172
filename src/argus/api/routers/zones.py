"""``/api/v1/cameras/{camera_id}/zones``: polygon zones of a camera."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from argus.api.deps import CameraId, CamerasDep, ItemId, RuntimeDep
from argus.api.schemas.common import AUTH_RESPONSES, ERROR_RESPONSES
from argus.api.schemas.geometry import (
    ZoneCreate,
    ZoneList,
    ZonePublic,
    ZoneUpdate,
    create_fields,
)
from argus.api.security import Caller, audited
from argus.ports.repositories import MAX_PAGE

__all__ = ["router"]

router = APIRouter(
    prefix="/cameras/{camera_id}/zones",
    tags=["zones"],
    responses={**ERROR_RESPONSES, **AUTH_RESPONSES},
)


@router.post("", status_code=201, summary="Add a zone")
async def create_zone(
    request: Request, camera_id: CameraId, body: ZoneCreate, who: Caller, runtime: RuntimeDep
) -> ZonePublic:
    """Add a zone; the camera's pipeline restarts with it."""
    item = await runtime.cameras.create_zone(camera_id, create_fields(body))
    await audited(runtime, request, who, "zone.create", f"camera:{camera_id}/zone:{item.id}")
    return ZonePublic.of(item)


@router.get("", summary="List zones")
async def list_zones(
    camera_id: CameraId,
    cameras: CamerasDep,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> ZoneList:
    """The camera's zones by name."""
    page = await cameras.list_zones(camera_id, limit=limit, offset=offset)
    items = [ZonePublic.of(zone) for zone in page.items]
    return ZoneList(items=items, total=page.total, limit=limit, offset=offset)


@router.get("/{zone_id}", summary="Get a zone")
async def get_zone(camera_id: CameraId, zone_id: ItemId, cameras: CamerasDep) -> ZonePublic:
    """One zone of the camera."""
    return ZonePublic.of(await cameras.get_zone(camera_id, zone_id))


@router.patch("/{zone_id}", summary="Change a zone")
async def update_zone(
    request: Request,
    camera_id: CameraId,
    zone_id: ItemId,
    body: ZoneUpdate,
    who: Caller,
    runtime: RuntimeDep,
) -> ZonePublic:
    """Change some fields; the camera's pipeline restarts."""
    item = await runtime.cameras.update_zone(camera_id, zone_id, body.changes())
    await audited(runtime, request, who, "zone.update", f"camera:{camera_id}/zone:{zone_id}")
    return ZonePublic.of(item)


@router.delete("/{zone_id}", status_code=204, summary="Remove a zone")
async def delete_zone(
    request: Request, camera_id: CameraId, zone_id: ItemId, who: Caller, runtime: RuntimeDep
) -> None:
    """Delete the zone; the camera's pipeline restarts without it."""
    await runtime.cameras.delete_zone(camera_id, zone_id)
    await audited(runtime, request, who, "zone.delete", f"camera:{camera_id}/zone:{zone_id}")

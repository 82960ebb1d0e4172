"""``/api/v1/cameras/{camera_id}/zones``: polygon zones of a camera.

Each handler is one call to ``CameraService.zones`` (``SceneItems``, shared with the
lines), which checks the camera scope, writes with its audit record and
restarts the camera's pipeline.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from argus.api.deps import CameraId, CamerasDep, ItemId
from argus.api.schemas.common import AUTH_RESPONSES, ERROR_RESPONSES
from argus.api.schemas.geometry import ZoneCreate, ZoneList, ZonePublic, ZoneUpdate
from argus.api.security import Acting
from argus.ports.paging import MAX_PAGE

__all__ = ["router"]

router = APIRouter(
    prefix="/cameras/{camera_id}/zones",
    tags=["zones"],
    responses={**ERROR_RESPONSES, **AUTH_RESPONSES},
)


@router.post("", status_code=201, summary="Add a zone")
async def create_zone(
    camera_id: CameraId, body: ZoneCreate, actor: Acting, cameras: CamerasDep
) -> ZonePublic:
    """Add a zone; the camera's pipeline restarts with it."""
    return ZonePublic.of(await cameras.zones.create(actor, camera_id, body.command()))


@router.get("", summary="List zones")
async def list_zones(
    camera_id: CameraId,
    cameras: CamerasDep,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> ZoneList:
    """The camera's zones by name."""
    page = await cameras.zones.list(camera_id, limit=limit, offset=offset)
    items = [ZonePublic.of(item) for item in page.items]
    return ZoneList(items=items, total=page.total, limit=limit, offset=offset)


@router.get("/{zone_id}", summary="Get a zone")
async def get_zone(camera_id: CameraId, zone_id: ItemId, cameras: CamerasDep) -> ZonePublic:
    """One zone of the camera."""
    return ZonePublic.of(await cameras.zones.get(camera_id, zone_id))


@router.patch("/{zone_id}", summary="Change a zone")
async def update_zone(
    camera_id: CameraId, zone_id: ItemId, body: ZoneUpdate, actor: Acting, cameras: CamerasDep
) -> ZonePublic:
    """Change some fields; the camera's pipeline restarts."""
    changes = body.command()
    return ZonePublic.of(await cameras.zones.update(actor, camera_id, zone_id, changes))


@router.delete("/{zone_id}", status_code=204, summary="Remove a zone")
async def delete_zone(
    camera_id: CameraId, zone_id: ItemId, actor: Acting, cameras: CamerasDep
) -> None:
    """Delete the zone; the camera's pipeline restarts without it."""
    await cameras.zones.delete(actor, camera_id, zone_id)

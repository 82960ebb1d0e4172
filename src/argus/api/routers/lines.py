"""``/api/v1/cameras/{camera_id}/lines``: counting lines of a camera.

Each handler is one call to ``CameraService.lines`` (``SceneItems``, shared with the
zones), which checks the camera scope, writes with its audit record and
restarts the camera's pipeline.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from argus.api.deps import CameraId, CamerasDep, ItemId
from argus.api.schemas.common import AUTH_RESPONSES, ERROR_RESPONSES
from argus.api.schemas.geometry import LineCreate, LineList, LinePublic, LineUpdate
from argus.api.security import Acting
from argus.ports.paging import MAX_PAGE

__all__ = ["router"]

router = APIRouter(
    prefix="/cameras/{camera_id}/lines",
    tags=["lines"],
    responses={**ERROR_RESPONSES, **AUTH_RESPONSES},
)


@router.post("", status_code=201, summary="Add a line")
async def create_line(
    camera_id: CameraId, body: LineCreate, actor: Acting, cameras: CamerasDep
) -> LinePublic:
    """Add a line; the camera's pipeline restarts with it."""
    return LinePublic.of(await cameras.lines.create(actor, camera_id, body.command()))


@router.get("", summary="List lines")
async def list_lines(
    camera_id: CameraId,
    cameras: CamerasDep,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> LineList:
    """The camera's lines by name."""
    page = await cameras.lines.list(camera_id, limit=limit, offset=offset)
    items = [LinePublic.of(item) for item in page.items]
    return LineList(items=items, total=page.total, limit=limit, offset=offset)


@router.get("/{line_id}", summary="Get a line")
async def get_line(camera_id: CameraId, line_id: ItemId, cameras: CamerasDep) -> LinePublic:
    """One line of the camera."""
    return LinePublic.of(await cameras.lines.get(camera_id, line_id))


@router.patch("/{line_id}", summary="Change a line")
async def update_line(
    camera_id: CameraId, line_id: ItemId, body: LineUpdate, actor: Acting, cameras: CamerasDep
) -> LinePublic:
    """Change some fields; the camera's pipeline restarts."""
    changes = body.command()
    return LinePublic.of(await cameras.lines.update(actor, camera_id, line_id, changes))


@router.delete("/{line_id}", status_code=204, summary="Remove a line")
async def delete_line(
    camera_id: CameraId, line_id: ItemId, actor: Acting, cameras: CamerasDep
) -> None:
    """Delete the line; the camera's pipeline restarts without it."""
    await cameras.lines.delete(actor, camera_id, line_id)

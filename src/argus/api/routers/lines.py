"""``/api/v1/cameras/{camera_id}/lines``: counting lines of a camera."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from argus.api.deps import CameraId, CamerasDep, ItemId, RuntimeDep
from argus.api.schemas.common import AUTH_RESPONSES, ERROR_RESPONSES
from argus.api.schemas.geometry import (
    LineCreate,
    LineList,
    LinePublic,
    LineUpdate,
    create_fields,
)
from argus.api.security import Caller, audited
from argus.ports.repositories import MAX_PAGE

__all__ = ["router"]

router = APIRouter(
    prefix="/cameras/{camera_id}/lines",
    tags=["lines"],
    responses={**ERROR_RESPONSES, **AUTH_RESPONSES},
)


@router.post("", status_code=201, summary="Add a line")
async def create_line(
    request: Request, camera_id: CameraId, body: LineCreate, who: Caller, runtime: RuntimeDep
) -> LinePublic:
    """Add a line; the camera's pipeline restarts with it."""
    item = await runtime.cameras.create_line(camera_id, create_fields(body))
    await audited(runtime, request, who, "line.create", f"camera:{camera_id}/line:{item.id}")
    return LinePublic.of(item)


@router.get("", summary="List lines")
async def list_lines(
    camera_id: CameraId,
    cameras: CamerasDep,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> LineList:
    """The camera's lines by name."""
    page = await cameras.list_lines(camera_id, limit=limit, offset=offset)
    items = [LinePublic.of(line) for line in page.items]
    return LineList(items=items, total=page.total, limit=limit, offset=offset)


@router.get("/{line_id}", summary="Get a line")
async def get_line(camera_id: CameraId, line_id: ItemId, cameras: CamerasDep) -> LinePublic:
    """One line of the camera."""
    return LinePublic.of(await cameras.get_line(camera_id, line_id))


@router.patch("/{line_id}", summary="Change a line")
async def update_line(
    request: Request,
    camera_id: CameraId,
    line_id: ItemId,
    body: LineUpdate,
    who: Caller,
    runtime: RuntimeDep,
) -> LinePublic:
    """Change some fields; the camera's pipeline restarts."""
    item = await runtime.cameras.update_line(camera_id, line_id, body.changes())
    await audited(runtime, request, who, "line.update", f"camera:{camera_id}/line:{line_id}")
    return LinePublic.of(item)


@router.delete("/{line_id}", status_code=204, summary="Remove a line")
async def delete_line(
    request: Request, camera_id: CameraId, line_id: ItemId, who: Caller, runtime: RuntimeDep
) -> None:
    """Delete the line; the camera's pipeline restarts without it."""
    await runtime.cameras.delete_line(camera_id, line_id)
    await audited(runtime, request, who, "line.delete", f"camera:{camera_id}/line:{line_id}")

"""``/api/v1/nodes`` (edge nodes and their health) and ``/api/v1/event-types`` (the catalogue).

A camera-scoped reader sees every node but only the cameras of its scope in
it (assigned cameras and their health).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from argus.api.deps import RuntimeDep
from argus.api.schemas.common import AUTH_RESPONSES, ERROR_RESPONSES, Moment
from argus.api.schemas.edge import (
    EventTypeList,
    EventTypePublic,
    NodeDetail,
    NodeHealthPublic,
    NodeList,
    NodePublic,
)
from argus.api.security import Caller
from argus.domain.cameras import utc_now
from argus.domain.edge import EdgeNode, NodeHealth
from argus.domain.event_types import EVENT_TYPES
from argus.domain.identity import Principal
from argus.services.edge_nodes import HISTORY_LIMIT, NodeService

__all__ = ["router"]

router = APIRouter(tags=["nodes"], responses={**ERROR_RESPONSES, **AUTH_RESPONSES})

NodeId = Annotated[str, Path(min_length=1, max_length=64, description="Edge node id.")]


def get_nodes(runtime: RuntimeDep) -> NodeService:
    """The app's node service."""
    return runtime.nodes


NodesDep = Annotated[NodeService, Depends(get_nodes)]


def _scoped(report: NodeHealth, who: Principal) -> NodeHealth:
    return replace(report, cameras=tuple(c for c in report.cameras if who.sees_camera(c.camera_id)))


def _public(node: EdgeNode, cameras: list[str], who: Principal) -> NodePublic:
    report = node.last_report
    seen = replace(node, last_report=None if report is None else _scoped(report, who))
    return NodePublic.of(seen, [c for c in cameras if who.sees_camera(c)])


@router.get("/nodes", summary="List edge nodes")
async def list_nodes(nodes: NodesDep, who: Caller) -> NodeList:
    """Every registered node with its latest report and its cameras."""
    assigned = await nodes.cameras_by_node()
    items = [_public(n, assigned.get(n.node_id, []), who) for n in await nodes.list()]
    return NodeList(items=items)


@router.get("/nodes/{node_id}", summary="Get an edge node and its recent health")
async def get_node(
    node_id: NodeId,
    nodes: NodesDep,
    who: Caller,
    since: Annotated[
        Moment | None, Query(description="Reports at or after this (default: the last hour).")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=HISTORY_LIMIT)] = 120,
) -> NodeDetail:
    """The node with its health reports since ``since``, oldest first."""
    node = await nodes.get(node_id)
    start = since if since is not None else utc_now() - timedelta(hours=1)
    history = await nodes.history(node_id, start, limit=limit)
    assigned = await nodes.cameras_by_node()
    public = _public(node, assigned.get(node_id, []), who)
    reports = [NodeHealthPublic.of(_scoped(r, who)) for r in history]
    return NodeDetail(**public.model_dump(), history=reports)


@router.get("/event-types", summary="List the event types rules may use")
async def list_event_types() -> EventTypeList:
    """The catalogue: every type that can reach the rules, and which type each one clears."""
    return EventTypeList(items=[EventTypePublic.of(t) for t in EVENT_TYPES.values()])

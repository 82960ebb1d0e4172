"""``NodeService``: edge nodes as operators see them, and the status of the cameras they run.

The read side of edge nodes: the list, one node with its recent health
history, and the status of a camera assigned to a node (``camera_status``),
which ``CameraService.status`` uses for such cameras: the camera as the
node's latest report shows it, ``offline`` when the node is offline or never
reported, ``starting`` while the node has not reported the camera yet.
"""

from __future__ import annotations

import builtins
from datetime import datetime, timedelta
from typing import get_args

from argus.domain.cameras import Camera, utc_now
from argus.domain.edge import EdgeNode, NodeHealth
from argus.domain.errors import NotFoundError
from argus.ports.paging import MAX_PAGE, all_pages
from argus.ports.pipelines import CameraState, CameraStatus
from argus.ports.repositories import Database

__all__ = ["HISTORY_LIMIT", "NodeService"]

HISTORY_LIMIT = 1000
"""Most health reports one history request returns."""

_CAMERA_STATES: tuple[CameraState, ...] = get_args(CameraState)


class NodeService:
    """Edge nodes, their health history, and their cameras' status.

    Args:
        database: The store.
    """

    def __init__(self, database: Database) -> None:
        self._db = database

    async def list(self) -> builtins.list[EdgeNode]:
        """Every registered node, by id."""
        return sorted(await self._db.nodes.list(), key=lambda n: n.node_id)

    async def get(self, node_id: str) -> EdgeNode:
        """One node (``NotFoundError`` if unknown)."""
        node = await self._db.nodes.get(node_id)
        if node is None:
            raise NotFoundError(f"no edge node {node_id}")
        return node

    async def cameras_by_node(self) -> dict[str, builtins.list[str]]:
        """The ids of the cameras assigned to each node, sorted."""
        cameras = await all_pages(lambda skip: self._db.cameras.list(limit=MAX_PAGE, offset=skip))
        assigned: dict[str, builtins.list[str]] = {}
        for camera in sorted(cameras, key=lambda c: c.id):
            if camera.edge_node_id is not None:
                assigned.setdefault(camera.edge_node_id, []).append(camera.id)
        return assigned

    async def history(
        self, node_id: str, since: datetime, *, limit: int = HISTORY_LIMIT
    ) -> builtins.list[NodeHealth]:
        """The node's health reports at or after ``since`` (``NotFoundError`` if unknown)."""
        await self.get(node_id)
        return await self._db.nodes.history(node_id, since, min(limit, HISTORY_LIMIT))

    async def camera_status(self, camera: Camera) -> CameraStatus | None:
        """The status of a camera assigned to a node; ``None`` for a local camera."""
        node_id = camera.edge_node_id
        if node_id is None:
            return None
        node = await self._db.nodes.get(node_id)
        report = None if node is None else node.last_report
        if not camera.enabled:
            return _status(camera.id, "disabled", None, report)
        if node is None or report is None:
            return _status(camera.id, "offline", f"edge node {node_id} has not reported", report)
        if node.offline:
            return _status(camera.id, "offline", f"edge node {node_id} is offline", report)
        health = next((c for c in report.cameras if c.camera_id == camera.id), None)
        if health is None:
            return _status(camera.id, "starting", f"edge node {node_id} is starting it", report)
        state: CameraState = next((s for s in _CAMERA_STATES if s == health.state), "error")
        age = health.last_frame_age_s
        return CameraStatus(
            camera_id=camera.id,
            state=state,
            last_error=None,
            fps_in=health.fps_in,
            fps_decoded=health.fps_in,
            fps_detected=health.fps_analysed,
            updated_at=report.at,
            restarts=health.reconnects,
            tamper=health.tamper,
            tamper_score=health.tamper_score,
            decode_errors=health.decode_errors,
            last_frame_at=None if age is None else report.at - timedelta(seconds=age),
            target_fps=health.target_fps,
            granted_fps=health.granted_fps,
            saturated=health.saturated,
        )


def _status(
    camera_id: str, state: CameraState, error: str | None, report: NodeHealth | None
) -> CameraStatus:
    return CameraStatus(
        camera_id=camera_id,
        state=state,
        last_error=error,
        fps_in=0.0,
        fps_decoded=0.0,
        fps_detected=0.0,
        updated_at=report.at if report is not None else utc_now(),
    )

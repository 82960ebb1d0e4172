"""Registers cameras for ingest tests: ingest refuses events of unknown cameras."""

from __future__ import annotations

from argus.domain.cameras import Camera
from argus.ports.repositories import Database
from tests.node_support import NOON

__all__ = ["register_cameras"]


async def register_cameras(database: Database, *camera_ids: str) -> None:
    """Store disabled cameras with these ids (no pipeline runs for them)."""
    for n, camera_id in enumerate(camera_ids):
        await database.cameras.add(
            Camera(
                id=camera_id,
                name=f"Camera {camera_id}",
                stream_url=f"rtsp://192.0.2.{n % 250 + 1}:554/stream1",
                enabled=False,
                created_at=NOON,
                updated_at=NOON,
            )
        )

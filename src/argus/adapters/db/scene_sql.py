"""Cameras, their lines and their zones in SQL (see ``argus.ports.repositories``).

Camera credentials are stored only as AES-GCM ciphertext (``crypto``). Each
repository runs on a ``Bind``: the engine (one transaction per call) or the
connection of a unit of work.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

import sqlalchemy as sa

from argus.adapters.db._sqlcore import Bind, delete_by_id
from argus.adapters.db._sqlcore import count_rows as _count
from argus.adapters.db._sqlcore import transaction as _transaction
from argus.adapters.db.crypto import CredentialCipher
from argus.adapters.db.tables import cameras, lines, zones
from argus.domain.cameras import Camera, Line, Zone
from argus.domain.errors import (
    ConflictError,
    NotFoundError,
)
from argus.ports.paging import Page, check_page

__all__ = [
    "SqlCameraRepository",
    "SqlLineRepository",
    "SqlZoneRepository",
]

E = TypeVar("E", Line, Zone)
Row = sa.Row[Any]


class SqlCameraRepository:
    """Cameras in the ``cameras`` table (see ``CameraRepository``)."""

    def __init__(self, engine: Bind, cipher: CredentialCipher) -> None:
        self._engine = engine
        self._cipher = cipher

    def _row(self, camera: Camera) -> dict[str, Any]:
        secret = camera.credentials
        return {
            "id": camera.id,
            "name": camera.name,
            "location": camera.location,
            "stream_url": camera.stream_url,
            "credentials": None
            if secret is None
            else self._cipher.encrypt(secret, context=camera.id),
            "enabled": camera.enabled,
            "detect_fps": camera.detect_fps,
            "model": camera.model,
            "created_at": camera.created_at,
            "updated_at": camera.updated_at,
            "edge_node_id": camera.edge_node_id,
            "detect_stream_url": camera.detect_stream_url,
            "record": camera.record,
        }

    def _camera(self, row: Row) -> Camera:
        blob = row.credentials
        return Camera(
            id=row.id,
            name=row.name,
            stream_url=row.stream_url,
            location=row.location,
            credentials=None if blob is None else self._cipher.decrypt(blob, context=row.id),
            enabled=row.enabled,
            detect_fps=row.detect_fps,
            model=row.model,
            created_at=row.created_at,
            updated_at=row.updated_at,
            edge_node_id=row.edge_node_id,
            detect_stream_url=row.detect_stream_url,
            record=row.record,
        )

    async def add(self, camera: Camera) -> None:
        async with _transaction(self._engine, f"adding camera {camera.id}") as connection:
            await connection.execute(sa.insert(cameras).values(self._row(camera)))

    async def get(self, camera_id: str) -> Camera:
        async with _transaction(self._engine, "reading a camera") as connection:
            row = (
                await connection.execute(sa.select(cameras).where(cameras.c.id == camera_id))
            ).first()
        if row is None:
            raise NotFoundError(f"no camera {camera_id}")
        return self._camera(row)

    async def list(
        self,
        *,
        limit: int = 50,
        offset: int = 0,
        enabled: bool | None = None,
        edge_node_id: str | None = None,
    ) -> Page[Camera]:
        check_page(limit, offset)
        where: list[sa.ColumnElement[bool]] = []
        if enabled is not None:
            where.append(cameras.c.enabled.is_(enabled))
        if edge_node_id is not None:
            where.append(cameras.c.edge_node_id == edge_node_id)
        query = (
            sa.select(cameras)
            .where(*where)
            .order_by(cameras.c.created_at, cameras.c.id)
            .limit(limit)
            .offset(offset)
        )
        async with _transaction(self._engine, "listing cameras") as connection:
            total = await _count(connection, cameras, *where)
            rows = (await connection.execute(query)).all()
        return Page(tuple(self._camera(row) for row in rows), total)

    async def update(self, camera: Camera) -> None:
        values = self._row(camera)
        del values["id"]
        async with _transaction(self._engine, f"updating camera {camera.id}") as connection:
            result = await connection.execute(
                sa.update(cameras).where(cameras.c.id == camera.id).values(values)
            )
        if result.rowcount == 0:
            raise NotFoundError(f"no camera {camera.id}")

    async def delete(self, camera_id: str) -> None:
        await delete_by_id(self._engine, cameras, "camera", camera_id)


def _line_row(line: Line) -> dict[str, Any]:
    return {
        "geometry": {"start": list(line.start), "end": list(line.end)},
        "settings": {
            "in_label": line.in_label,
            "out_label": line.out_label,
            "expected_direction": line.expected_direction,
            "anchors": list(line.anchors),
            "min_crossing_frames": line.min_crossing_frames,
            "classes": None if line.classes is None else list(line.classes),
            "counting": line.counting,
            "band_px": line.band_px,
            "stitch_seconds": line.stitch_seconds,
        },
    }


def _line(row: Row) -> Line:
    geometry, settings = row.geometry, row.settings
    return Line(
        id=row.id,
        camera_id=row.camera_id,
        name=row.name,
        start=tuple(geometry["start"]),
        end=tuple(geometry["end"]),
        in_label=settings["in_label"],
        out_label=settings["out_label"],
        expected_direction=settings["expected_direction"],
        anchors=tuple(settings["anchors"]),
        min_crossing_frames=settings["min_crossing_frames"],
        classes=None if settings["classes"] is None else tuple(settings["classes"]),
        # Lines stored before these settings existed count the way new lines do.
        counting=settings.get("counting", "robust"),
        band_px=settings.get("band_px", 0.0),
        stitch_seconds=settings.get("stitch_seconds", 1.0),
    )


def _zone_row(zone: Zone) -> dict[str, Any]:
    return {
        "geometry": {"polygon": [list(point) for point in zone.polygon]},
        "settings": {
            "anchors": list(zone.anchors),
            "loiter_seconds": zone.loiter_seconds,
            "crowd_threshold": zone.crowd_threshold,
            "crowd_clear_seconds": zone.crowd_clear_seconds,
            "min_frames": zone.min_frames,
            "classes": None if zone.classes is None else list(zone.classes),
            "criticality": zone.criticality,
        },
    }


def _zone(row: Row) -> Zone:
    geometry, settings = row.geometry, row.settings
    return Zone(
        id=row.id,
        camera_id=row.camera_id,
        name=row.name,
        polygon=tuple(tuple(point) for point in geometry["polygon"]),
        anchors=tuple(settings["anchors"]),
        loiter_seconds=settings["loiter_seconds"],
        crowd_threshold=settings["crowd_threshold"],
        crowd_clear_seconds=settings["crowd_clear_seconds"],
        min_frames=settings["min_frames"],
        classes=None if settings["classes"] is None else tuple(settings["classes"]),
        criticality=settings["criticality"],
    )


class _PerCameraSql(Generic[E]):
    """Lines or zones: same table shape (id, camera, name, geometry, settings)."""

    kind = "entity"

    def __init__(
        self,
        engine: Bind,
        table: sa.Table,
        to_row: Callable[[E], dict[str, Any]],
        from_row: Callable[[Row], E],
    ) -> None:
        self._engine = engine
        self._table = table
        self._to_row: Callable[[E], dict[str, Any]] = to_row
        self._from_row: Callable[[Row], E] = from_row

    async def add(self, entity: E) -> None:
        what = f"adding {self.kind} {entity.name!r} to camera {entity.camera_id}"
        async with _transaction(self._engine, what) as connection:
            if not await connection.scalar(
                sa.select(sa.literal(1)).where(cameras.c.id == entity.camera_id)
            ):
                raise NotFoundError(f"no camera {entity.camera_id}")
            values = {"id": entity.id, "camera_id": entity.camera_id, "name": entity.name}
            await connection.execute(sa.insert(self._table).values(values | self._to_row(entity)))

    async def get(self, entity_id: str) -> E:
        table = self._table
        async with _transaction(self._engine, f"reading a {self.kind}") as connection:
            row = (
                await connection.execute(sa.select(table).where(table.c.id == entity_id))
            ).first()
        if row is None:
            raise NotFoundError(f"no {self.kind} {entity_id}")
        return self._from_row(row)

    async def list(self, camera_id: str, *, limit: int = 100, offset: int = 0) -> Page[E]:
        check_page(limit, offset)
        table = self._table
        where = table.c.camera_id == camera_id
        query = (
            sa.select(table)
            .where(where)
            .order_by(table.c.name, table.c.id)
            .limit(limit)
            .offset(offset)
        )
        async with _transaction(self._engine, f"listing {self.kind}s") as connection:
            total = await _count(connection, table, where)
            rows = (await connection.execute(query)).all()
        return Page(tuple(self._from_row(row) for row in rows), total)

    async def update(self, entity: E) -> None:
        table = self._table
        async with _transaction(self._engine, f"updating {self.kind} {entity.id}") as connection:
            camera_id = await connection.scalar(
                sa.select(table.c.camera_id).where(table.c.id == entity.id)
            )
            if camera_id is None:
                raise NotFoundError(f"no {self.kind} {entity.id}")
            if camera_id != entity.camera_id:
                raise ConflictError(f"a {self.kind} cannot move to another camera")
            await connection.execute(
                sa.update(table)
                .where(table.c.id == entity.id)
                .values({"name": entity.name} | self._to_row(entity))
            )

    async def delete(self, entity_id: str) -> None:
        await delete_by_id(self._engine, self._table, self.kind, entity_id)


class SqlLineRepository(_PerCameraSql[Line]):
    """Lines in the ``lines`` table (see ``LineRepository``)."""

    kind = "line"

    def __init__(self, engine: Bind) -> None:
        super().__init__(engine, lines, _line_row, _line)


class SqlZoneRepository(_PerCameraSql[Zone]):
    """Zones in the ``zones`` table (see ``ZoneRepository``)."""

    kind = "zone"

    def __init__(self, engine: Bind) -> None:
        super().__init__(engine, zones, _zone_row, _zone)

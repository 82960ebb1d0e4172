"""Cameras, their lines and zones in dicts (see ``argus.ports.repositories``).

``MemoryState`` holds the tables the scene and the event store share (a camera
deleted takes its lines and zones with it).
"""

from __future__ import annotations

import builtins
from collections.abc import Callable
from typing import Generic, TypeVar

from argus.domain.cameras import Camera, Line, Zone
from argus.domain.errors import ConflictError, NotFoundError, StorageError
from argus.domain.events import Envelope
from argus.ports.paging import Page, check_page

__all__ = [
    "MemoryCameraRepository",
    "MemoryLineRepository",
    "MemoryState",
    "MemoryZoneRepository",
]

T = TypeVar("T")
E = TypeVar("E", Line, Zone)


class MemoryState:
    """The tables of the scene and the event store, and whether the store is closed."""

    def __init__(self) -> None:
        self.cameras: dict[str, Camera] = {}
        self.lines: dict[str, Line] = {}
        self.zones: dict[str, Zone] = {}
        self.events: dict[str, Envelope] = {}
        self.closed = False

    def check(self) -> None:
        """Raise ``StorageError`` once the store is closed."""
        if self.closed:
            raise StorageError("the database is closed")


def _page(items: builtins.list[T], limit: int, offset: int) -> Page[T]:
    check_page(limit, offset)
    return Page(tuple(items[offset : offset + limit]), len(items))


class MemoryCameraRepository:
    """Cameras in a dict (see ``CameraRepository``)."""

    def __init__(self, state: MemoryState) -> None:
        self._state = state

    @property
    def state(self) -> MemoryState:
        """The tables it shares with the lines, zones and events."""
        return self._state

    async def add(self, camera: Camera) -> None:
        self._state.check()
        if camera.id in self._state.cameras:
            raise ConflictError(f"camera {camera.id} already exists")
        self._state.cameras[camera.id] = camera

    async def get(self, camera_id: str) -> Camera:
        self._state.check()
        try:
            return self._state.cameras[camera_id]
        except KeyError:
            raise NotFoundError(f"no camera {camera_id}") from None

    async def list(
        self,
        *,
        limit: int = 50,
        offset: int = 0,
        enabled: bool | None = None,
        edge_node_id: str | None = None,
    ) -> Page[Camera]:
        self._state.check()
        cameras = sorted(self._state.cameras.values(), key=lambda c: (c.created_at, c.id))
        if enabled is not None:
            cameras = [c for c in cameras if c.enabled is enabled]
        if edge_node_id is not None:
            cameras = [c for c in cameras if c.edge_node_id == edge_node_id]
        return _page(cameras, limit, offset)

    async def update(self, camera: Camera) -> None:
        await self.get(camera.id)
        self._state.cameras[camera.id] = camera

    async def delete(self, camera_id: str) -> None:
        await self.get(camera_id)
        del self._state.cameras[camera_id]
        for table in (self._state.lines, self._state.zones):
            for key in [k for k, v in table.items() if v.camera_id == camera_id]:
                del table[key]


class _PerCamera(Generic[E]):
    """Lines or zones: entities with an id, a camera and a per-camera unique name."""

    kind = "entity"

    def __init__(self, state: MemoryState, table: Callable[[MemoryState], dict[str, E]]) -> None:
        self._state = state
        self._table: dict[str, E] = table(state)

    def _check_name(self, entity: E) -> None:
        for other in self._table.values():
            if (other.camera_id, other.name) == (entity.camera_id, entity.name) and (
                other.id != entity.id
            ):
                raise ConflictError(
                    f"camera {entity.camera_id} already has a {self.kind} named {entity.name!r}"
                )

    async def add(self, entity: E) -> None:
        self._state.check()
        if entity.camera_id not in self._state.cameras:
            raise NotFoundError(f"no camera {entity.camera_id}")
        if entity.id in self._table:
            raise ConflictError(f"{self.kind} {entity.id} already exists")
        self._check_name(entity)
        self._table[entity.id] = entity

    async def get(self, entity_id: str) -> E:
        self._state.check()
        try:
            return self._table[entity_id]
        except KeyError:
            raise NotFoundError(f"no {self.kind} {entity_id}") from None

    async def list(self, camera_id: str, *, limit: int = 100, offset: int = 0) -> Page[E]:
        self._state.check()
        items = sorted(
            (e for e in self._table.values() if e.camera_id == camera_id),
            key=lambda e: (e.name, e.id),
        )
        return _page(items, limit, offset)

    async def update(self, entity: E) -> None:
        old = await self.get(entity.id)
        if old.camera_id != entity.camera_id:
            raise ConflictError(f"a {self.kind} cannot move to another camera")
        self._check_name(entity)
        self._table[entity.id] = entity

    async def delete(self, entity_id: str) -> None:
        await self.get(entity_id)
        del self._table[entity_id]


class MemoryLineRepository(_PerCamera[Line]):
    """Lines in a dict (see ``LineRepository``)."""

    kind = "line"

    def __init__(self, state: MemoryState) -> None:
        super().__init__(state, lambda s: s.lines)


class MemoryZoneRepository(_PerCamera[Zone]):
    """Zones in a dict (see ``ZoneRepository``)."""

    kind = "zone"

    def __init__(self, state: MemoryState) -> None:
        super().__init__(state, lambda s: s.zones)

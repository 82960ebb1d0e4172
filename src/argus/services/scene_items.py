"""Lines and zones of a camera: one implementation for both kinds of scene item.

``SceneItems`` is the write boundary of one kind (``kind`` ``line`` or
``zone``): create, list, get, change and delete, each write with its audit
record (``line.create``, ``zone.update``, ...) in one unit of work, and the
camera's pipeline restarted afterwards with its full, fresh configuration.
The commands (``NewLine``, ``LineChanges``, ``NewZone``, ``ZoneChanges``)
build and change the domain values.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, Literal, Protocol, TypeVar

from argus.domain.actor import Actor
from argus.domain.cameras import CountingMode, ExpectedDirection, Line, Point, Zone, new_id
from argus.domain.errors import NotFoundError
from argus.ports.paging import Page, check_page
from argus.ports.repositories import Database, LineRepository, ZoneRepository
from argus.ports.unit_of_work import UnitOfWork
from argus.services.writes import UNSET, Unset, record, require_camera, set_fields

__all__ = [
    "LineChanges",
    "NewLine",
    "NewZone",
    "SceneItems",
    "ZoneChanges",
    "line_items",
    "zone_items",
]

E = TypeVar("E", Line, Zone)
E_co = TypeVar("E_co", Line, Zone, covariant=True)

_ANCHORS: tuple[str, ...] = ("BOTTOM_CENTER",)


@dataclass(frozen=True, slots=True)
class NewLine:
    """A counting line to add to a camera (see ``Line`` for the fields)."""

    name: str
    start: Point
    end: Point
    in_label: str = "in"
    out_label: str = "out"
    expected_direction: ExpectedDirection | None = None
    anchors: tuple[str, ...] = _ANCHORS
    min_crossing_frames: int = 2
    classes: tuple[str, ...] | None = None
    counting: CountingMode = "robust"
    band_px: float = 0.0
    stitch_seconds: float = 1.0

    def build(self, item_id: str, camera_id: str) -> Line:
        """The line with its id and camera."""
        return Line(id=item_id, camera_id=camera_id, **set_fields(self))


@dataclass(frozen=True, slots=True)
class LineChanges:
    """Fields of a line to change; ``UNSET`` fields keep their value."""

    name: str | Unset = UNSET
    start: Point | Unset = UNSET
    end: Point | Unset = UNSET
    in_label: str | Unset = UNSET
    out_label: str | Unset = UNSET
    expected_direction: ExpectedDirection | Unset | None = UNSET
    anchors: tuple[str, ...] | Unset = UNSET
    min_crossing_frames: int | Unset = UNSET
    classes: tuple[str, ...] | Unset | None = UNSET
    counting: CountingMode | Unset = UNSET
    band_px: float | Unset = UNSET
    stitch_seconds: float | Unset = UNSET

    def apply(self, line: Line) -> Line:
        """The line with these changes."""
        return dataclasses.replace(line, **set_fields(self))


@dataclass(frozen=True, slots=True)
class NewZone:
    """A polygon zone to add to a camera (see ``Zone`` for the fields)."""

    name: str
    polygon: tuple[Point, ...]
    anchors: tuple[str, ...] = _ANCHORS
    loiter_seconds: float | None = None
    crowd_threshold: int | None = None
    crowd_clear_seconds: float = 10.0
    min_frames: int = 1
    classes: tuple[str, ...] | None = None
    criticality: float = 0.5

    def build(self, item_id: str, camera_id: str) -> Zone:
        """The zone with its id and camera."""
        return Zone(id=item_id, camera_id=camera_id, **set_fields(self))


@dataclass(frozen=True, slots=True)
class ZoneChanges:
    """Fields of a zone to change; ``UNSET`` fields keep their value."""

    name: str | Unset = UNSET
    polygon: tuple[Point, ...] | Unset = UNSET
    anchors: tuple[str, ...] | Unset = UNSET
    loiter_seconds: float | Unset | None = UNSET
    crowd_threshold: int | Unset | None = UNSET
    crowd_clear_seconds: float | Unset = UNSET
    min_frames: int | Unset = UNSET
    classes: tuple[str, ...] | Unset | None = UNSET
    criticality: float | Unset = UNSET

    def apply(self, zone: Zone) -> Zone:
        """The zone with these changes."""
        return dataclasses.replace(zone, **set_fields(self))


class NewItem(Protocol[E_co]):
    """A command that builds a new scene item."""

    def build(self, item_id: str, camera_id: str) -> E_co:
        """The item with its id and camera."""
        ...


class ItemChanges(Protocol[E]):
    """A command that changes a scene item."""

    def apply(self, item: E) -> E:
        """The item with the changes."""
        ...


class ItemRepository(Protocol[E]):
    """The repository of one kind of scene item (``LineRepository``, ``ZoneRepository``)."""

    async def add(self, item: E) -> None:
        """Store a new item."""
        ...

    async def get(self, item_id: str) -> E:
        """One item."""
        ...

    async def list(self, camera_id: str, *, limit: int = 100, offset: int = 0) -> Page[E]:
        """A camera's items by name."""
        ...

    async def update(self, item: E) -> None:
        """Replace a stored item."""
        ...

    async def delete(self, item_id: str) -> None:
        """Delete an item."""
        ...


Reapply = Callable[[str], Awaitable[None]]
"""Restarts a camera's pipeline with its stored configuration."""


class SceneItems(Generic[E]):
    """The lines or the zones of cameras (see the module docstring).

    Args:
        kind: ``line`` or ``zone``: the audit actions and error messages.
        database: The store.
        repository: Picks the kind's repository of the store or of a unit of work.
        reapply: Restarts a camera's pipeline after a change.
    """

    def __init__(
        self,
        kind: Literal["line", "zone"],
        database: Database,
        repository: Callable[[Database | UnitOfWork], ItemRepository[E]],
        reapply: Reapply,
    ) -> None:
        self.kind = kind
        self._db = database
        self._repository: Callable[[Database | UnitOfWork], ItemRepository[E]] = repository
        self._reapply = reapply

    async def create(self, actor: Actor, camera_id: str, command: NewItem[E]) -> E:
        """Add an item to a camera and restart its pipeline.

        Raises:
            PermissionDeniedError: The camera is outside the actor's scope.
            NotFoundError: Unknown camera.
            ConflictError: The camera has an item of that name.
            ValidationError: The item breaks its invariants.
        """
        require_camera(actor, camera_id)
        item = command.build(new_id(), camera_id)
        async with self._db.unit_of_work() as unit:
            await self._repository(unit).add(item)
            await record(unit.audit, actor, f"{self.kind}.create", self._target(item))
        await self._reapply(camera_id)
        return item

    async def list(self, camera_id: str, *, limit: int = 100, offset: int = 0) -> Page[E]:
        """A camera's items by name (``NotFoundError`` for an unknown camera)."""
        check_page(limit, offset)
        await self._db.cameras.get(camera_id)
        return await self._repository(self._db).list(camera_id, limit=limit, offset=offset)

    async def get(self, camera_id: str, item_id: str) -> E:
        """One item of a camera (``NotFoundError`` if it is not that camera's)."""
        return self._owned(await self._repository(self._db).get(item_id), camera_id)

    async def update(
        self, actor: Actor, camera_id: str, item_id: str, changes: ItemChanges[E]
    ) -> E:
        """Change some fields of an item and restart its camera's pipeline."""
        require_camera(actor, camera_id)
        async with self._db.unit_of_work() as unit:
            items = self._repository(unit)
            item = changes.apply(self._owned(await items.get(item_id), camera_id))
            await items.update(item)
            await record(unit.audit, actor, f"{self.kind}.update", self._target(item))
        await self._reapply(camera_id)
        return item

    async def delete(self, actor: Actor, camera_id: str, item_id: str) -> None:
        """Delete an item and restart its camera's pipeline."""
        require_camera(actor, camera_id)
        async with self._db.unit_of_work() as unit:
            items = self._repository(unit)
            item = self._owned(await items.get(item_id), camera_id)
            await items.delete(item_id)
            await record(unit.audit, actor, f"{self.kind}.delete", self._target(item))
        await self._reapply(camera_id)

    def _owned(self, item: E, camera_id: str) -> E:
        if item.camera_id != camera_id:
            raise NotFoundError(f"camera {camera_id} has no {self.kind} {item.id}")
        return item

    def _target(self, item: E) -> str:
        return f"camera:{item.camera_id}/{self.kind}:{item.id}"


def _lines(store: Database | UnitOfWork) -> LineRepository:
    return store.lines


def _zones(store: Database | UnitOfWork) -> ZoneRepository:
    return store.zones


def line_items(database: Database, reapply: Reapply) -> SceneItems[Line]:
    """The lines of cameras."""
    return SceneItems("line", database, _lines, reapply)


def zone_items(database: Database, reapply: Reapply) -> SceneItems[Zone]:
    """The zones of cameras."""
    return SceneItems("zone", database, _zones, reapply)

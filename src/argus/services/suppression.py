"""Snoozes and maintenance windows as a use case (``domain.alerts.suppression``).

``SuppressionService`` is part of ``AlertService`` (``alerts.suppression``).
An operator snoozes a rule and/or a camera until a time; an administrator sets
maintenance windows. Each change and its audit record (``snooze.create``,
``snooze.delete``, ``maintenance_window.create``, ``maintenance_window.delete``)
commit in one unit of work.

Raising an alert asks ``reason``: the active snoozes and windows are cached
for ``refresh_seconds`` (like the rules), so a storm costs no query per alert;
a change made through this service takes effect at once on this server, one
made on another server within ``refresh_seconds``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from argus.domain.actor import Actor
from argus.domain.alerts.suppression import MaintenanceWindow, Snooze, suppression_reason
from argus.domain.cameras import new_id
from argus.domain.errors import ValidationError
from argus.domain.schedule import Schedule
from argus.ports.paging import MAX_PAGE, Page, all_pages, check_page
from argus.ports.repositories import Database
from argus.services.writes import record, require_camera

__all__ = ["MAX_SNOOZE", "NewSnooze", "NewWindow", "SuppressionService"]

T = TypeVar("T")

MAX_SNOOZE = timedelta(days=30)
"""The longest snooze (a longer silence is a disabled rule or a maintenance window)."""

MAX_WINDOW = timedelta(days=366)
"""The longest maintenance window."""


@dataclass(frozen=True, slots=True)
class NewSnooze:
    """A snooze to set (see ``Snooze``)."""

    until: datetime
    rule_id: str | None = None
    camera_id: str | None = None
    reason: str = ""


@dataclass(frozen=True, slots=True)
class NewWindow:
    """A maintenance window to set (see ``MaintenanceWindow``)."""

    name: str
    start: datetime
    end: datetime
    camera_ids: tuple[str, ...] = ()
    reason: str = ""
    recurrence: Schedule | None = None


def _page(items: list[T], limit: int, offset: int) -> Page[T]:
    check_page(limit, offset)
    return Page(tuple(items[offset : offset + limit]), len(items))


class SuppressionService:
    """Snoozes and maintenance windows over one store (see the module docstring).

    Args:
        database: The store.
        clock: The current UTC time.
        refresh_seconds: How stale the cached active set may get.
    """

    def __init__(
        self, database: Database, clock: Callable[[], datetime], refresh_seconds: float = 2.0
    ) -> None:
        self._db = database
        self._clock = clock
        self._refresh_seconds = refresh_seconds
        self._loaded_at: float | None = None
        self._snoozes: tuple[Snooze, ...] = ()
        self._windows: tuple[MaintenanceWindow, ...] = ()

    async def reason(
        self, rule_id: str, rule_name: str, camera_id: str, at: datetime
    ) -> str | None:
        """Why an alert raised now is not notified, or ``None``."""
        if self._loaded_at is None or time.monotonic() - self._loaded_at > self._refresh_seconds:
            await self._load()
        return suppression_reason(
            rule_id, rule_name, camera_id, at, snoozes=self._snoozes, windows=self._windows
        )

    async def _load(self) -> None:
        now = self._clock()
        suppressions = self._db.suppressions
        self._snoozes = tuple(
            await all_pages(
                lambda skip: suppressions.list_snoozes(active_at=now, limit=MAX_PAGE, offset=skip)
            )
        )
        self._windows = tuple(
            await all_pages(
                lambda skip: suppressions.list_windows(active_at=now, limit=MAX_PAGE, offset=skip)
            )
        )
        self._loaded_at = time.monotonic()

    def _forget(self) -> None:
        self._loaded_at = None

    # --- snoozes ----------------------------------------------------------------------------

    async def snooze(self, actor: Actor, command: NewSnooze) -> Snooze:
        """Set a snooze (audited ``snooze.create``).

        Raises:
            ValidationError: It names neither a rule nor a camera, ends in the
                past or more than ``MAX_SNOOZE`` ahead.
            NotFoundError: The rule or camera is unknown.
            PermissionDeniedError: The camera (or, for a rule on every camera,
                any camera) is outside the actor's scope.
        """
        now = self._clock()
        if command.until - now > MAX_SNOOZE:
            raise ValidationError(f"a snooze lasts at most {MAX_SNOOZE.days} days")
        require_camera(actor, command.camera_id)
        async with self._db.unit_of_work() as unit:
            if command.rule_id is not None:
                await unit.rules.get(command.rule_id)
            if command.camera_id is not None:
                await unit.cameras.get(command.camera_id)
            snooze = Snooze(
                id=new_id(),
                rule_id=command.rule_id,
                camera_id=command.camera_id,
                until=command.until,
                reason=command.reason,
                created_by=actor.audit_name,
                created_at=now,
            )
            await unit.suppressions.add_snooze(snooze)
            await record(
                unit.audit,
                actor,
                "snooze.create",
                f"snooze:{snooze.id}",
                rule=snooze.rule_id,
                camera=snooze.camera_id,
            )
        self._forget()
        return snooze

    async def unsnooze(self, actor: Actor, snooze_id: str) -> Snooze:
        """End a snooze now by deleting it (audited ``snooze.delete``; ``NotFoundError``)."""
        async with self._db.unit_of_work() as unit:
            snooze = await unit.suppressions.delete_snooze(snooze_id)
            require_camera(actor, snooze.camera_id)
            await record(unit.audit, actor, "snooze.delete", f"snooze:{snooze_id}")
        self._forget()
        return snooze

    async def list_snoozes(
        self,
        *,
        active: bool = True,
        limit: int = 100,
        offset: int = 0,
        camera_ids: tuple[str, ...] | None = None,
    ) -> Page[Snooze]:
        """Snoozes, latest end first; only those not ended yet when ``active``.

        ``camera_ids`` (a caller's camera scope) keeps the snoozes of those
        cameras and those of a rule on every camera.
        """
        at = self._clock() if active else None
        repo = self._db.suppressions
        if camera_ids is None:
            return await repo.list_snoozes(active_at=at, limit=limit, offset=offset)
        every = await all_pages(
            lambda skip: repo.list_snoozes(active_at=at, limit=MAX_PAGE, offset=skip)
        )
        seen = [s for s in every if s.camera_id is None or s.camera_id in camera_ids]
        return _page(seen, limit, offset)

    # --- maintenance windows ----------------------------------------------------------------

    async def add_window(self, actor: Actor, command: NewWindow) -> MaintenanceWindow:
        """Set a maintenance window (audited ``maintenance_window.create``).

        Raises:
            ValidationError: It ends before it starts, has ended already, or
                lasts more than ``MAX_WINDOW``.
            NotFoundError: A camera is unknown.
        """
        now = self._clock()
        if command.end <= now:
            raise ValidationError("the maintenance window has ended already")
        if command.end - command.start > MAX_WINDOW:
            raise ValidationError(f"a maintenance window lasts at most {MAX_WINDOW.days} days")
        for camera_id in command.camera_ids or (None,):
            require_camera(actor, camera_id)
        async with self._db.unit_of_work() as unit:
            for camera_id in command.camera_ids:
                await unit.cameras.get(camera_id)
            window = MaintenanceWindow(
                id=new_id(),
                name=command.name,
                camera_ids=command.camera_ids,
                start=command.start,
                end=command.end,
                reason=command.reason,
                created_by=actor.audit_name,
                created_at=now,
                recurrence=command.recurrence,
            )
            await unit.suppressions.add_window(window)
            target = f"maintenance_window:{window.id}"
            await record(unit.audit, actor, "maintenance_window.create", target, name=window.name)
        self._forget()
        return window

    async def delete_window(self, actor: Actor, window_id: str) -> MaintenanceWindow:
        """Delete a window (audited ``maintenance_window.delete``; ``NotFoundError``)."""
        async with self._db.unit_of_work() as unit:
            window = await unit.suppressions.delete_window(window_id)
            target = f"maintenance_window:{window_id}"
            await record(unit.audit, actor, "maintenance_window.delete", target)
        self._forget()
        return window

    async def list_windows(
        self,
        *,
        active: bool = True,
        limit: int = 100,
        offset: int = 0,
        camera_ids: tuple[str, ...] | None = None,
    ) -> Page[MaintenanceWindow]:
        """Windows, latest start first; only those not ended yet when ``active``.

        ``camera_ids`` (a caller's camera scope) keeps the windows of every
        camera and those naming one of these.
        """
        at = self._clock() if active else None
        repo = self._db.suppressions
        if camera_ids is None:
            return await repo.list_windows(active_at=at, limit=limit, offset=offset)
        every = await all_pages(
            lambda skip: repo.list_windows(active_at=at, limit=MAX_PAGE, offset=skip)
        )
        scope = set(camera_ids)
        seen = [w for w in every if not w.camera_ids or scope.intersection(w.camera_ids)]
        return _page(seen, limit, offset)

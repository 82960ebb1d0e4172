"""Alert rules as a use case: the write boundary of rules and the engine's cached rule set.

``RuleService`` stores rules (each write with its audit record, ``rule.create``,
``rule.update``, ``rule.delete``, in one unit of work) and keeps the enabled
rules loaded in a ``RuleEngine`` for ``AlertService.on_event``, reloading them
when stale (rules changed on another server) or right after a change here.

A camera-scoped actor sees the rules of its cameras only: another rule (a rule
of every camera included) answers as an unknown id.

A rule's line or zone must exist on its camera (``rule_scene.check_rule_scene``):
checked on create, and on update when the camera, line or zone changes.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from argus.domain.actor import Actor
from argus.domain.cameras import new_id
from argus.domain.events import Envelope
from argus.domain.exclusion_areas import Area
from argus.domain.rules import BoundSeverity, CooldownScope, Match, Rule, RuleEngine, Schedule
from argus.ports.paging import MAX_PAGE, Page, all_pages
from argus.ports.repositories import Database
from argus.services.rule_scene import check_rule_scene
from argus.services.writes import UNSET, Unset, record, require_camera, require_visible, set_fields

__all__ = ["NewRule", "RuleChanges", "RuleService"]

Direction = Literal["in", "out"]


@dataclass(frozen=True, slots=True)
class NewRule:
    """A rule to store (see ``Rule`` for the fields)."""

    name: str
    description: str = ""
    enabled: bool = True
    camera_id: str | None = None
    event_types: tuple[str, ...] = ()
    classes: tuple[str, ...] = ()
    line: str | None = None
    direction: Direction | None = None
    zone: str | None = None
    min_dwell_seconds: float | None = None
    min_occupancy: int | None = None
    min_confidence: float | None = None
    count: int | None = None
    window_seconds: float | None = None
    schedule: Schedule | None = None
    cooldown_seconds: float = 0.0
    cooldown_scope: CooldownScope = "track"
    weight: float = 0.5
    severity_floor: BoundSeverity | None = None
    severity_ceiling: BoundSeverity | None = None
    exclude_areas: tuple[Area, ...] = ()


@dataclass(frozen=True, slots=True)
class RuleChanges:
    """Fields of a rule to change; ``UNSET`` keeps one, ``None`` clears a condition."""

    name: str | Unset = UNSET
    description: str | Unset = UNSET
    enabled: bool | Unset = UNSET
    camera_id: str | Unset | None = UNSET
    event_types: tuple[str, ...] | Unset = UNSET
    classes: tuple[str, ...] | Unset = UNSET
    line: str | Unset | None = UNSET
    direction: Direction | Unset | None = UNSET
    zone: str | Unset | None = UNSET
    min_dwell_seconds: float | Unset | None = UNSET
    min_occupancy: int | Unset | None = UNSET
    min_confidence: float | Unset | None = UNSET
    count: int | Unset | None = UNSET
    window_seconds: float | Unset | None = UNSET
    schedule: Schedule | Unset | None = UNSET
    cooldown_seconds: float | Unset = UNSET
    cooldown_scope: CooldownScope | Unset = UNSET
    weight: float | Unset = UNSET
    severity_floor: BoundSeverity | Unset | None = UNSET
    severity_ceiling: BoundSeverity | Unset | None = UNSET
    exclude_areas: tuple[Area, ...] | Unset = UNSET


class RuleService:
    """Stored rules and the engine that evaluates events against the enabled ones.

    Args:
        database: The store.
        clock: The current UTC time.
        refresh_seconds: How stale the cached rule set may get before
            ``refresh`` reloads it.
    """

    def __init__(
        self, database: Database, clock: Callable[[], datetime], refresh_seconds: float
    ) -> None:
        self._db = database
        self._clock = clock
        self._refresh_seconds = refresh_seconds
        self._engine = RuleEngine()
        self._loaded_at: float | None = None

    async def create(self, actor: Actor, command: NewRule) -> Rule:
        """Store a new rule (audited ``rule.create``).

        Raises:
            PermissionDeniedError: Its camera (or every camera) is outside the actor's scope.
            ValidationError: Values that break the rule's invariants, or a line or
                zone its camera does not have.
        """
        require_camera(actor, command.camera_id)
        await check_rule_scene(self._db, command.camera_id, command.line, command.zone)
        now = self._clock()
        rule = Rule(id=new_id(), created_at=now, updated_at=now, **set_fields(command))
        async with self._db.unit_of_work() as unit:
            await unit.rules.add(rule)
            await record(unit.audit, actor, "rule.create", f"rule:{rule.id}", name=rule.name)
        await self.refresh(force=True)
        return rule

    async def get(self, actor: Actor, rule_id: str) -> Rule:
        """A rule the actor may see (``NotFoundError`` if unknown or outside its scope)."""
        rule = await self._db.rules.get(rule_id)
        require_visible(actor, rule.camera_id, f"rule {rule_id}")
        return rule

    async def list(
        self,
        actor: Actor,
        *,
        limit: int = 100,
        offset: int = 0,
        camera_id: str | None = None,
        enabled: bool | None = None,
    ) -> Page[Rule]:
        """Rules in creation order; a camera-scoped actor's are those of its cameras."""
        scope = actor.principal.cameras if actor.principal is not None else None
        if scope is None:
            return await self._db.rules.list(
                limit=limit, offset=offset, camera_id=camera_id, enabled=enabled
            )
        everything = await all_pages(
            lambda skip: self._db.rules.list(
                limit=MAX_PAGE, offset=skip, camera_id=camera_id, enabled=enabled
            )
        )
        seen = [r for r in everything if r.camera_id is not None and r.camera_id in scope]
        return Page(tuple(seen[offset : offset + limit]), len(seen))

    async def update(self, actor: Actor, rule_id: str, changes: RuleChanges) -> Rule:
        """Change some fields of a rule (audited); its count window and cooldowns restart.

        Raises:
            NotFoundError: Unknown rule, or one outside the actor's scope.
            PermissionDeniedError: The new camera is outside the actor's scope.
            ValidationError: The changed rule breaks its invariants, or names a
                line or zone its camera does not have.
        """
        given = set_fields(changes)
        async with self._db.unit_of_work() as unit:
            current = await unit.rules.get(rule_id)
            require_visible(actor, current.camera_id, f"rule {rule_id}")
            if "camera_id" in given:
                require_camera(actor, given["camera_id"])
            values = {**current.to_dict(), **given, "updated_at": self._clock().isoformat()}
            if "schedule" in given:
                schedule = given["schedule"]
                values["schedule"] = None if schedule is None else schedule.to_dict()
            rule = Rule.from_dict(values)
            watched = (rule.camera_id, rule.line, rule.zone)
            if watched != (current.camera_id, current.line, current.zone):
                await check_rule_scene(unit, *watched)
            await unit.rules.update(rule)
            fields = sorted(given)
            await record(unit.audit, actor, "rule.update", f"rule:{rule_id}", fields=fields)
        await self.refresh(force=True)
        return rule

    async def delete(self, actor: Actor, rule_id: str) -> None:
        """Delete a rule (audited); the alerts it raised stay."""
        async with self._db.unit_of_work() as unit:
            current = await unit.rules.get(rule_id)
            require_visible(actor, current.camera_id, f"rule {rule_id}")
            await unit.rules.delete(rule_id)
            await record(unit.audit, actor, "rule.delete", f"rule:{rule_id}")
        await self.refresh(force=True)

    async def refresh(self, *, force: bool = False) -> None:
        """Reload the enabled rules into the engine when stale (or ``force``)."""
        loaded = self._loaded_at
        if not force and loaded is not None and time.monotonic() - loaded < self._refresh_seconds:
            return
        rules = await all_pages(
            lambda skip: self._db.rules.list(limit=MAX_PAGE, offset=skip, enabled=True)
        )
        self._engine.replace_rules(rules)
        self._loaded_at = time.monotonic()

    async def evaluate(self, envelope: Envelope) -> tuple[Match, ...]:
        """The rules ``envelope`` completes (the rule set refreshed first when stale)."""
        await self.refresh()
        return tuple(self._engine.evaluate(envelope))

"""Alert groups as a use case: placing raised alerts, and the operator's group steps.

``AlertGroups`` is part of ``AlertService`` (``alerts.groups``). Raising an
alert calls ``place`` inside the unit of work that stores the alert: the alert
joins the open group of its key seen within ``window`` or opens a new one, and
learns whether it is a repeat (``domain.alerts.groups``). Every change of an
alert's openness (dismissed, confirmed, cleared) recounts its group's open
alerts in the same unit (``recount``) or right after (``refresh``), so a group
closes when its last alert does.

An operator acknowledges a whole group (every alert of it still waiting) or
dismisses it (every acknowledged alert becomes a false positive, with a
reason) in one unit of work with one audit record (``alert_group.acknowledge``,
``alert_group.dismiss``). Every group change is announced as an
``alert_group.updated`` envelope whose payload is ``AlertGroup.to_dict()``.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime, timedelta

from argus.domain.actor import Actor
from argus.domain.alerts import OPEN_ALERT_STATES, Alert, AlertState, InvalidTransitionError
from argus.domain.alerts.groups import (
    DEFAULT_GROUP_WINDOW,
    UNRESOLVED_ALERT_STATES,
    AlertGroup,
    group_key,
    new_group,
)
from argus.domain.alerts.triage import AlertOrder
from argus.domain.cameras import new_id
from argus.domain.errors import ConflictError, ValidationError
from argus.ports.alert_groups import GroupFilter
from argus.ports.alerts import AlertFilter
from argus.ports.paging import MAX_PAGE, Page
from argus.ports.repositories import Database
from argus.ports.unit_of_work import UnitOfWork
from argus.services.writes import record, require_visible

__all__ = ["GROUP_UPDATED", "AlertGroups", "GroupStep"]

log = logging.getLogger(__name__)

GROUP_UPDATED = "alert_group.updated"
"""Envelope type of a group change on the alerts subject."""

GROUP_STEP_MAX = 10_000
"""Most alerts one group step changes (a storm larger than that takes several steps)."""

AnnounceAlert = Callable[[str, Alert], Awaitable[None]]
AnnounceGroup = Callable[[AlertGroup], Awaitable[None]]


@dataclasses.dataclass(frozen=True, slots=True)
class GroupStep:
    """What a group step changed.

    Attributes:
        group: The group after the step.
        alerts: The alerts it moved, newest first.
    """

    group: AlertGroup
    alerts: tuple[Alert, ...]


class AlertGroups:
    """Alert groups over one store (see the module docstring).

    Args:
        database: The store.
        announce_alert: Publishes an alert change (``AlertService``'s).
        announce_group: Publishes a group change.
        clock: The current UTC time.
        window: How long after a group's last alert a matching alert joins it;
            zero turns grouping off (every alert opens its own group and is
            notified: the baseline of the storm benchmark).
    """

    def __init__(
        self,
        database: Database,
        announce_alert: AnnounceAlert,
        announce_group: AnnounceGroup,
        *,
        clock: Callable[[], datetime],
        window: timedelta = DEFAULT_GROUP_WINDOW,
    ) -> None:
        if window < timedelta(0):
            raise ValidationError("the group window must not be negative")
        self._db = database
        self._announce_alert = announce_alert
        self._announce_group = announce_group
        self._clock = clock
        self.window = window

    # --- raising ----------------------------------------------------------------------------

    async def place(
        self, unit: UnitOfWork, alert: Alert, subject: str
    ) -> tuple[Alert, AlertGroup, bool]:
        """Group a new alert (its ``suppressed`` already set) inside the unit that stores it.

        Returns:
            The alert with its ``group_id`` and ``repeat`` set, its group with
            the alert counted in, and whether the group is new (``store`` adds
            it) or existing (``store`` updates it).
        """
        key = group_key(alert.rule_id, alert.camera_id, subject)
        group = None
        if self.window:
            group = await unit.alert_groups.find_open(key, alert.created_at - self.window)
        if group is None or not group.takes(alert.created_at, self.window):
            group_id = new_id()
            placed = dataclasses.replace(alert, group_id=group_id)
            return placed, new_group(group_id, placed, subject), True
        repeat = group.is_repeat(alert.severity) and alert.suppressed is None
        placed = dataclasses.replace(alert, group_id=group.id, repeat=repeat)
        return placed, group.join(placed), False

    async def store(self, unit: UnitOfWork, group: AlertGroup, *, created: bool) -> None:
        """Store a group ``place`` returned."""
        if created:
            await unit.alert_groups.add(group)
        else:
            await unit.alert_groups.update(group)

    # --- keeping counts ---------------------------------------------------------------------

    async def recount(self, unit: UnitOfWork, group_id: str | None) -> AlertGroup | None:
        """Store the group's open count inside ``unit``; the group if it changed."""
        if group_id is None:
            return None
        group = await unit.alert_groups.get(group_id)
        unresolved = tuple(sorted(UNRESOLVED_ALERT_STATES))
        page = await unit.alerts.list(AlertFilter(group_id=group_id, states=unresolved), limit=1)
        if page.total == group.open_count:
            return None
        counted = group.with_open(min(page.total, group.count))
        await unit.alert_groups.update(counted)
        return counted

    async def refresh(self, group_ids: Iterable[str | None]) -> None:
        """Recount and announce groups whose alerts changed outside a group step.

        A group another server changed meanwhile is read again (a few times);
        a failure is logged, not raised: the alert change it follows stands.
        """
        for group_id in {g for g in group_ids if g is not None}:
            for _ in range(5):
                try:
                    async with self._db.unit_of_work() as unit:
                        group = await self.recount(unit, group_id)
                except ConflictError:
                    continue
                except Exception:  # the alert's change is stored; the count heals next time
                    log.exception("could not recount alert group %s", group_id)
                    break
                if group is not None:
                    await self._announce_group(group)
                break

    async def announce(self, group: AlertGroup | None) -> None:
        """Announce a changed group (nothing for ``None``)."""
        if group is not None:
            await self._announce_group(group)

    # --- queries ----------------------------------------------------------------------------

    async def get(self, group_id: str, actor: Actor | None = None) -> AlertGroup:
        """A group (``NotFoundError`` if unknown, or outside the actor's scope)."""
        group = await self._db.alert_groups.get(group_id)
        if actor is not None:
            require_visible(actor, group.camera_id, f"alert group {group_id}")
        return group

    async def list(
        self,
        where: GroupFilter | None = None,
        *,
        limit: int = 50,
        cursor: str | None = None,
        offset: int = 0,
        order: AlertOrder = "newest",
    ) -> Page[AlertGroup]:
        """Groups, newest ``last_seen`` first (by cursor or offset), or in triage order (offset)."""
        return await self._db.alert_groups.list(
            where, limit=limit, cursor=cursor, offset=offset, order=order
        )

    async def alerts(
        self, actor: Actor, group_id: str, *, limit: int = 50, cursor: str | None = None
    ) -> Page[Alert]:
        """The alerts of a group, newest first, cursor-paginated."""
        await self.get(group_id, actor)
        where = AlertFilter(group_id=group_id)
        return await self._db.alerts.list(where, limit=limit, cursor=cursor)

    # --- the operator's steps ---------------------------------------------------------------

    async def acknowledge(self, actor: Actor, group_id: str, note: str = "") -> GroupStep:
        """Acknowledge every waiting alert of the group (audited ``alert_group.acknowledge``).

        Raises:
            NotFoundError: Unknown group, or one outside the actor's scope.
            InvalidTransitionError: No alert of it waits for acknowledgement.
            ConflictError: One of them changed concurrently (retry).
        """
        waiting = tuple(sorted(OPEN_ALERT_STATES))
        return await self._step(
            actor, group_id, "acknowledge", waiting, to="acknowledged", note=note
        )

    async def dismiss(self, actor: Actor, group_id: str, note: str) -> GroupStep:
        """Dismiss every acknowledged alert of the group as a false positive (audited).

        Raises:
            ValidationError: No reason given.
            NotFoundError: Unknown group, or one outside the actor's scope.
            InvalidTransitionError: No alert of it is acknowledged.
            ConflictError: One of them changed concurrently (retry).
        """
        if not note.strip():
            raise ValidationError("dismissing a group needs a reason")
        return await self._step(
            actor, group_id, "dismiss", ("acknowledged",), to="false_positive", note=note
        )

    async def _step(
        self,
        actor: Actor,
        group_id: str,
        verb: str,
        states: tuple[AlertState, ...],
        *,
        to: AlertState,
        note: str,
    ) -> GroupStep:
        now = self._clock()
        who = actor.audit_name
        async with self._db.unit_of_work() as unit:
            group = await unit.alert_groups.get(group_id)
            require_visible(actor, group.camera_id, f"alert group {group_id}")
            where = AlertFilter(group_id=group_id, states=states)
            found: list[Alert] = []
            cursor: str | None = None
            while len(found) < GROUP_STEP_MAX:
                page = await unit.alerts.list(where, limit=MAX_PAGE, cursor=cursor)
                found += page.items
                cursor = page.next_cursor
                if cursor is None:
                    break
            if not found:
                raise InvalidTransitionError(
                    f"no alert of group {group_id} is in state {' or '.join(states)}"
                )
            extra = {"ack_deadline": None} if to == "acknowledged" else {}
            moved = tuple(a.transition(to, now, who, note, **extra) for a in found)
            for alert in moved:
                await unit.alerts.update(alert)
            counted = await self.recount(unit, group_id)
            if counted is None:  # the open count stands; still a change worth announcing
                counted = dataclasses.replace(group, version=group.version + 1)
                await unit.alert_groups.update(counted)
            target = f"alert_group:{group_id}"
            await record(unit.audit, actor, f"alert_group.{verb}", target, alerts=len(moved))
        for alert in moved:
            await self._announce_alert("alert.updated", alert)
        await self._announce_group(counted)
        return GroupStep(counted, moved)

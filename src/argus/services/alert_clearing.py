"""Clearing alerts: a clearing event closes the alerts of the condition it ends.

Some event types report that a condition ended by itself: ``node.online``
after ``node.offline``, ``camera.tamper_cleared`` after ``camera.tamper``
(the catalogue's ``clears``, ``argus.domain.event_types``). When one arrives,
every alert of the cleared type for the same source that still waits for an
operator or is being handled (new, notified, escalated, acknowledged) moves
to the terminal ``cleared`` state, with a note naming the clearing event, and
its escalation stops. Alerts of one source share its camera id: a camera
belongs to one node, and node-level events name ``node:<node_id>`` as their
camera, so the camera id alone identifies the source.

Each clearing commits with its audit record (``alert.clear``, actor
``system``) in one unit of work. An alert another server changed meanwhile (a
version conflict) is read again and cleared if it still may be, so two servers
clearing one alert both end with it cleared and one record of it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from argus.domain.actor import SYSTEM_ACTOR
from argus.domain.alerts import CLEARABLE_ALERT_STATES, Alert
from argus.domain.errors import ConflictError
from argus.domain.event_types import EVENT_TYPES
from argus.domain.events import Envelope
from argus.ports.alerts import AlertFilter
from argus.ports.paging import MAX_PAGE, all_pages
from argus.ports.repositories import Database
from argus.services.writes import record

__all__ = ["clear_alerts", "cleared_type_of"]

log = logging.getLogger(__name__)

_CONFLICT_RETRIES = 3


def cleared_type_of(event_type: str) -> str | None:
    """The event type ``event_type`` clears in the catalogue (``None``: it clears nothing)."""
    kind = EVENT_TYPES.get(event_type)
    return None if kind is None else kind.clears


async def clear_alerts(
    database: Database,
    envelope: Envelope,
    now: datetime,
    *,
    cleared_type: Callable[[str], str | None] = cleared_type_of,
) -> list[Alert]:
    """Clear the open and acknowledged alerts that ``envelope`` ends.

    Args:
        database: The store.
        envelope: Any event; one whose type clears nothing clears nothing.
        now: When (the transitions' time).
        cleared_type: The event type a type clears (the catalogue's ``clears``).

    Returns:
        The alerts cleared now (already cleared ones are not listed again).
    """
    target = cleared_type(envelope.type)
    if target is None:
        return []
    camera_id = envelope.source.camera_id
    where = AlertFilter(camera_id=camera_id, states=tuple(sorted(CLEARABLE_ALERT_STATES)))
    candidates = await all_pages(
        lambda skip: database.alerts.list(where, limit=MAX_PAGE, offset=skip)
    )
    # Only alerts raised before the clearing event: a later tamper is a new condition.
    due = [a for a in candidates if a.event_type == target and a.event_time <= envelope.timestamp]
    note = f"cleared by {envelope.type} event {envelope.event_id}"
    cleared: list[Alert] = []
    for alert in due:
        moved = await _clear_one(database, alert.id, now, note, envelope.event_id)
        if moved is not None:
            cleared.append(moved)
    return cleared


async def _clear_one(
    database: Database, alert_id: str, now: datetime, note: str, event_id: str
) -> Alert | None:
    for _ in range(_CONFLICT_RETRIES):
        try:
            async with database.unit_of_work() as unit:
                alert = await unit.alerts.get(alert_id)
                if alert.state not in CLEARABLE_ALERT_STATES:
                    return None  # closed meanwhile, by an operator or another server
                moved = alert.transition("cleared", now, "system", note, ack_deadline=None)
                await unit.alerts.update(moved)
                target = f"alert:{alert_id}"
                await record(
                    unit.audit, SYSTEM_ACTOR, "alert.clear", target, at=now, event=event_id
                )
            return moved
        except ConflictError:
            continue
    log.warning("alert %s kept changing; not cleared by event %s", alert_id, event_id)
    return None

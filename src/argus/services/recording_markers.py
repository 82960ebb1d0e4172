"""The markers of a recordings timeline: a camera's alerts and events in a time range.

Alerts are marked at the time of their event, with their rule's name and
severity; events (crossings, zone entries and exits, loitering, crowding,
running, tamper) with a short label from their payload. At most
``MAX_MARKERS`` are returned: every alert first, then the newest events.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from argus.domain.alerts import Alert
from argus.domain.events import Envelope
from argus.ports.alerts import AlertFilter
from argus.ports.paging import MAX_PAGE
from argus.ports.repositories import Database, EventFilter

__all__ = ["ALERT_LAG", "MARKER_TYPES", "MAX_MARKERS", "Marker", "markers"]

MAX_MARKERS = 2000
"""Most markers one timeline carries."""

ALERT_LAG = timedelta(hours=1)
"""How long after its event an alert may have been raised and still be marked.

Alerts are listed by when they were raised; an event that reached the server
later than this (an edge node offline for longer) keeps its event marker."""

MARKER_TYPES: tuple[str, ...] = (
    "line.crossed",
    "line.wrong_way",
    "zone.entered",
    "zone.exited",
    "zone.loitering",
    "zone.crowding",
    "behaviour.running",
    "camera.tamper",
    "camera.tamper_cleared",
)
"""The event types marked on a timeline (summaries and health events are not)."""

MarkerKind = Literal["alert", "event"]

_LABELS: Mapping[str, str] = {
    "line.crossed": "{who} crossed {line}",
    "line.wrong_way": "{who} crossed {line} the wrong way",
    "zone.entered": "{who} entered {zone}",
    "zone.exited": "{who} left {zone}",
    "zone.loitering": "{who} loitering in {zone}",
    "zone.crowding": "crowd in {zone}",
    "behaviour.running": "{who} running",
    "camera.tamper": "tamper: {kind}",
    "camera.tamper_cleared": "tamper cleared",
}


@dataclass(frozen=True, slots=True)
class Marker:
    """One alert or event on a timeline.

    Attributes:
        time: When it happened (the event's time).
        kind: ``alert`` or ``event``.
        id: The alert's or the event's id.
        type: The event type.
        label: A short description for the timeline.
        severity: The alert's severity; ``None`` for an event.
    """

    time: datetime
    kind: MarkerKind
    id: str
    type: str
    label: str
    severity: str | None = None


def _word(payload: Mapping[str, object], key: str, default: str) -> str:
    value = payload.get(key)
    return str(value)[:80] if isinstance(value, str | int | float) and str(value) else default


def event_label(envelope: Envelope) -> str:
    """A short label of an event: the object, the line or zone, the direction."""
    payload = envelope.payload
    template = _LABELS.get(envelope.type, envelope.type)
    label = template.format(
        who=_word(payload, "class_name", "object"),
        line=_word(payload, "line", "a line"),
        zone=_word(payload, "zone", "a zone"),
        kind=_word(payload, "kind", "view changed"),
    )
    direction = payload.get("direction")
    if envelope.type == "line.crossed" and isinstance(direction, str):
        label += f" ({direction[:16]})"
    return label


def alert_label(alert: Alert) -> str:
    """A short label of an alert: its rule, and the object when the event names one."""
    return alert.rule_name if alert.class_name is None else f"{alert.rule_name}: {alert.class_name}"


async def _alerts(
    database: Database, camera_id: str, start: datetime, end: datetime
) -> list[Alert]:
    where = AlertFilter(camera_id=camera_id, since=start, until=end + ALERT_LAG)
    found: list[Alert] = []
    cursor: str | None = None
    while len(found) <= MAX_MARKERS:
        page = await database.alerts.list(where, limit=MAX_PAGE, cursor=cursor)
        found += [a for a in page.items if start <= a.event_time < end]
        cursor = page.next_cursor
        if cursor is None:
            break
    return found


async def _events(
    database: Database, camera_id: str, start: datetime, end: datetime, room: int
) -> tuple[list[Envelope], bool]:
    where = EventFilter(camera_id=camera_id, types=MARKER_TYPES, since=start, until=end)
    found: list[Envelope] = []
    cursor: str | None = None
    while True:
        page = await database.events.query(where, limit=min(MAX_PAGE, room + 1), cursor=cursor)
        found += page.items
        cursor = page.next_cursor
        if len(found) >= room or cursor is None:
            # A page that filled the room and names a next one says there are more: no
            # further query (each one counts every event of the range again).
            return found[:room], len(found) > room or cursor is not None


async def markers(
    database: Database, camera_id: str, start: datetime, end: datetime
) -> tuple[list[Marker], bool]:
    """The camera's alerts and events of ``[start, end)`` in time order, and whether any was
    left out (over ``MAX_MARKERS``)."""
    alerts = await _alerts(database, camera_id, start, end)
    truncated = len(alerts) > MAX_MARKERS
    alerts = alerts[:MAX_MARKERS]
    found = [
        Marker(a.event_time, "alert", a.id, a.event_type, alert_label(a), a.severity)
        for a in alerts
    ]
    room = MAX_MARKERS - len(found)
    if room > 0:
        events, cut = await _events(database, camera_id, start, end, room)
        truncated = truncated or cut
        found += [Marker(e.timestamp, "event", e.event_id, e.type, event_label(e)) for e in events]
    else:
        probe = await database.events.query(
            EventFilter(camera_id=camera_id, types=MARKER_TYPES, since=start, until=end), limit=1
        )
        truncated = truncated or bool(probe.items)
    return sorted(found, key=lambda m: (m.time, m.kind, m.id)), truncated

"""What to draw over an alert's snapshot and clip (``argus.domain.alerts.overlay``).

``AlertOverlays.of`` gathers it for one alert: the line or zone its event
names (else its rule's), as stored on the camera now, and the object's box
and path from the camera's ``tracks.minute`` trajectory log around the
event. The log of a minute is written when the minute ends, so the box of a
fresh alert follows about a minute later; the overlay's ``note`` says so.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from argus.domain.actor import Actor
from argus.domain.alerts import Alert
from argus.domain.alerts.overlay import (
    PATH_SPAN,
    AlertOverlay,
    OverlayShape,
    box_at,
    track_path,
)
from argus.domain.cameras import utc_now
from argus.domain.errors import NotFoundError
from argus.domain.event_payloads import TracksMinute
from argus.ports.paging import MAX_PAGE, all_pages
from argus.ports.repositories import Database, EventFilter
from argus.services.writes import require_visible

__all__ = ["AlertOverlays"]

_LOG_DELAY = timedelta(seconds=90)
"""After this long past the event its minute's trajectory log should be stored."""


class AlertOverlays:
    """Reads an alert's overlay from the store.

    Args:
        database: The store (alerts, events, rules, lines, zones).
        clock: The current UTC time.
    """

    def __init__(self, database: Database, clock: Callable[[], datetime] = utc_now) -> None:
        self._db = database
        self._clock = clock

    async def of(self, actor: Actor, alert_id: str) -> AlertOverlay:
        """The overlay of an alert the actor may see.

        Raises:
            NotFoundError: Unknown alert, or one outside the actor's scope.
        """
        alert = await self._db.alerts.get(alert_id)
        require_visible(actor, alert.camera_id, f"alert {alert_id}")
        notes: list[str] = []
        shapes = await self._shapes(alert, notes)
        path = None
        if alert.track_id is None:
            notes.append("The event names no tracked object, so no box is drawn.")
        else:
            minutes = await self._minutes(alert.camera_id, alert.event_time)
            path = track_path(minutes, alert.track_id, alert.event_time)
            if path is None and self._clock() - alert.event_time < _LOG_DELAY:
                notes.append(
                    "The object's box follows when the camera's trajectory log of this "
                    "minute is stored (at the end of the minute)."
                )
            elif path is None:
                notes.append("The camera's trajectory log has no samples of this object.")
        box = box_at(path, alert.event_time) if path is not None else None
        if box is not None:
            notes.append("Box: measured foot point and height; width from the object's class.")
        return AlertOverlay(
            alert_id=alert.id,
            frame_width=path.frame_width if path is not None else None,
            frame_height=path.frame_height if path is not None else None,
            shapes=shapes,
            box=box,
            path=path.samples if path is not None else (),
            note=" ".join(notes),
        )

    async def _shapes(self, alert: Alert, notes: list[str]) -> tuple[OverlayShape, ...]:
        """The event's line or zone (else the rule's), as the camera has it now."""
        try:
            payload = (await self._db.events.get(alert.event_id)).payload
        except NotFoundError:
            payload = {}
        line, zone = payload.get("line"), payload.get("zone")
        if not isinstance(line, str) and not isinstance(zone, str):
            try:
                rule = await self._db.rules.get(alert.rule_id)
                line, zone = rule.line, rule.zone
            except NotFoundError:
                line = zone = None
        shapes: list[OverlayShape] = []
        if isinstance(line, str):
            lines = await all_pages(
                lambda skip: self._db.lines.list(alert.camera_id, limit=MAX_PAGE, offset=skip)
            )
            found = next((x for x in lines if x.name == line), None)
            if found is None:
                notes.append(f"The line {line!r} is no longer on the camera.")
            else:
                points = (found.start, found.end)
                shapes.append(OverlayShape("line", line, points, found.in_label))
        if isinstance(zone, str):
            zones = await all_pages(
                lambda skip: self._db.zones.list(alert.camera_id, limit=MAX_PAGE, offset=skip)
            )
            polygon = next((z.polygon for z in zones if z.name == zone), None)
            if polygon is None:
                notes.append(f"The zone {zone!r} is no longer on the camera.")
            else:
                shapes.append(OverlayShape("zone", zone, polygon))
        return tuple(shapes)

    async def _minutes(
        self, camera_id: str, at: datetime
    ) -> list[tuple[datetime, dict[str, object]]]:
        """``(minute, payload)`` of the camera's trajectory log around ``at``."""
        start = (at - PATH_SPAN).replace(second=0, microsecond=0)
        where = EventFilter(
            camera_id=camera_id,
            types=(TracksMinute.type,),
            since=start,
            until=at + PATH_SPAN,
        )
        page = await self._db.events.query(where, limit=MAX_PAGE)
        return [(e.timestamp, dict(e.payload)) for e in page.items]

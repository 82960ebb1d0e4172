"""Dwell per visit of a camera's zones over a period, read from its trajectory log.

The live zones raise one ``zone.exited`` per track, and a tracker cuts one
person's stay into several tracks, so dwell from exits counts fragments: on
vtest.avi a dozen people in six minutes made 272 exits with a mean of 2.3 s
(issue 23). This service reads the period's ``tracks.minute`` events (the
5 Hz trajectory log, ``argus.services.track_log``), joins the fragments and
measures each visit to each of the camera's zones (its current zones, classes
as each zone watches them) with ``argus.domain.analytics.dwell``. The log
records the box's bottom-centre, so a zone anchored elsewhere is measured on
the bottom-centre.

Memory stays bounded by one window of the log: the period is read in windows
of ``window`` (6 hours); a track belongs to the window it starts in and is
read up to ``tail`` (10 minutes) past the window's end. A visit longer than
that tail is cut at it, and a fragment that starts in the next window is not
joined to one before it (both rare: people seldom stay that long in one
view). The measuring runs in a worker thread, off the event loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime, timedelta

from argus.domain.analytics.dwell import GAP_SECONDS, STITCH_SECONDS, visits
from argus.domain.cameras import Zone
from argus.domain.errors import ValidationError
from argus.domain.event_stats import DWELL_TYPE, DwellStats, DwellTally
from argus.ports.repositories import EventRepository, ZoneRepository
from argus.services.track_log import TrackAssembler, track_windows

__all__ = ["MAX_VISIT_SPAN", "DwellVisits"]

_MAX_ZONES = 1000

MAX_VISIT_SPAN = timedelta(days=31)
"""Longest period one request measures: it reads every minute of the camera's
trajectory log in it (up to 200 tracks x 300 samples a minute), so a year would
hold a work slot for hours; longer periods are for a re-count job."""


class DwellVisits:
    """Dwell statistics per visit, per zone and class, of one camera and period.

    Args:
        events: The event store (its ``tracks.minute`` events).
        zones: The cameras' zones.
        window: Length of the log read at once.
        tail: How far past its window a track is followed.
        gap_seconds: Longest absence that does not end a visit.
        stitch_seconds: Longest gap between two tracks of one person.
    """

    def __init__(
        self,
        events: EventRepository,
        zones: ZoneRepository,
        *,
        window: timedelta = timedelta(hours=6),
        tail: timedelta = timedelta(minutes=10),
        gap_seconds: float = GAP_SECONDS,
        stitch_seconds: float = STITCH_SECONDS,
    ) -> None:
        self._events = events
        self._zones = zones
        self._window = window
        self._tail = tail
        self._gap = gap_seconds
        self._stitch = stitch_seconds

    async def stats(
        self, camera_id: str, since: datetime, until: datetime, zone: str | None = None
    ) -> tuple[DwellStats, ...]:
        """Visits per zone and class in ``[since, until)`` (a visit counts in the window it starts).

        Args:
            camera_id: The camera.
            since: Start of the period (timezone-aware).
            until: End of the period.
            zone: Only this zone (``None``: every zone of the camera).

        Returns:
            One ``DwellStats`` per zone and class with at least one visit;
            ``count`` is the number of visits.

        Raises:
            ValidationError: The period is longer than ``MAX_VISIT_SPAN``.
        """
        if until - since > MAX_VISIT_SPAN:
            raise ValidationError(
                f"until must be at most {MAX_VISIT_SPAN.days} days after since for dwell per visit"
            )
        zones = [
            z
            for z in (await self._zones.list(camera_id, limit=_MAX_ZONES)).items
            if zone is None or z.name == zone
        ]
        tally = DwellTally()
        if zones:
            windows = track_windows(
                self._events, camera_id, since, until, window=self._window, tail=self._tail
            )
            async for part in windows:
                found = await asyncio.to_thread(
                    self._measure, part.assembler, zones, part.span, part.before
                )
                for zone_name, class_name, seconds in found:
                    payload = {"zone": zone_name, "class_name": class_name}
                    tally.add(camera_id, DWELL_TYPE, {**payload, "dwell_seconds": seconds})
        return tally.result()

    def _measure(
        self,
        assembler: TrackAssembler,
        zones: Sequence[Zone],
        span: tuple[float, float],
        before: frozenset[tuple[int, int]],
    ) -> list[tuple[str, str, float]]:
        """``(zone, class, seconds)`` of every visit of one window (runs in a worker thread)."""
        names = assembler.class_names()
        class_ids = {name: i for i, name in enumerate(names)}
        out: list[tuple[str, str, float]] = []
        for zone in zones:
            trajectories = assembler.trajectories(
                class_ids, classes=zone.classes, started=span, skip=before
            )
            for visit in visits(
                trajectories,
                zone.polygon,
                stitch_seconds=self._stitch,
                gap_seconds=self._gap,
            ):
                out.append((zone.name, names[visit.class_id], visit.seconds))
        return out

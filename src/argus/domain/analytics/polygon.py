"""Polygon zones: membership, occupancy, enter/exit, dwell, loitering and crowding."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np
import numpy.typing as npt

from argus.domain.analytics.anchors import Anchor, anchor_points, parse_anchors
from argus.domain.analytics.geometry import as_points, points_in_polygon
from argus.domain.analytics.tracks import Retention, class_name_of
from argus.domain.detections import Detections
from argus.domain.errors import ConfigError
from argus.domain.events import Crowding, ExitReason, Loitering, ZoneEntered, ZoneExited

__all__ = ["PolygonZone", "ZoneEvent", "ZoneResult"]

ZoneEvent = ZoneEntered | ZoneExited | Loitering | Crowding


@dataclass(frozen=True, eq=False)
class ZoneResult:
    """What one frame did to a zone.

    Attributes:
        inside: Which detections are inside the zone in this frame (all their
            triggering anchors inside or on the polygon), shape ``(N,)``,
            aligned with the input, read-only. Untracked detections are
            included.
        occupancy: Number of detections inside in this frame.
        occupancy_per_class: Detections inside by class id.
        dwell: Seconds each detection's track has been in the zone (since its
            confirmed entry), shape ``(N,)`` float64, read-only; 0 for
            detections that are untracked or whose track is not inside.
        events: Enter, exit, loitering and crowding events of this frame.
    """

    inside: npt.NDArray[np.bool_]
    occupancy: int
    occupancy_per_class: Mapping[int, int]
    dwell: npt.NDArray[np.float64]
    events: tuple[ZoneEvent, ...] = field(default=())


class _ZoneTrack:
    __slots__ = (
        "class_id",
        "class_name",
        "confidence",
        "entered_at",
        "inside",
        "last_frame",
        "last_time",
        "loitered",
        "streak",
        "streak_start",
    )

    def __init__(self, frame: int, now: float) -> None:
        self.inside = False
        self.streak = 0
        self.streak_start = now
        self.entered_at = now
        self.loitered = False
        self.class_id = 0
        self.class_name = ""
        self.confidence = 0.0
        self.last_frame = frame
        self.last_time = now


class PolygonZone:
    """A polygon on the image that watches which tracks are in it.

    Membership: a detection is inside when **all** its triggering anchors lie
    inside or on the polygon (bottom-centre, the feet, by default). The
    ``inside`` mask and the occupancy count every detection of the frame,
    tracked or not.

    Per track (``tracker_id >= 0``) the zone keeps a confirmed state: a change
    between outside and inside is accepted after ``min_frames`` consecutive
    observations of the new state, and emits ``ZoneEntered`` or
    ``ZoneExited`` (a track first seen inside counts as entering). The entry
    and exit times used for dwell are those of the first observation of the
    accepted streak; events carry the time of the frame that confirmed them.
    ``Loitering`` is emitted once per visit when the dwell reaches
    ``loiter_seconds``. ``Crowding`` is emitted when the occupancy reaches
    ``crowd_threshold`` and again only after it has stayed below it for
    ``crowd_clear_seconds`` (so an occupancy that flickers around the threshold
    raises one event, not one per flicker).

    A track missing for more than ``max_missing_frames`` calls (or
    ``max_missing_seconds``) is forgotten; if it was inside, a ``ZoneExited``
    with reason ``"lost"`` is emitted, so the state stays bounded.
    """

    def __init__(
        self,
        polygon: Sequence[Sequence[float]] | npt.NDArray[np.float64],
        *,
        name: str = "zone",
        anchors: Anchor | str | Iterable[Anchor | str] = (Anchor.BOTTOM_CENTER,),
        min_frames: int = 1,
        loiter_seconds: float | None = None,
        crowd_threshold: int | None = None,
        crowd_clear_seconds: float = 0.0,
        max_missing_frames: int | None = 30,
        max_missing_seconds: float | None = None,
    ) -> None:
        """Create a zone.

        Args:
            polygon: At least three vertices ``(x, y)`` in image pixels, in order.
            name: Name carried by the events.
            anchors: Box anchors that must all be inside.
            min_frames: Consecutive observations needed to accept entering or
                leaving (``>= 1``; 1 reacts at once).
            loiter_seconds: Dwell that raises ``Loitering``; ``None``: never.
            crowd_threshold: Occupancy that raises ``Crowding`` (``>= 1``);
                ``None``: never.
            crowd_clear_seconds: How long the occupancy must stay below
                ``crowd_threshold`` before crowding can be raised again.
            max_missing_frames: Exit and forget a track missing for more calls than this.
            max_missing_seconds: Exit and forget a track missing for longer than this.

        Raises:
            ConfigError: the polygon or another argument is invalid.
        """
        vertices = as_points(polygon, f"zone {name!r} polygon", minimum=3)
        if min_frames < 1:
            raise ConfigError(f"zone {name!r}: min_frames must be >= 1")
        if loiter_seconds is not None and not (
            math.isfinite(loiter_seconds) and loiter_seconds >= 0
        ):
            raise ConfigError(f"zone {name!r}: loiter_seconds must be a finite number >= 0")
        if crowd_threshold is not None and crowd_threshold < 1:
            raise ConfigError(f"zone {name!r}: crowd_threshold must be >= 1")
        if not (math.isfinite(crowd_clear_seconds) and crowd_clear_seconds >= 0):
            raise ConfigError(f"zone {name!r}: crowd_clear_seconds must be a finite number >= 0")
        vertices.setflags(write=False)
        self.name = name
        self.polygon = vertices
        self.anchors = parse_anchors(anchors)
        self.min_frames = min_frames
        self.loiter_seconds = loiter_seconds
        self.crowd_threshold = crowd_threshold
        self.crowd_clear_seconds = crowd_clear_seconds
        self._below_since: float | None = None
        self.retention = Retention(max_missing_frames, max_missing_seconds)
        self._tracks: dict[int, _ZoneTrack] = {}
        self._frame = 0
        self._occupancy = 0
        self._per_class: Mapping[int, int] = MappingProxyType({})
        self._crowd_armed = True
        self._max_occupancy = 0
        self._visits = 0

    @property
    def occupancy(self) -> int:
        """Detections inside in the last frame."""
        return self._occupancy

    @property
    def occupancy_per_class(self) -> Mapping[int, int]:
        """Detections inside in the last frame, by class id."""
        return self._per_class

    @property
    def max_occupancy(self) -> int:
        """Largest occupancy of any frame so far."""
        return self._max_occupancy

    @property
    def visits(self) -> int:
        """``ZoneEntered`` events so far (entries of tracks)."""
        return self._visits

    @property
    def tracks_inside(self) -> frozenset[int]:
        """Track ids whose confirmed state is inside."""
        return frozenset(tid for tid, track in self._tracks.items() if track.inside)

    @property
    def tracked_count(self) -> int:
        """Tracks currently remembered (bounded by the retention)."""
        return len(self._tracks)

    def contains(self, detections: Detections) -> npt.NDArray[np.bool_]:
        """Return which detections are inside, shape ``(N,)``, without touching any state."""
        if len(detections) == 0:
            return np.zeros(0, dtype=bool)
        points = anchor_points(detections.xyxy, self.anchors)  # (A, N, 2)
        flat = points_in_polygon(points.reshape(-1, 2), self.polygon)
        return np.asarray(np.all(flat.reshape(points.shape[:2]), axis=0), dtype=bool)

    def trigger(self, detections: Detections, timestamp: float) -> ZoneResult:
        """Update the zone with one frame's detections.

        Args:
            detections: The frame's detections.
            timestamp: Seconds of the stream of this frame.

        Returns:
            Membership, occupancy, dwell and the events of this frame.
        """
        self._frame += 1
        inside = self.contains(detections)
        dwell = np.zeros(len(detections), dtype=np.float64)
        events: list[ZoneEvent] = []
        for index in np.flatnonzero(detections.tracker_id >= 0).tolist():
            track_id = int(detections.tracker_id[index])
            track = self._observe(track_id, detections, index, timestamp)
            events.extend(self._update(track_id, track, bool(inside[index]), timestamp))
            if track.inside:
                dwell[index] = timestamp - track.entered_at
        for track_id, track in self.retention.sweep(self._tracks, self._frame, timestamp):
            if track.inside:
                gone_at = track.streak_start if track.streak else track.last_time
                events.append(self._exited(track_id, track, timestamp, gone_at, "lost"))
        self._occupancy = int(np.count_nonzero(inside))
        self._max_occupancy = max(self._max_occupancy, self._occupancy)
        self._per_class = MappingProxyType(
            dict(Counter(int(c) for c in detections.class_id[inside].tolist()))
        )
        events.extend(self._crowding(timestamp))
        inside.setflags(write=False)
        dwell.setflags(write=False)
        return ZoneResult(inside, self._occupancy, self._per_class, dwell, tuple(events))

    def _observe(
        self, track_id: int, detections: Detections, index: int, timestamp: float
    ) -> _ZoneTrack:
        track = self._tracks.get(track_id)
        if track is None:
            track = _ZoneTrack(self._frame, timestamp)
            self._tracks[track_id] = track
        track.last_frame = self._frame
        track.last_time = timestamp
        track.class_id = int(detections.class_id[index])
        track.class_name = class_name_of(detections, track.class_id)
        track.confidence = float(detections.confidence[index])
        return track

    def _update(
        self, track_id: int, track: _ZoneTrack, is_inside: bool, timestamp: float
    ) -> list[ZoneEvent]:
        events: list[ZoneEvent] = []
        if is_inside == track.inside:
            track.streak = 0
        else:
            if track.streak == 0:
                track.streak_start = timestamp
            track.streak += 1
            if track.streak >= self.min_frames:
                track.streak = 0
                if is_inside:
                    track.inside = True
                    track.entered_at = track.streak_start
                    track.loitered = False
                    self._visits += 1
                    events.append(
                        ZoneEntered(
                            self.name,
                            track_id,
                            track.class_id,
                            track.class_name,
                            timestamp,
                            confidence=track.confidence,
                        )
                    )
                else:
                    events.append(
                        self._exited(track_id, track, timestamp, track.streak_start, "left")
                    )
        if track.inside and self.loiter_seconds is not None and not track.loitered:
            dwell = timestamp - track.entered_at
            if dwell >= self.loiter_seconds:
                track.loitered = True
                events.append(
                    Loitering(
                        self.name,
                        track_id,
                        track.class_id,
                        track.class_name,
                        timestamp,
                        dwell,
                        self.loiter_seconds,
                        confidence=track.confidence,
                    )
                )
        return events

    def _exited(
        self,
        track_id: int,
        track: _ZoneTrack,
        timestamp: float,
        gone_at: float,
        reason: ExitReason,
    ) -> ZoneExited:
        track.inside = False
        track.streak = 0
        dwell = max(0.0, gone_at - track.entered_at)
        return ZoneExited(
            self.name,
            track_id,
            track.class_id,
            track.class_name,
            timestamp,
            dwell,
            reason,
            confidence=track.confidence,
        )

    def _crowding(self, timestamp: float) -> list[Crowding]:
        if self.crowd_threshold is None:
            return []
        if self._occupancy < self.crowd_threshold:
            if self._below_since is None:
                self._below_since = timestamp
            if timestamp - self._below_since >= self.crowd_clear_seconds:
                self._crowd_armed = True
            return []
        self._below_since = None
        if not self._crowd_armed:
            return []
        self._crowd_armed = False
        return [Crowding(self.name, timestamp, self._occupancy, self.crowd_threshold)]

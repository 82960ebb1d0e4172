"""Counting tracks that cross a line segment, with direction and hysteresis."""

from __future__ import annotations

import math
from collections import Counter, deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt

from argus.domain.analytics.anchors import Anchor, anchor_points, parse_anchors
from argus.domain.analytics.line_robust import BoxGeometry, RobustCrossings
from argus.domain.analytics.tracks import Retention, class_name_of
from argus.domain.detections import Detections
from argus.domain.errors import ConfigError
from argus.domain.events import Direction, LineCrossed, WrongWay

__all__ = ["CountingMode", "LineResult", "LineZone"]

BoolArray = npt.NDArray[np.bool_]
CountingMode = Literal["strict", "robust"]


def _read_only(mask: BoolArray) -> BoolArray:
    mask.setflags(write=False)
    return mask


@dataclass(frozen=True, eq=False)
class LineResult:
    """What one frame did to a line.

    Attributes:
        crossed_in: Which detections crossed in this frame, shape ``(N,)``,
            aligned with the input (read-only).
        crossed_out: Which detections crossed out, shape ``(N,)`` (read-only).
        events: ``LineCrossed`` for every crossing, each followed by a
            ``WrongWay`` when it went against the line's expected direction.
    """

    crossed_in: BoolArray
    crossed_out: BoolArray
    events: tuple[LineCrossed | WrongWay, ...] = field(default=())


class _LineTrack:
    __slots__ = ("history", "last_frame", "last_time", "side")

    def __init__(self, length: int, frame: int, now: float) -> None:
        self.history: deque[bool] = deque(maxlen=length)
        self.side: bool | None = None
        self.last_frame = frame
        self.last_time = now


class LineZone:
    """A line segment that counts the tracks crossing it, per direction and class.

    Sides and direction: for the segment from ``start`` to ``end`` and a point
    ``p``, let ``c = cross(end - start, p - start)``. A detection is on the
    *in* side when all its anchors have ``c < 0`` and on the *out*
    side when all have ``c >= 0``; on screen (y down) the in side is on the
    left when looking from ``start`` to ``end``. A track crosses **in** when it
    moves from the out side to the in side, and **out** the other way; for a
    horizontal line drawn left to right, moving up the image is *in*.
    ``in_side_normal`` is the unit vector pointing to the in side.

    A frame is ignored for a track when its anchors straddle the line or when
    any anchor lies outside the band between the perpendiculars through
    ``start`` and ``end`` (so crossings beyond the segment's ends do not
    count). The first observation of a track never counts; a change of side
    is accepted only after the new side has been observed in
    ``min_crossing_frames`` consecutive valid observations (hysteresis against
    jitter). Only detections with ``tracker_id >= 0`` take part. These are the
    semantics of supervision's ``LineZone`` (0.27), whose test cases this class
    reproduces.

    State per track is a few booleans, and tracks not seen for longer than
    ``max_missing_frames`` calls or ``max_missing_seconds`` are forgotten.

    That is ``mode="strict"``, the default. ``mode="robust"`` counts what the
    tracks mean rather than what their ids say (``argus.domain.analytics.
    line_robust``): a band of ``band`` pixels around the line has no side
    (hovering in it never counts, leaving it on the other side counts once),
    an identity switch is re-seated rather than counted, and a track lost near
    the line on one side and reborn near it on the other within
    ``stitch_seconds`` counts one crossing.
    """

    def __init__(
        self,
        start: Sequence[float],
        end: Sequence[float],
        *,
        name: str = "line",
        anchors: Anchor | str | Iterable[Anchor | str] = (Anchor.BOTTOM_CENTER,),
        min_crossing_frames: int = 1,
        expected_direction: Direction | None = None,
        max_missing_frames: int | None = 300,
        max_missing_seconds: float | None = None,
        mode: CountingMode = "strict",
        band: float = 0.0,
        stitch_seconds: float = 0.0,
        stitch_distance: float = 0.0,
    ) -> None:
        """Create a line.

        Args:
            start: First end point ``(x, y)`` in image pixels.
            end: Second end point ``(x, y)``; must differ from ``start``.
            name: Name carried by the events.
            anchors: Box anchors that must all be on one side;
                bottom-centre (the feet) by default.
            min_crossing_frames: Consecutive observations on the new side needed
                before a crossing counts (``>= 1``).
            expected_direction: ``"in"`` or ``"out"`` for a one-way line; a
                crossing the other way also emits ``WrongWay``. ``None``: no rule.
            max_missing_frames: Forget a track missing for more calls than this.
            max_missing_seconds: Forget a track missing for longer than this.
            mode: ``"strict"`` (supervision's semantics) or ``"robust"``; the
                next three arguments apply to robust mode only.
            band: Total width in pixels of the band around the line that has
                no side; ``0`` is automatic (a quarter of each box's height).
            stitch_seconds: Longest gap over which a track lost on one side
                and one born on the other count as one crossing; ``0``: none.
            stitch_distance: How near the line (pixels) both must be; ``0`` is
                automatic (one box height).

        Raises:
            ConfigError: the segment has zero length, a point is not finite,
                an anchor is unknown, or an argument is out of range.
        """
        points = np.asarray([start, end], dtype=np.float64)
        if points.shape != (2, 2) or not np.all(np.isfinite(points)):
            raise ConfigError(f"line {name!r}: start and end must be finite (x, y) points")
        self._start = points[0]
        self._end = points[1]
        self._vector = self._end - self._start
        self._length_sq = float(self._vector @ self._vector)
        if self._length_sq == 0.0:
            raise ConfigError(f"line {name!r}: start and end must differ")
        if min_crossing_frames < 1:
            raise ConfigError(f"line {name!r}: min_crossing_frames must be >= 1")
        if expected_direction not in (None, "in", "out"):
            raise ConfigError(f"line {name!r}: expected_direction must be 'in', 'out' or None")
        self.name = name
        self.anchors = parse_anchors(anchors)
        self.min_crossing_frames = min_crossing_frames
        self.expected_direction: Direction | None = expected_direction
        self.retention = Retention(max_missing_frames, max_missing_seconds)
        if mode not in ("strict", "robust"):
            raise ConfigError(f"line {name!r}: mode must be 'strict' or 'robust'")
        self.mode: CountingMode = mode
        try:
            robust = RobustCrossings(
                min_crossing_frames=min_crossing_frames,
                band=band,
                stitch_seconds=stitch_seconds,
                stitch_distance=stitch_distance,
                retention=self.retention,
            )
        except ConfigError as exc:
            raise ConfigError(f"line {name!r}: {exc}") from exc
        self._robust = robust if mode == "robust" else None
        self.band, self.stitch_seconds = robust.band, robust.stitch_seconds
        self.stitch_distance = robust.stitch_distance
        self._history_length = max(2, min_crossing_frames + 1)
        self._tracks: dict[int, _LineTrack] = {}
        self._in: Counter[int] = Counter()
        self._out: Counter[int] = Counter()
        self._frame = 0

    @property
    def start(self) -> tuple[float, float]:
        """First end point."""
        return float(self._start[0]), float(self._start[1])

    @property
    def end(self) -> tuple[float, float]:
        """Second end point."""
        return float(self._end[0]), float(self._end[1])

    @property
    def in_side_normal(self) -> tuple[float, float]:
        """Unit vector perpendicular to the line, pointing to the in side."""
        dx, dy = (float(v) for v in self._vector)
        norm = math.hypot(dx, dy)
        return dy / norm, -dx / norm

    @property
    def in_count(self) -> int:
        """Tracks that crossed in so far."""
        return sum(self._in.values())

    @property
    def out_count(self) -> int:
        """Tracks that crossed out so far."""
        return sum(self._out.values())

    @property
    def in_count_per_class(self) -> dict[int, int]:
        """Crossings in, by class id (a copy)."""
        return dict(self._in)

    @property
    def out_count_per_class(self) -> dict[int, int]:
        """Crossings out, by class id (a copy)."""
        return dict(self._out)

    @property
    def tracked_count(self) -> int:
        """Tracks currently remembered (bounded by the retention)."""
        if self._robust is not None:
            return self._robust.tracked_count
        return len(self._tracks)

    def trigger(self, detections: Detections, timestamp: float) -> LineResult:
        """Update the counts with one frame's tracked detections.

        Args:
            detections: The frame's detections; untracked ones are ignored.
            timestamp: Seconds of the stream of this frame.

        Returns:
            Per-detection crossing masks and the events of this frame.
        """
        self._frame += 1
        n = len(detections)
        crossed_in = np.zeros(n, dtype=bool)
        crossed_out = np.zeros(n, dtype=bool)
        events: list[LineCrossed | WrongWay] = []
        tracked = np.flatnonzero(detections.tracker_id >= 0)
        if self._robust is not None:
            geometry = self._geometry(detections, tracked)
            crossings = [
                (int(tracked[k]), direction)
                for k, direction in self._robust.observe(geometry, self._frame, timestamp)
            ]
        else:
            crossings = self._strict_crossings(detections, tracked, timestamp)
            self.retention.sweep(self._tracks, self._frame, timestamp)
        for index, direction in crossings:
            class_id = int(detections.class_id[index])
            (crossed_in if direction == "in" else crossed_out)[index] = True
            (self._in if direction == "in" else self._out)[class_id] += 1
            events.extend(
                self._events(
                    track_id=int(detections.tracker_id[index]),
                    class_id=class_id,
                    class_name=class_name_of(detections, class_id),
                    direction=direction,
                    timestamp=timestamp,
                    confidence=float(detections.confidence[index]),
                )
            )
        return LineResult(_read_only(crossed_in), _read_only(crossed_out), tuple(events))

    def _strict_crossings(
        self, detections: Detections, tracked: npt.NDArray[np.intp], timestamp: float
    ) -> list[tuple[int, Direction]]:
        """Supervision's semantics: ``(detection index, direction)`` of this frame's crossings."""
        crossings: list[tuple[int, Direction]] = []
        if tracked.size:
            valid, on_in_side = self._sides(detections.xyxy[tracked])
            for k, index in enumerate(tracked.tolist()):
                track = self._observe(int(detections.tracker_id[index]), timestamp)
                if not valid[k]:
                    continue
                direction = self._crossing(track, bool(on_in_side[k]))
                if direction is not None:
                    crossings.append((index, direction))
        return crossings

    def _sides(self, xyxy: npt.NDArray[np.float32]) -> tuple[BoolArray, BoolArray]:
        """Return (frame counts for the track, detection is on the in side) per box."""
        relative = anchor_points(xyxy, self.anchors) - self._start  # (A, K, 2)
        along = relative @ self._vector
        within = np.all((along >= 0.0) & (along <= self._length_sq), axis=0)
        cross = self._vector[0] * relative[..., 1] - self._vector[1] * relative[..., 0]
        in_side = cross < 0.0
        any_in = np.any(in_side, axis=0)
        any_out = np.any(~in_side, axis=0)
        return within & ~(any_in & any_out), any_in

    def _geometry(self, detections: Detections, tracked: npt.NDArray[np.intp]) -> BoxGeometry:
        """Signed distances (in pixels, negative on the in side) and extents of tracked boxes."""
        xyxy = np.asarray(detections.xyxy[tracked], dtype=np.float64).reshape(-1, 4)
        points = anchor_points(xyxy, self.anchors)  # (A, K, 2)
        relative = points - self._start
        along = relative @ self._vector
        norm = math.sqrt(self._length_sq)
        distance = (self._vector[0] * relative[..., 1] - self._vector[1] * relative[..., 0]) / norm
        centre = points.mean(axis=0)
        centre_relative = centre - self._start
        return BoxGeometry(
            track_ids=np.asarray(detections.tracker_id[tracked], dtype=np.int64),
            least=distance.min(axis=0),
            most=distance.max(axis=0),
            within=np.all((along >= 0.0) & (along <= self._length_sq), axis=0),
            centre=centre,
            centre_distance=(
                self._vector[0] * centre_relative[:, 1] - self._vector[1] * centre_relative[:, 0]
            )
            / norm,
            height=xyxy[:, 3] - xyxy[:, 1],
        )

    def _observe(self, track_id: int, timestamp: float) -> _LineTrack:
        track = self._tracks.get(track_id)
        if track is None:
            track = _LineTrack(self._history_length, self._frame, timestamp)
            self._tracks[track_id] = track
        track.last_frame = self._frame
        track.last_time = timestamp
        return track

    @staticmethod
    def _crossing(track: _LineTrack, on_in_side: bool) -> Direction | None:
        """Record a side; return the direction when it completes a crossing.

        A track's side is the one it was first seen on, and changes only when
        the other side has held for ``min_crossing_frames`` observations in a
        row; that change is the crossing. Unlike a comparison with the oldest
        observation alone, a one-frame dip to the other side and back is no
        crossing at all, rather than an extra count when the track returns.
        """
        history = track.history
        history.append(on_in_side)
        if track.side is None:
            track.side = on_in_side
            return None
        held = (history.maxlen or 1) - 1
        if on_in_side == track.side or len(history) <= held:
            return None
        if any(side != on_in_side for side in list(history)[-held:]):
            return None
        track.side = on_in_side
        return "in" if on_in_side else "out"

    def _events(
        self,
        *,
        track_id: int,
        class_id: int,
        class_name: str,
        direction: Direction,
        timestamp: float,
        confidence: float,
    ) -> list[LineCrossed | WrongWay]:
        events: list[LineCrossed | WrongWay] = [
            LineCrossed(
                self.name,
                track_id,
                class_id,
                class_name,
                direction,
                timestamp,
                confidence=confidence,
            )
        ]
        if self.expected_direction is not None and direction != self.expected_direction:
            events.append(
                WrongWay(
                    self.name,
                    track_id,
                    class_id,
                    class_name,
                    direction,
                    self.expected_direction,
                    timestamp,
                    confidence=confidence,
                )
            )
        return events

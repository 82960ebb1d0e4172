"""Robust line counting: a hysteresis band, an identity-switch guard and tracklet stitching.

``LineZone(mode="robust")`` hands each frame's tracked boxes, reduced to a few
numbers per box, to a ``RobustCrossings``; this module holds that logic so the
strict (supervision) path of ``argus.domain.analytics.line`` stays as it is.

Three ideas make a count that does not hang on identities alone:

- **Band.** A strip of width ``band`` pixels centred on the line has no side.
  A box is on a side only when all its anchors lie beyond the strip, so a
  person hovering on the line with jittering boxes never changes side, and
  one who leaves the strip on the other side crosses exactly once (after
  ``min_crossing_frames`` observations there in a row, as in strict mode).
  ``band=0`` is automatic: the strip is ``AUTO_BAND`` box heights wide, the
  height being each box's own (so the band follows the perspective: people far
  from the camera are small and move few pixels).
- **Switch guard.** When a track's anchor jumps further than
  ``SWITCH_HEIGHTS`` box heights per frame since its previous observation, its
  identity has switched to another object: the track takes the side it is now
  seen on without counting.
- **Stitching.** A track that vanishes near the line on side S (its last
  position within ``stitch_distance`` pixels) and a new track that appears
  near the line on the other side within ``stitch_seconds``, at a speed a
  walker can reach, are one object lost and found again: the new track counts
  one crossing, once, when it has held its side for ``STITCH_SETTLE``
  observations (a fragment or a false positive across the line vanishes
  sooner), and only if the vanished track had lived ``STITCH_ESTABLISHED``
  observations (so had a person walking, not a flicker). Each vanished
  track is used by one newborn at most, the
  two were never seen together, a vanished track that was walking away from
  the line (faster than ``STITCH_AWAY`` box heights per second) is not
  continued on the other side (it is someone who crossed and walked on, and
  the newborn is someone else), and a vanished track that is used and then
  comes back takes its new side without counting (one identity never counts
  twice). ``stitch_distance=0`` is automatic: ``STITCH_HEIGHTS`` box heights.

The constants were chosen on the public detections of TUD-Campus,
TUD-Stadtmitte and MOT17-02/04/11/13 (three vertical lines per sequence,
counts judged against the same band over the ground truth) and on the medium
level of the robustness suite: wider reach, faster speeds or a longer window
added more wrong stitches than they found, and stitching at a newborn's first
sighting doubled the count error on faulted detections (fragments and false
positives near a line end and start all the time).

State per track is a few numbers, forgotten by the zone's ``Retention``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from argus.domain.analytics.tracks import Retention
from argus.domain.errors import ConfigError
from argus.domain.events import Direction

__all__ = [
    "AUTO_BAND",
    "STITCH_HEIGHTS",
    "STITCH_SPEED",
    "SWITCH_HEIGHTS",
    "BoxGeometry",
    "RobustCrossings",
]

FloatArray = npt.NDArray[np.float64]

AUTO_BAND = 0.25
"""Width of the automatic band, in box heights (total, centred on the line)."""
SWITCH_HEIGHTS = 1.5
"""A move of more box heights than this per frame is an identity switch, not motion."""
STITCH_HEIGHTS = 1.0
"""Automatic stitching reach: how near the line (in box heights) tracklets must end and start."""
STITCH_SPEED = 3.0
"""Fastest plausible motion between stitched tracklets, in box heights per second."""
STITCH_AWAY = 0.3
"""A vanished track moving away from the line faster than this (box heights per second)
is not continued on the other side."""
STITCH_SETTLE = 8
"""Observations a newborn must have on its side before it may continue a vanished track."""
STITCH_ESTABLISHED = 10
"""Observations a vanished track must have had to be continued (fragments and false
positives live shorter)."""
_STITCH_SLACK = 0.5  # box heights of noise allowed on top of the motion between tracklets
_SPEED_SMOOTHING = 0.3  # weight of the newest rate in a track's smoothed speed


@dataclass(frozen=True, slots=True)
class BoxGeometry:
    """One frame's tracked boxes, reduced to what robust counting needs.

    Attributes:
        track_ids: Track id per box, shape ``(K,)``.
        least: Least signed distance to the line over the box's anchors,
            shape ``(K,)``; negative is the in side, positive the out side.
        most: Greatest signed distance over the anchors, shape ``(K,)``.
        within: Whether all anchors lie between the perpendiculars through the
            segment's ends, shape ``(K,)``.
        centre: Mean of the anchors, shape ``(K, 2)``.
        centre_distance: Signed distance of ``centre`` to the line, shape ``(K,)``.
        height: Box height in pixels, shape ``(K,)``.
    """

    track_ids: npt.NDArray[np.int64]
    least: FloatArray
    most: FloatArray
    within: npt.NDArray[np.bool_]
    centre: FloatArray
    centre_distance: FloatArray
    height: FloatArray


class _Track:
    __slots__ = (
        "consumed",
        "distance",
        "first_frame",
        "first_time",
        "height",
        "last_frame",
        "last_time",
        "newborn",
        "observations",
        "pending",
        "side",
        "speed",
        "within",
        "x",
        "y",
    )

    def __init__(self, frame: int, now: float) -> None:
        self.side: bool | None = None  # True: in side
        self.pending = 0
        self.newborn = True
        self.observations = 0
        self.consumed = False
        self.first_frame = frame
        self.first_time = now
        self.last_frame = frame
        self.last_time = now
        self.x = self.y = self.distance = self.height = 0.0
        self.speed = 0.0  # smoothed rate of change of ``distance``, px/s (+: towards out)
        self.within = False


class RobustCrossings:
    """Per-track sides with a band, an identity-switch guard and stitching (see the module)."""

    def __init__(
        self,
        *,
        min_crossing_frames: int,
        band: float,
        stitch_seconds: float,
        stitch_distance: float,
        retention: Retention,
    ) -> None:
        """Create the state of one line.

        Args:
            min_crossing_frames: Observations beyond the band on the new side
                needed before a side change counts (``>= 1``).
            band: Total width of the band in pixels; ``0`` is automatic.
            stitch_seconds: Longest gap between a vanished track and a newborn
                that continues it; ``0`` turns stitching off.
            stitch_distance: How near the line (pixels) both must be; ``0`` is
                automatic.
            retention: When to forget a track that is no longer seen.

        Raises:
            ConfigError: a width, distance or time is negative or not finite.
        """
        for label, value in (
            ("band", band),
            ("stitch_seconds", stitch_seconds),
            ("stitch_distance", stitch_distance),
        ):
            if not (np.isfinite(value) and value >= 0.0):
                raise ConfigError(f"{label} must be a finite number >= 0")
        self.min_crossing_frames = min_crossing_frames
        self.band = float(band)
        self.stitch_seconds = float(stitch_seconds)
        self.stitch_distance = float(stitch_distance)
        self.retention = retention
        self._tracks: dict[int, _Track] = {}

    @property
    def tracked_count(self) -> int:
        """Tracks currently remembered."""
        return len(self._tracks)

    def observe(self, boxes: BoxGeometry, frame: int, now: float) -> list[tuple[int, Direction]]:
        """Record one frame's boxes; return ``(box index, direction)`` of every crossing.

        Args:
            boxes: The frame's tracked boxes.
            frame: Number of this call (increasing).
            now: Seconds of the stream of this frame.

        Returns:
            The crossings completed in this frame, by position in ``boxes``.
        """
        half = self.band / 2 if self.band > 0 else boxes.height * (AUTO_BAND / 2)
        half_band = np.broadcast_to(np.asarray(half, dtype=np.float64), boxes.height.shape)
        in_side = boxes.within & (boxes.most < -half_band)
        out_side = boxes.within & (boxes.least >= half_band)
        crossings: list[tuple[int, Direction]] = []
        for k, track_id in enumerate(boxes.track_ids.tolist()):
            track = self._locate(int(track_id), boxes, k, frame, now)
            side = True if in_side[k] else False if out_side[k] else None
            direction = None if side is None else self._side_seen(int(track_id), track, side)
            if direction is not None:
                crossings.append((k, direction))
        self.retention.sweep(self._tracks, frame, now)
        return crossings

    def _locate(self, track_id: int, boxes: BoxGeometry, k: int, frame: int, now: float) -> _Track:
        """The track of box ``k``, moved to it (re-seated when its identity switched)."""
        x, y = float(boxes.centre[k, 0]), float(boxes.centre[k, 1])
        height = max(float(boxes.height[k]), 1.0)
        track = self._tracks.get(track_id)
        if track is None:
            track = self._tracks[track_id] = _Track(frame, now)
        elif self._switched(track, x, y, height, frame):
            track.side, track.pending, track.newborn, track.consumed = None, 0, False, False
            track.speed = 0.0
        distance = float(boxes.centre_distance[k])
        if now > track.last_time:
            rate = (distance - track.distance) / (now - track.last_time)
            track.speed += _SPEED_SMOOTHING * (rate - track.speed)
        track.last_frame, track.last_time = frame, now
        track.observations += 1
        track.x, track.y, track.height = x, y, height
        track.distance = distance
        track.within = bool(boxes.within[k])
        return track

    def _side_seen(self, track_id: int, track: _Track, side: bool) -> Direction | None:
        """Record that the track was seen beyond the band on ``side``; return its crossing."""
        crossed: Direction = "in" if side else "out"
        if track.consumed:
            # Its crossing was counted by the newborn that continued it.
            track.side, track.pending, track.consumed = side, 0, False
            return None
        if track.side is None:
            track.side = side
            return self._settled(track_id, track, side)
        if side == track.side:
            track.pending = 0
            return self._settled(track_id, track, side)
        track.pending += 1
        if track.pending < self.min_crossing_frames:
            return None
        # It crossed by itself: it continues no vanished track any more.
        track.side, track.pending, track.newborn = side, 0, False
        return crossed

    def _settled(self, track_id: int, track: _Track, side: bool) -> Direction | None:
        """A newborn that has held its first side long enough may continue a vanished track."""
        if not track.newborn or track.observations < STITCH_SETTLE:
            return None
        track.newborn = False
        return ("in" if side else "out") if self._stitch(track_id, track, side) else None

    @staticmethod
    def _switched(track: _Track, x: float, y: float, height: float, frame: int) -> bool:
        frames = max(frame - track.last_frame, 1)
        limit = SWITCH_HEIGHTS * max(height, track.height) * frames
        return bool(np.hypot(x - track.x, y - track.y) > limit)

    def _reach(self, height: float) -> float:
        return self.stitch_distance if self.stitch_distance > 0 else STITCH_HEIGHTS * height

    def _stitch(self, track_id: int, newborn: _Track, side: bool) -> bool:
        """Find the vanished track the newborn continues across the line; use it up."""
        if self.stitch_seconds <= 0 or not newborn.within:
            return False
        if abs(newborn.distance) > self._reach(newborn.height):
            return False
        best: _Track | None = None
        best_cost = np.inf
        for other_id, old in self._tracks.items():
            if other_id == track_id or old.consumed or old.side is None or old.side == side:
                continue
            if old.last_frame >= newborn.first_frame or not old.within:
                continue  # seen together with the newborn: two objects
            if old.observations < STITCH_ESTABLISHED:
                continue  # a fragment or a false positive, not a person walking
            gap = newborn.first_time - old.last_time
            if gap > self.stitch_seconds or abs(old.distance) > self._reach(old.height):
                continue
            scale = (old.height + newborn.height) / 2
            towards = old.speed if side is False else -old.speed
            if towards < -STITCH_AWAY * old.height:
                continue  # it was walking away from the side the newborn is on
            moved = float(np.hypot(newborn.x - old.x, newborn.y - old.y))
            elapsed = max(newborn.last_time - old.last_time, 0.0)
            if moved > scale * (STITCH_SPEED * elapsed + _STITCH_SLACK):
                continue
            cost = moved / scale + gap / max(self.stitch_seconds, 1e-9)
            if cost < best_cost:
                best, best_cost = old, cost
        if best is None:
            return False
        best.consumed = True
        return True

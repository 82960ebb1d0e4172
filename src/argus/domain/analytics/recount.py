"""Offline re-count of line crossings over recorded trajectories, with look-ahead.

A live counter decides each frame with what it has seen so far, and counts
from identities: a person lost on one side of a line and found again under a
new id on the other side is never counted, and an identity switch near the
line can count twice. Over a recorded period ``recount`` can do better:

1. the camera's own motion is estimated from the tracks (the median step of
   the tracks seen at two consecutive times); each track is cut where it
   jumps further than a person moves, in the image and less the camera's
   motion (an identity switch), every piece is smoothed with a running
   median, and brief pieces
   that shadow a longer one (a second track on the same person) are dropped;
2. the pieces are stitched end to start over the whole period (gap up to
   ``stitch_seconds``, motion that predicts the join in the image or less the
   camera's motion, cheapest joins first, one-to-one), so each chain is one
   person as far as motion tells;
3. each chain's crossings of each line are counted with a hysteresis band: a
   point within half the band of the line has no side; a crossing is leaving
   the band on the other side than the chain was last on, and it counts only
   when the path crosses the line between the segment's two ends. A chain
   that ends (or starts) inside the band is extended along its velocity by
   ``EXTEND_SECONDS``, so a walker lost in mid-crossing still counts while a
   person standing in the band does not.

The rules and their constants are in ``recount_stitch``; scales are in box
heights, so they hold near the camera and far from it.

Sides and directions are those of ``LineZone``: for ``c = cross(end - start,
p - start)`` the *in* side has ``c < 0``, and moving from the out side to the
in side is a crossing *in*. A band of ``0`` means automatic: a quarter of
the chain's median box height (so the band scales with the person's distance
from the camera), which is several times the jitter of a detector's box
bottom and well below a stride.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from argus.domain.analytics.recount_stitch import (
    Piece,
    camera_offsets,
    drop_duplicates,
    pieces_of,
    stitch,
)
from argus.domain.detections import Detections
from argus.domain.errors import ValidationError

__all__ = [
    "AUTO_BAND",
    "LineTally",
    "RecountLine",
    "Trajectory",
    "TrajectoryRecorder",
    "count_paths",
    "person_chains",
    "recount",
]

FloatArray = npt.NDArray[np.float64]

AUTO_BAND = 0.25
"""Automatic band width as a share of the chain's median box height."""
EXTEND_SECONDS = 0.5
"""How far (in time) a chain's ends are extended along their velocity."""
MIN_SAMPLES = 3
"""Chains with fewer samples are dropped (too short to tell a crossing from noise)."""


@dataclass(frozen=True, slots=True, eq=False)
class Trajectory:
    """One track's recorded path.

    Attributes:
        track_id: The tracker's id (ids only group samples; they need not be right).
        class_id: Class of the tracked object.
        t: Seconds, shape ``(K,)``, strictly increasing, ``K >= 1``.
        xy: Anchor points (bottom-centre by default) in pixels, shape ``(K, 2)``.
        height: Box heights in pixels, shape ``(K,)`` (the scale of plausible motion).

    Raises:
        ValidationError: Shapes disagree, a value is not finite, times do not
            increase, or a height is negative.
    """

    track_id: int
    class_id: int
    t: FloatArray
    xy: FloatArray
    height: FloatArray

    def __post_init__(self) -> None:
        t = np.asarray(self.t, dtype=np.float64).reshape(-1)
        xy = np.asarray(self.xy, dtype=np.float64)
        height = np.asarray(self.height, dtype=np.float64).reshape(-1)
        k = len(t)
        if k == 0 or xy.shape != (k, 2) or height.shape != (k,):
            raise ValidationError(
                f"trajectory {self.track_id}: need t (K,), xy (K, 2), height (K,) with K >= 1; "
                f"got {t.shape}, {xy.shape}, {height.shape}"
            )
        if not (np.all(np.isfinite(t)) and np.all(np.isfinite(xy)) and np.all(np.isfinite(height))):
            raise ValidationError(f"trajectory {self.track_id}: values must be finite")
        if np.any(np.diff(t) <= 0.0):
            raise ValidationError(f"trajectory {self.track_id}: times must strictly increase")
        if np.any(height < 0.0):
            raise ValidationError(f"trajectory {self.track_id}: heights must be >= 0")
        for name, value in (("t", t), ("xy", xy), ("height", height)):
            value.setflags(write=False)
            object.__setattr__(self, name, value)


class TrajectoryRecorder:
    """Gathers tracked detections, frame by frame, into one trajectory per track.

    Each tracked box adds its bottom-centre (the feet, as for ``LineZone``),
    its height and its class at the frame's time; a track id seen twice at one
    time keeps its first box. Memory grows with frames times tracks, so
    ``max_samples`` may bound it: the first frame that would pass the bound and
    every later one are left out, and ``full_at`` says from when.

    Args:
        max_samples: Most boxes to keep (untracked ones count too); ``None``: no bound.
    """

    def __init__(self, max_samples: int | None = None) -> None:
        self._rows: dict[int, list[tuple[float, float, float, float, int]]] = {}
        self._max = max_samples
        self.samples = 0
        self.full_at: float | None = None

    def add(self, detections: Detections, timestamp: float) -> None:
        """Record one frame's tracked boxes at ``timestamp`` seconds."""
        if self._max is not None and self.samples + len(detections) > self._max:
            if self.full_at is None:
                self.full_at = timestamp
            return
        self.samples += len(detections)
        ids, classes = detections.tracker_id.tolist(), detections.class_id.tolist()
        for k, (x1, y1, x2, y2) in enumerate(detections.xyxy.tolist()):
            if ids[k] < 0:
                continue
            rows = self._rows.setdefault(ids[k], [])
            if not rows or timestamp > rows[-1][0]:
                rows.append((timestamp, (x1 + x2) / 2.0, y2, y2 - y1, classes[k]))

    def trajectories(self) -> list[Trajectory]:
        """One trajectory per track id, in id order; its class is the commonest seen."""
        out = []
        for track in sorted(self._rows):
            rows = self._rows[track]
            values = np.asarray([r[:4] for r in rows], dtype=np.float64)
            classes = np.asarray([r[4] for r in rows], dtype=np.int64)
            common = int(np.bincount(classes).argmax()) if classes.min() >= 0 else 0
            out.append(Trajectory(track, common, values[:, 0], values[:, 1:3], values[:, 3]))
        return out


@dataclass(frozen=True, slots=True)
class RecountLine:
    """A counting segment.

    Attributes:
        name: Line name.
        start: First end point ``(x, y)`` in pixels.
        end: Second end point; must differ from ``start``.
        band: Total width in pixels of the hysteresis band centred on the
            line; ``0`` = automatic (``AUTO_BAND`` of each chain's box height).

    Raises:
        ValidationError: The segment has zero length, a value is not finite,
            or the band is negative.
    """

    name: str
    start: tuple[float, float]
    end: tuple[float, float]
    band: float = 0.0

    def __post_init__(self) -> None:
        values = (*self.start, *self.end, self.band)
        if len(values) != 5 or not all(math.isfinite(v) for v in values):
            raise ValidationError(f"line {self.name!r}: start and end must be finite (x, y)")
        if tuple(self.start) == tuple(self.end):
            raise ValidationError(f"line {self.name!r}: start and end must differ")
        if self.band < 0.0:
            raise ValidationError(f"line {self.name!r}: band must be >= 0")


@dataclass(frozen=True, slots=True)
class LineTally:
    """Re-counted crossings of one line.

    Attributes:
        name: Line name.
        in_count: Crossings in.
        out_count: Crossings out.
        in_per_class: Crossings in by class id.
        out_per_class: Crossings out by class id.
    """

    name: str
    in_count: int
    out_count: int
    in_per_class: dict[int, int]
    out_per_class: dict[int, int]


@dataclass(frozen=True, slots=True, eq=False)
class _Chain:
    """One person's path, with where its ends were heading (``None``: not extended)."""

    class_id: int
    xy: FloatArray
    height: float
    before: FloatArray | None = None
    after: FloatArray | None = None


def _chain(pieces: Sequence[Piece], period: tuple[float, float]) -> _Chain:
    """Join pieces into one path and note where its ends were heading.

    A track often ends (or starts) in the middle of a crossing, inside the
    band, because the person is occluded or handed to another id there. Each
    end is extended along its velocity by ``EXTEND_SECONDS``, and the
    extension is used only when that end lies inside a line's band: a walker
    who was leaving the band then counts, a person standing in it (no
    velocity) does not, and a track that ends well clear of the line never
    gains a crossing from it. Ends at the edges of the recorded period are
    not extended (the person was simply there when recording began or ended).
    """
    first, last = pieces[0], pieces[-1]
    before = after = None
    if first.t[0] > period[0]:
        before = first.xy[0] - first.velocity(at_end=False) * EXTEND_SECONDS
    if last.t[-1] < period[1]:
        after = last.xy[-1] + last.velocity(at_end=True) * EXTEND_SECONDS
    return _Chain(
        first.class_id,
        np.concatenate([p.xy for p in pieces]),
        float(np.median(np.concatenate([p.height for p in pieces]))),
        before,
        after,
    )


def _path(trajectory: Trajectory) -> _Chain:
    return _Chain(trajectory.class_id, trajectory.xy, float(np.median(trajectory.height)))


def _crossings(chain: _Chain, line: RecountLine) -> tuple[int, int]:
    """Return (in, out) crossings of the segment by one chain's path."""
    start = np.asarray(line.start, dtype=np.float64)
    vector = np.asarray(line.end, dtype=np.float64) - start
    length = float(np.hypot(vector[0], vector[1]))
    half = (line.band if line.band > 0.0 else AUTO_BAND * chain.height) / 2.0

    def signed_of(xy: FloatArray) -> FloatArray:
        relative = xy - start
        out: FloatArray = (vector[0] * relative[:, 1] - vector[1] * relative[:, 0]) / length
        return out

    xy = chain.xy
    ends = signed_of(xy[[0, -1]])
    if chain.before is not None and abs(ends[0]) <= half:
        xy = np.concatenate([chain.before[None, :], xy])
    if chain.after is not None and abs(ends[1]) <= half:
        xy = np.concatenate([xy, chain.after[None, :]])
    signed = signed_of(xy)
    along = ((xy - start) @ vector) / (length * length)
    sided = np.flatnonzero(np.abs(signed) > half)
    if sided.size < 2:
        return 0, 0
    sides = signed[sided] < 0.0  # True: in side
    changes = np.flatnonzero(sides[1:] != sides[:-1])
    counted_in = counted_out = 0
    for c in changes.tolist():
        a, b = int(sided[c]), int(sided[c + 1])
        if _within(signed[a : b + 1], along[a : b + 1]):
            if sides[c + 1]:
                counted_in += 1
            else:
                counted_out += 1
    return counted_in, counted_out


def _within(signed: FloatArray, along: FloatArray) -> bool:
    """Whether the path through these samples meets the line between its two ends."""
    s0, s1 = signed[:-1], signed[1:]
    meets = (s0 == 0.0) | (s1 == 0.0) | ((s0 < 0.0) != (s1 < 0.0))
    denominator = np.where(s0 == s1, 1.0, s0 - s1)
    where = along[:-1] + (along[1:] - along[:-1]) * np.clip(s0 / denominator, 0.0, 1.0)
    return bool(np.any(meets & (where >= 0.0) & (where <= 1.0)))


def _tally(chains: Sequence[_Chain], lines: Sequence[RecountLine]) -> list[LineTally]:
    tallies = []
    for line in lines:
        ins: Counter[int] = Counter()
        outs: Counter[int] = Counter()
        for chain in chains:
            n_in, n_out = _crossings(chain, line)
            ins[chain.class_id] += n_in
            outs[chain.class_id] += n_out
        tallies.append(
            LineTally(
                line.name,
                sum(ins.values()),
                sum(outs.values()),
                {k: v for k, v in sorted(ins.items()) if v},
                {k: v for k, v in sorted(outs.items()) if v},
            )
        )
    return tallies


def count_paths(
    trajectories: Sequence[Trajectory], lines: Sequence[RecountLine]
) -> list[LineTally]:
    """Count crossings of trajectories taken as they are (no smoothing, cutting or stitching).

    The band and the segment's extent apply as in ``recount``. This is how
    ground-truth trajectories, whose identities are right, are counted with
    the same semantics as the re-count.

    Args:
        trajectories: Paths, one per identity.
        lines: The counting segments.

    Returns:
        One tally per line, in the order of ``lines``.
    """
    return _tally([_path(t) for t in trajectories], lines)


def person_chains(trajectories: Sequence[Trajectory], stitch_seconds: float) -> list[list[Piece]]:
    """The tracks as one chain of pieces per person, as far as the motion tells.

    Each track is cut at implausible jumps and smoothed, with the camera's
    shift taken out (``recount_stitch.pieces_of``); pieces that repeat another
    track are dropped; the rest are stitched end to start over gaps of up to
    ``stitch_seconds``. Every remaining piece is in exactly one chain.
    """
    grid, offsets = camera_offsets([(tr.t, tr.xy) for tr in trajectories])
    pieces = [
        piece
        for tr in trajectories
        for piece in pieces_of(
            tr.class_id, tr.t, tr.xy, tr.height, offsets[np.searchsorted(grid, tr.t)]
        )
    ]
    return stitch(drop_duplicates(pieces), stitch_seconds)


def recount(
    trajectories: Sequence[Trajectory],
    lines: Sequence[RecountLine],
    *,
    stitch_seconds: float = 2.0,
) -> list[LineTally]:
    """Count every line's crossings over a recorded period, with look-ahead.

    Args:
        trajectories: Every track of the period (any order).
        lines: The counting segments.
        stitch_seconds: Longest gap between the end of one tracklet and the
            start of another that may still be one person (``>= 0``).

    Returns:
        One tally per line, in the order of ``lines``.

    Raises:
        ValidationError: ``stitch_seconds`` is negative or not finite.
    """
    if not (math.isfinite(stitch_seconds) and stitch_seconds >= 0.0):
        raise ValidationError("stitch_seconds must be a finite number >= 0")
    groups = person_chains(trajectories, stitch_seconds)
    if not groups:
        return _tally([], lines)
    pieces = [piece for group in groups for piece in group]
    period = (min(float(p.t[0]) for p in pieces), max(float(p.t[-1]) for p in pieces))
    chains = [
        _chain(group, period) for group in groups if sum(len(p.t) for p in group) >= MIN_SAMPLES
    ]
    return _tally(chains, lines)

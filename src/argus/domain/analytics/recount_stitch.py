"""Trajectory clean-up for the offline re-count: camera motion, cutting, smoothing, stitching.

A recorded period can be read with look-ahead, which a live counter cannot
do. Each track is first cut where it jumps further than a person can move
(an identity switch hands a track to someone else), each piece is smoothed
with a running median, and the pieces are then joined end to start across the
whole period: a piece that ends and a piece that starts shortly afterwards,
where the first one's motion predicts the second, are one person. The joins
are chosen globally by cost (cheapest first, each end and each start used at
most once), so a piece goes to the continuation that fits it best rather than
to whichever appears first.

When the camera pans, everyone sweeps across the image at once, faster than
anyone walks; the camera's offset is estimated from the tracks themselves
(``camera_offsets``) and both the cut and the joins also look at the points
less that offset, so a pan neither cuts tracks nor stops their stitching.

Scales are in box heights, so the same rules hold near the camera and far
from it: a walking person covers about one body height per second.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = ["Piece", "camera_offsets", "drop_duplicates", "pieces_of", "stitch"]

FloatArray = npt.NDArray[np.float64]

SMOOTH_WINDOW = 5
"""Samples in the running median (odd); spikes of up to two samples vanish."""
JUMP_BASE = 0.6
"""A step longer than this many box heights (plus ``JUMP_RATE`` per second) is a switch."""
JUMP_RATE = 3.0
"""Box heights per second a person may move between two samples of one track."""
GATE_BASE = 0.5
"""Box heights two pieces' predicted meeting points may differ by at a zero gap."""
GATE_RATE = 0.3
"""Extra box heights of tolerance per second of gap (speed and heading uncertainty)."""
MAX_SPEED = 2.0
"""Box heights per second: an end velocity above this is clipped (a person, not a box jump)."""
VELOCITY_SECONDS = 0.5
"""Seconds at the end (start) of a piece that estimate its velocity."""
HEIGHT_RATIO = 1.6
"""Two pieces whose box heights differ by more than this factor are not one person."""
DUPLICATE_DISTANCE = 0.25
"""Box heights: a piece this close to a longer one at the same times is a duplicate of it."""
DUPLICATE_SHARE = 0.8
"""Share of a piece's samples that must lie on a longer piece for it to be a duplicate."""
DUPLICATE_SECONDS = 1.0
"""Only pieces this brief can be duplicates (two people side by side stay apart longer)."""
MIN_MOVERS = 3
"""Tracks that must share a time step for their median step to count as camera motion."""
GAP_COST = 0.3
"""Cost per second of gap, added to the distance cost, so shorter gaps are preferred."""


@dataclass(frozen=True, slots=True, eq=False)
class Piece:
    """A stretch of one track with no implausible jump, smoothed.

    Attributes:
        class_id: The track's class.
        t: Seconds, shape ``(K,)``, increasing.
        xy: Smoothed anchor points, shape ``(K, 2)``.
        height: Box heights, shape ``(K,)``.
        scene: Smoothed anchor points less the camera's offset (``camera_offsets``),
            shape ``(K, 2)``.
    """

    class_id: int
    t: FloatArray
    xy: FloatArray
    height: FloatArray
    scene: FloatArray

    def velocity(self, *, at_end: bool, scene: bool = False) -> FloatArray:
        """Velocity in pixels per second over the last (or first) ``VELOCITY_SECONDS``.

        Clipped to ``MAX_SPEED`` box heights per second; zero for one sample.
        With ``scene``, of the camera-compensated points.
        """
        t, xy = self.t, (self.scene if scene else self.xy)
        if at_end:
            first = int(np.searchsorted(t, t[-1] - VELOCITY_SECONDS, side="left"))
            a, b = first, len(t) - 1
        else:
            last = int(np.searchsorted(t, t[0] + VELOCITY_SECONDS, side="right")) - 1
            a, b = 0, last
        span = float(t[b] - t[a])
        if b <= a or span <= 0.0:
            return np.zeros(2)
        v: FloatArray = (xy[b] - xy[a]) / span
        speed = float(np.hypot(v[0], v[1]))
        limit = MAX_SPEED * float(np.median(self.height))
        return v * (limit / speed) if speed > limit else v


def _running_median(values: FloatArray, window: int) -> FloatArray:
    """Median over a centred window per column, edges padded with the end values."""
    if len(values) < 3:
        return values.copy()
    w = min(window, len(values) if len(values) % 2 else len(values) - 1)
    r = w // 2
    padded = np.pad(values, ((r, r), (0, 0)), mode="edge")
    windows = np.lib.stride_tricks.sliding_window_view(padded, w, axis=0)
    out: FloatArray = np.median(windows, axis=-1)
    return out


def camera_offsets(
    tracks: Sequence[tuple[FloatArray, FloatArray]],
) -> tuple[FloatArray, FloatArray]:
    """Estimate the camera's image offset over time from the tracks themselves.

    Between two consecutive sample times, the median step of the tracks seen
    at both is taken as the camera's step when at least ``MIN_MOVERS`` tracks
    share it (else no step); the offsets are the running sum of the steps.

    Args:
        tracks: ``(t, xy)`` per track: seconds ``(K,)`` and points ``(K, 2)``.

    Returns:
        The sample times ``(G,)`` and the offset at each ``(G, 2)``.
    """
    if not tracks:
        return np.zeros(0), np.zeros((0, 2))
    grid = np.unique(np.concatenate([t for t, _ in tracks]))
    steps, moves = [], []
    for t, xy in tracks:
        index = np.searchsorted(grid, t)
        next_step = np.flatnonzero(np.diff(index) == 1)
        steps.append(index[next_step])
        moves.append(xy[next_step + 1] - xy[next_step])
    step = np.concatenate(steps)
    move = np.concatenate(moves).reshape(-1, 2)
    order = np.argsort(step, kind="stable")
    step, move = step[order], move[order]
    camera = np.zeros((len(grid), 2))
    values, starts, counts = np.unique(step, return_index=True, return_counts=True)
    for value, first, count in zip(values, starts, counts, strict=True):
        if count >= MIN_MOVERS:
            camera[value + 1] = np.median(move[first : first + count], axis=0)
    offsets: FloatArray = np.cumsum(camera, axis=0)
    return grid, offsets


def pieces_of(
    class_id: int, t: FloatArray, xy: FloatArray, height: FloatArray, offset: FloatArray
) -> list[Piece]:
    """Cut one track where it jumps implausibly and smooth every piece.

    A jump is a step longer than a person moves both in the image and less
    the camera's motion (a pan moves everyone at once).

    Args:
        class_id: The track's class.
        t: Seconds, shape ``(K,)``, increasing.
        xy: Anchor points, shape ``(K, 2)``.
        height: Box heights, shape ``(K,)``.
        offset: The camera's offset at each sample, shape ``(K, 2)``.

    Returns:
        The pieces in time order (one when the track never jumps).
    """
    scene = xy - offset
    scale = np.maximum(np.minimum(height[1:], height[:-1]), 1.0)
    limit = scale * (JUMP_BASE + JUMP_RATE * np.diff(t))
    raw = np.hypot(*(xy[1:] - xy[:-1]).T) > limit
    moved = np.hypot(*(scene[1:] - scene[:-1]).T) > limit
    cuts = [0, *(np.flatnonzero(raw & moved) + 1).tolist(), len(t)]
    out = []
    for a, b in itertools.pairwise(cuts):
        out.append(
            Piece(
                class_id,
                t[a:b].copy(),
                _running_median(xy[a:b], SMOOTH_WINDOW),
                height[a:b],
                _running_median(scene[a:b], SMOOTH_WINDOW),
            )
        )
    return out


def drop_duplicates(pieces: Sequence[Piece]) -> list[Piece]:
    """Leave out pieces that shadow a longer piece (a second track on the same person).

    A tracker sometimes starts a new track on a person it is already
    tracking; the short duplicate would otherwise count the same crossing
    again or steal the stitch meant for the person's next track.

    Args:
        pieces: Every piece.

    Returns:
        The pieces that are not duplicates, in their order.
    """
    n = len(pieces)
    if n < 2:
        return list(pieces)
    start = np.array([p.t[0] for p in pieces])
    end = np.array([p.t[-1] for p in pieces])
    size = np.array([len(p.t) for p in pieces])
    overlap = (start[:, None] <= end[None, :]) & (start[None, :] <= end[:, None])
    brief = (end - start <= DUPLICATE_SECONDS)[:, None]
    shorter = (size[:, None] < size[None, :]) | (
        (size[:, None] == size[None, :]) & (np.arange(n)[:, None] > np.arange(n)[None, :])
    )
    dropped: set[int] = set()
    for i, j in zip(*np.nonzero(overlap & shorter & brief), strict=True):
        if int(i) in dropped or int(j) in dropped:
            continue
        a, b = pieces[int(i)], pieces[int(j)]
        _, ia, ib = np.intersect1d(a.t, b.t, assume_unique=True, return_indices=True)
        if len(ia) < DUPLICATE_SHARE * len(a.t):
            continue
        distance = np.hypot(*(a.xy[ia] - b.xy[ib]).T)
        if float(np.median(distance)) < DUPLICATE_DISTANCE * float(np.median(a.height[ia])):
            dropped.add(int(i))
    return [p for k, p in enumerate(pieces) if k not in dropped]


def _link_costs(pieces: Sequence[Piece], stitch_seconds: float) -> list[tuple[float, int, int]]:
    """Candidate joins ``(cost, earlier, later)`` that pass the gates."""
    n = len(pieces)
    if n < 2:
        return []
    t_end = np.array([p.t[-1] for p in pieces])
    t_start = np.array([p.t[0] for p in pieces])
    h_end = np.array([float(np.median(p.height[-5:])) for p in pieces])
    h_start = np.array([float(np.median(p.height[:5])) for p in pieces])
    cls = np.array([p.class_id for p in pieces])
    gap = t_start[None, :] - t_end[:, None]  # (earlier i, later j)
    possible = (gap > 0.0) & (gap <= stitch_seconds) & (cls[:, None] == cls[None, :])
    ratio = np.maximum(h_end[:, None], h_start[None, :]) / np.maximum(
        np.minimum(h_end[:, None], h_start[None, :]), 1.0
    )
    possible &= ratio <= HEIGHT_RATIO
    ii, jj = np.nonzero(possible)
    if ii.size == 0:
        return []
    g = gap[ii, jj][:, None]
    # Both pieces predict where the person was half-way through the gap, in the
    # image and less the camera's motion; the better of the two decides.
    miss = np.full(len(ii), np.inf)
    for scene in (False, True):
        p_end = np.array([(p.scene if scene else p.xy)[-1] for p in pieces])
        p_start = np.array([(p.scene if scene else p.xy)[0] for p in pieces])
        v_end = np.array([p.velocity(at_end=True, scene=scene) for p in pieces])
        v_start = np.array([p.velocity(at_end=False, scene=scene) for p in pieces])
        forward = p_end[ii] + v_end[ii] * (g / 2.0)
        backward = p_start[jj] - v_start[jj] * (g / 2.0)
        miss = np.minimum(miss, np.hypot(*(forward - backward).T))
    scale = np.maximum((h_end[ii] + h_start[jj]) / 2.0, 1.0)
    gate = scale * (GATE_BASE + GATE_RATE * g[:, 0])
    ok = miss <= gate
    cost = miss / scale + GAP_COST * g[:, 0]
    return sorted(zip(cost[ok].tolist(), ii[ok].tolist(), jj[ok].tolist(), strict=True))


def stitch(pieces: Sequence[Piece], stitch_seconds: float) -> list[list[Piece]]:
    """Join pieces end to start into chains, one chain per person as far as the motion tells.

    Args:
        pieces: Every piece of every track.
        stitch_seconds: Longest gap a join may bridge.

    Returns:
        Chains of pieces in time order; every piece is in exactly one chain.
    """
    following: dict[int, int] = {}
    preceded: set[int] = set()
    for _, i, j in _link_costs(pieces, stitch_seconds):
        if i in following or j in preceded:
            continue
        following[i] = j
        preceded.add(j)
    chains = []
    for first in range(len(pieces)):
        if first in preceded:
            continue
        chain = [pieces[first]]
        current = first
        while current in following:
            current = following[current]
            chain.append(pieces[current])
        chains.append(chain)
    return chains

"""The association stages of ``ByteTracker``: which track takes which detection.

A mixin over the tracker's buffers (see ``bytetrack``), split off to keep each
module readable. Stages, in order: high-score detections against confirmed
tracks by IoU fused with the score and ranked by direction consistency;
leftovers once more with enlarged boxes (buffered IoU); low-score detections
against tracks seen in the previous frame; tentative tracks against the rest;
and lost tracks against would-be births by the filter's own uncertainty.
"""

from __future__ import annotations

import numpy as np

from argus.domain.tracking.config import TrackerConfig
from argus.domain.tracking.frame_io import Float, FrameInputs, Ids, Index, Mask
from argus.domain.tracking.kalman import BOX, BoxKalman
from argus.domain.tracking.matching import Assign, iou_signed, match, signed_corners
from argus.domain.tracking.recovery import estimate_shift, momentum, recover

__all__ = ["Stages"]

_EMPTY = np.zeros(0, dtype=np.intp)
_WHWH = np.array([2, 3, 2, 3])
# Rows of the per-track integer table: id, first frame in which the track is
# confirmed if matched in every frame until then, frame last matched, class.
# A tentative track that misses a frame is removed, so it is confirmed exactly
# when its last matched frame reaches the confirmation frame.
_ID, _CONFIRM_AT, _SEEN, _CLASS = 0, 1, 2, 3
# A shift estimated from the boxes moves the tracks only when it exceeds this
# share of the median box height (smaller ones are indistinguishable from noise).
_MOTION_GATE = 0.04


class Stages:
    """Association stages over the buffers a ``ByteTracker`` holds."""

    config: TrackerConfig
    _assign: Assign
    _kalman: BoxKalman
    _state: Float
    _obs: Float
    _table: Ids
    _embedding: Float | None
    _count: int
    _birth_threshold: float
    _grow: Float
    _gates: tuple[Float, Float, Float]

    def _follow_boxes(self, frame: FrameInputs) -> None:
        """Move every track by the global shift the boxes agree on (no frames given).

        Positions take the whole shift and velocities half of it: a camera that
        started to pan goes on panning, though not surely at the same pace.
        (Estimating only every few frames while the camera looks still saves
        about 4 us a frame but loses the start of every pan: 3 HOTA on the
        camera-motion level of the robustness suite.)
        """
        count = self._count
        shift = estimate_shift(self._state[BOX, :count], frame.xywh, min_votes=4, reach=1.0)
        moved = shift is not None and np.hypot(shift[0], shift[1]) > _MOTION_GATE * float(
            np.median(frame.xywh[:, 3])
        )
        if shift is None or not moved:
            return
        self._state[BOX, :count, :2] += shift
        self._state[1, :count, :2] += 0.5 * shift

    def _associate(
        self, frame: FrameInputs, lost: Mask, n_lost: int
    ) -> tuple[Index, Index, bool, bool]:
        """Run the three matching stages.

        Returns:
            Matched track rows and detection indices, whether the rows ascend
            (one stage matched), and whether a tentative track is left
            unmatched (it must be removed).
        """
        cfg = self.config
        count, n = self._count, frame.score.shape[0]
        table = self._table[:, :count]
        confirmed = table[_SEEN] >= table[_CONFIRM_AT]
        n_tentative = count - int(np.count_nonzero(confirmed))
        if not count or not n:
            return _EMPTY, _EMPTY, True, n_tentative > 0
        score = frame.score
        high = score >= cfg.high_threshold
        n_high = np.count_nonzero(high)
        box = self._state[BOX, :count]
        iou = iou_signed(signed_corners(box), box[:, 2] * box[:, 3], frame.corners, frame.area)
        sim = iou * score.astype(np.float64) if cfg.fuse_score else iou
        dets = None if n_high == n else high.nonzero()[0]
        pool = None if not n_tentative else confirmed.nonzero()[0]
        rows, cols = self._pairs(
            sim, pool, dets, self._gates[0], frame, momentum_weight=cfg.momentum_weight
        )
        ascending = True
        if cfg.buffer > 0 and rows.size < count - n_tentative and rows.size < n_high:
            # Jittery boxes, fast motion or dropped frames: compare enlarged boxes.
            free = confirmed.copy()
            free[rows] = False
            left = high.copy()
            left[cols] = False
            tb, db = free.nonzero()[0], left.nonzero()[0]
            t_box = box.take(tb, axis=0)
            grow = (1.0 + 2.0 * cfg.buffer) ** 2
            wide = iou_signed(
                signed_corners(t_box * self._grow),
                t_box[:, 2] * t_box[:, 3] * grow,
                frame.corners.take(db, axis=1) - cfg.buffer * frame.xywh[db][:, _WHWH].T,
                frame.area.take(db) * grow,
            )
            if cfg.fuse_score:
                wide *= score.take(db)
            t1, d1 = self._pairs(wide, tb, db, self._gates[0], frame, taken=True)
            rows, cols = np.concatenate((rows, t1)), np.concatenate((cols, d1))
            ascending = not t1.size
        n_matched = rows.size
        if n_high < n and n_matched < count - n_tentative - n_lost:
            free = confirmed & ~lost
            free[rows] = False
            low = (~high & (score >= cfg.low_threshold)).nonzero()[0]
            t2, d2 = self._pairs(iou, free.nonzero()[0], low, self._gates[1], frame)
            rows, cols = np.concatenate((rows, t2)), np.concatenate((cols, d2))
            ascending = ascending and not t2.size
        t3 = _EMPTY
        if n_tentative and n_matched < n_high:
            left = high.copy()
            left[cols[:n_matched]] = False
            tentative = (~confirmed).nonzero()[0]
            t3, d3 = self._pairs(sim, tentative, left.nonzero()[0], self._gates[2], frame)
            rows, cols = np.concatenate((rows, t3)), np.concatenate((cols, d3))
            ascending = ascending and not t3.size
        return rows, cols, ascending, t3.size < n_tentative

    def _recover(
        self, rows: Index, cols: Index, frame: FrameInputs, lost: Mask, ascending: bool
    ) -> tuple[Index, Index, bool]:
        """Match lost confirmed tracks to leftover births by the filter's uncertainty."""
        table = self._table[:, : self._count]
        free = lost & (table[_SEEN] >= table[_CONFIRM_AT])
        free[rows] = False
        left = frame.score >= self._birth_threshold
        left[cols] = False
        tracks, dets = free.nonzero()[0], left.nonzero()[0]
        if not tracks.size or not dets.size:
            return rows, cols, ascending
        ok, sim = recover(
            self._state.take(tracks, axis=1),
            self._obs.take(tracks, axis=0),
            frame.xywh.take(dets, axis=0),
            gate=self.config.recovery_gate,
            kalman=self._kalman,
        )
        if not ok.any():
            return rows, cols, ascending
        r, c = match(sim, ok, self._assign)
        return (
            np.concatenate((rows, tracks.take(r))),
            np.concatenate((cols, dets.take(c))),
            False,
        )

    def _pairs(
        self,
        sim: Float,
        tracks: Index | None,
        dets: Index | None,
        gate: Float,
        frame: FrameInputs,
        *,
        momentum_weight: float = 0.0,
        taken: bool = False,
    ) -> tuple[Index, Index]:
        """Match a block of the similarity matrix (``None`` takes all rows or columns).

        ``gate`` is the least similarity that may match (a 0-d array). Momentum
        and appearance only rank pairs the gate admits, and only matter when
        a track or a detection has two of them (otherwise the matching is
        forced), so they are computed only then. ``taken``: ``sim`` is already
        the block of ``tracks`` and ``dets``.
        """
        if tracks is not None and not taken:
            sim = sim.take(tracks, axis=0)
        if dets is not None and not taken:
            sim = sim.take(dets, axis=1)
        if not sim.size:
            return _EMPTY, _EMPTY
        ok = sim >= gate
        if self.config.class_consistent:
            t_cls = self._table[_CLASS, : self._count]
            t_cls = t_cls if tracks is None else t_cls.take(tracks)
            d_cls = frame.class_id if dets is None else frame.class_id.take(dets)
            ok &= t_cls[:, None] == d_cls

        def refine(sim: Float) -> Float:
            if momentum_weight > 0:
                t = slice(None) if tracks is None else tracks
                state = self._state[:, : self._count][:, t]
                d_xywh = frame.xywh if dets is None else frame.xywh.take(dets, axis=0)
                sim = sim + momentum_weight * momentum(state, self._obs[: self._count][t], d_xywh)
            weight = self.config.appearance_weight
            if frame.emb is not None and self._embedding is not None and weight > 0:
                t_emb = self._embedding[: self._count]
                t_emb = t_emb if tracks is None else t_emb.take(tracks, axis=0)
                d_emb = frame.emb if dets is None else frame.emb.take(dets, axis=0)
                # Appearance ranks the pairs the IoU gate admits; it never links far boxes.
                sim = (1.0 - weight) * sim + weight * 0.5 * (1.0 + t_emb @ d_emb.T)
            return sim

        rows, cols = match(sim, ok, self._assign, refine)
        return (
            rows if tracks is None else tracks.take(rows),
            cols if dets is None else dets.take(cols),
        )

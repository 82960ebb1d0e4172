"""A ByteTrack-class multi-object tracker, vectorised over all tracks.

Every track lives in a column of a few preallocated numpy buffers (the Kalman
state, a table of id, confirmation frame, last matched frame and class, an
optional appearance embedding) whose leading ``track_count`` columns are live;
they double when full and are compacted when tracks are removed. One update is
a bounded number of whole-array operations whatever the number of tracks: no
per-track Python objects or loops. With the few boxes of a typical frame each
numpy call costs far more than its arithmetic, so the hot path is written to
make few calls on contiguous blocks. One frame:

1. predict every track one frame ahead (lost tracks keep their size);
2. match confirmed tracks (seen or lost) to high-score detections by IoU,
   fused with the score, and blended with appearance when embeddings are given;
3. match the confirmed tracks seen in the previous frame that are still free
   to the low-score detections by IoU (ByteTrack's second stage);
4. match tentative tracks to the leftover high-score detections;
5. correct the matched tracks; tentative ones are confirmed after
   ``min_hits`` matched frames; tentative tracks that missed this frame and
   confirmed ones unmatched for longer than the lost buffer are removed;
6. start tentative tracks at leftover detections scoring high enough.

Every track gets its own positive id when it starts and keeps it when it is
confirmed. ``update`` returns confirmed tracks only; ``update_all`` returns
tentative ones too, with a ``confirmed`` mask. No two objects ever share an id:
a shared placeholder id for tentative tracks makes a counter count them all as
one object.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from argus.domain.detections import Detections
from argus.domain.errors import ValidationError
from argus.domain.tracking.config import TrackerConfig
from argus.domain.tracking.frame_io import (
    Float,
    FrameInputs,
    Ids,
    Index,
    Mask,
    TrackUpdate,
    frame_inputs,
    subset,
)
from argus.domain.tracking.kalman import BOX, STATE_ROWS, BoxKalman
from argus.domain.tracking.matching import (
    Assign,
    greedy_assign,
    iou_signed,
    match,
    signed_corners,
)

__all__ = ["ByteTracker", "TrackUpdate"]

_EMPTY = np.zeros(0, dtype=np.intp)
_INITIAL_CAPACITY = 16
# Rows of the per-track integer table: id, first frame in which the track is
# confirmed if matched in every frame until then, frame last matched, class.
# A tentative track that misses a frame is removed, so it is confirmed exactly
# when its last matched frame reaches the confirmation frame.
_ID, _CONFIRM_AT, _SEEN, _CLASS = 0, 1, 2, 3


class ByteTracker:
    """Assigns persistent ids to detections across the frames of one stream.

    Args:
        config: Thresholds and buffers; ``TrackerConfig()`` when omitted.
        assign: Solver for conflicting matches; the composition root wires an
            optimal one (SciPy). The pure-numpy greedy solver when omitted.
        kalman: Noise model of the motion filter.
    """

    def __init__(
        self,
        config: TrackerConfig | None = None,
        *,
        assign: Assign | None = None,
        kalman: BoxKalman | None = None,
    ) -> None:
        self.config = config if config is not None else TrackerConfig()
        self._assign: Assign = assign if assign is not None else greedy_assign
        self._kalman = kalman if kalman is not None else BoxKalman()
        self._max_lost = self.config.max_lost_frames
        # ``high & (score >= new)`` in one comparison.
        self._birth_threshold = max(self.config.high_threshold, self.config.new_track_threshold)
        # Similarity gates of the three stages; IoU 0 never matches, whatever the threshold.
        self._gates = tuple(
            np.array(max(gate, 1e-9))
            for gate in (
                self.config.match_iou,
                self.config.low_match_iou,
                self.config.tentative_match_iou,
            )
        )
        self.reset()

    def reset(self) -> None:
        """Forget every track and restart ids at 1 (call between unrelated streams)."""
        self._state: Float = np.zeros((STATE_ROWS, _INITIAL_CAPACITY, 4))
        self._table: Ids = np.zeros((4, _INITIAL_CAPACITY), dtype=np.int64)
        self._embedding: Float | None = None
        self._count = 0
        self._frame = 0
        self._next_id = 1

    @property
    def track_count(self) -> int:
        """Tracks currently held (tentative, seen and lost)."""
        return self._count

    @property
    def capacity(self) -> int:
        """Tracks the buffers hold before they grow (at least ``track_count``)."""
        return int(self._table.shape[1])

    def update(
        self, detections: Detections, embeddings: npt.NDArray[np.floating] | None = None
    ) -> Detections:
        """Track one frame and return the detections of confirmed tracks.

        Args:
            detections: This frame's detections (never modified).
            embeddings: Optional appearance vectors, shape ``(N, D)``, one per
                detection (see ``AppearanceModel``).

        Returns:
            The subset of ``detections`` that belongs to confirmed tracks, in
            input order, each with its track's unique positive ``tracker_id``.
        """
        index, ids, confirmed = self._step(detections, embeddings)
        if np.count_nonzero(confirmed) < confirmed.size:
            index, ids = index.compress(confirmed), ids.compress(confirmed)
        return subset(detections, index, ids)

    def update_all(
        self, detections: Detections, embeddings: npt.NDArray[np.floating] | None = None
    ) -> TrackUpdate:
        """Track one frame and return confirmed and tentative tracks with a mask.

        Args:
            detections: This frame's detections (never modified).
            embeddings: Optional appearance vectors, shape ``(N, D)``.

        Returns:
            The detections that belong to any track, and which are confirmed.
        """
        index, ids, confirmed = self._step(detections, embeddings)
        confirmed.setflags(write=False)
        return TrackUpdate(subset(detections, index, ids), confirmed)

    def _embeddings(self, embeddings: npt.NDArray[np.floating] | None, n: int) -> Float | None:
        if embeddings is None:
            return None
        emb = np.array(embeddings, dtype=np.float64)
        if emb.ndim != 2 or emb.shape[0] != n:
            raise ValidationError(f"embeddings must have shape ({n}, D), got {emb.shape}")
        if not np.all(np.isfinite(emb)):
            raise ValidationError("embeddings contain NaN or infinite values")
        if self._embedding is None:
            # Tracks from before embeddings were first given hold a zero vector
            # (a neutral distance) until their first matched appearance.
            self._embedding = np.zeros((self.capacity, emb.shape[1]))
        elif emb.shape[1] != self._embedding.shape[1]:
            raise ValidationError(
                f"embeddings have {emb.shape[1]} dimensions, tracks hold {self._embedding.shape[1]}"
            )
        emb /= np.maximum(np.linalg.norm(emb, axis=1, keepdims=True), 1e-12)
        return emb

    def _step(
        self, detections: Detections, embeddings: npt.NDArray[np.floating] | None
    ) -> tuple[Index, Ids, Mask]:
        """Advance one frame; return detection indices, their ids and confirmation."""
        self._frame += 1
        now = self._frame
        n = detections.xyxy.shape[0]
        emb = self._embeddings(embeddings, n)
        count = self._count
        if not count and not n:
            return _EMPTY.copy(), np.zeros(0, dtype=np.int64), np.zeros(0, dtype=bool)
        table = self._table[:, :count]
        lost = table[_SEEN] < now - 1
        n_lost = int(np.count_nonzero(lost))
        if count:
            self._kalman.predict(self._state[:, :count], lost if n_lost else None)
        frame = frame_inputs(detections, emb)
        rows, cols, ascending, tentative_left = self._associate(frame, lost, n_lost)
        self._correct(rows, cols, frame, whole=ascending and rows.size == count)
        ids = self._table[_ID].take(rows)
        is_confirmed = self._table[_CONFIRM_AT].take(rows) <= now
        if rows.size < count and (
            tentative_left
            or np.count_nonzero(table[_SEEN] < now - self._max_lost)  # views see the update
        ):
            self._prune()
        if cols.size < n:
            candidate = frame.score >= self._birth_threshold
            candidate[cols] = False
            born = candidate.nonzero()[0]
            if born.size:
                new_ids, new_confirmed = self._start(born, frame)
                cols = np.concatenate((cols, born))
                ids = np.concatenate((ids, new_ids))
                is_confirmed = np.concatenate((is_confirmed, new_confirmed))
        if cols.size > 1:
            order = cols.argsort()
            return cols.take(order), ids.take(order), is_confirmed.take(order)
        return cols, ids, is_confirmed

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
        rows, cols = self._pairs(sim, pool, dets, self._gates[0], frame)
        n_matched = rows.size
        ascending = True
        if n_high < n and n_matched < count - n_tentative - n_lost:
            free = confirmed & ~lost
            free[rows] = False
            low = (~high & (score >= cfg.low_threshold)).nonzero()[0]
            t2, d2 = self._pairs(iou, free.nonzero()[0], low, self._gates[1], frame)
            rows, cols = np.concatenate((rows, t2)), np.concatenate((cols, d2))
            ascending = not t2.size
        t3 = _EMPTY
        if n_tentative and n_matched < n_high:
            left = high.copy()
            left[cols[:n_matched]] = False
            tentative = (~confirmed).nonzero()[0]
            t3, d3 = self._pairs(sim, tentative, left.nonzero()[0], self._gates[2], frame)
            rows, cols = np.concatenate((rows, t3)), np.concatenate((cols, d3))
            ascending = ascending and not t3.size
        return rows, cols, ascending, t3.size < n_tentative

    def _pairs(
        self, sim: Float, tracks: Index | None, dets: Index | None, gate: Float, frame: FrameInputs
    ) -> tuple[Index, Index]:
        """Match a block of the similarity matrix (``None`` takes all rows or columns).

        ``gate`` is the least similarity that may match (a 0-d array).
        """
        if tracks is not None:
            sim = sim.take(tracks, axis=0)
        if dets is not None:
            sim = sim.take(dets, axis=1)
        if not sim.size:
            return _EMPTY, _EMPTY
        ok = sim >= gate
        if self.config.class_consistent:
            t_cls = self._table[_CLASS, : self._count]
            t_cls = t_cls if tracks is None else t_cls.take(tracks)
            d_cls = frame.class_id if dets is None else frame.class_id.take(dets)
            ok &= t_cls[:, None] == d_cls
        weight = self.config.appearance_weight
        if frame.emb is not None and self._embedding is not None and weight > 0:
            t_emb = self._embedding[: self._count]
            t_emb = t_emb if tracks is None else t_emb.take(tracks, axis=0)
            d_emb = frame.emb if dets is None else frame.emb.take(dets, axis=0)
            # Appearance ranks the pairs the IoU gate admits; it never links far boxes.
            sim = (1.0 - weight) * sim + weight * 0.5 * (1.0 + t_emb @ d_emb.T)
        rows, cols = match(sim, ok, self._assign)
        return (
            rows if tracks is None else tracks.take(rows),
            cols if dets is None else dets.take(cols),
        )

    def _correct(self, rows: Index, cols: Index, frame: FrameInputs, *, whole: bool) -> None:
        """Apply the matches: Kalman correction, last matched frame, class and appearance.

        When ``whole``, ``rows`` is every track in order and the state is
        corrected in place without gathering and scattering columns. The class
        is only kept up to date where matching reads it.
        """
        if not rows.size:
            return
        count = self._count
        state = self._state[:, :count]
        measured = frame.xywh.take(cols, axis=0)
        if whole:
            self._kalman.update(state, measured)
        else:
            matched = state.take(rows, axis=1)
            self._kalman.update(matched, measured)
            state[:, rows] = matched
        self._table[_SEEN, rows] = self._frame
        if self.config.class_consistent:
            self._table[_CLASS, rows] = frame.class_id.take(cols)
        if frame.emb is not None and self._embedding is not None:
            m = self.config.appearance_momentum
            mixed = m * self._embedding[rows] + (1.0 - m) * frame.emb[cols]
            mixed /= np.maximum(np.linalg.norm(mixed, axis=1, keepdims=True), 1e-12)
            self._embedding[rows] = mixed

    def _prune(self) -> None:
        """Drop tentative tracks that missed this frame and lost ones beyond the buffer."""
        count = self._count
        table = self._table[:, :count]
        seen = table[_SEEN]
        keep = (seen >= self._frame - self._max_lost) & (
            (seen == self._frame) | (seen >= table[_CONFIRM_AT])
        )
        kept = int(np.count_nonzero(keep))
        if kept == count:
            return
        self._state[:, :kept] = self._state[:, :count].compress(keep, axis=1)
        self._table[:, :kept] = table.compress(keep, axis=1)
        if self._embedding is not None:
            self._embedding[:kept] = self._embedding[:count].compress(keep, axis=0)
        self._count = kept

    def _reserve(self, size: int) -> None:
        """Grow the buffers, at least doubling them, to hold ``size`` tracks."""
        capacity = self.capacity
        if size <= capacity:
            return
        capacity = max(2 * capacity, size)
        count = self._count
        state = np.zeros((STATE_ROWS, capacity, 4))
        state[:, :count] = self._state[:, :count]
        table = np.zeros((self._table.shape[0], capacity), dtype=np.int64)
        table[:, :count] = self._table[:, :count]
        self._state, self._table = state, table
        if self._embedding is not None:
            embedding = np.zeros((capacity, self._embedding.shape[1]))
            embedding[:count] = self._embedding[:count]
            self._embedding = embedding

    def _start(self, born: Index, frame: FrameInputs) -> tuple[Ids, Mask]:
        """Start tracks at the given detections; return their ids and confirmation."""
        k = born.size
        cfg = self.config
        start, end = self._count, self._count + k
        self._reserve(end)
        ids = np.arange(self._next_id, self._next_id + k, dtype=np.int64)
        self._next_id += k
        # Nothing before the first frame could have confirmed its tracks.
        at_once = cfg.min_hits <= 1 or (cfg.confirm_first_frame and self._frame == 1)
        new = self._table[:, start:end]
        new[_ID] = ids
        new[_CONFIRM_AT] = self._frame if at_once else self._frame + cfg.min_hits - 1
        new[_SEEN] = self._frame
        new[_CLASS] = frame.class_id.take(born)
        self._state[:, start:end] = self._kalman.initiate(frame.xywh.take(born, axis=0))
        if self._embedding is not None:
            self._embedding[start:end] = 0.0 if frame.emb is None else frame.emb.take(born, axis=0)
        self._count = end
        return ids, np.full(k, at_once, dtype=bool)

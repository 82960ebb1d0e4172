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
from argus.domain.tracking.kalman import BOX, STATE_ROWS, BoxKalman, warp_boxes, warp_states
from argus.domain.tracking.matching import (
    Assign,
    greedy_assign,
)
from argus.domain.tracking.recovery import reupdate
from argus.domain.tracking.stages import _CLASS, _CONFIRM_AT, _EMPTY, _ID, _SEEN, Stages

__all__ = ["ByteTracker", "TrackUpdate"]

# (cx, cy, w, h) @ _TO_XYXY = (x1, y1, x2, y2) in one call.
_TO_XYXY = np.array(
    [[1.0, 0.0, 1.0, 0.0], [0.0, 1.0, 0.0, 1.0], [-0.5, 0.0, 0.5, 0.0], [0.0, -0.5, 0.0, 0.5]]
)
_SURE = 0.875  # scores from which the measurement-noise factor is at its floor
_QUARTER, _TWO = np.array(0.25), np.array(2.0)
_INITIAL_CAPACITY = 16


class ByteTracker(Stages):
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
        cfg = self.config
        wide = 1.0 + 2.0 * cfg.buffer
        self._grow = np.array([1.0, 1.0, wide, wide])  # scales (cx, cy, w, h) for buffered IoU
        # ``high & (score >= new)`` in one comparison.
        self._birth_threshold = max(cfg.high_threshold, cfg.new_track_threshold)
        # Similarity gates of the three stages; IoU 0 never matches, whatever the threshold.
        self._gates = (
            np.array(max(cfg.match_iou, 1e-9)),
            np.array(max(cfg.low_match_iou, 1e-9)),
            np.array(max(cfg.tentative_match_iou, 1e-9)),
        )
        self.reset()

    def reset(self) -> None:
        """Forget every track and restart ids at 1 (call between unrelated streams)."""
        self._state: Float = np.zeros((STATE_ROWS, _INITIAL_CAPACITY, 4))
        # The state right after each track's last observation, and that observation.
        self._saved: Float = np.zeros((STATE_ROWS, _INITIAL_CAPACITY, 4))
        self._obs: Float = np.zeros((_INITIAL_CAPACITY, 4))
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
        self,
        detections: Detections,
        embeddings: npt.NDArray[np.floating] | None = None,
        *,
        warp: npt.NDArray[np.floating] | None = None,
    ) -> Detections:
        """Track one frame and return the detections of confirmed tracks.

        Args:
            detections: This frame's detections (never modified).
            embeddings: Optional appearance vectors, shape ``(N, D)``, one per
                detection (see ``AppearanceModel``).
            warp: Optional global image motion since the previous frame, an
                affine map ``(2, 3)`` from its pixels to this frame's (camera-
                motion compensation from the frames). Without it the tracker
                estimates a global shift from the boxes (``box_motion``).

        Returns:
            The subset of ``detections`` that belongs to confirmed tracks, in
            input order, each with its track's unique positive ``tracker_id``.
        """
        index, ids, confirmed, boxes = self._step(detections, embeddings, warp)
        if np.count_nonzero(confirmed) < confirmed.size:
            index, ids = index.compress(confirmed), ids.compress(confirmed)
            boxes = None if boxes is None else boxes.compress(confirmed, axis=0)
        return subset(detections, index, ids, boxes)

    def update_all(
        self,
        detections: Detections,
        embeddings: npt.NDArray[np.floating] | None = None,
        *,
        warp: npt.NDArray[np.floating] | None = None,
    ) -> TrackUpdate:
        """Track one frame and return confirmed and tentative tracks with a mask.

        Args:
            detections: This frame's detections (never modified).
            embeddings: Optional appearance vectors, shape ``(N, D)``.
            warp: Optional global image motion (see ``update``).

        Returns:
            The detections that belong to any track, and which are confirmed.
        """
        index, ids, confirmed, boxes = self._step(detections, embeddings, warp)
        confirmed.setflags(write=False)
        return TrackUpdate(subset(detections, index, ids, boxes), confirmed)

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
        self,
        detections: Detections,
        embeddings: npt.NDArray[np.floating] | None,
        warp: npt.NDArray[np.floating] | None,
    ) -> tuple[Index, Ids, Mask, Float | None]:
        """Advance one frame; return detection indices, ids, confirmation and boxes.

        The boxes (``x1, y1, x2, y2``) are the filtered ones when
        ``smooth_boxes``, else ``None`` (the detections' own).
        """
        self._frame += 1
        now = self._frame
        n = detections.xyxy.shape[0]
        emb = self._embeddings(embeddings, n)
        count = self._count
        if not count and not n:
            return _EMPTY.copy(), np.zeros(0, dtype=np.int64), np.zeros(0, dtype=bool), None
        table = self._table[:, :count]
        lost = table[_SEEN] < now - 1
        n_lost = int(np.count_nonzero(lost))
        if count and warp is not None:
            self._warp(warp)
        if count:
            self._kalman.predict(self._state[:, :count], lost if n_lost else None)
        frame = frame_inputs(detections, emb)
        if warp is None and self.config.box_motion and count >= 4 and n >= 4:
            self._follow_boxes(frame)
        rows, cols, ascending, tentative_left = self._associate(frame, lost, n_lost)
        if n_lost and self.config.recovery_gate > 0 and rows.size < count and cols.size < n:
            rows, cols, ascending = self._recover(rows, cols, frame, lost, ascending)
        whole = ascending and rows.size == count
        self._correct(rows, cols, frame, whole=whole, any_lost=n_lost > 0)
        ids = self._table[_ID].take(rows)
        is_confirmed = self._table[_CONFIRM_AT].take(rows) <= now
        smooth = self.config.smooth_boxes
        boxes = self._state[BOX].take(rows, axis=0) if smooth else None
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
                if boxes is not None:
                    boxes = np.concatenate((boxes, frame.xywh.take(born, axis=0)))
        xyxy = None if boxes is None else boxes.dot(_TO_XYXY)
        if cols.size > 1:
            order = cols.argsort()
            if xyxy is not None:
                xyxy = xyxy.take(order, axis=0)
            return cols.take(order), ids.take(order), is_confirmed.take(order), xyxy
        return cols, ids, is_confirmed, xyxy

    def _warp(self, affine: npt.NDArray[np.floating]) -> None:
        """Move every track, its last observation and the state then by a global motion."""
        count = self._count
        warp_states(self._state[:, :count], affine)
        warp_states(self._saved[:, :count], affine)
        warp_boxes(self._obs[:count], affine)

    def _correct(
        self, rows: Index, cols: Index, frame: FrameInputs, *, whole: bool, any_lost: bool
    ) -> None:
        """Apply the matches: Kalman correction, last matched frame, class and appearance.

        When ``whole``, ``rows`` is every track in order and the state is
        corrected in place without gathering and scattering columns. The class
        is only kept up to date where matching reads it. Tracks found again
        after a gap (only possible when ``any_lost``) are re-updated.
        """
        if not rows.size:
            return
        count = self._count
        state = self._state[:, :count]
        measured = frame.xywh.take(cols, axis=0)
        back, gaps = _EMPTY, _EMPTY
        if any_lost and self.config.observation_reupdate:
            gaps = self._frame - self._table[_SEEN].take(rows)
            back = (gaps > 1).nonzero()[0]
        noise = None
        if self.config.confidence_noise:
            # NSA-style: a detection scored c is trusted as a measurement with
            # noise scaled by 2 (1 - c): 1 at a score of 0.5, the floor of 0.25
            # from 0.875 up (most frames of a good detector: one factor).
            score = frame.score.take(cols)
            if score.min() >= _SURE:
                noise = _QUARTER
            else:
                noise = (_TWO - _TWO * score.astype(np.float64))[:, None]
                np.clip(noise, 0.25, 2.0, out=noise)
        if whole and not back.size:
            self._kalman.update(state, measured, noise)
        else:
            matched = state.take(rows, axis=1)
            self._kalman.update(matched, measured, noise)
            if back.size:
                found = rows.take(back)
                matched[:, back] = reupdate(
                    self._kalman,
                    self._saved.take(found, axis=1),
                    self._obs.take(found, axis=0),
                    measured.take(back, axis=0),
                    gaps.take(back),
                )
            state[:, rows] = matched
        if whole:
            self._saved[:, :count] = state
            self._obs[:count] = measured
        else:
            self._saved[:, rows] = state[:, rows]
            self._obs[rows] = measured
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
        self._saved[:, :kept] = self._saved[:, :count].compress(keep, axis=1)
        self._obs[:kept] = self._obs[:count].compress(keep, axis=0)
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
        saved = np.zeros((STATE_ROWS, capacity, 4))
        saved[:, :count] = self._saved[:, :count]
        obs = np.zeros((capacity, 4))
        obs[:count] = self._obs[:count]
        self._saved, self._obs = saved, obs
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
        born_xywh = frame.xywh.take(born, axis=0)
        self._state[:, start:end] = self._saved[:, start:end] = self._kalman.initiate(born_xywh)
        self._obs[start:end] = born_xywh
        if self._embedding is not None:
            self._embedding[start:end] = 0.0 if frame.emb is None else frame.emb.take(born, axis=0)
        self._count = end
        return ids, np.full(k, at_once, dtype=bool)

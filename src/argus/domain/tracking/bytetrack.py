"""A ByteTrack-class multi-object tracker, vectorised over all tracks.

Every track lives in a few parallel numpy arrays (Kalman mean and covariance
blocks, a table of id, hits, misses and class, an optional appearance
embedding), so one update is a bounded number of array operations whatever
the number of tracks: no per-track Python objects or loops. One frame:

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

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from argus.domain.detections import Detections
from argus.domain.errors import ValidationError
from argus.domain.tracking.config import TrackerConfig
from argus.domain.tracking.kalman import BoxKalman
from argus.domain.tracking.matching import Assign, greedy_assign, iou_corners, match

__all__ = ["ByteTracker", "TrackUpdate"]

Index = npt.NDArray[np.intp]
Float = npt.NDArray[np.float64]
Ids = npt.NDArray[np.int64]
Mask = npt.NDArray[np.bool_]

_EMPTY = np.zeros(0, dtype=np.intp)
# Columns of the per-track integer table: id, matched frames, frame last matched, class.
_ID, _HITS, _SEEN, _CLASS = 0, 1, 2, 3


@dataclass(frozen=True, eq=False)
class TrackUpdate:
    """Everything the tracker followed in one frame.

    Attributes:
        detections: The input detections that belong to a track (confirmed or
            tentative), in input order, each with its track's unique positive id.
        confirmed: Read-only mask, shape ``(len(detections),)``: ``True`` for
            confirmed tracks, ``False`` for tentative ones (not to be counted).
    """

    detections: Detections
    confirmed: Mask

    def confirmed_only(self) -> Detections:
        """Return the detections of confirmed tracks."""
        return self.detections.select(self.confirmed)


def _subset(detections: Detections, index: Index, tracker_id: Ids) -> Detections:
    """Return detections ``index`` of a validated set with new tracker ids, unvalidated.

    Building a ``Detections`` re-checks every invariant (tens of microseconds,
    more than a whole tracker update); a subset of a validated set with
    positive ids cannot break them, so the copy is built directly.
    """
    out = object.__new__(Detections)
    out.__dict__.update(detections.__dict__)
    arrays: dict[str, npt.NDArray[np.generic]]
    if index.size == len(detections):  # sorted unique indices: all of them, in order
        arrays = {}
    else:
        arrays = {
            "xyxy": detections.xyxy[index],
            "confidence": detections.confidence[index],
            "class_id": detections.class_id[index],
        }
    arrays["tracker_id"] = tracker_id
    for name, array in arrays.items():
        array.setflags(write=False)
        object.__setattr__(out, name, array)
    return out


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
        self.reset()

    def reset(self) -> None:
        """Forget every track and restart ids at 1 (call between unrelated streams)."""
        self._mean: Float = np.zeros((0, 2, 4))
        self._cov: Float = np.zeros((0, 3, 4))
        self._table: Ids = np.zeros((0, 4), dtype=np.int64)
        self._embedding: Float | None = None
        self._frame = 0
        self._next_id = 1

    @property
    def track_count(self) -> int:
        """Tracks currently held (tentative, seen and lost)."""
        return int(self._table.shape[0])

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
            index, ids = index[confirmed], ids[confirmed]
        return _subset(detections, index, ids)

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
        return TrackUpdate(_subset(detections, index, ids), confirmed)

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
            self._embedding = np.zeros((self.track_count, emb.shape[1]))
        elif emb.shape[1] != self._embedding.shape[1]:
            raise ValidationError(
                f"embeddings have {emb.shape[1]} dimensions, tracks hold {self._embedding.shape[1]}"
            )
        emb /= np.maximum(np.linalg.norm(emb, axis=1, keepdims=True), 1e-12)
        return emb

    def _pairs(
        self,
        iou: Float,
        tracks: Index | None,
        dets: Index | None,
        min_iou: float,
        frame: _Frame,
        *,
        fuse: bool,
    ) -> tuple[Index, Index]:
        """Match a block of the IoU matrix (``None`` takes all rows or columns)."""
        if tracks is not None:
            iou = iou[tracks]
        if dets is not None:
            iou = iou[:, dets]
        if not iou.size:
            return _EMPTY, _EMPTY
        sim = iou * (frame.score if dets is None else frame.score[dets]) if fuse else iou
        # IoU 0 never matches, whatever the threshold.
        ok = sim >= max(min_iou, 1e-9)
        if self.config.class_consistent:
            t_cls = self._table[:, _CLASS] if tracks is None else self._table[tracks, _CLASS]
            d_cls = frame.class_id if dets is None else frame.class_id[dets]
            ok &= t_cls[:, None] == d_cls
        weight = self.config.appearance_weight
        if frame.emb is not None and self._embedding is not None and weight > 0:
            t_emb = self._embedding if tracks is None else self._embedding[tracks]
            d_emb = frame.emb if dets is None else frame.emb[dets]
            # Appearance ranks the pairs the IoU gate admits; it never links far boxes.
            sim = (1.0 - weight) * sim + weight * 0.5 * (1.0 + t_emb @ d_emb.T)
        rows, cols = match(sim, ok, self._assign)
        return (
            rows if tracks is None else tracks[rows],
            cols if dets is None else dets[cols],
        )

    def _step(
        self, detections: Detections, embeddings: npt.NDArray[np.floating] | None
    ) -> tuple[Index, Ids, Mask]:
        """Advance one frame; return detection indices, their ids and confirmation."""
        cfg = self.config
        self._frame += 1
        n = detections.xyxy.shape[0]
        emb = self._embeddings(embeddings, n)
        n_tracks = self._table.shape[0]
        if not n_tracks and not n:
            return _EMPTY, np.zeros(0, dtype=np.int64), np.zeros(0, dtype=bool)
        table = self._table
        lost = table[:, _SEEN] < self._frame - 1
        if n_tracks:
            self._mean, self._cov = self._kalman.predict(
                self._mean, self._cov, lost if np.count_nonzero(lost) else None
            )
        score = detections.confidence
        xyxy = detections.xyxy.astype(np.float64)
        xywh = xyxy.copy()
        xywh[:, 2:] -= xyxy[:, :2]
        xywh[:, :2] += 0.5 * xywh[:, 2:]
        frame = _Frame(score, detections.class_id, xywh, emb)
        high = score >= cfg.high_threshold
        confirmed = table[:, _HITS] >= cfg.min_hits
        n_confirmed = int(np.count_nonzero(confirmed))
        matched, det_index, whole, tentative_matched = self._associate(
            frame, xyxy, lost, confirmed, high
        )
        self._correct(matched, det_index, frame, whole=whole)
        ids = self._table[matched, _ID]
        is_confirmed = self._table[matched, _HITS] >= cfg.min_hits
        if matched.size < n_tracks and (
            tentative_matched < n_tracks - n_confirmed
            or int(table[:, _SEEN].min()) < self._frame - self._max_lost
        ):
            self._prune()
        if det_index.size < n:
            candidate = high & (score >= cfg.new_track_threshold)
            candidate[det_index] = False
            born = np.flatnonzero(candidate)
            if born.size:
                new_ids, new_confirmed = self._start(born, frame)
                det_index = np.concatenate((det_index, born))
                ids = np.concatenate((ids, new_ids))
                is_confirmed = np.concatenate((is_confirmed, new_confirmed))
        if det_index.size > 1:
            order = np.argsort(det_index)
            return det_index[order], ids[order], is_confirmed[order]
        return det_index, ids, is_confirmed

    def _associate(
        self, frame: _Frame, xyxy: Float, lost: Mask, confirmed: Mask, high: Mask
    ) -> tuple[Index, Index, bool, int]:
        """Run the three matching stages.

        Returns:
            Matched track rows and detection indices, whether the rows are every
            track in order, and how many tentative tracks matched.
        """
        cfg = self.config
        n_tracks, n = self._table.shape[0], xyxy.shape[0]
        n_lost = int(np.count_nonzero(lost))
        n_confirmed = int(np.count_nonzero(confirmed))
        n_high = int(np.count_nonzero(high))
        high_idx = None if n_high == n else np.flatnonzero(high)
        score, xywh = frame.score, frame.xywh
        rows: list[Index] = []
        cols: list[Index] = []
        t1 = t3 = _EMPTY
        if n_tracks and n:
            box = self._mean[:, 0]
            half = 0.5 * box[:, 2:]
            iou = iou_corners(
                box[:, :2] - half,
                box[:, :2] + half,
                box[:, 2] * box[:, 3],
                xyxy,
                xywh[:, 2] * xywh[:, 3],
            )
            pool = None if n_confirmed == n_tracks else np.flatnonzero(confirmed)
            t1, d1 = self._pairs(iou, pool, high_idx, cfg.match_iou, frame, fuse=cfg.fuse_score)
            rows.append(t1)
            cols.append(d1)
            if n_high < n and t1.size < n_confirmed - n_lost:
                track_free = confirmed & ~lost
                track_free[t1] = False
                low_idx = np.flatnonzero(~high & (score >= cfg.low_threshold))
                recent = np.flatnonzero(track_free)
                t2, d2 = self._pairs(iou, recent, low_idx, cfg.low_match_iou, frame, fuse=False)
                rows.append(t2)
                cols.append(d2)
            if n_confirmed < n_tracks and d1.size < n_high:
                left = high.copy()
                left[d1] = False
                tentative = np.flatnonzero(~confirmed)
                t3, d3 = self._pairs(
                    iou,
                    tentative,
                    np.flatnonzero(left),
                    cfg.tentative_match_iou,
                    frame,
                    fuse=cfg.fuse_score,
                )
                rows.append(t3)
                cols.append(d3)
        matched = rows[0] if len(rows) == 1 else np.concatenate(rows) if rows else _EMPTY
        det_index = cols[0] if len(cols) == 1 else np.concatenate(cols) if cols else _EMPTY
        return matched, det_index, len(rows) == 1 and t1.size == n_tracks, int(t3.size)

    def _correct(self, rows: Index, cols: Index, frame: _Frame, *, whole: bool) -> None:
        """Apply the matches: Kalman correction, counts, class and appearance.

        ``whole`` says that ``rows`` is every track in order, the common case,
        which is corrected in place without gathering and scattering rows.
        """
        if not rows.size:
            return
        if whole:
            self._kalman.update(self._mean, self._cov, frame.xywh[cols])
            table = self._table
            table[:, _HITS] += 1
            table[:, _SEEN] = self._frame
            table[:, _CLASS] = frame.class_id[cols]
        else:
            mean, cov = self._mean[rows], self._cov[rows]
            self._kalman.update(mean, cov, frame.xywh[cols])
            self._mean[rows] = mean
            self._cov[rows] = cov
            table = self._table[rows]
            table[:, _HITS] += 1
            table[:, _SEEN] = self._frame
            table[:, _CLASS] = frame.class_id[cols]
            self._table[rows] = table
        if frame.emb is not None and self._embedding is not None:
            m = self.config.appearance_momentum
            mixed = m * self._embedding[rows] + (1.0 - m) * frame.emb[cols]
            mixed /= np.maximum(np.linalg.norm(mixed, axis=1, keepdims=True), 1e-12)
            self._embedding[rows] = mixed

    def _prune(self) -> None:
        """Drop tentative tracks that missed this frame and lost ones beyond the buffer."""
        seen = self._table[:, _SEEN]
        tentative = self._table[:, _HITS] < self.config.min_hits
        keep = (seen >= self._frame - self._max_lost) & ((seen == self._frame) | ~tentative)
        if np.count_nonzero(keep) == keep.size:
            return
        self._mean = self._mean[keep]
        self._cov = self._cov[keep]
        self._table = self._table[keep]
        if self._embedding is not None:
            self._embedding = self._embedding[keep]

    def _start(self, born: Index, frame: _Frame) -> tuple[Ids, Mask]:
        """Start tracks at the given detections; return their ids and confirmation."""
        k = born.size
        cfg = self.config
        ids = np.arange(self._next_id, self._next_id + k, dtype=np.int64)
        self._next_id += k
        # Nothing before the first frame could have confirmed its tracks.
        at_once = cfg.min_hits <= 1 or (cfg.confirm_first_frame and self._frame == 1)
        new = np.empty((k, 4), dtype=np.int64)
        new[:, _ID] = ids
        new[:, _HITS] = cfg.min_hits if at_once else 1
        new[:, _SEEN] = self._frame
        new[:, _CLASS] = frame.class_id[born]
        mean, cov = self._kalman.initiate(frame.xywh[born])
        self._mean = np.concatenate((self._mean, mean))
        self._cov = np.concatenate((self._cov, cov))
        self._table = np.concatenate((self._table, new))
        if self._embedding is not None:
            dim = self._embedding.shape[1]
            vectors = frame.emb[born] if frame.emb is not None else np.zeros((k, dim))
            self._embedding = np.concatenate((self._embedding, vectors))
        return ids, np.full(k, at_once, dtype=bool)


class _Frame(NamedTuple):
    """One frame's per-detection inputs to matching."""

    score: npt.NDArray[np.float32]
    class_id: Ids
    xywh: Float
    emb: Float | None

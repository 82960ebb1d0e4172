"""Realistic detector and camera faults applied to MOT ground truth, for robustness scoring.

``corrupt`` turns a sequence's ground-truth boxes into the detections a
flawed detector on a flawed camera would give, and moves the ground truth the
way the camera moved it, so that trackers can be scored on what they will meet
in the field rather than on clean public detections:

* misses come in runs per person (occlusions), likelier for occluded boxes;
  at every level, people more than 70 % hidden are increasingly missed;
* boxes jitter in proportion to their size, with a few outliers;
* false positives appear at plausible places and sizes, some persisting;
* some boxes split into two partial boxes (upper/lower or left/right);
* overlapping people are merged into one box, for a few frames at a time;
* the camera pans as a smooth, bounded random walk with a slight zoom, moving
  detections and ground truth alike (``FaultedSequence.warps`` has the motion);
* frame-rate drops keep every k-th frame, renumber the frames and divide the
  frame rate.

Scores follow the boxes' quality: clean, unoccluded boxes score high; jittered,
occluded, fragmented, merged, blurred or half-visible boxes score lower (many
below 0.5, where ByteTrack's second stage works); false positives mostly score
low to middling. Everything is deterministic per (sequence, level, seed).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from argus.domain.errors import ValidationError
from argus.services.mot_fault_parts import (
    camera_path,
    false_positives,
    fragment,
    markov_runs,
    merge_pairs,
    occlusion,
    transform_boxes,
    visible_fraction,
)

__all__ = ["LEVELS", "FaultLevel", "FaultedSequence", "corrupt", "level_named"]

Array = npt.NDArray[np.float64]

PEDESTRIAN = 1
PERSON_LIKE = (1, 2, 7, 8, 12)
"""MOT17 classes a person detector fires on: pedestrian, person on vehicle,
static person, distractor, reflection (vehicles and occluders are not detected)."""
VISIBLE_MIN = 0.3
"""Share of a box that must lie inside the frame for a detector to see it."""
HIDDEN_FROM = 0.7
"""Boxes more than this share occluded are increasingly missed (fully hidden: never seen)."""
REFERENCE_WIDTH = 640.0
"""Camera-motion pixels are given for a frame this wide and scale with the width."""


@dataclass(frozen=True, slots=True)
class FaultLevel:
    """How strongly each fault is applied.

    Attributes:
        name: Level name (``light``, ``medium``, ``heavy`` or a single fault's).
        miss_rate: Share of ground-truth boxes missed, drawn as runs per person.
        miss_run: Mean length of a run of misses, in frames of the source.
        jitter: Box noise std as a fraction of the box's width and height.
        false_positives: Mean false boxes per frame (some persist a few frames).
        fragment_rate: Share of boxes split into two partial boxes.
        merge_rate: Share of overlapping pairs merged into one box.
        camera_motion: Std of the per-frame global translation step in pixels
            of a 640-pixel-wide frame (scaled with the width); a smooth,
            bounded random walk with a slight zoom.
        frame_step: Keep every k-th frame (frame-rate drop); 1 keeps all.
    """

    name: str
    miss_rate: float = 0.0
    miss_run: float = 1.0
    jitter: float = 0.0
    false_positives: float = 0.0
    fragment_rate: float = 0.0
    merge_rate: float = 0.0
    camera_motion: float = 0.0
    frame_step: int = 1

    def __post_init__(self) -> None:
        rates = (self.miss_rate, self.fragment_rate, self.merge_rate)
        if not all(0.0 <= r < 1.0 for r in rates):
            raise ValidationError(f"fault level {self.name!r}: rates must be in [0, 1)")
        if self.miss_run < 1.0 or self.frame_step < 1:
            raise ValidationError(f"fault level {self.name!r}: miss_run and frame_step >= 1")
        if min(self.jitter, self.false_positives, self.camera_motion) < 0.0:
            raise ValidationError(f"fault level {self.name!r}: strengths must be >= 0")


_MEDIUM = FaultLevel(
    "medium",
    miss_rate=0.15,
    miss_run=8.0,
    jitter=0.06,
    false_positives=1.0,
    fragment_rate=0.04,
    merge_rate=0.15,
    camera_motion=4.0,
    frame_step=2,
)
_SINGLE = {
    "misses": ("miss_rate", "miss_run"),
    "jitter": ("jitter",),
    "false-positives": ("false_positives",),
    "fragments": ("fragment_rate",),
    "merges": ("merge_rate",),
    "camera-motion": ("camera_motion",),
    "frame-drop": ("frame_step",),
}

LEVELS: tuple[FaultLevel, ...] = (
    FaultLevel("light", 0.05, 5.0, 0.03, 0.3, 0.01, 0.05, 1.0, 1),
    _MEDIUM,
    FaultLevel("heavy", 0.30, 12.0, 0.10, 2.5, 0.08, 0.30, 6.0, 2),
    *(FaultLevel(name, **{k: getattr(_MEDIUM, k) for k in keys}) for name, keys in _SINGLE.items()),
)
"""Combined levels (light, medium, heavy), then one level per fault at medium strength."""


def level_named(name: str) -> FaultLevel:
    """Return the level of ``LEVELS`` called ``name``.

    Raises:
        ValidationError: No such level.
    """
    for level in LEVELS:
        if level.name == name:
            return level
    known = ", ".join(level.name for level in LEVELS)
    raise ValidationError(f"unknown fault level {name!r} (known: {known})")


@dataclass(frozen=True, slots=True, eq=False)
class FaultedSequence:
    """A sequence's faulted detections and its ground truth, as the camera saw it.

    Attributes:
        name: ``f"{source}~{level}~s{seed}"``.
        frame_rate: Frames per second after the frame drop.
        width: Frame width in pixels.
        height: Frame height in pixels.
        length: Frames after the frame drop.
        detections: ``(M, 6)`` rows ``frame, x, y, w, h, score`` (1-based frames).
        truth: ``(K, 6)`` rows ``frame, id, x, y, w, h`` of the scored people.
        ignored: ``(L, 8)`` rows ``frame, id, x, y, w, h, considered, class`` of
            ground truth not scored as pedestrians (MOT17 distractors), moved alike.
        warps: ``(length, 2, 3)`` affine maps from the previous frame's pixels
            to each frame's (identity for the first frame).
    """

    name: str
    frame_rate: float
    width: int
    height: int
    length: int
    detections: Array
    truth: Array
    ignored: Array = field(default_factory=lambda: np.zeros((0, 8)))
    warps: Array = field(default_factory=lambda: np.zeros((0, 2, 3)))


def _generator(name: str, level: str, seed: int) -> list[np.random.Generator]:
    if seed < 0:
        raise ValidationError(f"seed must be >= 0, got {seed}")
    root = np.random.SeedSequence(
        [seed, zlib.crc32(name.encode("utf-8")), zlib.crc32(level.encode("utf-8"))]
    )
    return [np.random.default_rng(s) for s in root.spawn(8)]


def _columns(truth_rows: npt.ArrayLike) -> tuple[Array, Array, Array, Array]:
    rows = np.asarray(truth_rows, dtype=np.float64)
    if rows.size == 0:
        rows = rows.reshape(0, 6)
    if rows.ndim != 2 or rows.shape[1] < 6:
        raise ValidationError(f"ground truth rows need 6+ columns, got shape {rows.shape}")
    if not np.isfinite(rows[:, :6]).all() or (rows[:, 4:6] < 0).any() or (rows[:, 0] < 1).any():
        raise ValidationError("ground truth rows: non-finite value, negative size or frame < 1")
    n = len(rows)
    considered = rows[:, 6] if rows.shape[1] > 6 else np.ones(n)
    cls = rows[:, 7] if rows.shape[1] > 7 else np.ones(n)
    vis = np.clip(rows[:, 8], 0.0, 1.0) if rows.shape[1] > 8 else np.ones(n)
    return rows[:, :6].copy(), considered, cls, vis


def _scores(rng: np.random.Generator, n: int) -> Array:
    """Clean-box scores: mostly high, a realistic tail downwards."""
    return rng.beta(12.0, 1.3, n)


def corrupt(
    truth_rows: npt.ArrayLike,
    *,
    name: str,
    frame_rate: float,
    width: int,
    height: int,
    level: FaultLevel,
    seed: int,
    length: int | None = None,
) -> FaultedSequence:
    """Make the detections a flawed detector would give on a sequence, and its moved truth.

    Args:
        truth_rows: Ground-truth rows ``frame, id, x, y, w, h[, considered,
            class, visibility]`` (MOTChallenge ``gt.txt`` columns).
        name: The source sequence's name.
        frame_rate: Its frames per second.
        width: Frame width in pixels.
        height: Frame height in pixels.
        level: The faults to apply.
        seed: Random seed (>= 0); the same inputs and seed give the same output.
        length: Frames of the source (default: its last ground-truth frame).

    Returns:
        The faulted sequence, named ``f"{name}~{level.name}~s{seed}"``.

    Raises:
        ValidationError: Malformed rows, a negative seed or a bad frame size.
    """
    if width <= 0 or height <= 0 or frame_rate <= 0:
        raise ValidationError("width, height and frame_rate must be positive")
    gt, considered, cls, vis = _columns(truth_rows)
    frames = gt[:, 0].astype(np.int64)
    n_frames = int(frames.max(initial=0)) if length is None else int(length)
    if n_frames < int(frames.max(initial=0)):
        raise ValidationError(f"ground truth has frames beyond length {n_frames}")
    rng_miss, rng_jit, rng_frag, rng_merge, rng_fp, rng_cam, rng_score, _ = _generator(
        name, level.name, seed
    )
    boxes = gt[:, 2:6]
    occ = np.maximum(occlusion(frames, boxes), 1.0 - vis)
    detectable = np.flatnonzero(np.isin(cls, PERSON_LIKE))
    d_frames, d_ids, d_boxes = frames[detectable], gt[detectable, 1], boxes[detectable]
    d_occ = occ[detectable]
    # Misses: runs per person, likelier when occluded (mean rate kept).
    weight = 0.5 + 2.0 * d_occ
    weight /= weight.mean() if len(weight) else 1.0
    missed, near_miss = markov_runs(
        d_ids, d_frames, level.miss_rate, level.miss_run, rng=rng_miss, weight=weight
    )
    # Whoever is mostly hidden is not seen by any detector, faults or not.
    hidden = rng_miss.random(len(d_occ)) < np.clip((d_occ - HIDDEN_FROM) / (1 - HIDDEN_FROM), 0, 1)
    keep = ~(missed | hidden)
    score = _scores(rng_score, len(d_boxes)) * (1.0 - 0.55 * d_occ)
    score[near_miss] *= rng_score.uniform(0.35, 0.75, int(near_miss.sum()))
    heights = d_boxes[:, 3]
    median_h = float(np.median(heights)) if len(heights) else 1.0
    score *= 0.8 + 0.2 * np.minimum(1.0, heights / max(median_h, 1e-9))
    # Jitter proportional to the box size, with 5 % outliers at three times the noise.
    noise = rng_jit.normal(0.0, level.jitter, (len(d_boxes), 4))
    noise[rng_jit.random(len(d_boxes)) < 0.05] *= 3.0
    size = np.concatenate((d_boxes[:, 2:4], d_boxes[:, 2:4]), axis=1)
    centre = d_boxes[:, :2] + d_boxes[:, 2:4] / 2 + noise[:, :2] * size[:, :2]
    wh = d_boxes[:, 2:4] * np.clip(1.0 + noise[:, 2:4], 0.5, 1.6)
    jittered = np.concatenate((centre - wh / 2, wh), axis=1)
    score *= 1.0 - np.minimum(0.5, np.abs(noise).max(axis=1))
    # Fragments (runs of about three frames) and merges of overlapping people.
    split, _ = markov_runs(d_ids, d_frames, level.fragment_rate, 3.0, rng=rng_frag)
    split &= keep
    frag_frames, frag_boxes, frag_scores = fragment(d_frames[split], jittered[split], rng_frag)
    whole = keep & ~split
    merged_into, m_frames, m_boxes, m_scores = merge_pairs(
        d_frames, d_ids, jittered, whole, level.merge_rate, rng=rng_merge
    )
    whole &= ~merged_into
    fp_frames, fp_boxes, fp_scores = false_positives(
        n_frames, width, height, d_boxes, level.false_positives, rng=rng_fp
    )
    det_frames = np.concatenate((d_frames[whole], frag_frames, m_frames, fp_frames))
    det_boxes = np.concatenate((jittered[whole], frag_boxes, m_boxes, fp_boxes))
    det_scores = np.concatenate((score[whole], frag_scores, m_scores, fp_scores))
    return _film(
        name=name,
        level=level,
        seed=seed,
        frame_rate=frame_rate,
        size=(width, height),
        n_frames=n_frames,
        gt=gt,
        scored=(considered > 0) & (cls == PEDESTRIAN),
        flags=np.stack((considered, cls), axis=1),
        dets=(det_frames, det_boxes, det_scores),
        rng=rng_cam,
    )


def _film(
    *,
    name: str,
    level: FaultLevel,
    seed: int,
    frame_rate: float,
    size: tuple[int, int],
    n_frames: int,
    gt: Array,
    scored: npt.NDArray[np.bool_],
    flags: Array,
    dets: tuple[npt.NDArray[np.int64], Array, Array],
    rng: np.random.Generator,
) -> FaultedSequence:
    """Apply the camera (motion, visibility, blur) and the frame drop to boxes and truth."""
    width, height = size
    scale = width / REFERENCE_WIDTH
    path = camera_path(n_frames, level.camera_motion * scale, width, height, rng)
    det_frames, det_boxes, det_scores = dets
    moved = transform_boxes(det_boxes, path[det_frames - 1], width, height)
    seen = visible_fraction(moved, width, height)
    ok = seen >= VISIBLE_MIN
    speed = np.hypot(*np.diff(path[:, :2], axis=0, prepend=path[:1, :2]).T) / scale
    blur = 1.0 - np.minimum(0.25, 0.02 * speed[det_frames - 1])
    det_scores = det_scores * (0.6 + 0.4 * seen) * blur
    x1 = np.clip(moved[:, 0], 0, width)
    y1 = np.clip(moved[:, 1], 0, height)
    x2 = np.clip(moved[:, 0] + moved[:, 2], 0, width)
    y2 = np.clip(moved[:, 1] + moved[:, 3], 0, height)
    clipped = np.stack((x1, y1, x2 - x1, y2 - y1), axis=1)
    ok &= (clipped[:, 2] >= 2.0) & (clipped[:, 3] >= 2.0)
    gt_frames = gt[:, 0].astype(np.int64)
    gt_moved = transform_boxes(gt[:, 2:6], path[gt_frames - 1], width, height)
    gt_seen = visible_fraction(gt_moved, width, height)
    pushed_out = (gt_seen < VISIBLE_MIN) & (gt_seen < visible_fraction(gt[:, 2:6], width, height))
    step = level.frame_step
    det_keep = ok & ((det_frames - 1) % step == 0)
    gt_keep = ~pushed_out & ((gt_frames - 1) % step == 0)
    new_det = (det_frames[det_keep] - 1) // step + 1
    new_gt = (gt_frames - 1) // step + 1
    detections = np.column_stack(
        (new_det, clipped[det_keep], np.clip(det_scores[det_keep], 0.01, 1.0))
    )
    detections = detections[np.argsort(detections[:, 0], kind="stable")]
    truth = np.column_stack((new_gt, gt[:, 1], gt_moved))
    order = np.lexsort((truth[:, 1], truth[:, 0]))
    keep_truth = (gt_keep & scored)[order]
    keep_ignored = (gt_keep & ~scored)[order]
    ignored = np.column_stack((truth, flags))[order][keep_ignored]
    kept = np.arange(0, n_frames, step)
    return FaultedSequence(
        name=f"{name}~{level.name}~s{seed}",
        frame_rate=frame_rate / step,
        width=width,
        height=height,
        length=len(kept),
        detections=detections,
        truth=truth[order][keep_truth],
        ignored=ignored,
        warps=_warps(path[kept], width, height),
    )


def _warps(path: Array, width: int, height: int) -> Array:
    """Affine maps from each kept frame's predecessor to it (identity first)."""
    cx, cy = width / 2.0, height / 2.0
    out = np.zeros((len(path), 2, 3))
    out[:, 0, 0] = out[:, 1, 1] = 1.0
    for t in range(1, len(path)):
        (tx0, ty0, s0), (tx1, ty1, s1) = path[t - 1], path[t]
        k = s1 / s0  # x_t = k * (x_{t-1} - c - tx0) + c + tx1
        out[t] = ((k, 0.0, cx + tx1 - k * (cx + tx0)), (0.0, k, cy + ty1 - k * (cy + ty0)))
    return out

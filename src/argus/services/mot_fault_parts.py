"""The building blocks of ``argus.services.mot_faults``: each fault on arrays of boxes.

Boxes are ``(N, 4)`` arrays ``x, y, w, h`` (top-left corner, pixels); frames
are 1-based. Every function draws from the generator it is given, so each fault
has its own random stream and changing one fault's strength leaves the others'
draws alone.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = [
    "camera_path",
    "false_positives",
    "fragment",
    "markov_runs",
    "merge_pairs",
    "occlusion",
    "transform_boxes",
    "visible_fraction",
]

Array = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]

FP_PERSIST_SHARE = 0.4
FP_PERSIST_MEAN = 6.0
MERGE_RUN = 4.0
MAX_OFFSET = 0.15
"""The camera's wander is bounded to this share of the frame size."""
MAX_ZOOM = 0.06


def occlusion(frames: Ints, boxes: Array) -> Array:
    """Share of each box covered by boxes nearer the camera (lower bottom edge), 0..1."""
    out = np.zeros(len(boxes))
    order = np.argsort(frames, kind="stable")
    bounds = np.flatnonzero(np.diff(frames[order])) + 1
    for group in np.split(order, bounds):
        if len(group) < 2:
            continue
        b = boxes[group]
        x1, y1, x2, y2 = b[:, 0], b[:, 1], b[:, 0] + b[:, 2], b[:, 1] + b[:, 3]
        iw = np.clip(np.minimum(x2[:, None], x2) - np.maximum(x1[:, None], x1), 0, None)
        ih = np.clip(np.minimum(y2[:, None], y2) - np.maximum(y1[:, None], y1), 0, None)
        nearer = y2[None, :] > y2[:, None]
        covered = (iw * ih * nearer).sum(axis=1)
        out[group] = np.clip(covered / np.maximum(b[:, 2] * b[:, 3], 1e-9), 0.0, 1.0)
    return out


def markov_runs(
    ids: Array,
    frames: Ints,
    rate: float,
    mean_run: float,
    *,
    rng: np.random.Generator,
    weight: Array | None = None,
) -> tuple[Bools, Bools]:
    """Mark rows in runs per id: a two-state chain with the given share and mean run length.

    Args:
        ids: Identity of each row.
        frames: Frame of each row; a gap in an id's frames restarts its chain.
        rate: Long-run share of marked rows.
        mean_run: Mean run length in frames.
        rng: Random stream.
        weight: Per-row factor on the chance to start a run (mean about 1).

    Returns:
        The marked rows, and the unmarked rows next to a run (its edges).
    """
    n = len(ids)
    marked = np.zeros(n, dtype=bool)
    edge = np.zeros(n, dtype=bool)
    if n == 0 or rate <= 0.0:
        return marked, edge
    w = np.ones(n) if weight is None else weight
    p_exit = 1.0 / max(mean_run, 1.0)
    p_enter = rate * p_exit / (1.0 - rate)
    order = np.lexsort((frames, ids))
    u = rng.random(n)
    sid, sfr = ids[order], frames[order]
    start = np.ones(n, dtype=bool)
    start[1:] = (sid[1:] != sid[:-1]) | (sfr[1:] != sfr[:-1] + 1)
    state = False
    states = np.zeros(n, dtype=bool)
    for j in range(n):
        i = order[j]
        if start[j]:
            state = bool(u[j] < rate * w[i])
        elif state:
            state = bool(u[j] >= p_exit)
        else:
            state = bool(u[j] < p_enter * w[i])
        states[j] = state
    marked[order] = states
    near = np.zeros(n, dtype=bool)
    near[:-1] |= states[1:] & ~start[1:]
    near[1:] |= states[:-1] & ~start[1:]
    edge[order] = near & ~states
    return marked, edge


def fragment(frames: Ints, boxes: Array, rng: np.random.Generator) -> tuple[Ints, Array, Array]:
    """Split each box into two partial boxes: upper/lower body (70 %) or left/right halves."""
    n = len(boxes)
    if n == 0:
        return frames[:0], np.zeros((0, 4)), np.zeros(0)
    x, y, w, h = boxes.T
    vertical = rng.random(n) < 0.7
    cut_a = rng.uniform(0.45, 0.7, n)  # first part ends here
    cut_b = rng.uniform(0.35, 0.55, n)  # second part starts here
    first = np.where(
        vertical[:, None],
        np.stack((x, y, w, h * cut_a), axis=1),
        np.stack((x, y, w * cut_a, h), axis=1),
    )
    second = np.where(
        vertical[:, None],
        np.stack((x, y + h * cut_b, w, h * (1 - cut_b)), axis=1),
        np.stack((x + w * cut_b, y, w * (1 - cut_b), h), axis=1),
    )
    scores = rng.uniform(0.2, 0.65, 2 * n)
    return np.concatenate((frames, frames)), np.concatenate((first, second)), scores


def _overlap(a: Array, b: Array) -> Array:
    """Intersection over the smaller box's area, row by row."""
    iw = np.minimum(a[:, 0] + a[:, 2], b[:, 0] + b[:, 2]) - np.maximum(a[:, 0], b[:, 0])
    ih = np.minimum(a[:, 1] + a[:, 3], b[:, 1] + b[:, 3]) - np.maximum(a[:, 1], b[:, 1])
    inter = np.clip(iw, 0, None) * np.clip(ih, 0, None)
    smaller = np.minimum(a[:, 2] * a[:, 3], b[:, 2] * b[:, 3])
    result: Array = inter / np.maximum(smaller, 1e-9)
    return result


def merge_pairs(
    frames: Ints,
    ids: Array,
    boxes: Array,
    eligible: Bools,
    rate: float,
    *,
    rng: np.random.Generator,
) -> tuple[Bools, Ints, Array, Array]:
    """Merge overlapping people into one box, in runs of a few frames per pair.

    A pair overlaps when their intersection covers at least a fifth of the
    smaller box; each box joins at most one merge per frame.

    Returns:
        Which rows were merged away, and the merged boxes' frames, boxes and scores.
    """
    merged = np.zeros(len(boxes), dtype=bool)
    out_f: list[int] = []
    out_b: list[Array] = []
    if rate <= 0.0 or not eligible.any():
        return merged, np.zeros(0, dtype=np.int64), np.zeros((0, 4)), np.zeros(0)
    p_exit = 1.0 / MERGE_RUN
    p_enter = rate * p_exit / (1.0 - rate)
    previous: dict[tuple[int, int], bool] = {}
    rows = np.flatnonzero(eligible)
    order = rows[np.argsort(frames[rows], kind="stable")]
    bounds = np.flatnonzero(np.diff(frames[order])) + 1
    for group in np.split(order, bounds):
        current: dict[tuple[int, int], bool] = {}
        if len(group) > 1:
            a, b = np.triu_indices(len(group), 1)
            ov = _overlap(boxes[group[a]], boxes[group[b]])
            pairs = np.flatnonzero(ov >= 0.2)
            pairs = pairs[np.argsort(-ov[pairs], kind="stable")]
            u = rng.random(len(pairs))
            used: set[int] = set()
            for k, p in enumerate(pairs):
                i, j = int(group[a[p]]), int(group[b[p]])
                key = (int(min(ids[i], ids[j])), int(max(ids[i], ids[j])))
                was = previous.get(key)
                on = u[k] < rate if was is None else (u[k] >= p_exit if was else u[k] < p_enter)
                current[key] = on
                if on and i not in used and j not in used:
                    used.update((i, j))
                    merged[[i, j]] = True
                    lo = np.minimum(boxes[i, :2], boxes[j, :2])
                    hi = np.maximum(boxes[i, :2] + boxes[i, 2:], boxes[j, :2] + boxes[j, 2:])
                    out_f.append(int(frames[i]))
                    out_b.append(np.concatenate((lo, hi - lo)))
        previous = current
    scores = rng.uniform(0.35, 0.85, len(out_f))
    return (
        merged,
        np.asarray(out_f, dtype=np.int64),
        np.asarray(out_b, dtype=np.float64).reshape(-1, 4),
        scores,
    )


def false_positives(
    n_frames: int,
    width: int,
    height: int,
    sizes: Array,
    rate: float,
    *,
    rng: np.random.Generator,
) -> tuple[Ints, Array, Array]:
    """False boxes at person-like sizes and ground heights, some static for a few frames.

    Args:
        n_frames: Frames of the sequence.
        width: Frame width.
        height: Frame height.
        sizes: Real boxes whose sizes and bottom edges the false ones imitate.
        rate: Mean false boxes per frame.
        rng: Random stream.
    """
    empty = (np.zeros(0, dtype=np.int64), np.zeros((0, 4)), np.zeros(0))
    if rate <= 0.0 or n_frames == 0:
        return empty
    mean_life = (1.0 - FP_PERSIST_SHARE) + FP_PERSIST_SHARE * FP_PERSIST_MEAN
    births = rng.poisson(rate / mean_life, n_frames)
    total = int(births.sum())
    if total == 0:
        return empty
    start = np.repeat(np.arange(1, n_frames + 1), births)
    persist = rng.random(total) < FP_PERSIST_SHARE
    life = np.where(persist, rng.geometric(1.0 / FP_PERSIST_MEAN, total), 1)
    if len(sizes):
        pick = sizes[rng.integers(0, len(sizes), total)]
        wh = pick[:, 2:4] * rng.uniform(0.5, 1.1, (total, 1))
        bottom = pick[:, 1] + pick[:, 3] + rng.normal(0, 0.1, total) * pick[:, 3]
    else:
        wh = np.tile([width / 10.0, height / 4.0], (total, 1))
        bottom = rng.uniform(height / 4.0, height, total)
    wh = np.minimum(np.maximum(wh, 4.0), (width / 2.0, height / 1.2))
    x = rng.uniform(0, 1, total) * (width - wh[:, 0])
    y = np.clip(bottom, wh[:, 1], height) - wh[:, 1]
    high = rng.random(total) < 0.2
    score = np.where(high, rng.beta(5.0, 2.5, total), rng.beta(2.0, 5.0, total))
    idx = np.repeat(np.arange(total), life)
    age = np.arange(len(idx)) - np.repeat(np.cumsum(life) - life, life)
    frames = start[idx] + age
    inside = frames <= n_frames
    idx, frames = idx[inside], frames[inside]
    wobble = rng.normal(0.0, 0.02, (len(idx), 4)) * np.tile(wh[idx], 2)
    boxes = np.column_stack((x[idx], y[idx], wh[idx])) + wobble
    boxes[:, 2:] = np.maximum(boxes[:, 2:], 2.0)
    scores = np.clip(score[idx] * rng.uniform(0.85, 1.0, len(idx)), 0.01, 1.0)
    return frames.astype(np.int64), boxes, scores


def camera_path(
    n_frames: int, step: float, width: int, height: int, rng: np.random.Generator
) -> Array:
    """A smooth, bounded random walk of the camera: ``(n_frames, 3)`` rows ``tx, ty, scale``.

    The per-frame translation step has standard deviation ``step`` pixels
    (an AR(1) velocity, so the motion is smooth); the offset is bounded to
    15 % of the frame and bounces off the bound; the zoom drifts within 6 %.
    """
    path = np.zeros((n_frames, 3))
    path[:, 2] = 1.0
    if step <= 0.0 or n_frames == 0:
        return path
    a = 0.9
    kick = rng.normal(0.0, step * np.sqrt(1 - a * a), (n_frames, 2))
    zoom_kick = rng.normal(0.0, 0.15 * step / max(width, height) * np.sqrt(1 - a * a), n_frames)
    bound = MAX_OFFSET * np.array([width, height], dtype=np.float64)
    velocity = rng.normal(0.0, step, 2)
    zoom_v = 0.0
    position = np.zeros(2)
    zoom = 0.0
    for t in range(1, n_frames):
        velocity = a * velocity + kick[t]
        position = position + velocity
        over = np.abs(position) > bound
        position = np.where(over, np.sign(position) * (2 * bound - np.abs(position)), position)
        velocity = np.where(over, -velocity, velocity)
        zoom_v = a * zoom_v + zoom_kick[t]
        zoom += zoom_v
        if abs(zoom) > MAX_ZOOM:
            zoom, zoom_v = float(np.sign(zoom)) * (2 * MAX_ZOOM - abs(zoom)), -zoom_v
        path[t] = (position[0], position[1], np.exp(zoom))
    return path


def transform_boxes(boxes: Array, path: Array, width: int, height: int) -> Array:
    """Move boxes by the camera: scale about the frame centre, then translate (per row)."""
    cx, cy = width / 2.0, height / 2.0
    s = path[:, 2:3]
    out = np.empty_like(boxes)
    out[:, 0] = s[:, 0] * (boxes[:, 0] - cx) + cx + path[:, 0]
    out[:, 1] = s[:, 0] * (boxes[:, 1] - cy) + cy + path[:, 1]
    out[:, 2:4] = boxes[:, 2:4] * s
    return out


def visible_fraction(boxes: Array, width: int, height: int) -> Array:
    """Share of each box's area inside the frame."""
    iw = np.clip(np.minimum(boxes[:, 0] + boxes[:, 2], width) - np.maximum(boxes[:, 0], 0), 0, None)
    ih = np.clip(
        np.minimum(boxes[:, 1] + boxes[:, 3], height) - np.maximum(boxes[:, 1], 0), 0, None
    )
    area = boxes[:, 2] * boxes[:, 3]
    result: Array = np.where(area > 0, iw * ih / np.maximum(area, 1e-9), 0.0)
    return result

"""Getting tracks back after occlusions and global image motion.

Two ideas, batched over the tracks concerned:

- **Observation-centric re-update** (OC-SORT's ORU): a track unmatched for a
  few frames coasts on its last velocity, and the error of that drift stays in
  the filter once the track is found again. When it is re-found after a gap of
  ``g`` frames, the filter restarts from the state it had at its last
  observation and is run along a straight virtual path of ``g`` observations
  from that observation to the new one, so velocity and covariance reflect what
  was actually observed.
- **Global motion from the boxes** (when no frames are given): when a camera
  pans, every track's prediction is off by the same shift. Mutual nearest
  neighbours between predicted and detected boxes, close relative to their
  size, vote with their displacement; the median is the shift.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from argus.domain.tracking.kalman import BoxKalman

__all__ = ["estimate_shift", "momentum", "recover", "reupdate"]

Float = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]


def reupdate(kalman: BoxKalman, saved: Float, last: Float, measured: Float, gaps: Ints) -> Float:
    """Run the filter from the last observation to the new one along a straight path.

    Args:
        kalman: The filter.
        saved: States ``(5, M, 4)`` right after each track's last observation.
        last: Those observations ``(M, 4)`` (``cx, cy, w, h``).
        measured: The new observations ``(M, 4)``.
        gaps: Frames between the two observations, each ``>= 1``, shape ``(M,)``.

    Returns:
        The corrected states ``(5, M, 4)`` after the new observation.
    """
    out = saved.copy()
    step = measured - last
    for gap in np.unique(gaps).tolist():
        index = (gaps == gap).nonzero()[0]
        sub = out.take(index, axis=1)
        start, delta = last.take(index, axis=0), step.take(index, axis=0)
        for k in range(1, gap + 1):
            kalman.predict(sub, None)
            kalman.update(sub, start + delta * (k / gap))
        out[:, index] = sub
    return out


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else 0.5 * (ordered[mid - 1] + ordered[mid])


def estimate_shift(
    tracks: Float, detections: Float, *, min_votes: int = 3, reach: float = 1.5
) -> Float | None:
    """Estimate one global translation between predicted and detected boxes.

    Args:
        tracks: Predicted boxes ``(T, 4)`` (``cx, cy, w, h``).
        detections: Detected boxes ``(N, 4)``.
        min_votes: Mutual nearest pairs needed for an estimate.
        reach: Largest centre distance of a voting pair, in box heights.

    Returns:
        The shift ``(2,)`` to add to the tracks' centres, or ``None`` when too
        few pairs agree (a median over scattered votes would be noise).
    """
    if tracks.shape[0] < min_votes or detections.shape[0] < min_votes:
        return None
    dx = detections[:, 0] - tracks[:, 0:1]
    dy = detections[:, 1] - tracks[:, 1:2]
    height = np.maximum(tracks[:, 3:4], 1.0)
    # Centre distance in box heights plus the log of the size ratio, so a
    # shift does not pair a child's box with an adult's.
    cost = np.sqrt(dx * dx + dy * dy) / height
    cost += np.abs(np.log(np.maximum(detections[:, 3], 1.0) / height))
    nearest_det = cost.argmin(axis=1)
    rows = np.arange(tracks.shape[0])
    mutual = (cost.argmin(axis=0).take(nearest_det) == rows) & (cost[rows, nearest_det] <= reach)
    voters = mutual.nonzero()[0]
    if voters.size < min_votes:
        return None
    picked = nearest_det.take(voters)
    xs, ys = dx[voters, picked].tolist(), dy[voters, picked].tolist()
    sx, sy = _median(xs), _median(ys)
    # Votes that disagree more than they move are people walking, not a camera.
    if _median([abs(x - sx) for x in xs]) > abs(sx) or _median([abs(y - sy) for y in ys]) > abs(sy):
        return None
    return np.array([sx, sy])


def recover(
    state: Float,
    last: Float,
    detections: Float,
    *,
    gate: float,
    kalman: BoxKalman,
) -> tuple[npt.NDArray[np.bool_], Float]:
    """Score lost tracks against leftover detections by the filter's own uncertainty.

    After an occlusion the predicted box rarely overlaps the person any more,
    so IoU cannot find them; the filter's position variance, which grew with
    every unobserved frame, says how far they may have gone. A pair is
    admissible when the Mahalanobis distance of the centres is within
    ``gate`` (chi-square, 2 degrees of freedom), the heights agree within a
    factor of 1.5, and the detection does not lie behind the track's direction of
    travel as last observed.

    Args:
        state: Predicted states of the lost tracks, ``(5, T, 4)``.
        last: Their last observations ``(T, 4)``.
        detections: Leftover detections ``(N, 4)`` (``cx, cy, w, h``).
        gate: Largest squared Mahalanobis distance.
        kalman: The filter (for the measurement noise).

    Returns:
        Which pairs are admissible and the similarity matrix, both ``(T, N)``.
    """
    box, vel, var = state[0], state[1], state[2]
    noise = np.square(box[:, 2:4]) * kalman.std_position**2
    spread = var[:, :2] + noise
    diff = detections[None, :, :2] - box[:, None, :2]
    d2 = np.square(diff[..., 0]) / spread[:, None, 0] + np.square(diff[..., 1]) / spread[:, None, 1]
    ratio = detections[None, :, 3] / np.maximum(box[:, None, 3], 1.0)
    travel = detections[None, :, :2] - last[:, None, :2]
    ahead = (travel * vel[:, None, :2]).sum(axis=2) >= 0.0
    ok = (d2 <= gate) & (ratio <= 1.5) & (ratio >= 1.0 / 1.5) & ahead
    return ok, 1.0 / (1.0 + d2)


def momentum(state: Float, last: Float, detections: Float) -> Float:
    """Direction consistency of every track-detection pair, in ``[-0.5, 0.5]``.

    Half the cosine of the angle between a track's velocity and the direction
    from its last observation to the detection (OC-SORT ranks by the angle
    itself; the cosine orders pairs the same way near agreement and costs no
    ``arccos``). Tracks at rest (slower than a hundredth of their height per
    frame) score 0 with everything.

    Args:
        state: Predicted states ``(5, T, 4)``.
        last: Last observations ``(T, 4)``.
        detections: Detections ``(N, 4)``.

    Returns:
        The matrix ``(T, N)``.
    """
    vx, vy = state[1][:, 0:1], state[1][:, 1:2]
    tx = detections[:, 0] - last[:, 0:1]
    ty = detections[:, 1] - last[:, 1:2]
    speed = np.sqrt(vx * vx + vy * vy)
    length = np.sqrt(tx * tx + ty * ty)
    out: Float = 0.5 * (tx * vx + ty * vy) / np.maximum(length * speed, 1e-9)
    out[speed[:, 0] < 0.01 * last[:, 3]] = 0.0
    return out

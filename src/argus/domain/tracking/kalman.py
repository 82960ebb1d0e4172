"""A constant-velocity Kalman filter over box centre and size, batched over all tracks.

The state of a track is the box ``(cx, cy, w, h)`` and its velocity per frame.
The transition only couples each coordinate with its own velocity, the
measurement observes the four coordinates, and the process and measurement
noises are diagonal, proportional to the box size (as in ByteTrack and
BoT-SORT). With a diagonal initial covariance the 8x8 covariance therefore
stays four independent 2x2 blocks, and the filter reduces to elementwise
arithmetic on arrays of shape ``(T, 4)``: exactly the full 8x8 filter, without
batched matrix products or inverses.

Layout, for T tracks: one ``state`` array of shape ``(5, T, 4)`` whose rows are
the box, its velocity, and the three entries of each coordinate's 2x2
covariance block (variance of the coordinate, its covariance with its
velocity, variance of the velocity). Each row is a contiguous ``(T, 4)`` block
when ``state`` is the leading part of a ``(5, capacity, 4)`` buffer, so every
step is a few whole-block operations, which matters more than arithmetic for a
few tracks.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

__all__ = [
    "BOX",
    "STATE_ROWS",
    "VELOCITY",
    "BoxKalman",
    "warp_boxes",
    "warp_states",
    "xywh_to_xyxy",
    "xyxy_to_xywh",
]

Array = npt.NDArray[np.float64]

STATE_ROWS = 5
"""Rows of the state: box, velocity, variance, covariance, velocity variance."""
BOX, VELOCITY = 0, 1
"""Rows of ``state`` holding the box ``(cx, cy, w, h)`` and its velocity."""

_WHWH = np.array([2, 3, 2, 3])
_ONE = np.array(1.0)


def xyxy_to_xywh(xyxy: npt.NDArray[np.floating]) -> Array:
    """Convert ``(N, 4)`` corner boxes into ``(cx, cy, w, h)``."""
    boxes = np.asarray(xyxy, dtype=np.float64)
    wh = boxes[:, 2:] - boxes[:, :2]
    return np.concatenate((boxes[:, :2] + 0.5 * wh, wh), axis=1)


def xywh_to_xyxy(xywh: Array) -> Array:
    """Convert ``(N, 4)`` ``(cx, cy, w, h)`` boxes into corners."""
    half = 0.5 * xywh[:, 2:]
    return np.concatenate((xywh[:, :2] - half, xywh[:, :2] + half), axis=1)


def _scalar(value: float) -> Array:
    # A 0-d array: numpy converts a Python float operand on every call, which
    # costs as much as the arithmetic on a few boxes.
    array = np.array(value, dtype=np.float64)
    array.setflags(write=False)
    return array


@dataclass(frozen=True, slots=True)
class BoxKalman:
    """Noise model of the filter, scaled by each box's width and height.

    Attributes:
        std_position: Standard deviation of position noise (process and
            measurement), as a share of the box size.
        std_velocity: Standard deviation of velocity noise, as a share of the box size.
    """

    std_position: float = 1.0 / 20.0
    std_velocity: float = 1.0 / 160.0
    _q_position: Array = field(init=False, repr=False)
    _q_velocity: Array = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_q_position", _scalar(self.std_position**2))
        object.__setattr__(self, "_q_velocity", _scalar(self.std_velocity**2))

    def initiate(self, xywh: Array) -> Array:
        """Return the state ``(5, K, 4)`` of new tracks at measured boxes ``(K, 4)``, at rest."""
        state = np.zeros((STATE_ROWS, xywh.shape[0], 4))
        state[BOX] = xywh
        size = np.maximum(xywh.take(_WHWH, axis=1), 1.0)
        np.square(size, out=size)
        np.multiply(size, (2.0 * self.std_position) ** 2, out=state[2])
        np.multiply(size, (10.0 * self.std_velocity) ** 2, out=state[4])
        return state

    def predict(self, state: Array, freeze_size: npt.NDArray[np.bool_] | None) -> None:
        """Advance every track one frame, in place.

        Args:
            state: States, shape ``(5, T, 4)`` (see the module docstring).
            freeze_size: Tracks whose size velocity is zeroed first (lost
                tracks, as in ByteTrack, so an unseen box does not grow or
                shrink away), or ``None``.
        """
        box, vel, var, cov, vel_var = state[0], state[1], state[2], state[3], state[4]
        if freeze_size is not None:
            np.copyto(vel[:, 2:], 0.0, where=freeze_size[:, None])
        size = box.take(_WHWH, axis=1)
        np.square(size, out=size)
        box += vel
        # Per coordinate, with F = [[1, 1], [0, 1]]: the 2x2 block (pp, pv, vv)
        # of F P F^T + Q is (pp + 2 pv + vv + q_p, pv + vv, vv + q_v), summed
        # in this order (the order of the equivalent matrix product).
        var += cov + cov
        var += vel_var
        cov += vel_var
        var += size * self._q_position
        size *= self._q_velocity
        vel_var += size

    def update(self, state: Array, xywh: Array, noise: Array | None = None) -> None:
        """Correct tracks by their measured boxes (track i by row i), in place.

        Args:
            state: States of the matched tracks, shape ``(5, M, 4)``.
            xywh: The measured boxes, shape ``(M, 4)``.
            noise: Optional factor ``(M, 1)`` on each measurement's noise (a
                less confident detection moves its track less).
        """
        box, vel, var, cov, vel_var = state[0], state[1], state[2], state[3], state[4]
        s = box.take(_WHWH, axis=1)
        np.square(s, out=s)
        s *= self._q_position
        if noise is not None:
            s *= noise
        s += var
        gain_position = var / s
        gain_velocity = cov / s
        residual = xywh - box
        box += gain_position * residual
        vel += gain_velocity * residual
        # P' = P - K H P per block: vv -= k_v pv, then [pp, pv] *= 1 - k_p.
        vel_var -= gain_velocity * cov
        keep = _ONE - gain_position
        var *= keep
        cov *= keep


def warp_states(state: Array, affine: npt.NDArray[np.floating]) -> None:
    """Move track states by a global image motion, in place (camera-motion compensation).

    ``affine`` (2x3) maps the previous frame's pixels to this frame's:
    ``p' = A @ p + t``. Centres go through the whole map, centre velocities
    through its linear part, and sizes, size velocities and every variance
    scale with the map's scale ``sqrt(|det A|)`` (a similarity's zoom).

    Args:
        state: States, shape ``(5, T, 4)`` (see the module docstring).
        affine: The map, shape ``(2, 3)``.
    """
    linear = np.asarray(affine, dtype=np.float64)[:, :2]
    scale = warp_boxes(state[BOX], affine)
    vel = state[VELOCITY]
    vel[:, :2] = vel[:, :2] @ linear.T
    vel[:, 2:] *= scale
    state[2:] *= scale * scale


def warp_boxes(xywh: Array, affine: npt.NDArray[np.floating]) -> float:
    """Move boxes ``(K, 4)`` by an affine map ``(2, 3)`` in place; return the map's scale.

    Centres go through the map, sizes scale with ``sqrt(|det A|)``.
    """
    a = np.asarray(affine, dtype=np.float64)
    scale = float(np.sqrt(abs(np.linalg.det(a[:, :2]))))
    xywh[:, :2] = xywh[:, :2] @ a[:, :2].T + a[:, 2]
    xywh[:, 2:] *= scale
    return scale

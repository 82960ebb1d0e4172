"""A constant-velocity Kalman filter over box centre and size, batched over all tracks.

The state of a track is the box ``(cx, cy, w, h)`` and its velocity per frame.
The transition only couples each coordinate with its own velocity, the
measurement observes the four coordinates, and the process and measurement
noises are diagonal, proportional to the box size (as in ByteTrack and
BoT-SORT). With a diagonal initial covariance the 8x8 covariance therefore
stays four independent 2x2 blocks, and the filter reduces to elementwise
arithmetic on arrays of shape ``(T, 4)``: exactly the full 8x8 filter, without
batched matrix products or inverses.

Layout, for T tracks: ``mean`` has shape ``(T, 2, 4)`` (row 0 the box, row 1
its velocity) and ``cov`` has shape ``(T, 3, 4)`` (rows: variance of each
coordinate, its covariance with its velocity, variance of the velocity).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

__all__ = ["BoxKalman", "xywh_to_xyxy", "xyxy_to_xywh"]

Array = npt.NDArray[np.float64]

_WHWH = np.array([2, 3, 2, 3])
_MEAN_STEP = np.array([[1.0, 1.0], [0.0, 1.0]])
_COV_STEP = np.array([[1.0, 2.0, 1.0], [0.0, 1.0, 1.0], [0.0, 0.0, 1.0]])


def xyxy_to_xywh(xyxy: npt.NDArray[np.floating]) -> Array:
    """Convert ``(N, 4)`` corner boxes into ``(cx, cy, w, h)``."""
    boxes = np.asarray(xyxy, dtype=np.float64)
    wh = boxes[:, 2:] - boxes[:, :2]
    return np.concatenate((boxes[:, :2] + 0.5 * wh, wh), axis=1)


def xywh_to_xyxy(xywh: Array) -> Array:
    """Convert ``(N, 4)`` ``(cx, cy, w, h)`` boxes into corners."""
    half = 0.5 * xywh[:, 2:]
    return np.concatenate((xywh[:, :2] - half, xywh[:, :2] + half), axis=1)


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
    _noise: Array = field(init=False, repr=False)

    def __post_init__(self) -> None:
        noise = np.array([[self.std_position**2], [0.0], [self.std_velocity**2]])
        noise.setflags(write=False)
        object.__setattr__(self, "_noise", noise)

    def initiate(self, xywh: Array) -> tuple[Array, Array]:
        """Return ``mean`` and ``cov`` of new tracks at measured boxes, at rest."""
        mean = np.zeros((xywh.shape[0], 2, 4))
        mean[:, 0] = xywh
        size = np.square(np.maximum(xywh[:, _WHWH], 1.0))
        init = np.array([(2.0 * self.std_position) ** 2, 0.0, (10.0 * self.std_velocity) ** 2])
        return mean, size[:, None, :] * init[:, None]

    def predict(
        self, mean: Array, cov: Array, freeze_size: npt.NDArray[np.bool_] | None
    ) -> tuple[Array, Array]:
        """Return every track advanced one frame.

        Args:
            mean: Means, shape ``(T, 2, 4)``.
            cov: Covariance blocks, shape ``(T, 3, 4)``.
            freeze_size: Tracks whose size velocity is zeroed first (lost
                tracks, as in ByteTrack, so an unseen box does not grow or
                shrink away), or ``None``. Zeroed in ``mean`` in place.

        Returns:
            The predicted ``mean`` and ``cov`` (new arrays).
        """
        if freeze_size is not None:
            mean[freeze_size, 1, 2:] = 0.0
        noise = self._noise
        # Per coordinate, with F = [[1, 1], [0, 1]]: x' = F x and the 2x2 block
        # (pp, pv, vv) of F P F^T + Q is (pp + 2 pv + vv + q_p, pv + vv, vv + q_v).
        cov = _COV_STEP @ cov
        cov += np.square(mean[:, 0, _WHWH])[:, None, :] * noise
        return _MEAN_STEP @ mean, cov

    def update(self, mean: Array, cov: Array, xywh: Array) -> None:
        """Correct tracks by their measured boxes (row i by row i), in place.

        Args:
            mean: Means of the matched tracks, shape ``(M, 2, 4)``.
            cov: Their covariance blocks, shape ``(M, 3, 4)``.
            xywh: The measured boxes, shape ``(M, 4)``.
        """
        s = np.square(mean[:, 0, _WHWH])
        s *= self.std_position**2
        s += cov[:, 0]
        gain = cov[:, :2] / s[:, None]
        mean += gain * (xywh - mean[:, 0])[:, None]
        # P' = P - K H P per block: vv -= k_v pv, then [pp, pv] *= 1 - k_p.
        cov[:, 2] -= gain[:, 1] * cov[:, 1]
        keep = 1.0 - gain[:, 0]
        cov[:, :2] *= keep[:, None]

"""Pick frames from a stream to reach a target detection rate.

A camera may send 25 or 30 frames per second while detection only needs 5.
``FrameSampler`` decides frame by frame, from the source's own timestamps, which
frames to keep so that the kept ones are spaced ``1 / target_fps`` apart on
average. It never looks at wall-clock time, so a file decoded faster than real
time is sampled exactly like the live stream it was recorded from.

The kept frames sit on a regular grid of due times; of the frames around a due
time the one nearest to it is kept (a frame is taken when it is less than half
a source frame interval early). A source slower than the target keeps every
frame. A gap in the source (a reconnect) or a timestamp that goes backwards
(a looped file, a restarted camera) restarts the grid instead of bursting to
catch up.
"""

from __future__ import annotations

import math

from argus.domain.errors import ValidationError

__all__ = ["FrameSampler"]


class FrameSampler:
    """Decides which frames to keep for a target rate; counts kept and skipped.

    Args:
        target_fps: Wanted frames per second of kept frames (> 0).

    Example:
        >>> sampler = FrameSampler(10.0)
        >>> [sampler.accept(i / 30) for i in range(7)]
        [True, False, False, True, False, False, True]
    """

    def __init__(self, target_fps: float):
        if not (math.isfinite(target_fps) and target_fps > 0):
            raise ValidationError(f"target_fps must be a finite number > 0, got {target_fps}")
        self._target_fps = float(target_fps)
        self._period = 1.0 / self._target_fps
        self._due: float | None = None
        self._last: float | None = None
        self._accepted = 0
        self._skipped = 0

    @property
    def target_fps(self) -> float:
        """The wanted rate of kept frames."""
        return self._target_fps

    @property
    def accepted(self) -> int:
        """Frames kept since construction or the last reset."""
        return self._accepted

    @property
    def skipped(self) -> int:
        """Frames skipped since construction or the last reset."""
        return self._skipped

    def accept(self, timestamp: float) -> bool:
        """Decide whether to keep the frame presented at ``timestamp``.

        Args:
            timestamp: Seconds on the source's clock; normally increasing.

        Returns:
            ``True`` to keep the frame, ``False`` to skip it.

        Raises:
            ValidationError: ``timestamp`` is NaN or infinite.
        """
        if not math.isfinite(timestamp):
            raise ValidationError(f"frame timestamp must be finite, got {timestamp}")
        last, due = self._last, self._due
        self._last = timestamp
        if last is None or due is None or timestamp < last:
            return self._keep(timestamp + self._period)
        slack = min(timestamp - last, self._period) / 2.0
        if timestamp < due - slack:
            self._skipped += 1
            return False
        next_due = due + self._period
        if next_due <= timestamp:
            next_due = timestamp + self._period
        return self._keep(next_due)

    def reset(self) -> None:
        """Forget the grid and the counters, as for a new source."""
        self._due = None
        self._last = None
        self._accepted = 0
        self._skipped = 0

    def _keep(self, next_due: float) -> bool:
        self._due = next_due
        self._accepted += 1
        return True

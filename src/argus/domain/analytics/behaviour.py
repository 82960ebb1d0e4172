"""Speed of tracks, in pixels or metres per second, and running detection."""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from argus.domain.analytics.anchors import Anchor, anchor_points, parse_anchors
from argus.domain.analytics.geometry import GroundPlane
from argus.domain.analytics.tracks import Retention, class_name_of
from argus.domain.detections import Detections
from argus.domain.errors import ConfigError
from argus.domain.events import Running

__all__ = ["RunningDetector", "SpeedEstimator", "SpeedResult"]

# A hard cap on samples per track, whatever the frame rate and window.
_MAX_SAMPLES = 256

Quad = Sequence[Sequence[float]]
HomographyLike = GroundPlane | tuple[Quad, Quad]


def _ground(homography: HomographyLike | None) -> GroundPlane | None:
    if homography is None or isinstance(homography, GroundPlane):
        return homography
    image_quad, ground_quad = homography
    return GroundPlane.from_quads(image_quad, ground_quad)


@dataclass(frozen=True, eq=False)
class SpeedResult:
    """Speeds of one frame's detections.

    Attributes:
        speed: Smoothed speed of each detection's track in ``unit``, shape
            ``(N,)`` float64, read-only; NaN where unknown (untracked, too
            little history, or a point that maps beyond the ground plane's
            horizon).
        unit: ``"px/s"`` or ``"m/s"``.
        events: ``Running`` events of this frame (always empty from
            ``SpeedEstimator``).
    """

    speed: npt.NDArray[np.float64]
    unit: str
    events: tuple[Running, ...] = field(default=())


def _fitted_speed(samples: deque[tuple[float, float, float]]) -> float:
    """Return the speed of the least-squares straight-line fit of position over time."""
    count = len(samples)
    mean_t = sum(t for t, _, _ in samples) / count
    mean_x = sum(x for _, x, _ in samples) / count
    mean_y = sum(y for _, _, y in samples) / count
    var_t = cov_x = cov_y = 0.0
    for t, x, y in samples:
        dt = t - mean_t
        var_t += dt * dt
        cov_x += dt * (x - mean_x)
        cov_y += dt * (y - mean_y)
    return math.hypot(cov_x, cov_y) / var_t


class _SpeedTrack:
    __slots__ = ("last_frame", "last_time", "samples")

    def __init__(self, frame: int, now: float) -> None:
        self.samples: deque[tuple[float, float, float]] = deque(maxlen=_MAX_SAMPLES)
        self.last_frame = frame
        self.last_time = now


class SpeedEstimator:
    """Per-track speed, smoothed over a short time window.

    The speed of a track is the slope of a least-squares straight-line fit of
    its anchor's position over the last ``window_seconds``: box jitter
    averages out instead of adding up as it would when summing
    frame-to-frame steps. A speed is reported once the samples span at least
    ``min_span_seconds``. With a ``GroundPlane`` the anchor is first mapped to
    metres on the ground and the speed is in m/s; otherwise it is in px/s.
    """

    def __init__(
        self,
        *,
        anchor: Anchor | str = Anchor.BOTTOM_CENTER,
        window_seconds: float = 1.0,
        min_span_seconds: float | None = None,
        homography: HomographyLike | None = None,
        max_missing_frames: int | None = 30,
        max_missing_seconds: float | None = None,
    ) -> None:
        """Create an estimator.

        Args:
            anchor: The box point whose motion is measured (the feet by default).
            window_seconds: Length of the smoothing window (> 0).
            min_span_seconds: Shortest history that yields a speed; half the
                window when ``None``.
            homography: Image-to-ground map for speeds in m/s: a
                ``GroundPlane`` or ``(image_quad, ground_quad)``, four ``(x, y)``
                points each (pixels, metres).
            max_missing_frames: Forget a track missing for more calls than this.
            max_missing_seconds: Forget a track missing for longer than this.

        Raises:
            ConfigError: an argument is out of range or the quads are degenerate.
        """
        if not (math.isfinite(window_seconds) and window_seconds > 0):
            raise ConfigError("window_seconds must be a finite number > 0")
        span = window_seconds / 2 if min_span_seconds is None else min_span_seconds
        if not (math.isfinite(span) and 0 < span <= window_seconds):
            raise ConfigError("min_span_seconds must lie in (0, window_seconds]")
        self.anchor = parse_anchors(anchor)[0]
        self.window_seconds = window_seconds
        self.min_span_seconds = span
        self.ground = _ground(homography)
        self.retention = Retention(max_missing_frames, max_missing_seconds)
        self._tracks: dict[int, _SpeedTrack] = {}
        self._frame = 0

    @property
    def unit(self) -> str:
        """``"m/s"`` with a ground plane, else ``"px/s"``."""
        return "px/s" if self.ground is None else "m/s"

    @property
    def track_ids(self) -> frozenset[int]:
        """Track ids currently remembered (bounded by the retention)."""
        return frozenset(self._tracks)

    def trigger(self, detections: Detections, timestamp: float) -> SpeedResult:
        """Add one frame's tracked detections and return their speeds.

        Args:
            detections: The frame's detections; untracked ones get NaN.
            timestamp: Seconds of the stream of this frame.
        """
        self._frame += 1
        speed = np.full(len(detections), np.nan, dtype=np.float64)
        tracked = np.flatnonzero(detections.tracker_id >= 0)
        if tracked.size:
            points = anchor_points(detections.xyxy[tracked], (self.anchor,))[0]
            if self.ground is not None:
                points = self.ground.to_ground(points)
            for k, index in enumerate(tracked.tolist()):
                track = self._observe(int(detections.tracker_id[index]), timestamp)
                x, y = float(points[k, 0]), float(points[k, 1])
                if math.isfinite(x) and math.isfinite(y):
                    speed[index] = self._speed(track, timestamp, x, y)
        self.retention.sweep(self._tracks, self._frame, timestamp)
        speed.setflags(write=False)
        return SpeedResult(speed, self.unit)

    def _observe(self, track_id: int, timestamp: float) -> _SpeedTrack:
        track = self._tracks.get(track_id)
        if track is None:
            track = _SpeedTrack(self._frame, timestamp)
            self._tracks[track_id] = track
        track.last_frame = self._frame
        track.last_time = timestamp
        return track

    def _speed(self, track: _SpeedTrack, now: float, x: float, y: float) -> float:
        samples = track.samples
        while samples and samples[-1][0] >= now:
            samples.pop()  # a repeated or earlier timestamp replaces the newer samples
        samples.append((now, x, y))
        # Keep the newest sample that is at least a window old, so the span covers the window.
        while len(samples) >= 2 and samples[1][0] <= now - self.window_seconds:
            samples.popleft()
        span = now - samples[0][0]
        if span < self.min_span_seconds:
            return math.nan
        return _fitted_speed(samples)


class RunningDetector:
    """Flags tracks that move faster than a threshold, once per episode.

    The threshold is given either in pixels per second (``speed_px_s``) or in
    metres per second (``speed_m_s``, which needs a ``homography`` onto the
    ground). An episode starts when a track's smoothed speed (see
    ``SpeedEstimator``) exceeds the threshold and emits one ``Running`` event;
    it ends when the speed falls below ``threshold * rearm_ratio``, after which
    the track may start a new episode.
    """

    def __init__(
        self,
        *,
        speed_px_s: float | None = None,
        speed_m_s: float | None = None,
        homography: HomographyLike | None = None,
        anchor: Anchor | str = Anchor.BOTTOM_CENTER,
        window_seconds: float = 1.0,
        min_span_seconds: float | None = None,
        rearm_ratio: float = 0.8,
        max_missing_frames: int | None = 30,
        max_missing_seconds: float | None = None,
    ) -> None:
        """Create a detector.

        Args:
            speed_px_s: Threshold in pixels per second (> 0).
            speed_m_s: Threshold in metres per second (> 0); exactly one of the
                two thresholds must be given.
            homography: Image-to-ground map (a ``GroundPlane`` or
                ``(image_quad, ground_quad)``); required with ``speed_m_s`` and
                not used with ``speed_px_s``.
            anchor: The box point whose motion is measured.
            window_seconds: Smoothing window of the speed.
            min_span_seconds: Shortest history that yields a speed.
            rearm_ratio: Fraction of the threshold the speed must fall below to
                end an episode, in ``(0, 1]``.
            max_missing_frames: Forget a track missing for more calls than this.
            max_missing_seconds: Forget a track missing for longer than this.

        Raises:
            ConfigError: an argument is out of range.
        """
        if (speed_px_s is None) == (speed_m_s is None):
            raise ConfigError("give exactly one of speed_px_s and speed_m_s")
        if speed_m_s is not None and homography is None:
            raise ConfigError("speed_m_s needs a homography onto the ground")
        threshold = speed_px_s if speed_px_s is not None else speed_m_s
        assert threshold is not None  # one of the two, checked above
        if not (math.isfinite(threshold) and threshold > 0):
            raise ConfigError("running threshold must be a finite number > 0")
        if not 0 < rearm_ratio <= 1:
            raise ConfigError("rearm_ratio must lie in (0, 1]")
        self.threshold = threshold
        self.rearm_ratio = rearm_ratio
        self.estimator = SpeedEstimator(
            anchor=anchor,
            window_seconds=window_seconds,
            min_span_seconds=min_span_seconds,
            homography=homography if speed_m_s is not None else None,
            max_missing_frames=max_missing_frames,
            max_missing_seconds=max_missing_seconds,
        )
        self._running: set[int] = set()

    @property
    def unit(self) -> str:
        """Unit of speeds and the threshold."""
        return self.estimator.unit

    @property
    def running_ids(self) -> frozenset[int]:
        """Tracks in a running episode now."""
        return frozenset(self._running)

    def trigger(self, detections: Detections, timestamp: float) -> SpeedResult:
        """Add one frame and return speeds plus the ``Running`` events it started.

        Args:
            detections: The frame's detections.
            timestamp: Seconds of the stream of this frame.
        """
        result = self.estimator.trigger(detections, timestamp)
        events: list[Running] = []
        for index, value in enumerate(result.speed.tolist()):
            track_id = int(detections.tracker_id[index])
            if track_id < 0 or math.isnan(value):
                continue
            if track_id in self._running:
                if value < self.threshold * self.rearm_ratio:
                    self._running.discard(track_id)
            elif value > self.threshold:
                self._running.add(track_id)
                class_id = int(detections.class_id[index])
                events.append(
                    Running(
                        track_id,
                        class_id,
                        class_name_of(detections, class_id),
                        timestamp,
                        value,
                        self.unit,
                        self.threshold,
                        confidence=float(detections.confidence[index]),
                    )
                )
        self._running &= self.estimator.track_ids
        return SpeedResult(result.speed, result.unit, tuple(events))

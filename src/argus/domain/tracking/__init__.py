"""Multi-object tracking: a ByteTrack-class tracker, its Kalman filter and matching."""

from argus.domain.tracking.bytetrack import ByteTracker, TrackUpdate
from argus.domain.tracking.config import TrackerConfig
from argus.domain.tracking.kalman import BoxKalman
from argus.domain.tracking.matching import Assign, greedy_assign, iou_matrix, match

__all__ = [
    "Assign",
    "BoxKalman",
    "ByteTracker",
    "TrackUpdate",
    "TrackerConfig",
    "greedy_assign",
    "iou_matrix",
    "match",
]

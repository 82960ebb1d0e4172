"""Settings of the multi-object tracker."""

from __future__ import annotations

from dataclasses import dataclass

from argus.domain.errors import ValidationError

__all__ = ["TrackerConfig"]


@dataclass(frozen=True, slots=True)
class TrackerConfig:
    """How the ByteTrack-class tracker associates, confirms and forgets tracks.

    Defaults follow the published ByteTrack design (two score bands, the
    lower one only continues tracks, tentative tracks confirmed on their second
    hit, a 30-frame buffer at 30 fps) with two changes chosen for robustness
    across detectors rather than for one benchmark: tracks may start from any
    high-score detection (``new_track_threshold`` equal to ``high_threshold``;
    ``min_hits`` already filters one-frame false positives), and the first
    stage requires a fused IoU of 0.3 (SORT's gate) instead of 0.2, which
    links fewer neighbours in crowds.

    Attributes:
        high_threshold: Detections scoring at least this take part in the first
            association stage and may start tracks.
        low_threshold: Detections scoring below ``high_threshold`` but at least
            this are only used to continue tracks seen in the previous frame
            (the second stage); lower ones are ignored.
        new_track_threshold: Minimum score for an unmatched detection to start
            a new (tentative) track.
        match_iou: Minimum IoU (fused with the detection score when
            ``fuse_score``) between a track's predicted box and a high-score
            detection in the first stage.
        low_match_iou: Minimum IoU for the second stage (low-score detections
            against tracks still unmatched).
        tentative_match_iou: Minimum IoU for a tentative track to take a
            leftover high-score detection.
        min_hits: Matched frames after which a tentative track is confirmed
            (1 confirms at birth). A tentative track that misses a frame is dropped.
        lost_buffer: Frames (at 30 fps) a confirmed track survives unmatched
            before it is removed; scaled by ``frame_rate / 30``.
        frame_rate: Frame rate of the stream, to scale ``lost_buffer``.
        fuse_score: Multiply IoU by the detection score in the first stage, so
            confident detections win ties.
        class_consistent: Only match tracks with detections of the same class.
        confirm_first_frame: Confirm tracks born in the first frame after a
            reset at once (nothing earlier could have confirmed them).
        appearance_weight: Share of the appearance distance in the cost when
            embeddings are given (0 ignores them, 1 uses appearance only among
            pairs that pass the IoU gate).
        appearance_momentum: Exponential moving-average factor of each track's
            embedding (the share kept from the past).
    """

    high_threshold: float = 0.5
    low_threshold: float = 0.1
    new_track_threshold: float = 0.5
    match_iou: float = 0.3
    low_match_iou: float = 0.5
    tentative_match_iou: float = 0.3
    min_hits: int = 2
    lost_buffer: int = 30
    frame_rate: float = 30.0
    fuse_score: bool = True
    class_consistent: bool = False
    confirm_first_frame: bool = True
    appearance_weight: float = 0.5
    appearance_momentum: float = 0.9

    def __post_init__(self) -> None:
        unit = {
            "high_threshold": self.high_threshold,
            "low_threshold": self.low_threshold,
            "new_track_threshold": self.new_track_threshold,
            "match_iou": self.match_iou,
            "low_match_iou": self.low_match_iou,
            "tentative_match_iou": self.tentative_match_iou,
            "appearance_weight": self.appearance_weight,
            "appearance_momentum": self.appearance_momentum,
        }
        for name, value in unit.items():
            if not 0.0 <= value <= 1.0:
                raise ValidationError(f"{name} must lie in [0, 1], got {value}")
        if self.low_threshold > self.high_threshold:
            raise ValidationError("low_threshold must not exceed high_threshold")
        if self.min_hits < 1:
            raise ValidationError(f"min_hits must be at least 1, got {self.min_hits}")
        if self.lost_buffer < 0:
            raise ValidationError(f"lost_buffer must be non-negative, got {self.lost_buffer}")
        if not self.frame_rate > 0:
            raise ValidationError(f"frame_rate must be positive, got {self.frame_rate}")

    @property
    def max_lost_frames(self) -> int:
        """Frames a confirmed track may go unmatched before it is removed."""
        return round(self.lost_buffer * self.frame_rate / 30.0)

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
    hit, a 30-frame buffer at 30 fps), with changes chosen on the TUD public
    detections *and* on every level of the robustness suite (detections
    generated from ground truth with misses, jitter, false positives,
    fragments, merges, camera motion and dropped frames; ``benchmarks/
    tracker_robustness.py``), not on one set: a first band from 0.35 (real
    detectors score partly hidden people low), births from 0.45, a first-stage
    fused IoU of 0.3 (SORT's gate) with a buffered-IoU retry for leftovers,
    OC-SORT's re-update and (lightly weighted) momentum, recovery of lost
    tracks by the filter's uncertainty, filtered output boxes, and a global
    shift estimated from the boxes when no frames give one.

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
        observation_reupdate: When a lost track is found again, re-run its
            filter from its last observation along a straight path to the new
            one (OC-SORT's observation-centric re-update).
        box_motion: Without a warp from the frames, estimate a global shift
            from the boxes before association (mutual nearest predicted and
            detected boxes vote; the median moves every track when the votes
            agree and it exceeds 4 % of the median box height).
        recovery_gate: Squared Mahalanobis distance (chi-square, 2 degrees of
            freedom; 4.61 is its 90th percentile) within which a lost track may
            take a leftover detection that would otherwise start a new track;
            0 turns this recovery stage off.
        momentum_weight: Weight of direction consistency (OC-SORT's
            observation-centric momentum) among the pairs the first stage
            admits: a detection in the direction the track has been moving
            ranks above one behind it. 0 turns it off.
        smooth_boxes: Return each track's filtered box (the Kalman estimate
            after this frame's detection) instead of the raw detection box:
            steadier boxes for lines, zones and drawings.
        buffer: After the first stage, confirmed tracks and high-score
            detections left unmatched are compared once more with every box
            enlarged by this share of its width and height on each side
            (buffered IoU, as in C-BIoU), under the first stage's gate: jittery
            boxes, fast motion and dropped frames that no longer overlap
            still match. 0 turns it off.
        confidence_noise: Scale each detection's measurement noise by how
            little it is trusted (``2 (1 - score)``, clipped to [0.25, 2]), so
            confident boxes correct their tracks more than doubtful ones.
    """

    high_threshold: float = 0.35
    low_threshold: float = 0.1
    new_track_threshold: float = 0.45
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
    observation_reupdate: bool = True
    box_motion: bool = True
    recovery_gate: float = 4.61
    momentum_weight: float = 0.1
    smooth_boxes: bool = True
    buffer: float = 0.5
    confidence_noise: bool = True

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
        if self.buffer < 0.0 or self.recovery_gate < 0.0 or self.momentum_weight < 0.0:
            raise ValidationError("buffer, recovery_gate and momentum_weight must be >= 0")
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

"""The tracker the live pipeline runs: ByteTracker fed with cues read from the frames.

``ByteTracker`` works from boxes alone (the MOT evaluation has no frames).
Where frames exist, two cheap cues make it steadier: the camera's motion
between frames, which moves every track's Kalman state before it predicts (a
pan or a shake otherwise looks like every person jumping at once), and an
appearance vector per box, which settles matches the boxes leave ambiguous.
``CuedTracker`` computes both from the frame and hands them to the tracker;
without a frame it tracks from the boxes as ``ByteTracker`` does.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from argus.domain.detections import Detections
from argus.domain.tracking import ByteTracker
from argus.ports.tracker import AppearanceModel, CameraMotion

__all__ = ["CuedTracker"]


class CuedTracker:
    """Tracks with camera motion and appearance read from each frame.

    Implements ``argus.ports.tracker.Tracker``.

    Args:
        tracker: The box tracker that keeps the identities.
        motion: Camera-motion estimator; ``None`` leaves motion to the tracker
            (its estimate from the boxes, where configured).
        appearance: Appearance model; ``None`` tracks without appearance.
    """

    def __init__(
        self,
        tracker: ByteTracker,
        *,
        motion: CameraMotion | None = None,
        appearance: AppearanceModel | None = None,
    ) -> None:
        self.tracker = tracker
        self.motion = motion
        self.appearance = appearance

    def update(
        self, detections: Detections, *, image: npt.NDArray[np.uint8] | None = None
    ) -> Detections:
        """Track one frame, with the cues of ``image`` when it is given.

        Args:
            detections: This frame's detections (never modified).
            image: The frame, BGR of shape ``(H, W, 3)``; ``None`` tracks from
                the boxes alone.

        Returns:
            The detections of confirmed tracks with their ``tracker_id``.
        """
        if image is None:
            if self.motion is not None:
                # The next frame's motion must not be measured against an older one.
                self.motion.reset()
            return self.tracker.update(detections)
        warp = None if self.motion is None else self.motion.estimate(image, detections)
        embeddings = None
        if self.appearance is not None:
            embeddings = self.appearance.embed(image, detections)
        return self.tracker.update(detections, embeddings, warp=warp)

    def reset(self) -> None:
        """Forget every track and the previous frame."""
        self.tracker.reset()
        if self.motion is not None:
            self.motion.reset()

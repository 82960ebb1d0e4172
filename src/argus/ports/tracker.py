"""The tracker ports, the frame-cue hooks (camera motion, appearance) and the MOT scorer port."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from argus.domain.detections import Detections

__all__ = [
    "AppearanceModel",
    "BoxTracker",
    "CameraMotion",
    "MotScorer",
    "MotScores",
    "Tracker",
]


@runtime_checkable
class BoxTracker(Protocol):
    """Gives detections persistent identities from their boxes alone.

    The MOT evaluation runs trackers of this kind on public detections, where
    no frames exist; ``ByteTracker`` is one.
    """

    def update(self, detections: Detections) -> Detections:
        """Track one frame.

        Args:
            detections: The frame's detections; implementations never modify them.

        Returns:
            The detections of confirmed tracks, each with its own unique
            positive ``tracker_id`` (tentative tracks are not returned).
        """
        ...

    def reset(self) -> None:
        """Forget all tracks (a new, unrelated stream follows)."""
        ...


@runtime_checkable
class Tracker(Protocol):
    """Gives detections persistent identities across the frames of one stream.

    The analysis pipeline hands the decoded frame along with its detections,
    so an implementation may read cues from the pixels (camera motion,
    appearance); it must work without them too.
    """

    def update(
        self, detections: Detections, *, image: npt.NDArray[np.uint8] | None = None
    ) -> Detections:
        """Track one frame.

        Args:
            detections: The frame's detections; implementations never modify them.
            image: The frame the detections were found in, BGR of shape
                ``(H, W, 3)``, or ``None`` where only boxes are known.

        Returns:
            The detections of confirmed tracks, each with its own unique
            positive ``tracker_id`` (tentative tracks are not returned).
        """
        ...

    def reset(self) -> None:
        """Forget all tracks (a new, unrelated stream follows)."""
        ...


@runtime_checkable
class CameraMotion(Protocol):
    """Estimates the camera's motion between consecutive frames of one stream."""

    def estimate(
        self, image: npt.NDArray[np.uint8], detections: Detections | None = None
    ) -> npt.NDArray[np.float64] | None:
        """Return the motion from the previous frame given to this one.

        Args:
            image: This frame, BGR of shape ``(H, W, 3)`` (or grey ``(H, W)``).
            detections: This frame's detections, whose boxes move on their own
                and are left out of the estimate; ``None`` to use every pixel.

        Returns:
            The affine map of shape ``(2, 3)`` from the previous frame's pixel
            coordinates to this frame's (``x' = A @ [x, y, 1]``), or ``None``
            on the first frame and wherever the frames do not tell.
        """
        ...

    def reset(self) -> None:
        """Forget the previous frame (a new, unrelated stream follows)."""
        ...


@runtime_checkable
class AppearanceModel(Protocol):
    """Computes one appearance embedding per detection (for re-identification).

    The tracker blends the cosine distance of these vectors into its matching
    cost (``ByteTracker.update(detections, embeddings=...)``).
    """

    @property
    def dimensions(self) -> int:
        """Length D of each embedding."""
        ...

    def embed(
        self, image: npt.NDArray[np.uint8], detections: Detections
    ) -> npt.NDArray[np.float32]:
        """Return embeddings of shape ``(N, D)`` for the boxes of ``detections`` in ``image``."""
        ...


@dataclass(frozen=True, slots=True)
class MotScores:
    """Standard multi-object tracking scores (percentages, except the count).

    Attributes:
        hota: Higher Order Tracking Accuracy.
        mota: Multiple Object Tracking Accuracy (CLEAR).
        idf1: Identity F1.
        id_switches: Identity switches (CLEAR).
    """

    hota: float
    mota: float
    idf1: float
    id_switches: int


class MotScorer(Protocol):
    """Scores MOTChallenge result files against ground truth."""

    def score(
        self,
        benchmark: str,
        sequences: Mapping[str, Path],
        results: Mapping[str, Mapping[str, Path]],
    ) -> dict[str, dict[str, MotScores]]:
        """Score every tracker on every sequence.

        Args:
            benchmark: ``MOT15`` or ``MOT17`` (``MOT16``, ``MOT20``): how the
                ground truth is read and preprocessed.
            sequences: Sequence name to its folder (with ``gt/gt.txt``).
            results: Tracker name to (sequence name to its result file).

        Returns:
            Tracker name to (sequence name, and ``COMBINED``, to scores).
        """
        ...

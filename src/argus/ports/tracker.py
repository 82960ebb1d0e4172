"""The tracker port, the appearance-model hook and the MOT scorer port."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from argus.domain.detections import Detections

__all__ = ["AppearanceModel", "MotScorer", "MotScores", "Tracker"]


@runtime_checkable
class Tracker(Protocol):
    """Gives detections persistent identities across the frames of one stream."""

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

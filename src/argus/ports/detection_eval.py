"""Scoring a detector's boxes against an annotated set (mAP, precision, recall)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from argus.domain.detection_eval import AnnotatedFrame, EvaluationScores
from argus.domain.hard_examples import LabelBox

__all__ = ["DetectionScorer"]


class DetectionScorer(Protocol):
    """Scores predictions against labelled frames, COCO style."""

    def score(
        self,
        frames: Sequence[AnnotatedFrame],
        predictions: Sequence[Sequence[LabelBox]],
        *,
        classes: Sequence[str] | None = None,
        score_threshold: float = 0.25,
    ) -> EvaluationScores:
        """Score ``predictions[i]`` (boxes with scores) against ``frames[i]``.

        Args:
            frames: The labelled frames.
            predictions: The model's boxes per frame, same order and length.
            classes: Classes to score (``None``: every class of the truth);
                predictions of other classes are left out.
            score_threshold: Least score of the boxes precision and recall count
                (mAP uses every box).

        Raises:
            ValidationError: ``predictions`` and ``frames`` differ in length, or a
                prediction has no score.
        """
        ...

"""Evaluation of a detector on an annotated set: the inputs and the scores.

An ``AnnotatedFrame`` is one labelled frame: the boxes people drew
(``truth``) and regions whose detections count neither way (``ignore``:
crowds, reflections, people marked as ambiguous; a detection inside one is
neither a true nor a false positive, and missing it costs nothing). The
scorer (a port; faster-coco-eval behind it) compares a model's boxes on each
frame with the truth, COCO style, and returns an ``EvaluationScores``: mAP at
IoU 0.5 and averaged over 0.5:0.95, and per class the AP and the precision
and recall of the boxes at or above a score threshold (the confidence a
camera runs at).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from argus.domain.errors import ValidationError
from argus.domain.hard_examples import LabelBox

__all__ = ["AnnotatedFrame", "ClassScores", "EvaluationScores"]


@dataclass(frozen=True, slots=True)
class AnnotatedFrame:
    """One labelled frame.

    Attributes:
        width: Frame width in pixels.
        height: Frame height in pixels.
        truth: The objects on the frame (``score`` unused).
        ignore: Regions where detections count neither way.
    """

    width: int
    height: int
    truth: tuple[LabelBox, ...] = ()
    ignore: tuple[LabelBox, ...] = ()

    def __post_init__(self) -> None:
        if self.width <= 0 or self.height <= 0:
            raise ValidationError(f"a frame needs a positive size, got {self.width}x{self.height}")


@dataclass(frozen=True, slots=True)
class ClassScores:
    """The scores of one class.

    Attributes:
        class_name: The class.
        ap50: Average precision at IoU 0.5.
        ap50_95: Average precision averaged over IoU 0.5 to 0.95.
        precision: Precision of the boxes at or above the score threshold.
        recall: Recall of the boxes at or above the score threshold.
        truth: Labelled objects of the class (ignore regions excluded).
        detections: The model's boxes of the class.
    """

    class_name: str
    ap50: float
    ap50_95: float
    precision: float
    recall: float
    truth: int
    detections: int


@dataclass(frozen=True, slots=True)
class EvaluationScores:
    """A model's scores on an annotated set.

    Attributes:
        map50: Mean over classes of AP at IoU 0.5.
        map50_95: Mean over classes of AP over IoU 0.5:0.95.
        precision: Mean precision over classes with truth (score threshold).
        recall: Mean recall over classes with truth (score threshold).
        frames: Frames evaluated.
        classes: Per-class scores, by class name.
    """

    map50: float
    map50_95: float
    precision: float
    recall: float
    frames: int
    classes: tuple[ClassScores, ...]

    def to_dict(self) -> dict[str, object]:
        """The JSON-ready form."""
        return {
            "map50": self.map50,
            "map50_95": self.map50_95,
            "precision": self.precision,
            "recall": self.recall,
            "frames": self.frames,
            "classes": [
                {
                    "class_name": c.class_name,
                    "ap50": c.ap50,
                    "ap50_95": c.ap50_95,
                    "precision": c.precision,
                    "recall": c.recall,
                    "truth": c.truth,
                    "detections": c.detections,
                }
                for c in self.classes
            ],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EvaluationScores:
        """Read back what ``to_dict`` wrote.

        Raises:
            ValidationError: A field is missing or of the wrong type.
        """
        try:
            classes = tuple(
                ClassScores(
                    class_name=str(c["class_name"]),
                    ap50=float(c["ap50"]),
                    ap50_95=float(c["ap50_95"]),
                    precision=float(c["precision"]),
                    recall=float(c["recall"]),
                    truth=int(c["truth"]),
                    detections=int(c["detections"]),
                )
                for c in data.get("classes") or ()
            )
            return cls(
                map50=float(data["map50"]),
                map50_95=float(data["map50_95"]),
                precision=float(data["precision"]),
                recall=float(data["recall"]),
                frames=int(data["frames"]),
                classes=classes,
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ValidationError(f"malformed evaluation scores: {exc}") from exc

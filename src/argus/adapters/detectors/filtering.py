"""Score thresholds, class filter and NMS shared by every detector adapter."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from argus.domain.errors import ConfigError
from argus.domain.nms import nms

__all__ = ["DetectionFilter"]

FloatArray = npt.NDArray[np.float32]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class DetectionFilter:
    """Which candidate boxes become detections.

    A box is kept when its score reaches its class's threshold (the per-class
    value where one is set, else ``conf_threshold``), its class is allowed, and
    it survives class-aware NMS; then the ``max_detections`` best are kept.

    Attributes:
        num_classes: Number of classes ``C``; class ids run ``0..C-1``.
        conf_threshold: Default minimum score, in ``[0, 1]``.
        iou_threshold: NMS overlap threshold, in ``[0, 1]``.
        class_thresholds: Per-class minimum scores, class id to threshold.
        classes: Allowed class ids, or ``None`` for all.
        max_detections: Most detections kept per image, >= 1.
    """

    num_classes: int
    conf_threshold: float = 0.25
    iou_threshold: float = 0.45
    class_thresholds: Mapping[int, float] = field(default_factory=dict)
    classes: Iterable[int] | None = None
    max_detections: int = 300
    _thresholds: FloatArray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.num_classes < 1:
            raise ConfigError(f"a detector needs at least one class, got {self.num_classes}")
        _check_unit("conf_threshold", self.conf_threshold)
        _check_unit("iou_threshold", self.iou_threshold)
        if self.max_detections < 1:
            raise ConfigError(f"max_detections must be >= 1, got {self.max_detections}")
        thresholds = np.full(self.num_classes, self.conf_threshold, dtype=np.float32)
        for class_id, value in dict(self.class_thresholds).items():
            self._check_class(class_id, "class_thresholds")
            _check_unit(f"class_thresholds[{class_id}]", value)
            thresholds[class_id] = value
        if self.classes is not None:
            allowed = tuple(self.classes)
            for class_id in allowed:
                self._check_class(class_id, "classes")
            # A disallowed class gets an unreachable threshold: one mask does both jobs.
            blocked = np.ones(self.num_classes, dtype=bool)
            blocked[list(allowed)] = False
            thresholds[blocked] = np.inf
            object.__setattr__(self, "classes", frozenset(allowed))
        object.__setattr__(self, "class_thresholds", dict(self.class_thresholds))
        object.__setattr__(self, "_thresholds", thresholds)

    def _check_class(self, class_id: int, what: str) -> None:
        if not 0 <= class_id < self.num_classes:
            raise ConfigError(
                f"{what} names class id {class_id}, outside 0..{self.num_classes - 1}"
            )

    @property
    def min_score(self) -> float:
        """The lowest score any class can be kept with (for early screening)."""
        return float(self._thresholds.min())

    def select(self, xyxy: FloatArray, scores: FloatArray, class_id: IntArray) -> IntArray:
        """Return the indices of the candidates to keep, best score first.

        Args:
            xyxy: Candidate boxes ``(N, 4)`` (any pixel space, one per image).
            scores: Scores ``(N,)``.
            class_id: Classes ``(N,)``, each in ``0..C-1``.

        Returns:
            Indices into the candidates, int64, by descending score.
        """
        valid = (class_id >= 0) & (class_id < self.num_classes)
        valid &= np.isfinite(scores) & np.all(np.isfinite(xyxy), axis=1)
        candidates = np.flatnonzero(valid)
        candidates = candidates[scores[candidates] >= self._thresholds[class_id[candidates]]]
        kept = nms(
            xyxy[candidates],
            scores[candidates],
            self.iou_threshold,
            class_id=class_id[candidates],
            max_detections=self.max_detections,
        )
        return candidates[kept].astype(np.int64)


def _check_unit(name: str, value: float) -> None:
    if not 0.0 <= value <= 1.0:
        raise ConfigError(f"{name} must lie in [0, 1], got {value}")

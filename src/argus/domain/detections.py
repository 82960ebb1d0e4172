"""The validated struct-of-arrays that carries a set of detections."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from argus.domain.errors import ValidationError

__all__ = ["Detection", "Detections"]

FloatArray = npt.NDArray[np.float32]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class Detection:
    """One detection, for printing and serialising.

    Attributes:
        xyxy: Box corners ``(x1, y1, x2, y2)`` in pixels of the source frame.
        confidence: Score in ``[0, 1]``.
        class_id: Index into the model's class names.
        label: The class name.
        tracker_id: Track identity, or ``None`` when untracked.
    """

    xyxy: tuple[float, float, float, float]
    confidence: float
    class_id: int
    label: str
    tracker_id: int | None = None


def _as_float(values: Any, name: str, shape: tuple[int, ...]) -> FloatArray:
    array = np.ascontiguousarray(values, dtype=np.float32)
    if array.shape != shape:
        raise ValidationError(f"{name} must have shape {shape}, got {array.shape}")
    if not np.all(np.isfinite(array)):
        raise ValidationError(f"{name} contains NaN or infinite values")
    array.setflags(write=False)
    return array


def _as_int(values: Any, name: str, n: int) -> IntArray:
    array = np.ascontiguousarray(values, dtype=np.int64)
    if array.shape != (n,):
        raise ValidationError(f"{name} must have shape ({n},), got {array.shape}")
    array.setflags(write=False)
    return array


@dataclass(frozen=True, eq=False)
class Detections:
    """A set of N detections in one frame, as parallel read-only arrays.

    Shapes are checked on construction: ``xyxy`` is ``(N, 4)`` float32 with
    ``x1 <= x2`` and ``y1 <= y2``, ``confidence`` is ``(N,)`` float32 in
    ``[0, 1]``, ``class_id`` and ``tracker_id`` are ``(N,)`` int64 (a tracker
    id of ``-1`` means untracked). The arrays are made read-only so nothing
    downstream can change a set another component still holds.

    Attributes:
        xyxy: Box corners in pixels of the source frame, shape ``(N, 4)``.
        confidence: Scores, shape ``(N,)``.
        class_id: Class indices, shape ``(N,)``.
        tracker_id: Track ids or ``-1``, shape ``(N,)``; defaults to all ``-1``.
        class_names: Names indexed by class id (shared, not per detection).
        model: ``name@version`` of the model that produced the set.
    """

    xyxy: FloatArray
    confidence: FloatArray
    class_id: IntArray
    tracker_id: IntArray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    class_names: tuple[str, ...] = ()
    model: str = ""

    def __post_init__(self) -> None:
        xyxy = np.asarray(self.xyxy, dtype=np.float32)
        if xyxy.ndim == 1 and xyxy.size == 0:
            xyxy = xyxy.reshape(0, 4)
        if xyxy.ndim != 2 or xyxy.shape[1] != 4:
            raise ValidationError(f"xyxy must have shape (N, 4), got {xyxy.shape}")
        n = xyxy.shape[0]
        xyxy = _as_float(xyxy, "xyxy", (n, 4))
        if np.any(xyxy[:, 2] < xyxy[:, 0]) or np.any(xyxy[:, 3] < xyxy[:, 1]):
            raise ValidationError("xyxy boxes must satisfy x1 <= x2 and y1 <= y2")
        confidence = _as_float(self.confidence, "confidence", (n,))
        if np.any(confidence < 0) or np.any(confidence > 1):
            raise ValidationError("confidence must lie in [0, 1]")
        class_id = _as_int(self.class_id, "class_id", n)
        if np.any(class_id < 0):
            raise ValidationError("class_id must be non-negative")
        if self.class_names and n and int(class_id.max()) >= len(self.class_names):
            raise ValidationError("class_id out of range for class_names")
        tracker = self.tracker_id
        if np.asarray(tracker).size == 0 and n:
            tracker = np.full(n, -1, dtype=np.int64)
        tracker_id = _as_int(tracker, "tracker_id", n)
        object.__setattr__(self, "xyxy", xyxy)
        object.__setattr__(self, "confidence", confidence)
        object.__setattr__(self, "class_id", class_id)
        object.__setattr__(self, "tracker_id", tracker_id)
        object.__setattr__(self, "class_names", tuple(self.class_names))

    @classmethod
    def empty(cls, class_names: tuple[str, ...] = (), model: str = "") -> Detections:
        """Return a set with no detections."""
        return cls(
            xyxy=np.zeros((0, 4), dtype=np.float32),
            confidence=np.zeros(0, dtype=np.float32),
            class_id=np.zeros(0, dtype=np.int64),
            class_names=class_names,
            model=model,
        )

    def __len__(self) -> int:
        return int(self.xyxy.shape[0])

    def __iter__(self) -> Iterator[Detection]:
        for i in range(len(self)):
            yield self.item(i)

    def item(self, i: int) -> Detection:
        """Return detection ``i`` as a plain record."""
        cid = int(self.class_id[i])
        label = self.class_names[cid] if cid < len(self.class_names) else str(cid)
        tid = int(self.tracker_id[i])
        x1, y1, x2, y2 = (float(v) for v in self.xyxy[i])
        return Detection(
            xyxy=(x1, y1, x2, y2),
            confidence=float(self.confidence[i]),
            class_id=cid,
            label=label,
            tracker_id=None if tid < 0 else tid,
        )

    def select(self, mask: npt.NDArray[np.bool_] | npt.NDArray[np.int64]) -> Detections:
        """Return the subset picked by a boolean mask or an index array."""
        return Detections(
            xyxy=self.xyxy[mask],
            confidence=self.confidence[mask],
            class_id=self.class_id[mask],
            tracker_id=self.tracker_id[mask],
            class_names=self.class_names,
            model=self.model,
        )

    def with_tracker_ids(self, tracker_id: IntArray) -> Detections:
        """Return a copy carrying the given tracker ids (the original is untouched)."""
        return Detections(
            xyxy=self.xyxy,
            confidence=self.confidence,
            class_id=self.class_id,
            tracker_id=tracker_id,
            class_names=self.class_names,
            model=self.model,
        )

    @property
    def labels(self) -> list[str]:
        """Class names of each detection."""
        return [d.label for d in self]

    def to_records(self) -> list[dict[str, object]]:
        """Return JSON-ready records (label, score, xyxy, class id, tracker id, model)."""
        return [
            {
                "label": d.label,
                "class_id": d.class_id,
                "score": round(d.confidence, 4),
                "xyxy": [round(v, 1) for v in d.xyxy],
                "tracker_id": d.tracker_id,
                "model": self.model,
            }
            for d in self
        ]

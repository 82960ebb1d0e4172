"""Non-maximum suppression and box overlap, in plain numpy.

Boxes are ``(N, 4)`` arrays of ``(x1, y1, x2, y2)`` corners in pixels. NMS is
greedy: the best-scoring box is kept, every remaining box that overlaps it by
more than the IoU threshold is dropped, and so on. Class-aware suppression
shifts each class's boxes into its own disjoint region of the plane (the
"offset by class" trick), so boxes of different classes can never overlap and
one vectorised pass handles every class at once.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from argus.domain.errors import ValidationError

__all__ = ["box_iou", "nms"]

FloatArray = npt.NDArray[np.float32]
IntArray = npt.NDArray[np.int64]


def _as_boxes(values: npt.ArrayLike, name: str) -> npt.NDArray[np.float64]:
    boxes = np.asarray(values, dtype=np.float64)
    if boxes.ndim == 1 and boxes.size == 0:
        boxes = boxes.reshape(0, 4)
    if boxes.ndim != 2 or boxes.shape[1] != 4:
        raise ValidationError(f"{name} must have shape (N, 4), got {boxes.shape}")
    return boxes


def _areas(boxes: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    widths = np.clip(boxes[:, 2] - boxes[:, 0], 0.0, None)
    heights = np.clip(boxes[:, 3] - boxes[:, 1], 0.0, None)
    return np.asarray(widths * heights, dtype=np.float64)


def box_iou(a: npt.ArrayLike, b: npt.ArrayLike) -> FloatArray:
    """Return the pairwise intersection over union of two box sets.

    Args:
        a: Boxes ``(N, 4)`` as ``(x1, y1, x2, y2)``.
        b: Boxes ``(M, 4)`` as ``(x1, y1, x2, y2)``.

    Returns:
        IoU matrix of shape ``(N, M)``, float32 in ``[0, 1]``; a pair whose
        union is empty (two degenerate boxes) has IoU 0.

    Raises:
        ValidationError: A box array is not ``(N, 4)``.
    """
    boxes_a = _as_boxes(a, "a")
    boxes_b = _as_boxes(b, "b")
    top_left = np.maximum(boxes_a[:, None, :2], boxes_b[None, :, :2])
    bottom_right = np.minimum(boxes_a[:, None, 2:], boxes_b[None, :, 2:])
    wh = np.clip(bottom_right - top_left, 0.0, None)
    inter = wh[..., 0] * wh[..., 1]
    union = _areas(boxes_a)[:, None] + _areas(boxes_b)[None, :] - inter
    iou = np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)
    return np.asarray(iou, dtype=np.float32)


def nms(
    xyxy: npt.ArrayLike,
    scores: npt.ArrayLike,
    iou_threshold: float,
    class_id: npt.ArrayLike | None = None,
    max_detections: int | None = None,
) -> IntArray:
    """Return the indices of the boxes that survive greedy NMS.

    Args:
        xyxy: Boxes ``(N, 4)`` as ``(x1, y1, x2, y2)``.
        scores: Scores ``(N,)``; higher is better.
        iou_threshold: A box is dropped when its IoU with a kept box of the same
            class is strictly greater than this, in ``[0, 1]``.
        class_id: Classes ``(N,)``; when given, only boxes of the same class
            suppress each other. ``None`` suppresses across classes.
        max_detections: Keep at most this many (the best-scoring), or all when
            ``None``.

    Returns:
        Indices into the inputs, int64, ordered by descending score (ties keep
        input order).

    Raises:
        ValidationError: Shapes disagree or an argument is out of range.
    """
    boxes = _as_boxes(xyxy, "xyxy")
    n = boxes.shape[0]
    score = np.asarray(scores, dtype=np.float64)
    if score.shape != (n,):
        raise ValidationError(f"scores must have shape ({n},), got {score.shape}")
    if not 0.0 <= iou_threshold <= 1.0:
        raise ValidationError(f"iou_threshold must lie in [0, 1], got {iou_threshold}")
    if max_detections is not None and max_detections < 0:
        raise ValidationError(f"max_detections must be >= 0, got {max_detections}")
    limit = n if max_detections is None else min(n, max_detections)
    if n == 0 or limit == 0:
        return np.zeros(0, dtype=np.int64)
    if class_id is not None:
        classes = np.asarray(class_id, dtype=np.int64)
        if classes.shape != (n,):
            raise ValidationError(f"class_id must have shape ({n},), got {classes.shape}")
        # Shift each class into its own square, further apart than any box is wide.
        span = float(boxes.max() - min(boxes.min(), 0.0)) + 1.0
        boxes = boxes + (classes.astype(np.float64) * span)[:, None]
    areas = _areas(boxes)
    order = np.argsort(-score, kind="stable")
    keep: list[int] = []
    while order.size and len(keep) < limit:
        best = int(order[0])
        keep.append(best)
        rest = order[1:]
        top_left = np.maximum(boxes[best, :2], boxes[rest, :2])
        bottom_right = np.minimum(boxes[best, 2:], boxes[rest, 2:])
        wh = np.clip(bottom_right - top_left, 0.0, None)
        inter = wh[:, 0] * wh[:, 1]
        union = areas[best] + areas[rest] - inter
        iou = np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)
        order = rest[iou <= iou_threshold]
    return np.asarray(keep, dtype=np.int64)

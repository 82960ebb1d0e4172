"""What one tracker step reads and returns: a frame's inputs, once converted, and its tracks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from argus.domain.detections import Detections

__all__ = ["Float", "FrameInputs", "Ids", "Index", "Mask", "TrackUpdate", "frame_inputs", "subset"]

Index = npt.NDArray[np.intp]
Float = npt.NDArray[np.float64]
Ids = npt.NDArray[np.int64]
Mask = npt.NDArray[np.bool_]

# 0-d operands: numpy converts a Python float operand on every call.
_HALF = np.array(0.5)
_MINUS_ONE = np.array(-1.0)


@dataclass(frozen=True, eq=False)
class TrackUpdate:
    """Everything the tracker followed in one frame.

    Attributes:
        detections: The input detections that belong to a track (confirmed or
            tentative), in input order, each with its track's unique positive id.
        confirmed: Read-only mask, shape ``(len(detections),)``: ``True`` for
            confirmed tracks, ``False`` for tentative ones (not to be counted).
    """

    detections: Detections
    confirmed: Mask

    def confirmed_only(self) -> Detections:
        """Return the detections of confirmed tracks."""
        return self.detections.select(self.confirmed)


def subset(
    detections: Detections, index: Index, tracker_id: Ids, xyxy: Float | None = None
) -> Detections:
    """Return detections ``index`` of a validated set with new tracker ids, unvalidated.

    ``xyxy``, when given, replaces the boxes of the subset (the tracker's
    filtered boxes, one per index; widths and heights are kept positive).

    Building a ``Detections`` re-checks every invariant (tens of microseconds,
    more than a whole tracker update); a subset of a validated set with
    positive ids cannot break them, so the copy is built directly.
    """
    out = object.__new__(Detections)
    fields = out.__dict__
    fields.update(detections.__dict__)
    tracker_id.setflags(write=False)
    fields["tracker_id"] = tracker_id
    if index.size < detections.xyxy.shape[0]:  # sorted unique indices, else all in order
        for name in ("xyxy", "confidence", "class_id"):
            array = fields[name].take(index, axis=0)
            array.setflags(write=False)
            fields[name] = array
    if xyxy is not None:
        boxes = xyxy.astype(detections.xyxy.dtype)
        np.maximum(boxes[:, 2:], boxes[:, :2], out=boxes[:, 2:])
        boxes.setflags(write=False)
        fields["xyxy"] = boxes
    return out


class FrameInputs(NamedTuple):
    """One frame's per-detection inputs to matching and correction."""

    score: npt.NDArray[np.float32]
    class_id: Ids
    xywh: Float
    """Boxes ``(cx, cy, w, h)``, shape ``(N, 4)``."""
    corners: Float
    """Signed corners ``(x1, y1, -x2, -y2)``, shape ``(4, N)`` (see ``iou_signed``)."""
    area: Float
    emb: Float | None


def frame_inputs(detections: Detections, emb: Float | None) -> FrameInputs:
    """Convert a frame's boxes once, in the exact arithmetic of ``xyxy_to_xywh``."""
    corners = np.array(detections.xyxy.T, dtype=np.float64, order="C")
    wh = corners[2:] - corners[:2]
    centre = wh * _HALF
    centre += corners[:2]
    area = wh[0] * wh[1]
    corners[2:] *= _MINUS_ONE
    xywh = np.concatenate((centre, wh)).T  # Fortran order: only ever gathered by rows
    return FrameInputs(detections.confidence, detections.class_id, xywh, corners, area, emb)

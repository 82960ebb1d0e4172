"""Agreement between two detection sets of one frame: production against a candidate.

A shadow run feeds the same frame to the production model and to a candidate
and asks how far they agree. ``compare`` matches the two sets greedily by IoU
(highest overlap first, each box used once; the usual detection-matching rule)
and sorts every box into one of four bins:

* ``matched``: the same object (IoU at least the threshold) with the same class;
* ``class_mismatch``: the same object, different classes;
* ``only_production``: a production box no candidate box overlaps enough;
* ``only_candidate``: a candidate box no production box overlaps enough.

Classes are compared by name, so models with different class lists (COCO
ids of YOLO and of SSD differ) compare fairly. ``classes`` restricts both
sides to the classes that matter for the camera. ``AgreementTally`` adds frames
up; its ``agreement`` is ``matched / (matched + class_mismatch + only_production
+ only_candidate)`` (1.0 when both models saw nothing on every frame), and
``recall_vs_production`` / ``precision_vs_production`` read the production
model as the reference.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from argus.domain.detections import Detections
from argus.domain.errors import ValidationError

__all__ = ["AgreementTally", "FrameAgreement", "compare", "pairwise_iou"]


def pairwise_iou(a: npt.NDArray[np.float32], b: npt.NDArray[np.float32]) -> npt.NDArray[np.float64]:
    """IoU of every box of ``a`` (shape ``(N, 4)``, xyxy) with every box of ``b`` (``(M, 4)``).

    Returns:
        An ``(N, M)`` array; boxes without area overlap nothing (IoU 0).
    """
    a64 = np.asarray(a, dtype=np.float64).reshape(-1, 4)
    b64 = np.asarray(b, dtype=np.float64).reshape(-1, 4)
    x1 = np.maximum(a64[:, None, 0], b64[None, :, 0])
    y1 = np.maximum(a64[:, None, 1], b64[None, :, 1])
    x2 = np.minimum(a64[:, None, 2], b64[None, :, 2])
    y2 = np.minimum(a64[:, None, 3], b64[None, :, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    area_a = (a64[:, 2] - a64[:, 0]) * (a64[:, 3] - a64[:, 1])
    area_b = (b64[:, 2] - b64[:, 0]) * (b64[:, 3] - b64[:, 1])
    union = area_a[:, None] + area_b[None, :] - inter
    out: npt.NDArray[np.float64] = np.zeros_like(inter)
    np.divide(inter, union, out=out, where=union > 0)
    return out


@dataclass(frozen=True, slots=True)
class FrameAgreement:
    """How two detection sets of one frame agree (counts of boxes).

    Attributes:
        matched: Pairs on the same object with the same class.
        class_mismatch: Pairs on the same object with different classes.
        only_production: Production boxes the candidate missed.
        only_candidate: Candidate boxes production does not have.
    """

    matched: int = 0
    class_mismatch: int = 0
    only_production: int = 0
    only_candidate: int = 0

    @property
    def production_boxes(self) -> int:
        """Boxes production produced (within the compared classes)."""
        return self.matched + self.class_mismatch + self.only_production

    @property
    def candidate_boxes(self) -> int:
        """Boxes the candidate produced (within the compared classes)."""
        return self.matched + self.class_mismatch + self.only_candidate


def _names(detections: Detections) -> list[str]:
    names = detections.class_names
    return [names[c] if 0 <= c < len(names) else str(c) for c in detections.class_id.tolist()]


def _keep(names: list[str], classes: Collection[str] | None) -> list[int]:
    return [i for i, n in enumerate(names) if classes is None or n in classes]


def compare(
    production: Detections,
    candidate: Detections,
    *,
    iou_threshold: float = 0.5,
    classes: Collection[str] | None = None,
) -> FrameAgreement:
    """Match two detection sets of one frame and count agreement.

    Args:
        production: What the production model saw.
        candidate: What the candidate saw on the same frame (same pixel space).
        iou_threshold: Least IoU for two boxes to be the same object, in ``(0, 1]``.
        classes: Class names to compare (``None``: all).

    Returns:
        The counts of matched, mismatched and unmatched boxes.

    Raises:
        ValidationError: ``iou_threshold`` outside ``(0, 1]``.
    """
    if not 0.0 < iou_threshold <= 1.0:
        raise ValidationError(f"iou_threshold must lie in (0, 1], got {iou_threshold}")
    p_names, c_names = _names(production), _names(candidate)
    p_keep, c_keep = _keep(p_names, classes), _keep(c_names, classes)
    if not p_keep or not c_keep:
        return FrameAgreement(only_production=len(p_keep), only_candidate=len(c_keep))
    iou = pairwise_iou(production.xyxy[p_keep], candidate.xyxy[c_keep])
    # Same-class pairs win ties over cross-class pairs at equal overlap: a tiny bonus
    # orders them first without letting a class change a pair's eligibility.
    same = np.array([[p_names[i] == c_names[j] for j in c_keep] for i in p_keep], dtype=bool)
    order = np.argsort(-(iou + same * 1e-9), axis=None, kind="stable")
    used_p: set[int] = set()
    used_c: set[int] = set()
    matched = mismatch = 0
    cols = len(c_keep)
    for flat in order.tolist():
        i, j = divmod(flat, cols)
        if iou[i, j] < iou_threshold:
            break
        if i in used_p or j in used_c:
            continue
        used_p.add(i)
        used_c.add(j)
        if same[i, j]:
            matched += 1
        else:
            mismatch += 1
    return FrameAgreement(
        matched=matched,
        class_mismatch=mismatch,
        only_production=len(p_keep) - len(used_p),
        only_candidate=len(c_keep) - len(used_c),
    )


@dataclass(frozen=True, slots=True)
class AgreementTally:
    """Agreement summed over frames.

    Attributes:
        frames: Frames compared.
        matched: Matched pairs over all frames.
        class_mismatch: Same-object, different-class pairs.
        only_production: Production boxes the candidate missed.
        only_candidate: Candidate boxes production did not have.
    """

    frames: int = 0
    matched: int = 0
    class_mismatch: int = 0
    only_production: int = 0
    only_candidate: int = 0

    def add(self, frame: FrameAgreement) -> AgreementTally:
        """This tally with one more frame."""
        return AgreementTally(
            frames=self.frames + 1,
            matched=self.matched + frame.matched,
            class_mismatch=self.class_mismatch + frame.class_mismatch,
            only_production=self.only_production + frame.only_production,
            only_candidate=self.only_candidate + frame.only_candidate,
        )

    def merge(self, other: AgreementTally) -> AgreementTally:
        """The sum of two tallies."""
        return AgreementTally(
            frames=self.frames + other.frames,
            matched=self.matched + other.matched,
            class_mismatch=self.class_mismatch + other.class_mismatch,
            only_production=self.only_production + other.only_production,
            only_candidate=self.only_candidate + other.only_candidate,
        )

    @property
    def agreement(self) -> float:
        """Matched pairs over all boxes either model produced (1.0 when none did)."""
        total = self.matched + self.class_mismatch + self.only_production + self.only_candidate
        return 1.0 if total == 0 else self.matched / total

    @property
    def recall_vs_production(self) -> float:
        """Share of production's boxes the candidate found with the same class."""
        total = self.matched + self.class_mismatch + self.only_production
        return 1.0 if total == 0 else self.matched / total

    @property
    def precision_vs_production(self) -> float:
        """Share of the candidate's boxes production agrees with (same class)."""
        total = self.matched + self.class_mismatch + self.only_candidate
        return 1.0 if total == 0 else self.matched / total

"""Agreement of two detection sets: greedy IoU matching, classes by name, tallies."""

from __future__ import annotations

import numpy as np
import pytest

from argus.domain.detection_agreement import AgreementTally, FrameAgreement, compare, pairwise_iou
from argus.domain.detections import Detections
from argus.domain.errors import ValidationError

YOLO = ("person", "bicycle", "car")
SSD = ("background", "person", "bicycle", "car")


def dets(boxes: list[tuple[float, float, float, float, int]], names: tuple[str, ...]) -> Detections:
    if not boxes:
        return Detections.empty(names)
    arr = np.array(boxes, dtype=np.float32)
    return Detections(
        xyxy=arr[:, :4],
        confidence=np.full(len(boxes), 0.9, dtype=np.float32),
        class_id=arr[:, 4].astype(np.int64),
        class_names=names,
    )


def test_pairwise_iou_on_fixed_boxes() -> None:
    a = np.array([[0, 0, 10, 10], [0, 0, 0, 0]], dtype=np.float32)
    b = np.array([[0, 0, 10, 10], [5, 0, 15, 10], [20, 20, 30, 30]], dtype=np.float32)
    iou = pairwise_iou(a, b)
    assert iou.shape == (2, 3)
    assert iou[0].tolist() == pytest.approx([1.0, 50 / 150, 0.0])
    assert iou[1].tolist() == [0.0, 0.0, 0.0]


CASES = [
    pytest.param([], [], FrameAgreement(), id="both-empty"),
    pytest.param([(0, 0, 10, 20, 0)], [], FrameAgreement(only_production=1), id="candidate-missed"),
    pytest.param([], [(0, 0, 10, 20, 1)], FrameAgreement(only_candidate=1), id="candidate-extra"),
    pytest.param(
        [(0, 0, 10, 20, 0)], [(1, 1, 10, 20, 1)], FrameAgreement(matched=1), id="same-by-name"
    ),
    pytest.param(
        [(0, 0, 10, 20, 0)],
        [(0, 0, 10, 20, 3)],
        FrameAgreement(class_mismatch=1),
        id="class-mismatch",
    ),
    pytest.param(
        [(0, 0, 10, 20, 0)],
        [(6, 0, 16, 20, 1)],
        FrameAgreement(only_production=1, only_candidate=1),
        id="too-little-overlap",
    ),
    pytest.param(
        [(0, 0, 10, 20, 0), (1, 0, 11, 20, 0)],
        [(0, 0, 10, 20, 1)],
        FrameAgreement(matched=1, only_production=1),
        id="each-box-used-once",
    ),
    pytest.param(
        [(0, 0, 10, 20, 0), (30, 0, 40, 20, 2)],
        [(30, 0, 40, 20, 3), (0, 0, 10, 20, 1), (50, 50, 60, 60, 1)],
        FrameAgreement(matched=2, only_candidate=1),
        id="mixed",
    ),
]


@pytest.mark.parametrize(("production", "candidate", "expected"), CASES)
def test_compare_counts(
    production: list[tuple[float, float, float, float, int]],
    candidate: list[tuple[float, float, float, float, int]],
    expected: FrameAgreement,
) -> None:
    assert compare(dets(production, YOLO), dets(candidate, SSD)) == expected


def test_same_class_pair_wins_a_tie() -> None:
    production = dets([(0, 0, 10, 20, 0)], YOLO)
    candidate = dets([(0, 0, 10, 20, 3), (0, 0, 10, 20, 1)], SSD)
    assert compare(production, candidate) == FrameAgreement(matched=1, only_candidate=1)


def test_classes_filter_both_sides() -> None:
    production = dets([(0, 0, 10, 20, 0), (30, 0, 40, 20, 2)], YOLO)
    candidate = dets([(0, 0, 10, 20, 1)], SSD)
    got = compare(production, candidate, classes={"person"})
    assert got == FrameAgreement(matched=1)
    assert got.production_boxes == 1
    assert got.candidate_boxes == 1


@pytest.mark.parametrize("threshold", [0.0, -0.1, 1.5])
def test_iou_threshold_is_checked(threshold: float) -> None:
    with pytest.raises(ValidationError):
        compare(dets([], YOLO), dets([], SSD), iou_threshold=threshold)


def test_tally_rates() -> None:
    tally = AgreementTally()
    assert tally.agreement == 1.0
    tally = tally.add(FrameAgreement(matched=3, only_production=1))
    tally = tally.add(FrameAgreement(matched=1, class_mismatch=1, only_candidate=2))
    assert tally.frames == 2
    assert tally.agreement == pytest.approx(4 / 8)
    assert tally.recall_vs_production == pytest.approx(4 / 6)
    assert tally.precision_vs_production == pytest.approx(4 / 7)
    assert tally.merge(tally).matched == 8

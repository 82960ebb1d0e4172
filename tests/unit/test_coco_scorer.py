"""The faster-coco-eval scorer on hand-checked tiny sets (AP, ignore regions, precision/recall)."""

from __future__ import annotations

import pytest

from argus.adapters.evaluation.coco_scorer import CocoScorer
from argus.domain.detection_eval import AnnotatedFrame
from argus.domain.errors import ValidationError
from argus.domain.hard_examples import LabelBox as Box


def frames() -> list[AnnotatedFrame]:
    return [
        AnnotatedFrame(
            100,
            100,
            truth=(Box(10, 10, 30, 50, "person"), Box(50, 50, 70, 90, "person")),
            ignore=(Box(80, 0, 100, 20, "person"),),
        ),
        AnnotatedFrame(100, 100, truth=(Box(0, 0, 20, 20, "car"),)),
    ]


def test_perfect_predictions_score_one() -> None:
    predictions = [
        [Box(10, 10, 30, 50, "person", 0.9), Box(50, 50, 70, 90, "person", 0.8)],
        [Box(0, 0, 20, 20, "car", 0.7)],
    ]
    scores = CocoScorer().score(frames(), predictions)
    assert scores.map50 == pytest.approx(1.0)
    assert scores.map50_95 == pytest.approx(1.0)
    assert (scores.precision, scores.recall) == (1.0, 1.0)
    assert [c.class_name for c in scores.classes] == ["car", "person"]
    assert [c.truth for c in scores.classes] == [1, 2]


def test_ignore_regions_count_neither_way_and_the_threshold_applies() -> None:
    predictions = [
        [
            Box(10, 10, 30, 50, "person", 0.9),  # true positive
            Box(81, 1, 99, 19, "person", 0.8),  # inside the ignore region
            Box(40, 0, 45, 5, "person", 0.3),  # false positive
            Box(60, 0, 65, 5, "person", 0.1),  # false positive below the threshold
        ],
        [Box(0, 0, 20, 20, "car", 0.7), Box(50, 50, 60, 60, "truck", 0.9)],
    ]
    scores = CocoScorer().score(frames(), predictions, score_threshold=0.25)
    car, person = scores.classes
    assert car.ap50 == pytest.approx(1.0)
    assert (car.precision, car.recall) == (1.0, 1.0)
    # One of two people found first, then only false positives: AP is half (101-point).
    assert person.ap50 == pytest.approx(0.505, abs=0.001)
    assert (person.precision, person.recall) == (0.5, 0.5)
    assert person.detections == 4
    assert scores.map50 == pytest.approx((1.0 + 0.505) / 2, abs=0.001)
    assert scores.precision == pytest.approx(0.75)


def test_no_predictions_and_no_truth() -> None:
    scores = CocoScorer().score(frames(), [[], []], classes=["person"])
    assert (scores.map50, scores.recall) == (0.0, 0.0)
    assert [c.class_name for c in scores.classes] == ["person"]
    empty = CocoScorer().score([AnnotatedFrame(10, 10)], [[]])
    assert empty.classes == ()
    assert empty.frames == 1


def test_inputs_are_checked() -> None:
    with pytest.raises(ValidationError):
        CocoScorer().score(frames(), [[]])
    with pytest.raises(ValidationError):
        CocoScorer().score(frames(), [[Box(0, 0, 5, 5, "person")], []])

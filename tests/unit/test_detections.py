"""The validated struct-of-arrays: shapes and ranges checked, arrays read-only."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from argus.domain.detections import Detections
from argus.domain.errors import ValidationError
from tests.factories import make_detections


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"xyxy": np.zeros((2, 3))}, "shape"),
        ({"confidence": np.zeros(3, np.float32)}, "confidence must have shape"),
        ({"confidence": np.array([0.5, 1.5], np.float32)}, r"\[0, 1\]"),
        ({"class_id": np.array([0, -1])}, "non-negative"),
        ({"class_id": np.array([0, 5])}, "out of range"),
        ({"xyxy": np.array([[10, 0, 5, 5], [0, 0, 1, 1]])}, "x1 <= x2"),
        ({"xyxy": np.array([[0, 0, np.nan, 5], [0, 0, 1, 1]])}, "NaN"),
        ({"tracker_id": np.array([1, 2, 3])}, "tracker_id"),
    ],
    ids=[
        "xyxy-shape",
        "conf-shape",
        "conf-range",
        "neg-class",
        "class-range",
        "inverted",
        "nan",
        "tracker-shape",
    ],
)
def test_invalid_sets_are_refused(kwargs: dict[str, Any], message: str) -> None:
    base: dict[str, Any] = {
        "xyxy": np.array([[0, 0, 10, 10], [5, 5, 20, 20]], np.float32),
        "confidence": np.array([0.9, 0.5], np.float32),
        "class_id": np.array([0, 1]),
        "class_names": ("person", "car"),
    }
    base.update(kwargs)
    with pytest.raises(ValidationError, match=message):
        Detections(**base)


def test_arrays_are_read_only_and_copies_keep_the_original() -> None:
    dets = make_detections([[0, 0, 10, 10], [5, 5, 20, 20]], class_id=[0, 1])
    with pytest.raises(ValueError, match="read-only"):
        dets.xyxy[0, 0] = 3
    tracked = dets.with_tracker_ids(np.array([7, 8]))
    assert dets.tracker_id.tolist() == [-1, -1]
    assert tracked.tracker_id.tolist() == [7, 8]


def test_select_items_and_records() -> None:
    dets = make_detections(
        [[0, 0, 10, 10], [5, 5, 20, 20], [1, 1, 2, 2]], [0.9, 0.4, 0.7], [0, 1, 0]
    )
    people = dets.select(dets.class_id == 0)
    assert len(people) == 2
    assert people.labels == ["person", "person"]
    record = dets.to_records()[1]
    assert record == {
        "label": "car",
        "class_id": 1,
        "score": 0.4,
        "xyxy": [5.0, 5.0, 20.0, 20.0],
        "tracker_id": None,
        "model": "test@1",
    }
    assert [d.label for d in dets] == ["person", "car", "person"]


def test_empty_set() -> None:
    empty = Detections.empty(("person",), model="m@1")
    assert len(empty) == 0
    assert empty.xyxy.shape == (0, 4)
    assert empty.to_records() == []
    flat = np.zeros(0, np.float32)
    assert len(Detections(xyxy=flat, confidence=flat, class_id=np.zeros(0, np.int64))) == 0

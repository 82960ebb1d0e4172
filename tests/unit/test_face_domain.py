"""Face values: detections validation, distances and matching against enrolled people."""

from __future__ import annotations

import numpy as np
import pytest

from argus.domain.errors import ValidationError
from argus.domain.faces import (
    DEFAULT_MATCH_THRESHOLD,
    EnrolledFaces,
    FaceDetections,
    embedding_distance,
    embedding_distances,
    match,
)


def _faces(boxes: list[list[float]], scores: list[float]) -> FaceDetections:
    marks = np.zeros((len(boxes), 5, 2), np.float32)
    for i, (x1, y1, x2, y2) in enumerate(boxes):
        marks[i] = np.linspace([x1, y1], [x2, y2], 5)
    return FaceDetections(
        np.asarray(boxes, np.float32), np.asarray(scores, np.float32), marks, "m@1"
    )


def test_detections_are_read_only_and_itemised() -> None:
    faces = _faces([[0, 0, 10, 20], [5, 5, 50, 60]], [0.9, 0.8])
    assert len(faces) == 2
    assert not faces.xyxy.flags.writeable
    face = faces.item(1)
    assert face.xyxy == (5.0, 5.0, 50.0, 60.0)
    assert face.width == 45.0
    assert face.height == 55.0
    assert face.landmark_array().shape == (5, 2)
    assert [f.confidence for f in faces] == pytest.approx([0.9, 0.8])


def test_largest_and_select() -> None:
    faces = _faces([[0, 0, 10, 20], [5, 5, 50, 60], [0, 0, 30, 30]], [0.9, 0.6, 0.7])
    largest = faces.largest()
    assert largest is not None
    assert largest.xyxy == (5.0, 5.0, 50.0, 60.0)
    assert len(faces.select(faces.confidence > 0.65)) == 2
    assert FaceDetections.empty("x").largest() is None


@pytest.mark.parametrize(
    ("boxes", "scores", "marks_shape", "message"),
    [
        pytest.param([[0, 0, 1, 1]], [0.5], (1, 4, 2), "landmarks", id="landmark-count"),
        pytest.param([[2, 0, 1, 1]], [0.5], (1, 5, 2), "x1 <= x2", id="inverted-box"),
        pytest.param([[0, 0, 1, 1]], [1.5], (1, 5, 2), r"\[0, 1\]", id="score-range"),
        pytest.param([[0, 0, 1]], [0.5], (1, 5, 2), "xyxy", id="box-shape"),
    ],
)
def test_detections_validation(
    boxes: list[list[float]], scores: list[float], marks_shape: tuple[int, ...], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        FaceDetections(
            np.asarray(boxes, np.float32),
            np.asarray(scores, np.float32),
            np.zeros(marks_shape, np.float32),
        )


def test_distances() -> None:
    assert embedding_distance([0, 0, 0], [3, 4, 0]) == pytest.approx(5.0)
    got = embedding_distances([0, 0], [[3, 4], [0, 1], [0, 0]])
    np.testing.assert_allclose(got, [5, 1, 0])
    with pytest.raises(ValidationError):
        embedding_distance([0, 0], [0, 0, 0])
    with pytest.raises(ValidationError):
        embedding_distances([0, 0], [[1, 2, 3]])


def _enrolled() -> EnrolledFaces:
    return EnrolledFaces.of({"ann": [[0.0, 0.0], [0.1, 0.0]], "bob": [[1.0, 1.0]]})


@pytest.mark.parametrize(
    ("query", "identity", "nearest", "distance"),
    [
        pytest.param([0.05, 0.0], "ann", "ann", 0.05, id="ann-between-her-refs"),
        pytest.param([1.0, 0.7], "bob", "bob", 0.3, id="bob-close"),
        pytest.param([3.0, 3.0], None, "bob", 2.828, id="stranger-rejected"),
    ],
)
def test_match(query: list[float], identity: str | None, nearest: str, distance: float) -> None:
    result = match(query, _enrolled(), threshold=0.6)
    assert result.identity == identity
    assert result.nearest == nearest
    assert result.distance == pytest.approx(distance, abs=1e-3)
    assert result.accepted is (identity is not None)
    assert result.threshold == 0.6


def test_verification_uses_only_the_claimed_person() -> None:
    ann = _enrolled().only("ann")
    assert ann.identities == ("ann", "ann")
    assert match([1.0, 1.0], ann).identity is None
    with pytest.raises(ValidationError, match="not enrolled"):
        _enrolled().only("carl")


def test_match_rejects_bad_arguments() -> None:
    with pytest.raises(ValidationError, match="positive"):
        match([0, 0], _enrolled(), threshold=0)
    with pytest.raises(ValidationError):
        EnrolledFaces.of({})
    assert 0.3 < DEFAULT_MATCH_THRESHOLD < 1.0

"""Box IoU and class-aware NMS: pure numpy tables."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest

from argus.domain.errors import ValidationError
from argus.domain.nms import box_iou, nms

A = (0.0, 0.0, 10.0, 10.0)
A_SHIFTED = (1.0, 0.0, 11.0, 10.0)  # IoU with A = 90 / 110 ~ 0.818
A_HALF = (5.0, 0.0, 15.0, 10.0)  # IoU with A = 50 / 150 = 1/3
FAR = (100.0, 100.0, 110.0, 110.0)
NEGATIVE = (-20.0, -20.0, -10.0, -10.0)


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        pytest.param([A], [A], [[1.0]], id="identical"),
        pytest.param([A], [A_HALF], [[1 / 3]], id="half-overlap"),
        pytest.param([A], [FAR], [[0.0]], id="disjoint"),
        pytest.param([A], [(10.0, 0.0, 20.0, 10.0)], [[0.0]], id="touching-edge"),
        pytest.param([A], [(2.0, 2.0, 4.0, 4.0)], [[0.04]], id="contained"),
        pytest.param([(5.0, 5.0, 5.0, 5.0)], [(5.0, 5.0, 5.0, 5.0)], [[0.0]], id="degenerate"),
        pytest.param([A, FAR], [A_HALF], [[1 / 3], [0.0]], id="two-by-one"),
        pytest.param(np.zeros((0, 4)), [A], np.zeros((0, 1)), id="empty-a"),
    ],
)
def test_box_iou(a: npt.ArrayLike, b: npt.ArrayLike, expected: npt.ArrayLike) -> None:
    np.testing.assert_allclose(box_iou(a, b), np.asarray(expected), atol=1e-6)


@pytest.mark.parametrize(
    ("boxes", "scores", "classes", "iou", "max_det", "expected"),
    [
        pytest.param([], [], None, 0.5, None, [], id="empty"),
        pytest.param([A], [0.5], None, 0.5, None, [0], id="single"),
        pytest.param([A, A_SHIFTED], [0.6, 0.9], None, 0.5, None, [1], id="overlap-keeps-best"),
        pytest.param([A, A_HALF], [0.9, 0.8], None, 0.5, None, [0, 1], id="below-threshold-both"),
        pytest.param([A, A_HALF], [0.9, 0.8], None, 0.3, None, [0], id="above-threshold"),
        pytest.param([A, A_HALF], [0.9, 0.8], None, 1 / 3, None, [0, 1], id="equal-iou-kept"),
        pytest.param(
            [A, A_SHIFTED], [0.9, 0.8], [0, 1], 0.5, None, [0, 1], id="class-aware-both-survive"
        ),
        pytest.param(
            [A, A_SHIFTED, A_SHIFTED],
            [0.9, 0.8, 0.7],
            [0, 1, 1],
            0.5,
            None,
            [0, 1],
            id="class-aware-within-class",
        ),
        pytest.param([A, A_SHIFTED], [0.9, 0.8], [3, 3], 0.5, None, [0], id="same-class"),
        pytest.param(
            [NEGATIVE, A], [0.9, 0.8], [1, 0], 0.5, None, [0, 1], id="negative-coordinates"
        ),
        pytest.param(
            [A, FAR, A_HALF], [0.7, 0.9, 0.8], None, 0.5, None, [1, 2, 0], id="score-order"
        ),
        pytest.param([A, FAR, A_HALF], [0.7, 0.9, 0.8], None, 0.5, 2, [1, 2], id="max-detections"),
        pytest.param([A, FAR], [0.7, 0.9], None, 0.5, 0, [], id="max-detections-zero"),
        pytest.param([A, FAR], [0.8, 0.8], None, 0.5, None, [0, 1], id="ties-keep-input-order"),
        pytest.param([A, A], [0.8, 0.9], None, 1.0, None, [1, 0], id="iou-one-keeps-all"),
    ],
)
def test_nms(
    boxes: list[tuple[float, ...]],
    scores: list[float],
    classes: list[int] | None,
    *,
    iou: float,
    max_det: int | None,
    expected: list[int],
) -> None:
    xyxy = np.asarray(boxes, dtype=np.float32).reshape(-1, 4)
    kept = nms(xyxy, scores, iou, class_id=classes, max_detections=max_det)
    assert kept.dtype == np.int64
    assert kept.tolist() == expected


def test_nms_class_aware_matches_per_class_loop() -> None:
    rng = np.random.default_rng(7)
    corners = rng.uniform(0, 200, size=(300, 2))
    sizes = rng.uniform(5, 60, size=(300, 2))
    xyxy = np.concatenate([corners, corners + sizes], axis=1)
    scores = rng.uniform(0, 1, size=300)
    classes = rng.integers(0, 4, size=300)

    kept = set(nms(xyxy, scores, 0.45, class_id=classes).tolist())

    expected: set[int] = set()
    for c in range(4):
        members = np.flatnonzero(classes == c)
        expected |= set(members[nms(xyxy[members], scores[members], 0.45)].tolist())
    assert kept == expected


@pytest.mark.parametrize(
    ("boxes", "scores", "classes", "iou", "max_det"),
    [
        pytest.param([[0, 0, 1]], [0.5], None, 0.5, None, id="boxes-not-4-wide"),
        pytest.param([A], [0.5, 0.4], None, 0.5, None, id="scores-length"),
        pytest.param([A], [0.5], [0, 1], 0.5, None, id="classes-length"),
        pytest.param([A], [0.5], None, 1.5, None, id="iou-above-one"),
        pytest.param([A], [0.5], None, -0.1, None, id="iou-negative"),
        pytest.param([A], [0.5], None, 0.5, -1, id="max-det-negative"),
    ],
)
def test_nms_rejects_bad_arguments(
    boxes: list[object],
    scores: list[float],
    classes: list[int] | None,
    iou: float,
    max_det: int | None,
) -> None:
    with pytest.raises(ValidationError):
        nms(np.asarray(boxes, dtype=np.float32), scores, iou, classes, max_det)

"""The batched Kalman filter and the matching helpers of the tracker."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest

from argus.adapters.tracking.assignment import linear_assign
from argus.domain.tracking import BoxKalman, greedy_assign, iou_matrix, match
from argus.domain.tracking.kalman import BOX, STATE_ROWS, VELOCITY, xywh_to_xyxy, xyxy_to_xywh
from argus.domain.tracking.matching import Matches, iou_signed, signed_corners

F64 = npt.NDArray[np.float64]


def full_filter(kf: BoxKalman, boxes: F64, steps: int) -> tuple[F64, F64]:
    """The textbook 8x8 filter with the same noise model, one track."""
    f = np.eye(8)
    f[:4, 4:] = np.eye(4)
    h = np.eye(4, 8)
    z = boxes[0]
    whwh = np.array([z[2], z[3], z[2], z[3]])
    x = np.concatenate((z, np.zeros(4)))
    p = np.diag(
        np.concatenate(((2 * kf.std_position * whwh) ** 2, (10 * kf.std_velocity * whwh) ** 2))
    )
    for k in range(1, steps):
        whwh = np.array([x[2], x[3], x[2], x[3]])
        q = np.diag(np.concatenate(((kf.std_position * whwh) ** 2, (kf.std_velocity * whwh) ** 2)))
        x = f @ x
        p = f @ p @ f.T + q
        whwh = np.array([x[2], x[3], x[2], x[3]])
        r = np.diag((kf.std_position * whwh) ** 2)
        s = h @ p @ h.T + r
        gain = p @ h.T @ np.linalg.inv(s)
        x = x + gain @ (boxes[k] - h @ x)
        p = (np.eye(8) - gain @ h) @ p
    return x, p


def test_block_filter_equals_the_full_8x8_filter() -> None:
    rng = np.random.default_rng(3)
    steps = 12
    tracks = np.stack(
        [
            np.column_stack(
                (
                    100 + 4 * np.arange(steps) + rng.normal(0, 1, steps),
                    200 - 2 * np.arange(steps) + rng.normal(0, 1, steps),
                    30 + rng.normal(0, 0.5, steps),
                    80 + 0.5 * np.arange(steps),
                )
            )
            for _ in range(3)
        ]
    )  # (3 tracks, steps, 4)
    kf = BoxKalman()
    state = kf.initiate(tracks[:, 0])
    assert state.shape == (STATE_ROWS, 3, 4)
    for k in range(1, steps):
        kf.predict(state, None)
        kf.update(state, tracks[:, k])
    for i in range(3):
        x, p = full_filter(kf, tracks[i], steps)
        np.testing.assert_allclose(state[:2, i].reshape(8), x, rtol=1e-9)
        blocks = np.stack([np.diag(p[:4, :4]), np.diag(p[:4, 4:]), np.diag(p[4:, 4:])])
        np.testing.assert_allclose(state[2:, i], blocks, rtol=1e-9)
        off_diagonal = p[:4, :4] - np.diag(np.diag(p[:4, :4]))
        assert np.abs(off_diagonal).max() == 0.0  # coordinates never couple


def test_frozen_size_velocity_on_predict() -> None:
    kf = BoxKalman()
    state = kf.initiate(np.array([[10.0, 10.0, 4.0, 8.0], [10.0, 10.0, 4.0, 8.0]]))
    state[VELOCITY] = [1.0, 2.0, 0.5, 0.5]
    kf.predict(state, np.array([True, False]))
    np.testing.assert_allclose(state[BOX], [[11.0, 12.0, 4.0, 8.0], [11.0, 12.0, 4.5, 8.5]])


def test_box_conversions_round_trip() -> None:
    xyxy = np.array([[0.0, 0.0, 10.0, 20.0], [5.0, 5.0, 5.0, 9.0]])
    np.testing.assert_allclose(xyxy_to_xywh(xyxy), [[5, 10, 10, 20], [5, 7, 0, 4]])
    np.testing.assert_allclose(xywh_to_xyxy(xyxy_to_xywh(xyxy)), xyxy)


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ([0, 0, 10, 10], [0, 0, 10, 10], 1.0),
        ([0, 0, 10, 10], [5, 0, 15, 10], 50 / 150),
        ([0, 0, 10, 10], [20, 20, 30, 30], 0.0),
        ([0, 0, 0, 0], [0, 0, 0, 0], 0.0),
    ],
    ids=["same", "half", "apart", "empty-boxes"],
)
def test_iou_matrix(a: list[float], b: list[float], expected: float) -> None:
    assert iou_matrix(np.array([a]), np.array([b]))[0, 0] == pytest.approx(expected)


def plain_iou(tracks_xywh: F64, boxes: F64) -> F64:
    """IoU of centre boxes with corner boxes the straightforward way (maximum and minimum)."""
    half = 0.5 * tracks_xywh[:, 2:]
    top_left, bottom_right = tracks_xywh[:, :2] - half, tracks_xywh[:, :2] + half
    wh = np.minimum(bottom_right[:, None], boxes[None, :, 2:])
    wh -= np.maximum(top_left[:, None], boxes[None, :, :2])
    np.maximum(wh, 0.0, out=wh)
    inter = wh[..., 0] * wh[..., 1]
    union = (tracks_xywh[:, 2] * tracks_xywh[:, 3])[:, None] + (
        (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    )
    union -= inter
    return inter / np.maximum(union, 1e-12)


def test_signed_corner_iou_is_bit_identical_to_the_plain_formula() -> None:
    rng = np.random.default_rng(5)
    tracks = np.column_stack((rng.uniform(0, 500, (40, 2)), rng.uniform(0.5, 80, (40, 2))))
    corner = rng.uniform(0, 500, (30, 2))
    boxes = np.column_stack((corner, corner + rng.uniform(0, 80, (30, 2))))
    # Boxes near the first tracks, so that many pairs overlap partly.
    near = tracks[:10] + rng.normal(0, 5, (10, 4))
    boxes[:10] = np.column_stack((near[:, :2] - near[:, 2:] / 2, near[:, :2] + near[:, 2:] / 2))
    area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    signed = boxes.T * np.array([[1.0], [1.0], [-1.0], [-1.0]])
    iou = iou_signed(signed_corners(tracks), tracks[:, 2] * tracks[:, 3], signed, area)
    expected = plain_iou(tracks, boxes)
    assert np.count_nonzero(expected) > 10  # the case has overlaps
    np.testing.assert_array_equal(iou, expected)


def test_iou_matrix_shapes() -> None:
    assert iou_matrix(np.zeros((0, 4)), np.zeros((3, 4))).shape == (0, 3)
    assert iou_matrix(np.ones((2, 4)), np.zeros((0, 4))).shape == (2, 0)


@pytest.mark.parametrize("assign", [linear_assign, greedy_assign], ids=["scipy", "greedy"])
@pytest.mark.parametrize(
    ("cost", "max_cost", "expected"),
    [
        ([[0.1, 0.9], [0.9, 0.1]], 0.5, {(0, 0), (1, 1)}),
        ([[0.1, 0.2], [0.9, 0.9]], 0.5, {(0, 0)}),
        ([[0.6, 0.9]], 0.5, set()),
        ([[0.1], [0.2], [0.3]], 0.5, {(0, 0)}),
    ],
    ids=["diagonal", "one-admissible-row", "nothing-admissible", "tall"],
)
def test_assign_respects_the_bar(
    assign: object, cost: list[list[float]], max_cost: float, expected: set[tuple[int, int]]
) -> None:
    matrix = np.array(cost)
    before = matrix.copy()
    rows, cols = assign(matrix, max_cost)  # type: ignore[operator]
    assert set(zip(rows.tolist(), cols.tolist(), strict=True)) == expected
    np.testing.assert_array_equal(matrix, before)


def test_optimal_and_greedy_differ_where_greedy_is_myopic() -> None:
    cost = np.array([[0.1, 0.2], [0.3, 0.9]])
    rows, cols = linear_assign(cost, 0.95)
    assert set(zip(rows.tolist(), cols.tolist(), strict=True)) == {(0, 1), (1, 0)}
    rows, cols = greedy_assign(cost, 0.95)
    assert set(zip(rows.tolist(), cols.tolist(), strict=True)) == {(0, 0), (1, 1)}


def test_match_skips_the_solver_without_conflicts() -> None:
    calls: list[int] = []

    def spy(cost: F64, max_cost: float) -> Matches:
        calls.append(1)
        return linear_assign(cost, max_cost)

    sim = np.array([[0.9, 0.0], [0.0, 0.8], [0.0, 0.0]])
    rows, cols = match(sim, sim >= 0.3, spy)
    assert (rows.tolist(), cols.tolist(), calls) == ([0, 1], [0, 1], [])
    sim = np.array([[0.9, 0.5], [0.6, 0.0]])
    rows, cols = match(sim, sim >= 0.3, spy)
    assert (rows.tolist(), cols.tolist(), calls) == ([0, 1], [1, 0], [1])

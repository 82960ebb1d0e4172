"""CenterFace decoding and input geometry on hand-made network outputs."""

from __future__ import annotations

import numpy as np
import pytest

from argus.adapters.face.centerface import decode_centerface, input_geometry


@pytest.mark.parametrize(
    ("shape", "max_side", "expected"),
    [
        pytest.param((480, 640), 640, (1.0, 480, 640, 480, 640), id="vga-as-is"),
        pytest.param((1080, 1920), 640, (1 / 3, 360, 640, 384, 640), id="hd-shrunk-padded"),
        pytest.param((100, 50), 640, (1.0, 100, 50, 128, 64), id="small-never-enlarged"),
    ],
)
def test_input_geometry(
    shape: tuple[int, int], max_side: int, expected: tuple[float, int, int, int, int]
) -> None:
    got = input_geometry(*shape, max_side)
    assert got[0] == pytest.approx(expected[0])
    assert got[1:] == expected[1:]
    assert got[3] % 32 == 0
    assert got[4] % 32 == 0


def _heads(cells: list[tuple[int, int, float]]) -> tuple[np.ndarray, ...]:
    h, w = 16, 16
    heat = np.zeros((1, h, w), np.float32)
    scale = np.zeros((2, h, w), np.float32)
    offset = np.zeros((2, h, w), np.float32)
    marks = np.zeros((10, h, w), np.float32)
    for row, col, score in cells:
        heat[0, row, col] = score
        scale[:, row, col] = np.log([10.0, 5.0])  # box 40 px high, 20 px wide
        offset[:, row, col] = (0.25, 0.5)
        marks[:, row, col] = [0.5, 0.25, 0.5, 0.75, 0.7, 0.5, 0.9, 0.3, 0.9, 0.7]  # (y, x)
    return heat, scale, offset, marks


def test_decode_one_face() -> None:
    boxes, scores, points = decode_centerface(
        *_heads([(5, 7, 0.9)]), conf_threshold=0.5, iou_threshold=0.3
    )
    cy, cx = (5 + 0.25 + 0.5) * 4, (7 + 0.5 + 0.5) * 4
    np.testing.assert_allclose(boxes, [[cx - 10, cy - 20, cx + 10, cy + 20]], atol=1e-4)
    np.testing.assert_allclose(scores, [0.9])
    x1, y1 = cx - 10, cy - 20
    np.testing.assert_allclose(points[0, 0], [x1 + 0.25 * 20, y1 + 0.5 * 40], atol=1e-4)
    np.testing.assert_allclose(points[0, 4], [x1 + 0.7 * 20, y1 + 0.9 * 40], atol=1e-4)


def test_decode_suppresses_neighbours_and_thresholds() -> None:
    boxes, scores, _ = decode_centerface(
        *_heads([(5, 7, 0.9), (5, 8, 0.8), (12, 2, 0.7), (1, 1, 0.4)]),
        conf_threshold=0.5,
        iou_threshold=0.3,
    )
    np.testing.assert_allclose(scores, [0.9, 0.7])
    assert boxes.shape == (2, 4)


def test_decode_nothing() -> None:
    boxes, scores, points = decode_centerface(*_heads([]), conf_threshold=0.5, iou_threshold=0.3)
    assert boxes.shape == (0, 4)
    assert scores.shape == (0,)
    assert points.shape == (0, 5, 2)

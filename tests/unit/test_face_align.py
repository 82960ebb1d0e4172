"""Alignment geometry and chip extraction on synthetic images."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from argus.adapters.face.align import extract_chip
from argus.domain.errors import ValidationError
from argus.domain.face_align import chip_landmarks, chip_transform, similarity_transform


def _similarity(scale: float, angle: float, tx: float, ty: float) -> np.ndarray:
    c, s = np.cos(angle) * scale, np.sin(angle) * scale
    return np.array([[c, -s, tx], [s, c, ty]])


@pytest.mark.parametrize(
    ("scale", "angle", "tx", "ty"),
    [
        pytest.param(1.0, 0.0, 0.0, 0.0, id="identity"),
        pytest.param(2.5, 0.3, 10.0, -4.0, id="rotate-scale-shift"),
        pytest.param(0.2, -1.2, 100.0, 50.0, id="shrink"),
    ],
)
def test_similarity_transform_recovers_known_transform(
    scale: float, angle: float, tx: float, ty: float
) -> None:
    src = np.random.default_rng(1).random((5, 2)) * 100
    truth = _similarity(scale, angle, tx, ty)
    dst = src @ truth[:, :2].T + truth[:, 2]
    np.testing.assert_allclose(similarity_transform(src, dst), truth, atol=1e-9)


def test_similarity_transform_rejects_degenerate_input() -> None:
    with pytest.raises(ValidationError, match="coincide"):
        similarity_transform(np.ones((5, 2)), np.zeros((5, 2)))
    with pytest.raises(ValidationError):
        similarity_transform(np.zeros((1, 2)), np.zeros((1, 2)))


def test_chip_landmarks_inside_chip_and_padding_shrinks_face() -> None:
    tight, padded = chip_landmarks(150, 0.0), chip_landmarks(150, 0.25)
    assert np.all((padded > 0) & (padded < 150))
    assert padded[1, 0] - padded[0, 0] == pytest.approx((tight[1, 0] - tight[0, 0]) / 1.5)
    assert padded[0, 0] < padded[1, 0]
    assert padded[3, 1] > padded[2, 1] > padded[0, 1]


def _dots(size: tuple[int, int], points: np.ndarray, radius: int) -> np.ndarray:
    image = np.full((*size, 3), 30, np.uint8)
    for x, y in points:
        cv2.circle(image, (round(x), round(y)), radius, (255, 255, 255), -1)
    return image


@pytest.mark.parametrize(
    ("scale", "angle"),
    [
        pytest.param(1.0, 0.0, id="chip-sized"),
        pytest.param(0.6, 0.4, id="small-rotated"),
        pytest.param(5.0, -0.2, id="large-uses-pyramid"),
    ],
)
def test_extract_chip_puts_landmarks_on_template(scale: float, angle: float) -> None:
    template = chip_landmarks()
    placed = (template - 75) @ _similarity(scale, angle, 0, 0)[:, :2].T + 75 * scale + 40
    side = int(150 * scale + 80)
    image = _dots((side, side), placed, max(2, round(3 * scale)))
    chip = extract_chip(image, placed)
    assert chip.shape == (150, 150, 3)
    assert chip.dtype == np.uint8
    for x, y in template:
        assert chip[round(y), round(x)].mean() > 150, (x, y)
    assert chip[5, 75].mean() < 60


def test_extract_chip_converts_bgr_to_rgb_and_fills_outside_black() -> None:
    image = np.zeros((200, 200, 3), np.uint8)
    image[..., 0] = 255  # blue in BGR
    points = chip_landmarks() * 0.5  # face partly outside the image on the top-left
    chip = extract_chip(image, points)
    inside = chip[140, 140]
    assert tuple(inside) == (0, 0, 255)
    assert chip.max() == 255
    with pytest.raises(ValidationError):
        extract_chip(np.zeros((10, 10), np.uint8), points)


def test_chip_transform_maps_landmarks_to_template() -> None:
    template = chip_landmarks()
    image_points = template * 2 + 7
    matrix = chip_transform(image_points)
    np.testing.assert_allclose(image_points @ matrix[:, :2].T + matrix[:, 2], template, atol=1e-9)

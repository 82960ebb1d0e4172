"""Letterbox geometry: pure numpy tables."""

from __future__ import annotations

import numpy as np
import pytest

from argus.domain.errors import ValidationError
from argus.domain.letterbox import letterbox


@pytest.mark.parametrize(
    ("src", "size", "scale", "new", "pad"),
    [
        pytest.param((640, 480), 640, 1.0, (640, 480), (0, 80), id="landscape-same-width"),
        pytest.param((1920, 1080), 640, 1 / 3, (640, 360), (0, 140), id="full-hd-down"),
        pytest.param((480, 640), 320, 0.5, (240, 320), (40, 0), id="portrait"),
        pytest.param((100, 100), 640, 6.4, (640, 640), (0, 0), id="square-up"),
        pytest.param((640, 272), 416, 0.65, (416, 177), (0, 119), id="odd-padding-top-floor"),
        pytest.param((3, 1000), 64, 0.064, (1, 64), (31, 0), id="needle-keeps-one-pixel"),
    ],
)
def test_letterbox_geometry(
    src: tuple[int, int],
    size: int,
    scale: float,
    new: tuple[int, int],
    pad: tuple[int, int],
) -> None:
    geometry = letterbox(src[0], src[1], size)
    assert geometry.scale == pytest.approx(scale)
    assert (geometry.new_width, geometry.new_height) == new
    assert (geometry.pad_left, geometry.pad_top) == pad
    assert geometry.pad_left + geometry.new_width <= size
    assert geometry.pad_top + geometry.new_height <= size


@pytest.mark.parametrize(
    ("src", "size"),
    [
        pytest.param((640, 480), 640, id="4:3"),
        pytest.param((1920, 1080), 416, id="16:9"),
        pytest.param((480, 640), 320, id="portrait"),
        pytest.param((33, 17), 640, id="upscale"),
    ],
)
def test_map_then_unmap_is_identity(src: tuple[int, int], size: int) -> None:
    geometry = letterbox(src[0], src[1], size)
    boxes = np.array(
        [[0, 0, src[0], src[1]], [src[0] * 0.25, src[1] * 0.5, src[0] * 0.75, src[1] * 0.9]],
        dtype=np.float32,
    )
    mapped = geometry.map_boxes(boxes)
    assert mapped.min() >= 0.0
    assert mapped.max() <= size
    np.testing.assert_allclose(geometry.unmap_boxes(mapped), boxes, rtol=1e-5, atol=1e-3)


def test_full_image_maps_to_the_unpadded_area() -> None:
    geometry = letterbox(1920, 1080, 640)
    mapped = geometry.map_boxes([[0, 0, 1920, 1080]])
    np.testing.assert_allclose(mapped, [[0, 140, 640, 500]])


@pytest.mark.parametrize(
    ("box", "clip", "expected"),
    [
        pytest.param((0, 0, 640, 640), True, (0, 0, 640, 480), id="whole-input-clipped"),
        pytest.param((-50, 60, 100, 120), True, (0, 0, 100, 40), id="left-and-top-pad"),
        pytest.param((600, 500, 700, 600), True, (600, 420, 640, 480), id="right-and-bottom"),
        pytest.param((0, 0, 640, 640), False, (0, -80, 640, 560), id="unclipped"),
        pytest.param((0, 0, 10, 40), True, (0, 0, 10, 0), id="inside-pad-collapses"),
    ],
)
def test_unmap_clips_to_the_image(
    box: tuple[float, float, float, float], clip: bool, expected: tuple[float, ...]
) -> None:
    geometry = letterbox(640, 480, 640)
    np.testing.assert_allclose(geometry.unmap_boxes([box], clip=clip), [expected])


def test_unmap_empty() -> None:
    assert letterbox(640, 480, 640).unmap_boxes(np.zeros((0, 4))).shape == (0, 4)


@pytest.mark.parametrize(
    ("width", "height", "size"),
    [
        pytest.param(0, 480, 640, id="zero-width"),
        pytest.param(640, -1, 640, id="negative-height"),
        pytest.param(640, 480, 0, id="zero-size"),
    ],
)
def test_letterbox_rejects_non_positive_sizes(width: int, height: int, size: int) -> None:
    with pytest.raises(ValidationError):
        letterbox(width, height, size)


def test_unmap_rejects_bad_shape() -> None:
    with pytest.raises(ValidationError):
        letterbox(640, 480, 640).unmap_boxes([[1, 2, 3]])

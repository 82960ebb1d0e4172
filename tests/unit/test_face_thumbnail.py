"""The face thumbnail enrolment keeps: the square around the detected face, scaled down."""

from __future__ import annotations

import numpy as np
import pytest

from argus.domain.workstations import THUMBNAIL_SIZE, face_crop


@pytest.mark.parametrize(
    ("box", "corner"),
    [
        ((100.0, 100.0, 200.0, 220.0), (60, 70)),  # inside: centred, 25 % margin each side
        ((0.0, 0.0, 60.0, 60.0), (0, 0)),  # at the corner: moved into the image
        ((560.0, 400.0, 640.0, 480.0), (520, 360)),
    ],
)
def test_face_crop_is_the_square_around_the_face(
    box: tuple[float, float, float, float], corner: tuple[int, int]
) -> None:
    # each pixel holds its own coordinates, so the crop says where it came from
    ys, xs = np.mgrid[0:480, 0:640]
    image = np.stack([xs % 256, ys % 256, (xs // 256) * 16 + ys // 256], axis=2).astype(np.uint8)
    crop = face_crop(image, box, size=THUMBNAIL_SIZE)
    assert crop.shape == (THUMBNAIL_SIZE, THUMBNAIL_SIZE, 3)
    assert crop.dtype == np.uint8
    top_left = tuple(int(v) for v in crop[0, 0])
    x0, y0 = corner
    # the first output pixel averages a small block starting at the square's corner
    assert abs(top_left[0] - x0 % 256) <= 2
    assert abs(top_left[1] - y0 % 256) <= 2


def test_face_crop_keeps_flat_colour_and_scales_up_small_faces() -> None:
    grey = np.full((300, 300, 3), 77, np.uint8)
    assert set(np.unique(face_crop(grey, (10.0, 10.0, 290.0, 290.0)))) == {77}
    tiny = np.zeros((40, 40, 3), np.uint8)
    tiny[:, 20:] = 200
    crop = face_crop(tiny, (5.0, 5.0, 35.0, 35.0))
    assert crop.shape == (THUMBNAIL_SIZE, THUMBNAIL_SIZE, 3)
    assert set(np.unique(crop)) == {0, 200}  # nearest pixel: no new colours

"""The cues that need no motion of the medium, on synthetic scenes drawn here."""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt
import pytest

from argus.adapters.face.liveness import MotionTextureLiveness
from argus.adapters.face.liveness_measure import (
    colour_levels,
    device_boxes,
    row_change,
    straight_segments,
    veil,
)
from argus.domain.detections import Detections
from argus.domain.errors import ValidationError
from argus.domain.faces import Face
from argus.domain.liveness_signs import (
    device_containment,
    enclosing_sides,
    landmark_parallax,
    periodic_prominence,
)

Image = npt.NDArray[np.uint8]
FACE_BOX = (260.0, 170.0, 380.0, 310.0)
NAMES = ("person", "tv", "laptop", "cell phone")


def _face(box: tuple[float, float, float, float] = FACE_BOX) -> Face:
    x1, y1, x2, y2 = box
    w, h = x2 - x1, y2 - y1
    marks = tuple(
        (x1 + fx * w, y1 + fy * h)
        for fx, fy in ((0.3, 0.4), (0.7, 0.4), (0.5, 0.6), (0.35, 0.8), (0.65, 0.8))
    )
    return Face(box, 0.9, marks)


def _scene(seed: int = 0) -> Image:
    """A softly textured 640x480 colour scene with a face-like blob in the face box."""
    rng = np.random.default_rng(seed)
    noise = cv2.GaussianBlur(rng.normal(0, 25, (480, 640, 3)).astype(np.float32), (0, 0), 3)
    scene = np.clip(noise + np.array([90, 110, 130], np.float32), 0, 255)
    cv2.ellipse(scene, (320, 240), (55, 70), 0, 0, 360, (120, 150, 200), -1)
    cv2.circle(scene, (296, 226), 10, (10, 10, 10), -1)  # eyes: the darkest pixels
    cv2.circle(scene, (344, 226), 10, (10, 10, 10), -1)
    return np.asarray(scene, np.uint8)


def _detections(boxes: list[tuple[float, float, float, float]], labels: list[str]) -> Detections:
    return Detections(
        xyxy=np.array(boxes, np.float32).reshape(-1, 4),
        confidence=np.full(len(boxes), 0.8, np.float32),
        class_id=np.array([NAMES.index(n) for n in labels], np.int64),
        class_names=NAMES,
    )


# -- device context --------------------------------------------------------------------


def test_face_inside_a_device_box() -> None:
    screen = np.array([[200, 100, 450, 380]], np.float64)
    beside = np.array([[400, 100, 600, 380]], np.float64)
    small = np.array([[300, 200, 340, 260]], np.float64)  # a phone held at the cheek
    faces = [FACE_BOX] * 4
    assert device_containment(faces, [screen] * 4) == 1.0
    assert device_containment(faces, [beside] * 4) == 0.0
    assert device_containment(faces, [small] * 4) == 0.0
    # None = the detector skipped the frame: the last known boxes stand in.
    assert device_containment(faces, [screen, None, None, np.zeros((0, 4))]) == 0.75
    assert device_containment(faces, [None] * 4) is None
    with pytest.raises(ValidationError):
        device_containment(faces, [None])


def test_device_boxes_keep_devices_only() -> None:
    found = _detections(
        [(0, 0, 600, 400), (10, 10, 50, 90), (5, 5, 9, 9)], ["tv", "person", "cell phone"]
    )
    boxes = device_boxes(found)
    assert boxes is not None
    assert boxes.shape == (2, 4)
    assert device_boxes(None) is None
    assert device_boxes(Detections.empty(NAMES)) is not None


def test_device_cue_through_the_checker() -> None:
    frames = [_scene()] * 4
    faces = [_face()] * 4
    checker = MotionTextureLiveness(window=4)
    tv = _detections([(150, 60, 500, 420)], ["tv"])
    person = _detections([(150, 60, 500, 470)], ["person"])
    assert checker.cues(frames, faces, [tv, None, None, None]).device == 1.0
    assert checker.cues(frames, faces, [person] * 4).device == 0.0
    assert checker.cues(frames, faces).device is None
    with pytest.raises(ValidationError):
        checker.cues(frames, faces, [tv])


# -- bezel and straight edges --------------------------------------------------------------


def test_enclosing_sides_from_segments() -> None:
    rectangle = [
        (180, 80, 180, 400),  # left
        (470, 80, 470, 400),  # right
        (180, 80, 470, 80),  # top
        (180, 400, 470, 400),  # bottom
    ]
    assert enclosing_sides(rectangle, FACE_BOX) == 4
    assert enclosing_sides(rectangle[:2], FACE_BOX) == 2
    assert enclosing_sides([(180, 250, 180, 300)], FACE_BOX) == 0  # too short
    assert enclosing_sides([(300, 80, 300, 400)], FACE_BOX) == 0  # through the face
    assert enclosing_sides(np.zeros((0, 4)), FACE_BOX) == 0
    with pytest.raises(ValidationError):
        enclosing_sides(rectangle, (10, 10, 10, 20))


def test_bezel_is_found_around_a_drawn_screen() -> None:
    framed = _scene()
    cv2.rectangle(framed, (170, 70), (480, 410), (15, 15, 15), 12)
    plain_sides = enclosing_sides(straight_segments(_scene(), _face()), FACE_BOX)
    framed_sides = enclosing_sides(straight_segments(framed, _face()), FACE_BOX)
    assert framed_sides >= 3
    assert plain_sides == 0


# -- refresh banding -----------------------------------------------------------------------


def test_periodic_profile_stands_out() -> None:
    rng = np.random.default_rng(0)
    noise = rng.normal(0, 1, 480)
    y = np.arange(480)
    banded = noise * 0.2 + np.sin(2 * np.pi * y / 90)
    assert periodic_prominence(banded, 12, 160) > periodic_prominence(noise, 12, 160) + 1.5
    with pytest.raises(ValidationError):
        periodic_prominence(noise[:8], 12, 160)


def _banded(frame: Image, phase: float) -> Image:
    y = np.arange(frame.shape[0], dtype=np.float32)[:, None, None]
    shade = 1 + 0.05 * np.sin(2 * np.pi * (y - phase) / 100)
    return np.asarray(np.clip(frame * shade, 0, 255), np.uint8)


def test_rolling_band_shows_in_the_row_change() -> None:
    scene = _scene()
    rolling = periodic_prominence(row_change(_banded(scene, 0), _banded(scene, 35)), 12, 160)
    steady = periodic_prominence(row_change(scene, _scene(1)), 12, 160)
    assert rolling > steady + 1.0


# -- gamut and glare -----------------------------------------------------------------------


def test_limited_gamut_raises_black_and_dulls_colour() -> None:
    scene = _scene()
    black, saturation = colour_levels(scene, _face()) or (0.0, 0.0)
    grey = scene.mean(axis=2, keepdims=True)
    washed = np.asarray(30 + 0.8 * (grey + 0.5 * (scene - grey)), np.uint8)
    washed_black, washed_saturation = colour_levels(washed, _face()) or (0.0, 0.0)
    assert washed_black > black + 20
    assert washed_saturation < saturation
    assert colour_levels(scene, _face((0, 0, 4, 4))) is None


def _glared(frame: Image) -> Image:
    y, x = np.mgrid[0:480, 0:640].astype(np.float32)
    blob = 70 * np.exp(-(((x - 330) / 90) ** 2 + ((y - 230) / 60) ** 2))
    return np.asarray(np.clip(frame + blob[:, :, None], 0, 255), np.uint8)


def test_static_glare_is_measured() -> None:
    checker = MotionTextureLiveness(window=4)
    faces = [_face()] * 4
    clean = checker.cues([_scene(i) for i in range(4)], faces).glare
    glared = checker.cues([_glared(_scene(i)) for i in range(4)], faces).glare
    assert clean is not None
    assert glared is not None
    assert glared > clean + 15
    found = veil(_scene(), _face())
    assert found is not None
    assert found[0].shape[0] < 480  # worked at a reduced size


# -- parallax ------------------------------------------------------------------------------


def test_flat_landmarks_have_no_parallax() -> None:
    base = np.array([[30, 40], [70, 40], [50, 60], [35, 80], [65, 80]], np.float64)
    affine = np.array([[1.05, 0.1], [-0.08, 0.97]])
    flat = np.stack([base, base @ affine.T + 4, base @ (affine @ affine).T - 2])
    assert landmark_parallax(flat) == pytest.approx(0.0, abs=1e-9)
    turned = flat.copy()
    turned[1:, 2, 0] += 6  # the nose swings out of the face's plane
    assert landmark_parallax(turned) > 0.1
    with pytest.raises(ValidationError):
        landmark_parallax(base[None])


def test_still_cues_of_a_window() -> None:
    cues = MotionTextureLiveness(window=4).cues([_scene(i) for i in range(4)], [_face()] * 4)
    assert cues.bezel == 0.0
    assert cues.banding is not None
    assert cues.black_level is not None
    assert cues.saturation is not None
    assert cues.parallax == pytest.approx(0.0, abs=1e-9)

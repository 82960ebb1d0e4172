"""The motion detector on synthetic frames: static, moving, noisy, lights switched, masked."""

from __future__ import annotations

from collections.abc import Iterator

import cv2
import numpy as np
import numpy.typing as npt
import pytest

from argus.adapters.motion import MotionDetector, MotionSettings
from argus.domain.errors import ValidationError

Image = npt.NDArray[np.uint8]
H, W = 480, 640


def _scene(rng: np.random.Generator, noise: float = 2.0, grain: int = 1) -> Image:
    """A grey room with a dark cupboard, plus Gaussian sensor noise of ``grain`` pixels."""
    image = np.full((H, W, 3), 110, np.uint8)
    cv2.rectangle(image, (50, 50), (200, 150), (40, 60, 80), -1)
    shape = (H // grain, W // grain, 3)
    grains = rng.normal(0.0, noise, shape).astype(np.float32)
    if grain > 1:
        grains = np.asarray(cv2.resize(grains, (W, H), interpolation=cv2.INTER_NEAREST), np.float32)
    return np.asarray(np.clip(image.astype(np.float32) + grains, 0, 255), dtype=np.uint8)


def _with_square(image: Image, x: int, y: int = 300, side: int = 60) -> Image:
    out = image.copy()
    cv2.rectangle(out, (x, y), (x + side, y + side), (240, 240, 240), -1)
    return out


def _frames(rng: np.random.Generator, n: int, noise: float = 2.0) -> Iterator[Image]:
    for _ in range(n):
        yield _scene(rng, noise)


def test_static_scene_has_no_motion_after_the_first_frame() -> None:
    detector = MotionDetector()
    rng = np.random.default_rng(1)
    first = detector.update(_scene(rng))
    assert first.global_change  # nothing to compare with yet
    for image in _frames(rng, 20):
        motion = detector.update(image)
        assert not motion.global_change
        assert motion.boxes.shape == (0, 4)


def test_moving_square_is_boxed() -> None:
    detector = MotionDetector()
    rng = np.random.default_rng(2)
    for image in _frames(rng, 5):
        detector.update(image)
    for step in range(8):
        x = 100 + 30 * step
        motion = detector.update(_with_square(_scene(rng), x))
        assert not motion.global_change
        assert len(motion.boxes) == 1, motion.boxes
        x1, y1, x2, y2 = motion.boxes[0].tolist()
        # Around the square, a few pixels larger (blur, dilation, scaling).
        assert x1 <= x
        assert y1 <= 300
        assert x2 >= x + 60
        assert y2 >= 360
        assert x2 - x1 <= 60 + 30 + 30
        assert y2 - y1 <= 60 + 30


@pytest.mark.parametrize("noise", [4.0, 8.0], ids=["noisy", "very-noisy"])
def test_sensor_noise_is_not_motion(noise: float) -> None:
    detector = MotionDetector()
    rng = np.random.default_rng(3)
    for image in _frames(rng, 30, noise):
        motion = detector.update(image)
    assert motion.boxes.shape == (0, 4)


def test_threshold_follows_the_noise_level() -> None:
    quiet, noisy = (
        MotionDetector(MotionSettings(sensitivity=1.0)),
        MotionDetector(MotionSettings(sensitivity=1.0)),
    )
    rng = np.random.default_rng(4)
    for _ in range(30):
        low = quiet.update(_scene(rng, 1.0, grain=8))
        high = noisy.update(_scene(rng, 12.0, grain=8))
    assert high.threshold > low.threshold
    assert high.boxes.shape == (0, 4)


def test_light_switch_is_a_global_change_then_relearned() -> None:
    detector = MotionDetector()
    rng = np.random.default_rng(5)
    for image in _frames(rng, 5):
        detector.update(image)
    bright = [np.clip(_scene(rng).astype(np.int16) + 80, 0, 255).astype(np.uint8) for _ in range(4)]
    switched = detector.update(bright[0])
    assert switched.global_change
    assert switched.boxes.shape == (0, 4)
    assert switched.changed_share > 0.5
    for image in bright[1:]:
        after = detector.update(image)
        assert not after.global_change
        assert after.boxes.shape == (0, 4)


def test_ignore_mask_hides_motion_inside_it() -> None:
    # The right half of the frame is ignored (a road outside the fence, say).
    right_half = ((0.5, 0.0), (1.0, 0.0), (1.0, 1.0), (0.5, 1.0))
    masked = MotionDetector(ignore=[right_half])
    plain = MotionDetector()
    rng = np.random.default_rng(6)
    for image in _frames(rng, 5):
        masked.update(image)
        plain.update(image)
    image = _with_square(_with_square(_scene(rng), 450), 100)
    seen_masked = masked.update(image)
    seen_plain = plain.update(image)
    assert len(seen_plain.boxes) == 2
    assert len(seen_masked.boxes) == 1
    assert seen_masked.boxes[0, 2] < W / 2


def test_frame_size_change_starts_again() -> None:
    detector = MotionDetector()
    rng = np.random.default_rng(7)
    detector.update(_scene(rng))
    assert not detector.update(_scene(rng)).global_change
    smaller = np.asarray(cv2.resize(_scene(rng), (320, 240)), dtype=np.uint8)
    assert detector.update(smaller).global_change


@pytest.mark.parametrize(
    "polygon",
    [((0.0, 0.0), (1.0, 0.0)), ((0.0, 0.0), (1.5, 0.0), (1.0, 1.0))],
    ids=["two-points", "outside-0-1"],
)
def test_bad_ignore_polygons_are_refused(polygon: tuple[tuple[float, float], ...]) -> None:
    with pytest.raises(ValidationError, match="polygon"):
        MotionDetector(ignore=[polygon])


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValidationError, match="sensitivity"):
        MotionSettings(sensitivity=2.0)
    with pytest.raises(ValidationError, match="width"):
        MotionSettings(width=4)

"""The frozen-face cue on synthetic crops: noise alone versus a face that moves a little.

``face_change`` is a log signal-to-noise ratio: noise alone gives well below 0
(about -0.6 to -1), a face whose change is as large as the noise gives 0.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest

from argus.domain.errors import ValidationError
from argus.domain.liveness_stillness import face_change

Stack = npt.NDArray[np.float64]
SIZE = 64


def _face(dx: float = 0.0, dy: float = 0.0) -> Stack:
    """A smooth face-like picture (an oval, two dark eyes, a mouth) shifted by ``(dx, dy)`` px."""
    y, x = np.mgrid[0:SIZE, 0:SIZE].astype(np.float64)
    x, y = x - dx, y - dy
    image = 60.0 + 25.0 * np.sin(x / 5.0) * np.cos(y / 7.0)
    oval = 1 / (1 + np.exp(((x - 32) ** 2 / 20**2 + (y - 32) ** 2 / 26**2 - 1) * 12))
    image += 100.0 * oval
    for ex in (24.0, 40.0):
        image -= 90.0 * np.exp(-((x - ex) ** 2 + (y - 26) ** 2) / (2 * 2.5**2))
    image -= 60.0 * np.exp(-((x - 32) ** 2 / (2 * 6.0**2) + (y - 46) ** 2 / (2 * 1.5**2)))
    return np.asarray(image, np.float64)


def _window(
    shifts: list[tuple[float, float]], noise: float, seed: int = 0, gains: list[float] | None = None
) -> Stack:
    rng = np.random.default_rng(seed)
    frames = []
    for i, (dx, dy) in enumerate(shifts):
        frame = _face(dx, dy) * (1.0 if gains is None else gains[i])
        frames.append(np.clip(np.round(frame + rng.normal(0, noise, frame.shape)), 0, 255))
    return np.stack(frames)


STILL = [(0.0, 0.0)] * 8


@pytest.mark.parametrize("noise", [1.0, 2.0, 6.0])
def test_a_still_picture_changes_by_its_noise_only(noise: float) -> None:
    for seed in range(3):
        assert face_change(_window(STILL, noise, seed)) < -0.4


def test_a_drift_of_a_pixel_over_the_window_stands_far_above_the_noise() -> None:
    drift = [(0.12 * i, 0.05 * i) for i in range(8)]
    for noise in (1.0, 2.0, 6.0):
        assert face_change(_window(drift, noise)) > 1.0
        assert face_change(_window(drift, noise)) > face_change(_window(STILL, noise)) + 1.5


def test_a_blink_is_change() -> None:
    frames = _window(STILL, 2.0)
    frames[4:6, 22:30, 18:30] += 40.0  # lids over both eyes in two frames
    frames[4:6, 22:30, 34:46] += 40.0
    assert face_change(frames) > 1.0


def test_exposure_drift_on_a_still_picture_is_not_change() -> None:
    gains = [1.0 + 0.03 * i for i in range(8)]
    assert face_change(_window(STILL, 2.0, gains=gains)) < -0.4


def test_identical_frames_are_frozen() -> None:
    frames = np.stack([_face()] * 8)
    assert face_change(frames) == pytest.approx(np.log(0.01))


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValidationError):
        face_change(np.zeros((2, 16, 16)))
    with pytest.raises(ValidationError):
        face_change(np.zeros((8, 4, 16)))
    with pytest.raises(ValidationError):
        face_change(np.zeros((8, 16, 16)), quantile=20.0)

"""Liveness: the cue maths, the score combination, and the OpenCV cues on synthetic motion."""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt
import pytest

from argus.adapters.face.liveness import MotionTextureLiveness
from argus.domain.errors import ValidationError
from argus.domain.faces import Face
from argus.domain.liveness import (
    CueTerm,
    LivenessModel,
    landmark_deformation,
    spectral_peak_prominence,
)
from argus.ports.faces import LivenessChecker


def test_bad_model() -> None:
    with pytest.raises(ValidationError):
        LivenessModel(threshold=0.0)
    with pytest.raises(ValidationError):
        CueTerm("texture", 0.0, 0.0, 1.0)
    with pytest.raises(ValidationError):
        CueTerm("no such cue", 0.0, 1.0, 1.0)
    with pytest.raises(ValidationError):
        LivenessModel(terms=(CueTerm("texture", 0, 1, 1), CueTerm("texture", 0, 1, 1)))


def _noise(shape: tuple[int, int], seed: int = 0) -> npt.NDArray[np.float32]:
    rng = np.random.default_rng(seed)
    return np.asarray(
        cv2.GaussianBlur(rng.normal(0, 20, shape).astype(np.float32), (0, 0), 1.5), np.float32
    )


def test_periodic_pattern_stands_out_of_the_spectrum() -> None:
    natural = _noise((96, 96)) + 128
    y, x = np.mgrid[0:96, 0:96].astype(np.float32)
    grid = natural + 12 * np.sin(2 * np.pi * (0.23 * x + 0.17 * y))
    assert spectral_peak_prominence(grid) > spectral_peak_prominence(natural) + 1.0


def test_spectrum_rejects_tiny_crops() -> None:
    with pytest.raises(ValidationError):
        spectral_peak_prominence(np.zeros((8, 8), np.float32))


def test_landmark_deformation_ignores_similarity_motion() -> None:
    base = np.array([[30, 40], [70, 40], [50, 60], [35, 80], [65, 80]], np.float64)
    angle = 0.1
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    moved = np.stack([base, base @ rot.T * 1.1 + 5, base + 3])
    assert landmark_deformation(moved) == pytest.approx(0.0, abs=1e-9)
    talking = moved.copy()
    talking[2, 3:, 1] += 6  # the mouth opens
    assert landmark_deformation(talking) > 0.02
    with pytest.raises(ValidationError):
        landmark_deformation(base[None])


# -- the OpenCV cues on synthetic scenes ---------------------------------------------------

FACE_BOX = (140.0, 100.0, 260.0, 230.0)


def _face() -> Face:
    x1, y1, x2, y2 = FACE_BOX
    w, h = x2 - x1, y2 - y1
    marks = tuple(
        (x1 + fx * w, y1 + fy * h)
        for fx, fy in ((0.3, 0.4), (0.7, 0.4), (0.5, 0.6), (0.35, 0.8), (0.65, 0.8))
    )
    return Face(FACE_BOX, 0.9, marks)


def _textured(seed: int) -> npt.NDArray[np.uint8]:
    return np.clip(_noise((360, 400), seed) * 3 + 128, 0, 255).astype(np.uint8)


def _planar_clip() -> list[npt.NDArray[np.uint8]]:
    """Face and surround on one sheet that slides and turns over a still background."""
    background = _textured(1)
    sheet = _textured(2)
    frames = []
    for i in range(8):
        m = cv2.getRotationMatrix2D((200, 165), 0.8 * i, 1.0)
        m[:, 2] += np.array([3.0 * i, 1.5 * i])
        warped = cv2.warpAffine(sheet, m, (400, 360))
        mask = cv2.warpAffine(np.full((360, 400), 255, np.uint8), m, (400, 360)) > 0
        mask[:, :60] = False  # the sheet ends: a strip of real background stays visible
        frame = np.where(mask, warped, background)
        frames.append(np.ascontiguousarray(np.repeat(frame[:, :, None], 3, axis=2)))
    return frames


def _live_clip() -> list[npt.NDArray[np.uint8]]:
    """A face region that moves and deforms against a still background."""
    background = _textured(1)
    face = _textured(3)
    frames = []
    y, x = np.mgrid[0:360, 0:400].astype(np.float32)
    for i in range(8):
        warp_x = x - 3.0 * i - 2.5 * np.sin(y / 9 + i)  # non-rigid
        warp_y = y - 1.0 * i - 2.5 * np.cos(x / 11 + 0.7 * i)
        moving = cv2.remap(face, warp_x, warp_y, cv2.INTER_LINEAR)
        inside = np.zeros((360, 400), bool)
        inside[95:235, 135:265] = True
        frame = np.where(inside, moving, background)
        frames.append(np.ascontiguousarray(np.repeat(frame[:, :, None], 3, axis=2)))
    return frames


def test_checker_satisfies_the_port() -> None:
    assert isinstance(MotionTextureLiveness(), LivenessChecker)
    with pytest.raises(ValidationError):
        MotionTextureLiveness(window=1)


def test_planar_sheet_is_a_spoof_and_non_rigid_face_is_live() -> None:
    checker = MotionTextureLiveness(window=8)
    faces = [_face()] * 8
    planar = checker.cues(_planar_clip(), faces)
    live = checker.cues(_live_clip(), faces)
    assert planar.moving_pairs > 0
    assert live.moving_pairs > 0
    assert planar.coupling is not None
    assert live.coupling is not None
    assert planar.residual is not None
    assert live.residual is not None
    assert planar.coupling > 0.5 > live.coupling
    assert planar.residual < 0.19 < live.residual
    live_terms = checker.assess(_live_clip(), faces).terms
    planar_terms = checker.assess(_planar_clip(), faces).terms
    assert sum(live_terms[n] for n in ("coupling", "residual") if n in live_terms) > sum(
        planar_terms[n] for n in ("coupling", "residual") if n in planar_terms
    )


def test_still_scene_has_no_motion_cue() -> None:
    frame = np.repeat(_textured(4)[:, :, None], 3, axis=2)
    result = MotionTextureLiveness(window=4).cues([frame] * 4, [_face()] * 4)
    assert result.moving_pairs == 0
    assert result.coupling is None


def test_mismatched_lengths() -> None:
    with pytest.raises(ValidationError):
        MotionTextureLiveness().cues([np.zeros((10, 10, 3), np.uint8)], [])

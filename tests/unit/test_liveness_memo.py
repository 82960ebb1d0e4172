"""The per-frame memo of the liveness checker: same cues, each frame measured once."""

from __future__ import annotations

import gc

import cv2
import numpy as np
import numpy.typing as npt

from argus.adapters.face.liveness import MotionTextureLiveness
from argus.adapters.face.liveness_memo import FrameMemo
from argus.domain.faces import Face

Image = npt.NDArray[np.uint8]


def _frames(n: int) -> list[Image]:
    rng = np.random.default_rng(3)
    base = cv2.GaussianBlur(rng.normal(0, 30, (240, 320)).astype(np.float32), (0, 0), 2) + 128
    frames = []
    for i in range(n):
        m = np.array([[1, 0, 1.5 * i], [0, 1, 0.5 * i]], np.float32)
        moved = cv2.warpAffine(np.clip(base, 0, 255).astype(np.uint8), m, (320, 240))
        frames.append(np.ascontiguousarray(np.repeat(moved[:, :, None], 3, axis=2), np.uint8))
    return frames


def _face(i: int) -> Face:
    x1, y1 = 110.0 + 1.5 * i, 70.0 + 0.5 * i
    marks = tuple(
        (x1 + fx * 90, y1 + fy * 100)
        for fx, fy in ((0.3, 0.4), (0.7, 0.4), (0.5, 0.6), (0.35, 0.8), (0.65, 0.8))
    )
    return Face((x1, y1, x1 + 90, y1 + 100), 0.9, marks)


def test_sliding_windows_give_the_same_cues_with_and_without_the_memo() -> None:
    frames = _frames(12)
    faces = [_face(i) for i in range(12)]
    memo = MotionTextureLiveness(window=8)
    plain = MotionTextureLiveness(window=8, memo=False)
    for end in range(2, 13):
        assert memo.cues(frames[:end], faces[:end]) == plain.cues(frames[:end], faces[:end])


def test_memo_needs_the_same_objects_and_forgets_dead_frames() -> None:
    memo = FrameMemo(limit=4)
    calls: list[int] = []

    def compute() -> int:
        calls.append(1)
        return len(calls)

    frame = np.zeros((4, 4, 3), np.uint8)
    assert memo.get("k", (frame,), None, compute) == 1
    assert memo.get("k", (frame,), None, compute) == 1  # a hit
    assert memo.get("k", (frame,), "other box", compute) == 2
    assert memo.get("k", (frame.copy(),), None, compute) == 3  # equal pixels, new object
    del frame
    gc.collect()
    for _ in range(4):
        kept = np.zeros((2, 2, 3), np.uint8)
        memo.get("k", (kept,), None, compute)
    assert len(memo) <= 4

"""Liveness on the real videos: every bona fide window stays live, with and without devices.

Needs ``../shared/eval`` (the Hamilton close-up and ``carphone_pristine.mp4``);
skips without it. Frames are every third frame (10 frames/s, as the benchmarks
and the workstation client send them); every window of 8 consecutive frames with
a face (stride 1, as :class:`argus.services.verification.FrameAnalyzer` scores
them) is scored by the calibrated model, once with yolov7-tiny's detections of
every frame, once with the detector run on every third frame only, and once
without any.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from argus.adapters.face.liveness import MotionTextureLiveness
from argus.bootstrap.container import build_container
from argus.bootstrap.models import DetectorOptions
from argus.config import Settings
from argus.domain.detections import Detections
from argus.domain.faces import Face
from benchmarks import spoof_attacks

pytestmark = [pytest.mark.integration, pytest.mark.eval]

Image = npt.NDArray[np.uint8]
WINDOW = 8


@pytest.fixture(scope="module")
def scored(
    tmp_path_factory: pytest.TempPathFactory,
) -> list[tuple[str, list[Image], list[Face | None], list[Detections]]]:
    media = spoof_attacks.EVAL_DIR / "media"
    if not (media / "short_hamilton_clip.mp4").is_file():
        pytest.skip(f"{media} is absent: ../shared/eval is only beside a project checkout")
    container = build_container(Settings(data_dir=Path(tmp_path_factory.mktemp("argus-live"))))
    faces, _ = container.face_models()
    detector = container.detector(
        DetectorOptions(
            model="yolov7-tiny", input_size=320, classes=["person", "cell phone", "tv", "laptop"]
        )
    )
    clips = []
    for clip in spoof_attacks.bona_fide_clips(3):
        frames = list(clip.frames)
        found = [faces.detect(f).largest() for f in frames]
        clips.append((clip.name, frames, found, [detector.detect(f) for f in frames]))
    return clips


@pytest.mark.parametrize("every", [1, 3, 0], ids=["objects-every-frame", "every-third", "none"])
def test_bona_fide_windows_stay_live(
    scored: list[tuple[str, list[Image], list[Face | None], list[Detections]]], every: int
) -> None:
    checker = MotionTextureLiveness(window=WINDOW)
    windows = 0
    failures: list[str] = []
    worst = 1.0
    for name, frames, found, objects in scored:
        for start in range(len(frames) - WINDOW + 1):
            window = found[start : start + WINDOW]
            if any(f is None for f in window):
                continue
            seen = [objects[i] if every and i % every == 0 else None for i in range(len(frames))]
            result = checker.assess(
                frames[start : start + WINDOW],
                [f for f in window if f is not None],
                seen[start : start + WINDOW] if every else None,
            )
            windows += 1
            worst = min(worst, result.score)
            if not result.live:
                failures.append(f"{name} window {start}: {result.score:.3f} {dict(result.terms)}")
    assert windows >= 60, "too few windows with a face in all frames"
    assert not failures, f"{len(failures)}/{windows} bona fide windows as spoofs: {failures}"
    assert worst >= 0.5

"""The capacity optimisations leave the decisions on the shared videos unchanged.

Needs ``../shared/eval`` (the Hamilton close-up, frames 85-210, and
``carphone_pristine.mp4``, every third frame); skips without it. The real models
(CenterFace, dlib ResNet, yolov7-tiny at 320, the liveness check) analyse each
clip as one client: once with every optimisation off (the decisions as before
issue 22) and once with the shipped tuning, both clips' frames batched together
as two clients of one pipeline. The decision sequences (action and reasons per
frame) must be the same.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import numpy.typing as npt
import pytest

from argus.bootstrap.models import verification_models
from argus.config import Settings
from argus.domain.faces import EnrolledFaces
from argus.domain.verification import VerificationPolicy
from argus.services.verification import FrameAnalyzer, VerificationModels, analyze_many
from argus.services.verify_tuning import AnalysisTuning
from benchmarks import spoof_attacks

pytestmark = [pytest.mark.integration, pytest.mark.eval, pytest.mark.slow]

Image = npt.NDArray[np.uint8]
FPS = 10.0
POLICY = VerificationPolicy(no_face_seconds=2.0, wrong_user_frames=3, spoof_windows=2)


@pytest.fixture(scope="module")
def clips() -> dict[str, list[Image]]:
    if not (spoof_attacks.EVAL_DIR / "media" / "short_hamilton_clip.mp4").is_file():
        pytest.skip(f"{spoof_attacks.EVAL_DIR} is absent: it is only beside a project checkout")
    return {clip.name: list(clip.frames) for clip in spoof_attacks.bona_fide_clips(3)}


def _blank_face(models: VerificationModels, frame: Image) -> Image:
    """The frame with its face (found at full size) painted over, as in the no-face test."""
    face = models.faces.detect(frame).largest()
    out = frame.copy()
    if face is not None:
        x1, y1, x2, y2 = (int(v) for v in face.xyxy)
        pad = int(0.5 * (x2 - x1))
        out[max(0, y1 - pad) : y2 + pad, max(0, x1 - pad) : x2 + pad] = 90
    return out


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> VerificationModels:
    settings = Settings(data_dir=tmp_path_factory.mktemp("argus-capacity"))
    return verification_models(settings)


def _enrol(models: VerificationModels, frames: list[Image]) -> EnrolledFaces:
    references = []
    for image in (frames[0], frames[len(frames) // 3], frames[2 * len(frames) // 3]):
        face = models.faces.detect(image).largest()
        assert face is not None
        references.append(models.embedder.embed(image, face))
    return EnrolledFaces.of({"user": references})


def _sequence(results: list[object]) -> list[tuple[str, tuple[str, ...]]]:
    out = []
    for result in results:
        decision = result.decision  # type: ignore[attr-defined]
        out.append((decision.action.value, tuple(r.value for r in decision.reasons)))
    return out


def test_the_decisions_on_the_shared_videos_are_the_same_with_every_optimisation(
    models: VerificationModels, clips: dict[str, list[Image]]
) -> None:
    baseline = dataclasses.replace(models, tuning=AnalysisTuning.baseline())
    tuned = dataclasses.replace(models, tuning=AnalysisTuning())
    assert tuned.tuning.face_sides[0] < 640
    assert tuned.tuning.objects_every > 1
    assert tuned.tuning.reuse_embedding
    enrolled = {name: _enrol(models, frames) for name, frames in clips.items()}
    # the face leaves (painted over) and comes back: the no-face path, and frames in
    # which a small detector pass sees a face that full size does not
    hamilton = clips["hamilton close-up"]
    blanked = hamilton[:5] + [_blank_face(models, f) for f in hamilton[5:35]] + hamilton[35:]
    clips = {**clips, "hamilton, face painted over": blanked}
    enrolled["hamilton, face painted over"] = enrolled["hamilton close-up"]

    before = {}
    for name, frames in clips.items():
        analyzer = FrameAnalyzer(baseline, enrolled[name], POLICY)
        before[name] = _sequence([analyzer.analyze(f, i / FPS) for i, f in enumerate(frames)])

    analyzers = {name: FrameAnalyzer(tuned, enrolled[name], POLICY) for name in clips}
    after: dict[str, list[object]] = {name: [] for name in clips}
    skipped = {"embed": 0, "objects": 0}
    for i in range(max(len(frames) for frames in clips.values())):
        batch = [
            (analyzers[name], frames[i], i / FPS)
            for name, frames in clips.items()
            if i < len(frames)
        ]
        for (analyzer, _, _), result in zip(batch, analyze_many(batch), strict=True):
            name = next(n for n, a in analyzers.items() if a is analyzer)
            after[name].append(result)
            skipped["embed"] += result.face is not None and "embed" not in result.stages
            skipped["objects"] += "objects" not in result.stages

    for name in clips:
        assert _sequence(after[name]) == before[name], name
    assert {action for action, _ in before["hamilton, face painted over"]} == {
        "allow",
        "lock_screen",
    }
    # the optimisations did skip work on these clips
    assert skipped["objects"] > 0
    assert skipped["embed"] > 0


def test_a_printed_photo_still_signs_out_at_most_two_frames_later(
    models: VerificationModels, clips: dict[str, list[Image]]
) -> None:
    """The optimisations that touch liveness delay a spoof by two frames at most here.

    Liveness scored every other frame while clearly live can cost one frame; faces
    found at 320 px carry coarser landmarks, which moved this attack's first window
    (4 frames) from spoof to live, one more frame.
    """
    sources = dict(spoof_attacks.print_sources())
    background = spoof_attacks.backgrounds()[0]
    frames = spoof_attacks.print_attack(
        sources["hamilton frame 120"], background, seed=7, n_frames=24
    )
    enrolled = _enrol(models, clips["hamilton close-up"])
    firsts = []
    for tuning in (AnalysisTuning.baseline(), AnalysisTuning()):
        analyzer = FrameAnalyzer(dataclasses.replace(models, tuning=tuning), enrolled, POLICY)
        actions = [analyzer.analyze(f, i / FPS).decision.action.value for i, f in enumerate(frames)]
        assert "sign_out" in actions, actions
        firsts.append(actions.index("sign_out"))
    assert firsts[0] <= firsts[1] <= firsts[0] + 2

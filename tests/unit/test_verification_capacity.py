"""The capacity optimisations of frame analysis, on fake models of the ports.

Fakes (not mocks) stand in for the face detector, embedder, liveness checker and
object detector: each records what it was asked, so the tests see what ran. Time
is the frames' timestamps (the analyzer keeps no clock of its own).
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Sequence
from datetime import UTC, datetime

import numpy as np
import numpy.typing as npt
import pytest

from argus.domain.detections import Detections
from argus.domain.errors import ValidationError
from argus.domain.faces import EnrolledFaces, Face, FaceDetections
from argus.domain.liveness import LivenessCues, LivenessScore
from argus.domain.phone import PhoneRules
from argus.domain.verification import Action, VerificationPolicy
from argus.domain.workstations import VerifyClient
from argus.services.verification import (
    Analysis,
    FrameAnalyzer,
    VerificationModels,
    analyze_many,
)
from argus.services.verify_pipeline import Frame, Pipeline, VerifySession
from argus.services.verify_tuning import AnalysisTuning, box_iou, face_stable

Image = npt.NDArray[np.uint8]


def _frame(i: int) -> Image:
    """Frame ``i`` of a script (its first pixel says which)."""
    frame = np.zeros((36, 64, 3), np.uint8)
    frame[0, 0, 0] = i
    return frame


BOX = (200.0, 80.0, 290.0, 200.0)


def _faces(box: tuple[float, float, float, float] | None) -> FaceDetections:
    if box is None:
        return FaceDetections.empty("fake@1")
    x1, y1, x2, y2 = box
    w, h = x2 - x1, y2 - y1
    marks = [(x1 + 0.3 * w, y1 + 0.4 * h), (x1 + 0.7 * w, y1 + 0.4 * h)]
    marks += [(x1 + 0.5 * w, y1 + 0.6 * h), (x1 + 0.35 * w, y1 + 0.8 * h)]
    marks += [(x1 + 0.65 * w, y1 + 0.8 * h)]
    return FaceDetections(
        np.asarray([box], np.float32),
        np.asarray([0.9], np.float32),
        np.asarray([marks], np.float32),
        "fake@1",
    )


class ScriptedFaces:
    """Finds the scripted box of frame ``image[0, 0, 0]`` (``None``: no face).

    Faces are only found at sides of ``min_side`` or more (a far-away face).
    """

    model_ref = "fake@1"

    def __init__(
        self, boxes: Sequence[tuple[float, float, float, float] | None], min_side: int = 0
    ) -> None:
        self.boxes = list(boxes)
        self.min_side = min_side
        self.sides: list[int | None] = []

    def detect(self, image: Image) -> FaceDetections:
        return self.detect_many([image])[0]

    def detect_many(
        self, images: Sequence[Image], max_side: int | None = None
    ) -> list[FaceDetections]:
        self.sides.append(max_side)
        found = max_side is None or max_side >= self.min_side
        return [_faces(self.boxes[int(image[0, 0, 0])] if found else None) for image in images]


class CountingEmbedder:
    """A constant descriptor; counts the chips it embedded and the batches."""

    model_ref = "fake-embed@1"
    dimension = 4

    def __init__(self) -> None:
        self.batches: list[int] = []

    def chip(self, image: Image, face: Face) -> Image:
        del face
        return image[:2, :2]

    def embed_chips(self, chips: Sequence[Image]) -> npt.NDArray[np.float32]:
        self.batches.append(len(chips))
        return np.zeros((len(chips), 4), np.float32)

    def embed(self, image: Image, face: Face) -> npt.NDArray[np.float32]:
        descriptor: npt.NDArray[np.float32] = self.embed_chips([self.chip(image, face)])[0]
        return descriptor


class RecordingLiveness:
    """Always live; records the ``objects`` it was given."""

    window = 8

    def __init__(self) -> None:
        self.objects: list[list[Detections | None] | None] = []

    def assess(
        self,
        frames: Sequence[Image],
        faces: Sequence[Face],
        objects: Sequence[Detections | None] | None = None,
    ) -> LivenessScore:
        assert len(frames) == len(faces)
        self.objects.append(None if objects is None else list(objects))
        if objects is not None:
            assert len(objects) == len(frames)
        cues = LivenessCues(
            frames=len(frames),
            moving_pairs=0,
            coupling=None,
            residual=None,
            peak_prominence=None,
            deformation=None,
        )
        return LivenessScore(0.9, True, None, None, cues)


class CountingObjects:
    """No objects; counts the images it looked at."""

    class_names = ("person", "cell phone")
    model_ref = "fake-objects@1"

    def __init__(self) -> None:
        self.images = 0

    def detect(self, image: Image) -> Detections:
        return self.detect_batch([image])[0]

    def detect_batch(self, images: Sequence[Image]) -> list[Detections]:
        self.images += len(images)
        return [Detections.empty(self.class_names, self.model_ref) for _ in images]


def _models(
    boxes: Sequence[tuple[float, float, float, float] | None],
    tuning: AnalysisTuning | None = None,
    min_side: int = 0,
) -> VerificationModels:
    return VerificationModels(
        ScriptedFaces(boxes, min_side),
        CountingEmbedder(),
        RecordingLiveness(),
        CountingObjects(),
        tuning if tuning is not None else AnalysisTuning(),
    )


ENROLLED = EnrolledFaces.of({"user": [np.zeros(4, np.float32)]})


def _shift(dx: float) -> tuple[float, float, float, float]:
    return (BOX[0] + dx, BOX[1], BOX[2] + dx, BOX[3])


def _embedded(models: VerificationModels) -> int:
    assert isinstance(models.embedder, CountingEmbedder)
    return sum(models.embedder.batches)


def test_the_descriptor_is_reused_while_the_face_holds_still_and_renewed_when_it_moves() -> None:
    models = _models([BOX, BOX, _shift(1), BOX, _shift(40), _shift(40)])
    analyzer = FrameAnalyzer(models, ENROLLED)
    results = [analyzer.analyze(_frame(t), float(t)) for t in range(6)]
    embedded = ["embed" in r.stages for r in results]
    assert embedded == [True, False, False, False, True, False]
    assert all(r.decision.action is Action.ALLOW for r in results)
    assert all(r.identity == "user" for r in results)


def test_the_descriptor_is_renewed_after_reverify_seconds_and_after_the_face_left() -> None:
    tuning = AnalysisTuning(reverify_seconds=5.0)
    models = _models([BOX] * 8 + [None] + [BOX] * 2, tuning)
    analyzer = FrameAnalyzer(models, ENROLLED)
    times = [0.0, 1.0, 2.0, 4.9, 5.0, 6.0, 9.9, 10.0, 11.0, 12.0, 13.0]
    embedded = ["embed" in analyzer.analyze(_frame(i), t).stages for i, t in enumerate(times)]
    assert embedded == [True, False, False, False, True, False, False, True, False, True, False]


def test_without_reuse_every_face_gets_a_descriptor() -> None:
    models = _models([BOX] * 4, AnalysisTuning.baseline())
    analyzer = FrameAnalyzer(models, ENROLLED)
    for t in range(4):
        analyzer.analyze(_frame(t), float(t))
    assert _embedded(models) == 4


def test_the_device_detector_runs_every_k_frames_or_when_the_face_moves() -> None:
    boxes = [BOX] * 7 + [_shift(60), _shift(60), None, None]
    models = _models(boxes, AnalysisTuning(objects_every=3, liveness_every=1))
    analyzer = FrameAnalyzer(models, ENROLLED)
    ran = ["objects" in analyzer.analyze(_frame(t), t / 10).stages for t in range(11)]
    # every 3rd frame; the face moved (frame 7) and left (frame 9) force a run
    assert ran == [True, False, False, True, False, False, True, True, False, True, False]
    assert isinstance(models.liveness, RecordingLiveness)
    window = models.liveness.objects[-1]
    assert window is not None
    # the last window (frames 1-8, the face left at 9): None where the detector did not run
    assert [o is not None for o in window] == ran[1:9]


class PhoneOnce(CountingObjects):
    """A phone beside the face in the first image it sees, nothing afterwards."""

    def detect_batch(self, images: Sequence[Image]) -> list[Detections]:
        out = []
        for _ in images:
            self.images += 1
            if self.images == 1:
                box = np.asarray([[BOX[2], BOX[1], BOX[2] + 40, BOX[1] + 70]], np.float32)
                out.append(
                    Detections(
                        box,
                        np.asarray([0.9], np.float32),
                        np.asarray([1], np.int64),
                        class_names=self.class_names,
                        model=self.model_ref,
                    )
                )
            else:
                out.append(Detections.empty(self.class_names, self.model_ref))
        return out


def test_a_phone_in_the_window_keeps_the_device_detector_running_every_frame() -> None:
    models = dataclasses.replace(_models([BOX] * 12), objects=PhoneOnce())
    analyzer = FrameAnalyzer(models, ENROLLED)
    results = [analyzer.analyze(_frame(t), t / 10) for t in range(12)]
    ran = ["objects" in r.stages for r in results]
    # seen once at frame 0: fresh detections until it leaves the 5-frame phone window
    assert ran == [True] * 6 + [False] * 4 + [True, False]
    assert [r.phone.hits for r in results if r.phone is not None][:6] == [1, 1, 1, 1, 1, 0]
    assert not any(r.phone is not None and r.phone.aimed for r in results)


def test_every_frame_runs_the_device_detector_in_the_baseline() -> None:
    models = _models([BOX] * 5, AnalysisTuning.baseline())
    analyzer = FrameAnalyzer(models, ENROLLED)
    results = [analyzer.analyze(_frame(t), t / 10) for t in range(5)]
    assert all("objects" in r.stages for r in results)
    assert isinstance(models.objects, CountingObjects)
    assert models.objects.images == 5


def test_liveness_is_scored_every_other_frame_while_clearly_live_and_always_when_low() -> None:
    models = _models([BOX] * 12 + [None] + [BOX] * 6, AnalysisTuning(liveness_every=2))
    analyzer = FrameAnalyzer(models, ENROLLED)
    results = [analyzer.analyze(_frame(t), t / 10) for t in range(19)]
    scored = ["liveness" in r.stages for r in results]
    # the window is scored from its 4th frame, then every other frame; the face left at 12
    assert scored[:12] == [False, False, False, True, False, True, False, True] + [False, True] * 2
    assert scored[12:] == [False, False, False, False, True, False, True]
    assert all((r.liveness is None) == (not s) for r, s in zip(results, scored, strict=True))
    assert all(
        "liveness" not in r.decision.scores for r, s in zip(results, scored, strict=True) if not s
    )
    low = _models([BOX] * 8, AnalysisTuning(liveness_every=2, liveness_margin=0.5))
    analyzer = FrameAnalyzer(low, ENROLLED)  # 0.9 is not 0.5 above the 0.5 threshold
    scored = ["liveness" in analyzer.analyze(_frame(t), t / 10).stages for t in range(8)]
    assert scored == [False, False, False, True, True, True, True, True]


def test_the_small_face_pass_serves_a_known_track_and_the_large_confirms_the_rest() -> None:
    boxes = [BOX, _shift(2), _shift(200), None, BOX]
    models = _models(boxes, AnalysisTuning(face_sides=(320, 640)))
    analyzer = FrameAnalyzer(models, ENROLLED)
    results = [analyzer.analyze(_frame(t), float(t)) for t in range(5)]
    assert isinstance(models.faces, ScriptedFaces)
    # a face appearing is confirmed at 640; one continuing the track stands at 320;
    # a jump (another face) and a frame without a face go on to 640
    assert models.faces.sides == [320, 640, 320, 320, 640, 320, 640, 320, 640]
    assert [r.face is not None for r in results] == [True, True, True, False, True]
    far = _models([BOX] * 2, AnalysisTuning(face_sides=(320, 640)), min_side=640)
    analyzer = FrameAnalyzer(far, ENROLLED)
    results = [analyzer.analyze(_frame(t), float(t)) for t in range(2)]
    assert isinstance(far.faces, ScriptedFaces)
    assert far.faces.sides == [320, 640, 320, 640]  # too small for 320: 640 every time
    assert all(r.face is not None for r in results)


def test_several_clients_frames_share_one_model_run_and_report_their_stages() -> None:
    models = _models([BOX] * 3, AnalysisTuning())
    analyzers = [FrameAnalyzer(models, ENROLLED) for _ in range(3)]
    results = analyze_many([(a, _frame(i), 0.0) for i, a in enumerate(analyzers)])
    assert isinstance(models.embedder, CountingEmbedder)
    assert models.embedder.batches == [3]
    assert isinstance(models.faces, ScriptedFaces)
    assert models.faces.sides == [320, 640]  # three new faces, confirmed together
    assert set(results[0].stages) == {"faces", "embed", "objects", "decide"}
    assert all(seconds >= 0 for r in results for seconds in r.stages.values())


def test_reconfigure_applies_the_new_threshold_to_the_next_frame() -> None:
    models = _models([BOX] * 4)
    far = EnrolledFaces.of({"user": [np.full(4, 0.5, np.float32)]})  # distance 1.0
    analyzer = FrameAnalyzer(models, far, VerificationPolicy(wrong_user_frames=1))
    assert analyzer.analyze(_frame(0), 0.0).decision.action is Action.LOCK_SCREEN
    analyzer.reconfigure(VerificationPolicy(match_threshold=1.5), PhoneRules(window=3))
    assert analyzer.analyze(_frame(1), 1.0).decision.action is Action.ALLOW
    assert analyzer.phone_rules == PhoneRules(window=3)


def test_tuning_is_checked_and_iou_and_stability_are_sane() -> None:
    with pytest.raises(ValidationError):
        AnalysisTuning(face_sides=(640, 320))
    with pytest.raises(ValidationError):
        AnalysisTuning(objects_every=0)
    assert box_iou(BOX, BOX) == pytest.approx(1.0)
    assert box_iou(BOX, _shift(200)) == 0.0
    face = _faces(BOX).item(0)
    assert face_stable(face, _faces(_shift(1)).item(0), AnalysisTuning())
    assert not face_stable(face, _faces(_shift(30)).item(0), AnalysisTuning())


# --- the pipeline's scheduler ------------------------------------------------------------------


def _session(name: str) -> VerifySession:
    client = VerifyClient(name, name, "0" * 64, ("user",), datetime.now(UTC))
    return VerifySession(client, ENROLLED, 2)


async def _drain(pipeline: Pipeline, decided: list[tuple[str, int]], count: int) -> None:
    for _ in range(200):
        if len(decided) >= count:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"only {len(decided)} of {count} frames were decided")


@pytest.mark.anyio
async def test_the_scheduler_serves_every_client_once_per_round_in_batches() -> None:
    models = _models([BOX] * 20)
    decided: list[tuple[str, int]] = []
    batches: list[int] = []

    async def record(session: VerifySession, frame: Frame, analysis: Analysis) -> None:
        del analysis
        decided.append((session.client_id, frame.seq))

    pipeline = Pipeline(
        0,
        models=lambda: models,
        decode=lambda data: _frame(int(data)),
        policy=VerificationPolicy(),
        phone=PhoneRules(),
        decided=record,
        batch=2,
    )
    assert isinstance(models.embedder, CountingEmbedder)
    try:
        sessions = [_session(name) for name in ("a", "b", "c")]
        for session in sessions:
            pipeline.attach(session)
        sessions[0].push(b"1", 0.0)
        sessions[0].push(b"2", 0.1)  # a fast sender: two frames waiting
        sessions[1].push(b"1", 0.0)
        sessions[2].push(b"1", 0.0)
        pipeline.wake()
        await _drain(pipeline, decided, 4)
        batches = list(models.embedder.batches)
    finally:
        await pipeline.stop()
    first_round = {client for client, _ in decided[:3]}
    assert first_round == {"a", "b", "c"}
    assert decided[3] == ("a", 2)
    assert max(batches) == 2  # no batch larger than asked


@pytest.mark.anyio
async def test_reconfigure_reaches_the_live_analyzers_and_later_ones() -> None:
    models = _models([BOX] * 10)
    decided: list[tuple[str, int]] = []

    async def record(session: VerifySession, frame: Frame, analysis: Analysis) -> None:
        del analysis
        decided.append((session.client_id, frame.seq))

    pipeline = Pipeline(
        0,
        models=lambda: models,
        decode=lambda data: _frame(int(data)),
        policy=VerificationPolicy(),
        phone=PhoneRules(),
        decided=record,
    )
    try:
        live = _session("live")
        pipeline.attach(live)
        live.push(b"1", 0.0)
        pipeline.wake()
        await _drain(pipeline, decided, 1)
        policy, phone = VerificationPolicy(match_threshold=0.3), PhoneRules(window=4)
        pipeline.reconfigure(policy, phone)
        assert live.analyzer is not None
        assert live.analyzer.verifier.policy is policy
        assert live.analyzer.phone_rules is phone
        later = _session("later")
        pipeline.attach(later)
        later.push(b"1", 1.0)
        pipeline.wake()
        await _drain(pipeline, decided, 2)
        assert later.analyzer is not None
        assert later.analyzer.verifier.policy is policy
    finally:
        await pipeline.stop()


def test_the_capacity_benchmark_reports_clients_per_box_before_and_after() -> None:
    from benchmarks import verify_capacity as bench

    stage = dict.fromkeys((*bench.STAGES, "total", "cpu"), 0.01)
    passing = bench.Load(20, [0.2] * 10 + [0.5], 0, 11, first=0.3)
    failing = bench.Load(24, [0.9] * 10 + [2.0], 3, 11)
    result = bench.Result(
        {"before": stage, "after": stage},
        same_decisions=True,
        differences=[],
        decisions=82,
        loads={"before": [bench.Load(4, [0.1], 0, 1), failing], "after": [passing, failing]},
        modelled={"before": [bench.Load(4, [0.1], 0, 1)], "after": [passing, failing]},
        cold_first=0.6,
        seconds=8.0,
    )
    section = bench.render(result, quick=True)
    assert section.headline == [
        "verify capacity: 20 clients/box at 1 frame/s after, 4 before (5.0x); "
        "modelled on a quiet box: 20 after, 4 before (5.0x)"
    ]
    assert "decision sequences of all configurations identical" in section.body
    assert passing.passed
    assert not failing.passed
    quiet = bench._modelled([0.05] * 10, 20, seconds=60.0)  # 10 clients x 50 ms per core
    assert not quiet.dropped
    assert quiet.passed
    assert not bench._modelled([0.2] * 10, 20, seconds=60.0).passed  # 2 s of work per second

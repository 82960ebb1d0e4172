"""Per-client frame analysis: models in, security decisions out.

One :class:`FrameAnalyzer` per client session (it holds that client's bounded
state: the liveness window, the phone window and the decision counters); the
models are shared ports, safe to share between analyzers of one pipeline.
Per frame: face detection (the largest face is the user), descriptor and
distance to the enrolled user, the liveness window's score, the phone signal
from the object detector, then :class:`argus.domain.verification.Verifier`.

:func:`analyze_many` analyses the frames of several analyzers of one pipeline
together: each model runs once on all of them (``verify_batch``), and the
pipeline's :class:`~argus.services.verify_tuning.AnalysisTuning` decides what
may be skipped (a larger face pass, the object detector, a new descriptor, the
liveness score of a clearly live window).
Each :class:`Analysis` says how long each stage took for its frame (a batched
stage's time is shared evenly between its frames).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from argus.domain.detections import Detections
from argus.domain.faces import EnrolledFaces, Face, match
from argus.domain.liveness import LivenessScore
from argus.domain.phone import PhoneEvidence, PhoneRules, PhoneWatch
from argus.domain.verification import Decision, Observation, VerificationPolicy, Verifier
from argus.ports.detector import Detector
from argus.ports.faces import FaceDetector, FaceEmbedder, LivenessChecker
from argus.services.verify_batch import detect_faces, detect_objects, embed_faces
from argus.services.verify_tuning import AnalysisTuning, box_iou, face_stable

__all__ = ["Analysis", "FrameAnalyzer", "VerificationModels", "analyze_many"]

Image = npt.NDArray[np.uint8]


@dataclass(frozen=True, slots=True)
class VerificationModels:
    """The shared models of one pipeline.

    Attributes:
        faces: Face detector.
        embedder: Face descriptor model.
        liveness: Multi-frame liveness checker.
        objects: Object detector with a phone class, or ``None`` to skip phones.
        tuning: The capacity optimisations the analyzers of these models apply.
    """

    faces: FaceDetector
    embedder: FaceEmbedder
    liveness: LivenessChecker
    objects: Detector | None = None
    tuning: AnalysisTuning = field(default_factory=AnalysisTuning)


@dataclass(frozen=True, slots=True)
class Analysis:
    """One frame's decision and what it was based on.

    Attributes:
        decision: The action, reasons and scores.
        face: The user's face, or ``None``.
        liveness: The liveness window's verdict, ``None`` until ``min_liveness_frames``.
        phone: The phone signal (``None`` without an object detector).
        identity: The enrolled identity the face matched within the threshold, if any.
        stages: Seconds per stage for this frame (``"decode"``, ``"faces"``,
            ``"embed"``, ``"liveness"``, ``"objects"``, ``"decide"``); a stage skipped
            on this frame is absent.
    """

    decision: Decision
    face: Face | None
    liveness: LivenessScore | None
    phone: PhoneEvidence | None
    identity: str | None = None
    stages: Mapping[str, float] = field(default_factory=dict)


class FrameAnalyzer:
    """Turns one client's frames into decisions.

    Args:
        models: The shared models (and the tuning their analyzers apply).
        enrolled: The user's reference descriptors (1:1 verification: one identity).
        policy: The decision chart's thresholds.
        phone_rules: When a phone counts as aimed at the screen.
        min_liveness_frames: Consecutive face frames before liveness is scored.
        clock: Times the stages (``time.process_time`` measures their CPU time instead).
    """

    def __init__(
        self,
        models: VerificationModels,
        enrolled: EnrolledFaces,
        policy: VerificationPolicy | None = None,
        phone_rules: PhoneRules | None = None,
        *,
        min_liveness_frames: int = 4,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.models = models
        self.enrolled = enrolled
        self.verifier = Verifier(policy)
        self._phones = PhoneWatch(phone_rules)
        window = max(2, models.liveness.window)
        self._min_frames = max(2, min(min_liveness_frames, window))
        self._frames: deque[Image] = deque(maxlen=window)
        self._faces: deque[Face] = deque(maxlen=window)
        self._objects: deque[Detections | None] = deque(maxlen=window)
        self._last_objects: Detections | None = None
        self._objects_face: Face | None = None
        self._objects_age = 0
        self._embedded: tuple[Face, float, npt.NDArray[np.float32]] | None = None
        self.clock = clock
        self._assessed: tuple[float, int] | None = None
        self._phone_hits = 0

    @property
    def tuning(self) -> AnalysisTuning:
        """The optimisations this analyzer applies (its models')."""
        return self.models.tuning

    @property
    def phone_rules(self) -> PhoneRules:
        """When a phone counts as aimed at the screen."""
        return self._phones.rules

    def reconfigure(self, policy: VerificationPolicy, phone_rules: PhoneRules) -> None:
        """Decide by ``policy`` and ``phone_rules`` from the next frame on.

        The decision counters survive unless the number of violations that block
        changes (its window is then restarted); the phone window restarts when the
        rules change.
        """
        if policy.violations_to_block != self.verifier.policy.violations_to_block:
            self.verifier = Verifier(policy)
        else:
            self.verifier.policy = policy
        if phone_rules != self._phones.rules:
            self._phones = PhoneWatch(phone_rules)

    def trusts_small(self, face: Face) -> bool:
        """Whether a face found by a smaller pass than the largest is taken as it is.

        Only a confident face that continues this client's face track is; a face
        appearing (or a weak one) is confirmed at the next larger side, whose answer
        stands (a small pass can see a face in what is none at full size).
        """
        last = self._faces[-1] if self._faces else None
        tuning = self.tuning
        return (
            last is not None
            and face.confidence >= tuning.small_confidence
            and box_iou(face.xyxy, last.xyxy) >= tuning.small_track_iou
        )

    def needs_descriptor(self, face: Face, timestamp: float) -> bool:
        """Whether ``face`` needs a new descriptor (else the last one is reused)."""
        tuning = self.tuning
        if not tuning.reuse_embedding or self._embedded is None:
            return True
        last, at, _ = self._embedded
        if not 0 <= timestamp - at < tuning.reverify_seconds:
            return True
        return not face_stable(last, face, tuning)

    def _liveness_due(self) -> bool:
        """Whether the liveness window is scored on this frame (see ``liveness_every``)."""
        tuning = self.tuning
        if tuning.liveness_every <= 1 or self._assessed is None:
            return True
        score, skipped = self._assessed
        clear = self.verifier.policy.liveness_threshold + tuning.liveness_margin
        return score < clear or skipped + 1 >= tuning.liveness_every

    def needs_objects(self, face: Face | None) -> bool:
        """Whether the object detector must run on this frame.

        It runs every ``objects_every`` frames, when the face appears, leaves or
        moves, and on every frame while the phone window holds a phone (so a
        skipped frame only ever repeats detections without one).
        """
        if self.models.objects is None:
            return False
        tuning = self.tuning
        if self._last_objects is None or self._objects_age + 1 >= tuning.objects_every:
            return True
        if self._phone_hits:  # a phone in the window: fresh detections on every frame
            return True
        last = self._objects_face
        if (face is None) != (last is None):
            return True
        if face is None or last is None:
            return False
        return box_iou(face.xyxy, last.xyxy) < tuning.objects_move_iou

    def finish(
        self,
        frame: Image,
        timestamp: float,
        face: Face | None,
        *,
        descriptor: npt.NDArray[np.float32] | None,
        objects: Detections | None,
        stages: dict[str, float],
    ) -> Analysis:
        """Decide the frame from the batched stages' results.

        Args:
            frame: The BGR frame.
            timestamp: When it was taken (seconds).
            face: The user's face, if any.
            descriptor: A new descriptor of ``face``, or ``None`` to reuse the last one.
            objects: The object detections of this frame, ``None`` when the detector
                did not run on it (the last known are reused).
            stages: Seconds per stage so far; liveness and decide are added.
        """
        distance = liveness = phone = identity = None
        if objects is not None:
            self._last_objects, self._objects_face, self._objects_age = objects, face, 0
        else:
            self._objects_age += 1
        if face is None:
            self._frames.clear()
            self._faces.clear()
            self._objects.clear()
            self._embedded = self._assessed = None
        else:
            if descriptor is not None:
                self._embedded = (face, timestamp, descriptor)
            elif self._embedded is None:
                raise ValueError("a face without a descriptor and none to reuse")
            matched = match(self._embedded[2], self.enrolled, self.verifier.policy.match_threshold)
            distance, identity = matched.distance, matched.identity
            self._frames.append(frame)
            self._faces.append(face)
            self._objects.append(objects)
            if len(self._frames) >= self._min_frames and self._liveness_due():
                started = self.clock()
                liveness = self.models.liveness.assess(
                    list(self._frames), list(self._faces), objects=list(self._objects)
                )
                stages["liveness"] = self.clock() - started
                self._assessed = (liveness.score, 0)
            elif self._assessed is not None:
                self._assessed = (self._assessed[0], self._assessed[1] + 1)
        started = self.clock()
        if self._last_objects is not None:
            phone = self._phones.update(self._last_objects, None if face is None else face.xyxy)
            self._phone_hits = phone.hits
        seen = Observation(
            timestamp=timestamp,
            face=face is not None,
            distance=distance,
            liveness=None if liveness is None else liveness.score,
            phone_aimed=phone is not None and phone.aimed,
            phone_score=0.0 if phone is None else phone.score,
        )
        decision = self.verifier.decide(seen)
        stages["decide"] = self.clock() - started
        return Analysis(decision, face, liveness, phone, identity, stages)

    def analyze(self, frame: Image, timestamp: float) -> Analysis:
        """Analyse one BGR frame taken at ``timestamp`` seconds."""
        return analyze_many([(self, frame, timestamp)])[0]


def analyze_many(batch: Sequence[tuple[FrameAnalyzer, Image, float]]) -> list[Analysis]:
    """Analyse one frame of each of several analyzers that share their models.

    Each model runs once on the frames that need it (see the module doc); the
    analyses come back in ``batch`` order. An analyzer must appear at most once.
    """
    if not batch:
        return []
    models, clock = batch[0][0].models, batch[0][0].clock
    n = len(batch)
    stages: list[dict[str, float]] = [{} for _ in batch]
    started = clock()
    frames = [frame for _, frame, _ in batch]
    trusted = [analyzer.trusts_small for analyzer, _, _ in batch]
    faces = detect_faces(models.faces, frames, models.tuning.face_sides, trusted)
    _share(stages, range(n), "faces", clock() - started)

    wanted = [
        i
        for i, (analyzer, _, timestamp) in enumerate(batch)
        if (face := faces[i]) is not None and analyzer.needs_descriptor(face, timestamp)
    ]
    descriptors: list[npt.NDArray[np.float32] | None] = [None] * n
    if wanted:
        started = clock()
        items = [(batch[i][1], face) for i in wanted if (face := faces[i]) is not None]
        for i, descriptor in zip(wanted, embed_faces(models.embedder, items), strict=True):
            descriptors[i] = descriptor
        _share(stages, wanted, "embed", clock() - started)

    objects: list[Detections | None] = [None] * n
    look = [i for i, (analyzer, _, _) in enumerate(batch) if analyzer.needs_objects(faces[i])]
    if look and models.objects is not None:
        started = clock()
        found = detect_objects(models.objects, [batch[i][1] for i in look])
        for i, detections in zip(look, found, strict=True):
            objects[i] = detections
        _share(stages, look, "objects", clock() - started)

    return [
        analyzer.finish(
            frame,
            timestamp,
            faces[i],
            descriptor=descriptors[i],
            objects=objects[i],
            stages=stages[i],
        )
        for i, (analyzer, frame, timestamp) in enumerate(batch)
    ]


def _share(
    stages: list[dict[str, float]], members: Sequence[int] | range, name: str, seconds: float
) -> None:
    """Split a batched stage's time evenly between the frames it ran on."""
    if len(members):
        for i in members:
            stages[i][name] = seconds / len(members)

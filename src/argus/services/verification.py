"""Per-client frame analysis: models in, security decisions out.

One :class:`FrameAnalyzer` per client session (it holds that client's bounded
state: the liveness window, the phone window and the decision counters); the
models are shared ports, safe to share between analyzers of one pipeline.
Per frame: face detection (the largest face is the user), descriptor and
distance to the enrolled user, the liveness window's score, the phone signal
from the object detector, then :class:`argus.domain.verification.Verifier`.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from argus.domain.detections import Detections
from argus.domain.faces import EnrolledFaces, Face, match
from argus.domain.liveness import LivenessScore
from argus.domain.phone import PhoneEvidence, PhoneRules, PhoneWatch
from argus.domain.verification import Decision, Observation, VerificationPolicy, Verifier
from argus.ports.detector import Detector
from argus.ports.faces import FaceDetector, FaceEmbedder, LivenessChecker

__all__ = ["Analysis", "FrameAnalyzer", "VerificationModels"]

Image = npt.NDArray[np.uint8]


@dataclass(frozen=True, slots=True)
class VerificationModels:
    """The shared models of one pipeline.

    Attributes:
        faces: Face detector.
        embedder: Face descriptor model.
        liveness: Multi-frame liveness checker.
        objects: Object detector with a phone class, or ``None`` to skip phones.
    """

    faces: FaceDetector
    embedder: FaceEmbedder
    liveness: LivenessChecker
    objects: Detector | None = None


@dataclass(frozen=True, slots=True)
class Analysis:
    """One frame's decision and what it was based on.

    Attributes:
        decision: The action, reasons and scores.
        face: The user's face, or ``None``.
        liveness: The liveness window's verdict, ``None`` until ``min_liveness_frames``.
        phone: The phone signal (``None`` without an object detector).
        identity: The enrolled identity the face matched within the threshold, if any.
    """

    decision: Decision
    face: Face | None
    liveness: LivenessScore | None
    phone: PhoneEvidence | None
    identity: str | None = None


class FrameAnalyzer:
    """Turns one client's frames into decisions.

    Args:
        models: The shared models.
        enrolled: The user's reference descriptors (1:1 verification: one identity).
        policy: The decision chart's thresholds.
        phone_rules: When a phone counts as aimed at the screen.
        min_liveness_frames: Consecutive face frames before liveness is scored.
    """

    def __init__(
        self,
        models: VerificationModels,
        enrolled: EnrolledFaces,
        policy: VerificationPolicy | None = None,
        phone_rules: PhoneRules | None = None,
        *,
        min_liveness_frames: int = 4,
    ) -> None:
        self.models = models
        self.enrolled = enrolled
        self.verifier = Verifier(policy)
        self._phones = PhoneWatch(phone_rules)
        window = max(2, models.liveness.window)
        self._min_frames = max(2, min(min_liveness_frames, window))
        self._frames: deque[Image] = deque(maxlen=window)
        self._faces: deque[Face] = deque(maxlen=window)

    def analyze(self, frame: Image, timestamp: float) -> Analysis:
        """Analyse one BGR frame taken at ``timestamp`` seconds."""
        face = self.models.faces.detect(frame).largest()
        distance = liveness = phone = identity = None
        if face is None:
            self._frames.clear()
            self._faces.clear()
        else:
            descriptor = self.models.embedder.embed(frame, face)
            matched = match(descriptor, self.enrolled, self.verifier.policy.match_threshold)
            distance, identity = matched.distance, matched.identity
            self._frames.append(frame)
            self._faces.append(face)
            if len(self._frames) >= self._min_frames:
                liveness = self.models.liveness.assess(list(self._frames), list(self._faces))
        if self.models.objects is not None:
            objects: Detections = self.models.objects.detect(frame)
            phone = self._phones.update(objects, None if face is None else face.xyxy)
        seen = Observation(
            timestamp=timestamp,
            face=face is not None,
            distance=distance,
            liveness=None if liveness is None else liveness.score,
            phone_aimed=phone is not None and phone.aimed,
            phone_score=0.0 if phone is None else phone.score,
        )
        return Analysis(self.verifier.decide(seen), face, liveness, phone, identity)

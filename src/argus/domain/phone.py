"""Phone aimed at the screen: COCO "cell phone" boxes associated with the user over frames.

A workstation webcam sees the user's face; a phone held up to photograph the
screen appears in front of the user, near or over the face, or inside the user's
body box. One detection is not enough (detectors fire on microphones, remotes,
wallets at low confidence: on the Hamilton clip yolov7-tiny calls the hand-held
microphone a "cell phone" at up to 0.31), so :class:`PhoneWatch` asks for a
confident, associated phone in at least ``min_hits`` of the last ``window``
frames.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from argus.domain.detections import Detections
from argus.domain.errors import ValidationError

__all__ = ["PhoneEvidence", "PhoneRules", "PhoneWatch", "associated_phone_score"]

Box = tuple[float, float, float, float]


@dataclass(frozen=True, slots=True)
class PhoneRules:
    """When a phone counts as aimed at the screen.

    Attributes:
        phone_class: Class name of phones in the detector's vocabulary.
        person_class: Class name of people (used when no face is known).
        min_confidence: Weakest phone detection considered.
        face_reach: A phone is "near the face" when it overlaps the face box grown
            by this factor around its centre.
        window: Frames remembered.
        min_hits: Frames of the window that must show an associated phone.
    """

    phone_class: str = "cell phone"
    person_class: str = "person"
    min_confidence: float = 0.4
    face_reach: float = 3.0
    window: int = 5
    min_hits: int = 3

    def __post_init__(self) -> None:
        if not 0 <= self.min_confidence <= 1 or self.face_reach <= 0:
            raise ValidationError("min_confidence must lie in [0, 1] and face_reach be positive")
        if not 1 <= self.min_hits <= self.window:
            raise ValidationError(
                f"need 1 <= min_hits <= window, got {self.min_hits}/{self.window}"
            )


@dataclass(frozen=True, slots=True)
class PhoneEvidence:
    """The phone signal after one frame.

    Attributes:
        aimed: Whether a phone was associated in at least ``min_hits`` recent frames.
        score: Mean associated-phone confidence over the window (0 without phones).
        hits: Recent frames with an associated phone.
        frames: Frames in the window so far.
    """

    aimed: bool
    score: float
    hits: int
    frames: int


def _grow(box: Box, factor: float) -> Box:
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    hw, hh = (box[2] - box[0]) * factor / 2, (box[3] - box[1]) * factor / 2
    return cx - hw, cy - hh, cx + hw, cy + hh


def _overlaps(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _contains_centre(outer: Box, inner: Box) -> bool:
    cx, cy = (inner[0] + inner[2]) / 2, (inner[1] + inner[3]) / 2
    return outer[0] <= cx <= outer[2] and outer[1] <= cy <= outer[3]


def associated_phone_score(
    detections: Detections, face: Box | None, rules: PhoneRules | None = None
) -> float:
    """Confidence of the best phone associated with the user in one frame (0 when none).

    With a face, a phone is associated when it overlaps the face box grown by
    ``face_reach``; without one, when its centre lies inside a detected person's box.
    """
    r = rules if rules is not None else PhoneRules()
    names = detections.class_names
    if r.phone_class not in names:
        return 0.0
    phone_id = names.index(r.phone_class)
    phones = detections.select(
        (detections.class_id == phone_id) & (detections.confidence >= r.min_confidence)
    )
    if not len(phones):
        return 0.0
    if face is not None:
        anchors = [_grow(face, r.face_reach)]
        test: Callable[[Box, Box], bool] = _overlaps
    else:
        if r.person_class not in names:
            return 0.0
        people = detections.select(detections.class_id == names.index(r.person_class))
        anchors = [tuple(float(v) for v in box) for box in people.xyxy]  # type: ignore[misc]
        test = _contains_centre
    best = 0.0
    for box, conf in zip(phones.xyxy, phones.confidence, strict=True):
        phone: Box = (float(box[0]), float(box[1]), float(box[2]), float(box[3]))
        if any(test(anchor, phone) for anchor in anchors):
            best = max(best, float(conf))
    return best


class PhoneWatch:
    """Remembers the last ``window`` frames' associated-phone scores (one per client).

    Args:
        rules: Association and persistence rules.
    """

    def __init__(self, rules: PhoneRules | None = None) -> None:
        self.rules = rules if rules is not None else PhoneRules()
        self._scores: deque[float] = deque(maxlen=self.rules.window)

    def update(self, detections: Detections, face: Box | None) -> PhoneEvidence:
        """Add one frame's detections (and the user's face box, if any)."""
        self._scores.append(associated_phone_score(detections, face, self.rules))
        scores = np.asarray(self._scores, np.float64)
        hits = int((scores > 0).sum())
        return PhoneEvidence(hits >= self.rules.min_hits, float(scores.mean()), hits, len(scores))

    def reset(self) -> None:
        """Forget the window (a new session)."""
        self._scores.clear()

"""How hard a verification pipeline works per frame: the capacity optimisations, switchable.

``tests/integration/test_verify_capacity.py`` checks that the decision sequence
on the shared clips is the same with all of them on and all off. Two of them can
move a liveness verdict, so a spoof may be caught a little later: the liveness
skipping (below), and the adaptive face side, whose 320 px landmarks are coarser
(on the simulated print attack of that test the first window turned from spoof
to live: sign-out two frames later than with every optimisation off).
``AnalysisTuning.baseline()`` turns them all off:

* **adaptive face resolution**: the face detector first sees the frame at the
  smallest of ``face_sides`` (a webcam user's face is large), and a larger side
  when no face is found there, or when the face found does not continue the
  client's face track (overlap with the last frame's face under
  ``small_track_iou``) or is weak (confidence under ``small_confidence``): the
  small pass can see a face in what is none at full size, so a face appearing is
  always confirmed at full size;
* **device detector every k frames**: the object detector (phones, screens) runs
  every ``objects_every`` frames, and at once when the face appears, disappears
  or moves (its overlap with the face at the detector's last run falls under
  ``objects_move_iou``), and on every frame while the phone window holds a phone;
  a skipped frame reuses the last detections (which then show no phone);
* **embedding reuse**: while the face track is stable (overlap with the face last
  embedded at least ``reuse_iou`` and no landmark moved by more than
  ``reuse_landmarks`` of the face's height) its descriptor is reused; a new one is
  computed when the face changes and at least every ``reverify_seconds``;
* **liveness every other frame while clearly live**: the liveness window (which
  overlaps the previous one in all but one frame) is scored every
  ``liveness_every`` frames while the last score was at least
  ``liveness_margin`` above the policy's threshold, and on every frame otherwise
  (the face just appeared, or the last score was low); a frame not scored gives
  the verifier no liveness verdict (it neither counts nor clears a spoof streak).
  This one is not free: a spoof is seen at most ``liveness_every - 1`` frames
  later than before (then every window is scored, and ``spoof_windows`` in a row
  still sign out). ``liveness_every = 1`` turns it off;
* **batching**: a pipeline takes the ready frame of up to ``batch`` of its sessions
  (one per session, round robin) and runs each model once on all of them where the
  shapes allow.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from argus.domain.errors import ValidationError
from argus.domain.faces import Face

__all__ = ["AnalysisTuning", "box_iou", "face_stable"]


@dataclass(frozen=True, slots=True)
class AnalysisTuning:
    """The capacity optimisations of a pipeline (see the module doc).

    Attributes:
        face_sides: Longest image sides tried by the face detector, smallest first;
            ``(640,)`` is the unoptimised single pass.
        small_confidence: Weakest face a smaller pass may report without confirmation.
        small_track_iou: Smallest overlap with the last frame's face for a smaller
            pass's face to stand without confirmation.
        objects_every: Run the object detector every this many frames (1: every frame).
        objects_move_iou: Face overlap with the face at the object detector's last run
            under which it runs again at once.
        reuse_embedding: Reuse the descriptor while the face track is stable.
        reuse_iou: Smallest overlap with the face last embedded that counts as stable.
        reuse_landmarks: Largest landmark shift, as a share of the face's height, that
            counts as stable.
        reverify_seconds: A descriptor is never reused for longer than this.
        liveness_every: Score the liveness window every this many frames while the
            last score was clearly live (1: every frame).
        liveness_margin: How far above the policy's liveness threshold the last score
            must be for the next window to be skipped.
        batch: Most frames (one per session) a pipeline analyses in one batch.
    """

    face_sides: tuple[int, ...] = (320, 640)
    small_confidence: float = 0.8
    small_track_iou: float = 0.3
    objects_every: int = 5
    objects_move_iou: float = 0.6
    reuse_embedding: bool = True
    reuse_iou: float = 0.85
    reuse_landmarks: float = 0.05
    reverify_seconds: float = 5.0
    liveness_every: int = 2
    liveness_margin: float = 0.2
    batch: int = 8

    def __post_init__(self) -> None:
        if not self.face_sides or min(self.face_sides) < 32:
            raise ValidationError("face_sides needs at least one side of 32 pixels or more")
        if list(self.face_sides) != sorted(self.face_sides):
            raise ValidationError("face_sides must be ordered smallest first")
        if min(self.objects_every, self.batch, self.liveness_every) < 1:
            raise ValidationError("objects_every, liveness_every and batch must be at least 1")
        if not 0 <= self.liveness_margin < 1:
            raise ValidationError("liveness_margin must lie in [0, 1)")
        overlaps = (self.objects_move_iou, self.reuse_iou, self.small_track_iou)
        if not all(0 <= v <= 1 for v in (*overlaps, self.small_confidence)):
            raise ValidationError("the overlap and confidence thresholds must lie in [0, 1]")
        if self.reuse_landmarks < 0 or self.reverify_seconds < 0:
            raise ValidationError("reuse_landmarks and reverify_seconds must not be negative")

    @classmethod
    def baseline(cls) -> AnalysisTuning:
        """Every optimisation off: what each frame cost before issue 22."""
        return cls(
            face_sides=(640,), objects_every=1, reuse_embedding=False, liveness_every=1, batch=1
        )


def box_iou(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    """Intersection over union of two ``(x1, y1, x2, y2)`` boxes."""
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    inter = max(0.0, w) * max(0.0, h)
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def face_stable(previous: Face, face: Face, tuning: AnalysisTuning) -> bool:
    """Whether ``face`` continues ``previous`` closely enough to reuse its descriptor."""
    if box_iou(previous.xyxy, face.xyxy) < tuning.reuse_iou:
        return False
    height = max(face.xyxy[3] - face.xyxy[1], 1e-6)
    shift = np.linalg.norm(face.landmark_array() - previous.landmark_array(), axis=1)
    return bool(shift.max() <= tuning.reuse_landmarks * height)

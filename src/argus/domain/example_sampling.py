"""Which analysed frames become hard-example candidates, and the boxes kept for verdicts.

``ExampleSampler`` watches one camera run's tracked detections, one frame at a
time (one verb, ``observe``), and proposes a frame when:

* a detection's score falls inside the uncertainty band ``[band_low, band_high)``
  (``uncertain``);
* a track ended after only a few frames (``short_track``), proposing the last
  frame it was seen on (kept in a short history);
* a new track starts close to where a missing track of the same class was last
  seen, near a counting line (``id_switch``): the tracker probably gave one
  object a new identity where the count depends on it.

At most one candidate per frame (an identity switch first, then a short track,
then an uncertain score), at least ``min_gap`` apart and at most ``per_hour`` in
any hour: sampling is bounded per camera. State is bounded (tracks unseen for
long are forgotten; at most ``MAX_TRACKS`` are followed).

``DetectionMemory`` keeps each local camera's recent boxes, so that when an
operator dismisses or confirms an alert minutes later its example gets the
boxes the model drew on the alert's frame. Observers write it from the camera
threads and the service reads it on the event loop, so it takes a lock.
"""

from __future__ import annotations

import math
import threading
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from argus.domain.detections import Detections
from argus.domain.errors import ValidationError
from argus.domain.hard_examples import MAX_BOXES, ExampleSource, LabelBox

__all__ = [
    "CANDIDATE_EVENT",
    "MAX_TRACKS",
    "Candidate",
    "DetectionMemory",
    "ExampleSampler",
    "LineBook",
    "Recalled",
    "SamplingPolicy",
    "Segment",
    "boxes_of",
    "scale_boxes",
]

CANDIDATE_EVENT = "example.candidate"
"""The type of the event a sampled candidate travels in (payload: ``Candidate`` as JSON)."""

MAX_TRACKS = 1000
"""Most tracks one sampler follows at once (the oldest are forgotten first)."""

Segment = tuple[tuple[float, float], tuple[float, float]]
"""A counting line as its two end points, in the frame's pixels."""


@dataclass(frozen=True, slots=True)
class SamplingPolicy:
    """How a camera's frames are sampled.

    Attributes:
        band_low: Lowest score of the uncertainty band.
        band_high: The band ends below this score.
        short_track_frames: A track seen on at most this many frames is short (0: none).
        lost_after_frames: A track unseen for more analysed frames than this has ended.
        switch_distance_px: Largest distance, in pixels, between where a track was
            last seen and where a new one starts, and from there to a line, for an
            identity switch (0: none).
        min_gap: Shortest time between two candidates.
        per_hour: Most candidates in any hour (0: none at all).
    """

    band_low: float = 0.3
    band_high: float = 0.5
    short_track_frames: int = 3
    lost_after_frames: int = 5
    switch_distance_px: float = 48.0
    min_gap: timedelta = timedelta(seconds=10)
    per_hour: int = 20

    def __post_init__(self) -> None:
        if not 0.0 <= self.band_low < self.band_high <= 1.0:
            raise ValidationError(
                f"the uncertainty band needs 0 <= low < high <= 1 "
                f"(got {self.band_low}, {self.band_high})"
            )
        if self.short_track_frames < 0 or self.lost_after_frames < 1 or self.per_hour < 0:
            raise ValidationError("sampling counts must be non-negative (lost_after_frames >= 1)")
        if not (math.isfinite(self.switch_distance_px) and self.switch_distance_px >= 0):
            raise ValidationError("switch_distance_px must be a finite number >= 0")
        if self.min_gap < timedelta(0):
            raise ValidationError("min_gap must not be negative")


@dataclass(frozen=True, slots=True)
class Candidate:
    """A frame proposed as a hard example.

    Attributes:
        source: Why.
        at: When the frame was taken.
        width: Frame width in pixels.
        height: Frame height in pixels.
        boxes: Every detection of that frame, in its pixels.
        track_id: The track concerned, if one is.
        note: The reason in words.
    """

    source: ExampleSource
    at: datetime
    width: int
    height: int
    boxes: tuple[LabelBox, ...]
    track_id: int | None
    note: str


def boxes_of(detections: Detections, width: int, height: int) -> tuple[LabelBox, ...]:
    """The detections as boxes clipped to a ``width`` x ``height`` frame (empty ones left out)."""
    names = detections.class_names
    boxes: list[LabelBox] = []
    for (x1, y1, x2, y2), score, class_id in zip(
        detections.xyxy.tolist(),
        detections.confidence.tolist(),
        detections.class_id.tolist(),
        strict=True,
    ):
        cx1, cy1 = min(max(x1, 0.0), width), min(max(y1, 0.0), height)
        cx2, cy2 = min(max(x2, 0.0), width), min(max(y2, 0.0), height)
        if cx1 < cx2 and cy1 < cy2 and len(boxes) < MAX_BOXES:
            name = names[class_id] if class_id < len(names) else f"class{class_id}"
            boxes.append(LabelBox(cx1, cy1, cx2, cy2, name, min(max(score, 0.0), 1.0)))
    return tuple(boxes)


def scale_boxes(
    boxes: Sequence[LabelBox], source: tuple[int, int], target: tuple[int, int]
) -> tuple[LabelBox, ...]:
    """``boxes`` of a ``source`` (width, height) frame in the pixels of a ``target`` frame."""
    sx, sy = target[0] / source[0], target[1] / source[1]
    scaled: list[LabelBox] = []
    for b in boxes:
        x1, y1 = min(b.x1 * sx, target[0]), min(b.y1 * sy, target[1])
        x2, y2 = min(b.x2 * sx, target[0]), min(b.y2 * sy, target[1])
        if x1 < x2 and y1 < y2:
            scaled.append(LabelBox(x1, y1, x2, y2, b.class_name, b.score))
    return tuple(scaled)


def _distance_to_segment(point: tuple[float, float], segment: Segment) -> float:
    (ax, ay), (bx, by) = segment
    px, py = point
    dx, dy = bx - ax, by - ay
    length = dx * dx + dy * dy
    t = 0.0 if length == 0 else max(0.0, min(1.0, ((px - ax) * dx + (py - ay) * dy) / length))
    return math.hypot(px - (ax + t * dx), py - (ay + t * dy))


@dataclass(slots=True)
class _Track:
    first: int
    last: int
    hits: int
    class_name: str
    point: tuple[float, float]
    switched: bool = False


@dataclass(frozen=True, slots=True)
class _Seen:
    frame: int
    at: datetime
    boxes: tuple[LabelBox, ...]


class ExampleSampler:
    """Proposes a camera run's frames worth a label (see the module docstring).

    Args:
        policy: The band, the track rules and the limits.
        lines: The camera's counting lines now (read when a new track starts).
    """

    def __init__(self, policy: SamplingPolicy, lines: Callable[[], Sequence[Segment]]) -> None:
        self._policy = policy
        self._lines = lines
        self._frame = 0
        self._tracks: dict[int, _Track] = {}
        self._history: deque[_Seen] = deque(maxlen=policy.lost_after_frames + 2)
        self._emitted: deque[datetime] = deque()
        self._pending_short: list[tuple[int, _Track]] = []

    def observe(
        self, at: datetime, width: int, height: int, detections: Detections
    ) -> Candidate | None:
        """Look at one analysed frame; the candidate it makes, if any (and the limits allow)."""
        self._frame += 1
        boxes = boxes_of(detections, width, height)
        self._history.append(_Seen(self._frame, at, boxes))
        switch = self._follow(detections)
        proposals: list[Candidate] = []
        if switch is not None:
            track_id, gone_id = switch
            note = f"track {track_id} started where track {gone_id} was lost, near a line"
            proposals.append(
                Candidate(ExampleSource.ID_SWITCH, at, width, height, boxes, track_id, note)
            )
        proposals += self._short_tracks(width, height)
        proposals += self._uncertain(at, width, height, boxes)
        for candidate in proposals:
            if self._allowed(candidate.at):
                return candidate
        return None

    def _follow(self, detections: Detections) -> tuple[int, int] | None:
        """Update the tracks; the (new, lost) pair of an identity switch near a line, if any."""
        policy, frame, switch = self._policy, self._frame, None
        names = detections.class_names
        present = frozenset(detections.tracker_id.tolist())
        for (x1, _y1, x2, y2), class_id, track_id in zip(
            detections.xyxy.tolist(),
            detections.class_id.tolist(),
            detections.tracker_id.tolist(),
            strict=True,
        ):
            if track_id < 0:
                continue
            name = names[class_id] if class_id < len(names) else f"class{class_id}"
            point = ((x1 + x2) / 2.0, y2)
            track = self._tracks.get(track_id)
            if track is None:
                track = self._tracks[track_id] = _Track(frame, frame, 0, name, point)
                gone = self._switched_from(track, present)
                if gone is not None and switch is None:
                    switch = (track_id, gone)
            track.last, track.hits, track.point = frame, track.hits + 1, point
        for track_id, track in list(self._tracks.items()):
            if frame - track.last > policy.lost_after_frames:
                del self._tracks[track_id]
                if 0 < track.hits <= policy.short_track_frames and not track.switched:
                    self._pending_short.append((track_id, track))
        while len(self._tracks) > MAX_TRACKS:
            del self._tracks[next(iter(self._tracks))]
        return switch

    def _switched_from(self, new: _Track, present: frozenset[int]) -> int | None:
        """The missing track ``new`` probably continues near a line, if any."""
        reach = self._policy.switch_distance_px
        if reach <= 0:
            return None
        lines = self._lines()
        for gone_id, gone in self._tracks.items():
            if gone_id in present or gone.switched or gone.class_name != new.class_name:
                continue
            if math.dist(gone.point, new.point) > reach:
                continue
            if any(_distance_to_segment(gone.point, line) <= reach for line in lines):
                gone.switched = True  # its end is this switch, not a short track
                return gone_id
        return None

    def _short_tracks(self, width: int, height: int) -> list[Candidate]:
        found: list[Candidate] = []
        for track_id, track in self._pending_short:
            seen = next((s for s in self._history if s.frame == track.last), None)
            if seen is not None:
                note = f"track {track_id} ({track.class_name}) ended after {track.hits} frame(s)"
                found.append(
                    Candidate(
                        ExampleSource.SHORT_TRACK,
                        seen.at,
                        width,
                        height,
                        seen.boxes,
                        track_id,
                        note,
                    )
                )
        self._pending_short.clear()
        return found

    def _uncertain(
        self, at: datetime, width: int, height: int, boxes: tuple[LabelBox, ...]
    ) -> list[Candidate]:
        """An uncertain candidate when a box in the frame scored inside the band."""
        low, high = self._policy.band_low, self._policy.band_high
        scores = [b.score for b in boxes if b.score is not None and low <= b.score < high]
        if not scores:
            return []
        note = (
            f"{len(scores)} detection(s) scored in [{low:.2f}, {high:.2f}), "
            f"lowest {min(scores):.2f}"
        )
        return [Candidate(ExampleSource.UNCERTAIN, at, width, height, boxes, None, note)]

    def _allowed(self, at: datetime) -> bool:
        """Whether the limits let a candidate at ``at`` through (and count it if so)."""
        policy, emitted = self._policy, self._emitted
        while emitted and at - emitted[0] >= timedelta(hours=1):
            emitted.popleft()
        if len(emitted) >= policy.per_hour:
            return False
        if emitted and at - emitted[-1] < policy.min_gap:
            return False
        emitted.append(at)
        return True


@dataclass(frozen=True, slots=True)
class Recalled:
    """The boxes a camera's model drew on one recent frame.

    Attributes:
        at: When the frame was taken.
        width: Its width in pixels.
        height: Its height in pixels.
        model_ref: The model that drew them (``name@version``).
        boxes: The boxes, in that frame's pixels.
    """

    at: datetime
    width: int
    height: int
    model_ref: str
    boxes: tuple[LabelBox, ...]


@dataclass(slots=True)
class _Kept:
    frames: deque[Recalled] = field(default_factory=deque)


class DetectionMemory:
    """Each camera's recent boxes, for ``window`` and at most ``per_camera`` frames.

    Args:
        window: How long a frame's boxes are kept.
        per_camera: Most frames kept per camera.
    """

    def __init__(self, window: timedelta, per_camera: int = 20_000) -> None:
        if per_camera < 1:
            raise ValidationError("a detection memory keeps at least one frame per camera")
        self._window = window
        self._per_camera = per_camera
        self._cameras: dict[str, _Kept] = {}
        self._lock = threading.Lock()

    def remember(self, camera_id: str, frame: Recalled) -> None:
        """Keep one frame's boxes (frames with no box are kept too: nothing was seen)."""
        if self._window <= timedelta(0):
            return
        with self._lock:
            kept = self._cameras.setdefault(camera_id, _Kept()).frames
            kept.append(frame)
            while kept and (len(kept) > self._per_camera or frame.at - kept[0].at > self._window):
                kept.popleft()

    def recall(self, camera_id: str, at: datetime, tolerance: timedelta) -> Recalled | None:
        """The kept frame nearest ``at``, if one lies within ``tolerance`` of it."""
        with self._lock:
            kept = self._cameras.get(camera_id)
            frames = tuple(kept.frames) if kept is not None else ()
        best = min(frames, key=lambda f: abs(f.at - at), default=None)
        if best is None or abs(best.at - at) > tolerance:
            return None
        return best

    def forget(self, camera_id: str) -> None:
        """Drop a camera's boxes (its footage was erased)."""
        with self._lock:
            self._cameras.pop(camera_id, None)


class LineBook:
    """Each camera's counting lines as segments, written by the control plane, read by samplers."""

    def __init__(self) -> None:
        self._lines: dict[str, tuple[Segment, ...]] = {}
        self._lock = threading.Lock()

    def put(self, camera_id: str, segments: Sequence[Segment]) -> None:
        """Set a camera's lines."""
        with self._lock:
            self._lines[camera_id] = tuple(segments)

    def get(self, camera_id: str) -> tuple[Segment, ...]:
        """A camera's lines (none when unknown)."""
        with self._lock:
            return self._lines.get(camera_id, ())

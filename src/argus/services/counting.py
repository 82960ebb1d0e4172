"""Counting accuracy: line counts from our tracks against counts from ground truth.

The same ``LineZone`` counts crossings over the ground-truth trajectories
(ids and boxes from ``gt.txt``, which nobody here wrote) and over the tracks
each tracker under test makes from the public detections. The difference is
what an operator would see as a wrong count.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from argus.domain.analytics import LineZone
from argus.domain.detections import Detections
from argus.services.mot import EvalTracker, MotSequence

__all__ = ["LineCount", "count_crossings", "default_lines", "evaluate_counts"]

Segment = tuple[tuple[float, float], tuple[float, float]]


@dataclass(frozen=True, slots=True)
class LineCount:
    """Counts on one line of one sequence by one tracker.

    Attributes:
        sequence: Sequence name.
        line: Line name.
        tracker: Tracker name.
        truth_in: Crossings in by the ground-truth trajectories.
        truth_out: Crossings out by the ground-truth trajectories.
        counted_in: Crossings in by the tracker's tracks.
        counted_out: Crossings out by the tracker's tracks.
    """

    sequence: str
    line: str
    tracker: str
    truth_in: int
    truth_out: int
    counted_in: int
    counted_out: int

    @property
    def error(self) -> int:
        """Absolute count error over both directions."""
        return abs(self.counted_in - self.truth_in) + abs(self.counted_out - self.truth_out)

    @property
    def truth(self) -> int:
        """Ground-truth crossings over both directions."""
        return self.truth_in + self.truth_out


def default_lines(width: int, height: int) -> dict[str, Segment]:
    """Three full-height vertical lines at a quarter, half and three quarters of the width."""
    return {
        f"x={round(width * f)}": ((width * f, 0.0), (width * f, float(height)))
        for f in (0.25, 0.5, 0.75)
    }


def count_crossings(
    frames: Iterable[Detections], segment: Segment, *, frame_rate: float, min_crossing_frames: int
) -> tuple[int, int]:
    """Count in/out crossings of tracked detections over a line."""
    zone = LineZone(segment[0], segment[1], min_crossing_frames=min_crossing_frames)
    for index, detections in enumerate(frames):
        zone.trigger(detections, index / frame_rate)
    return zone.in_count, zone.out_count


def _tracks(tracker: EvalTracker, sequence: MotSequence) -> list[Detections]:
    tracker.start(sequence.frame_rate)
    out = []
    for detections in sequence.frames:
        xyxy, ids = tracker.collect(tracker.update(tracker.prepare(detections)))
        out.append(
            Detections(
                xyxy=xyxy,
                confidence=np.ones(len(ids), dtype=np.float32),
                class_id=np.zeros(len(ids), dtype=np.int64),
                tracker_id=np.asarray(ids, dtype=np.int64),
                class_names=detections.class_names,
            )
        )
    return out


def evaluate_counts(
    sequence: MotSequence,
    truth: Sequence[Detections],
    lines: Mapping[str, Segment],
    trackers: Sequence[EvalTracker],
    *,
    min_crossing_frames: int = 2,
) -> list[LineCount]:
    """Count every line on the ground truth and on each tracker's tracks of ``sequence``."""
    rate = sequence.frame_rate
    tracked = {tracker.name: _tracks(tracker, sequence) for tracker in trackers}
    out = []
    for name, segment in lines.items():
        truth_in, truth_out = count_crossings(
            truth, segment, frame_rate=rate, min_crossing_frames=min_crossing_frames
        )
        for tracker_name, frames in tracked.items():
            counted_in, counted_out = count_crossings(
                frames, segment, frame_rate=rate, min_crossing_frames=min_crossing_frames
            )
            out.append(
                LineCount(
                    sequence.name,
                    name,
                    tracker_name,
                    truth_in,
                    truth_out,
                    counted_in,
                    counted_out,
                )
            )
    return out

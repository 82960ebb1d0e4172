"""Counting accuracy: live line counts and offline re-counts against ground-truth counts.

Each tracker under test makes tracks from the public detections of a
sequence. Two counts come from those tracks: the **live** count, a
``LineZone`` fed frame by frame as a camera would (``mode`` ``"robust"`` by
default, ``"strict"`` being supervision's semantics), and the **re-count**,
``argus.domain.analytics.recount`` over the whole sequence's trajectories
with look-ahead.

The truth is the crossings of the ground-truth trajectories (ids and boxes of
``gt.txt``, which nobody here wrote), counted with the semantics of the count
it judges, so that no counter is marked wrong for following its own stated
rule on perfect trajectories:

- strict live counts are judged against ``LineZone(mode="strict")`` over the
  ground truth with the same ``min_crossing_frames`` (as before this
  module had a re-count);
- robust live counts and re-counts are judged against the band semantics over
  the ground truth (``count_paths``: a crossing is leaving the band on the
  other side, within the segment), with the same band. Annotated boxes of a
  person standing on a line wobble across it; strict semantics count those
  wobbles as crossings, the band does not.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from argus.domain.analytics import LineZone
from argus.domain.analytics.line import CountingMode
from argus.domain.analytics.recount import (
    RecountLine,
    Trajectory,
    TrajectoryRecorder,
    count_paths,
    recount,
)
from argus.domain.detections import Detections
from argus.services.mot import EvalTracker, MotSequence

__all__ = [
    "LineCount",
    "count_crossings",
    "default_lines",
    "evaluate_counts",
    "trajectories_of",
]

Segment = tuple[tuple[float, float], tuple[float, float]]

LIVE_STITCH_SECONDS = 1.0
"""Live robust counting's stitching window (the default of a line's ``stitch_seconds``)."""


@dataclass(frozen=True, slots=True)
class LineCount:
    """Counts on one line of one sequence by one tracker.

    Attributes:
        sequence: Sequence name.
        line: Line name.
        tracker: Tracker name.
        truth_in: Crossings in by the ground truth, under the live count's semantics.
        truth_out: Crossings out by the ground truth, under the live count's semantics.
        counted_in: Crossings in counted live from the tracker's tracks.
        counted_out: Crossings out counted live.
        recount_truth_in: Crossings in by the ground truth under the band semantics.
        recount_truth_out: Crossings out by the ground truth under the band semantics.
        recounted_in: Crossings in re-counted offline from the tracker's tracks.
        recounted_out: Crossings out re-counted offline.
        mode: The live count's mode.
    """

    sequence: str
    line: str
    tracker: str
    truth_in: int
    truth_out: int
    counted_in: int
    counted_out: int
    recount_truth_in: int = 0
    recount_truth_out: int = 0
    recounted_in: int = 0
    recounted_out: int = 0
    mode: CountingMode = "strict"

    @property
    def error(self) -> int:
        """Absolute live count error over both directions."""
        return abs(self.counted_in - self.truth_in) + abs(self.counted_out - self.truth_out)

    @property
    def truth(self) -> int:
        """Ground-truth crossings over both directions (live semantics)."""
        return self.truth_in + self.truth_out

    @property
    def recount_error(self) -> int:
        """Absolute re-count error over both directions."""
        return abs(self.recounted_in - self.recount_truth_in) + abs(
            self.recounted_out - self.recount_truth_out
        )

    @property
    def recount_truth(self) -> int:
        """Ground-truth crossings over both directions (band semantics)."""
        return self.recount_truth_in + self.recount_truth_out


def default_lines(width: int, height: int) -> dict[str, Segment]:
    """Three full-height vertical lines at a quarter, half and three quarters of the width."""
    return {
        f"x={round(width * f)}": ((width * f, 0.0), (width * f, float(height)))
        for f in (0.25, 0.5, 0.75)
    }


def count_crossings(
    frames: Iterable[Detections],
    segment: Segment,
    *,
    frame_rate: float,
    min_crossing_frames: int,
    mode: CountingMode = "strict",
    band: float = 0.0,
) -> tuple[int, int]:
    """Count in/out crossings of tracked detections over a line, frame by frame (live).

    Args:
        frames: Tracked detections, one per frame.
        segment: The line's two end points.
        frame_rate: Frames per second (timestamps of the frames).
        min_crossing_frames: Hysteresis of the line counter.
        mode: ``"strict"`` or ``"robust"`` (band, switch guard, stitching).
        band: Robust mode's band width in pixels (``0``: automatic).

    Returns:
        Crossings in and out.
    """
    # Strict mode ignores the band and stitching settings.
    zone = LineZone(
        segment[0],
        segment[1],
        min_crossing_frames=min_crossing_frames,
        mode=mode,
        band=band,
        stitch_seconds=LIVE_STITCH_SECONDS,
    )
    for index, detections in enumerate(frames):
        zone.trigger(detections, index / frame_rate)
    return zone.in_count, zone.out_count


def trajectories_of(frames: Sequence[Detections], frame_rate: float) -> list[Trajectory]:
    """Gather per-frame tracked detections into one trajectory per track id.

    The anchor is the box's bottom centre (the feet), as for ``LineZone``.

    Args:
        frames: Tracked detections, one per frame; frame ``k`` is at ``k / frame_rate`` s.
        frame_rate: Frames per second.

    Returns:
        One trajectory per track id (ids ``>= 0``), in id order.
    """
    recorder = TrajectoryRecorder()
    for index, detections in enumerate(frames):
        recorder.add(detections, index / frame_rate)
    return recorder.trajectories()


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
    mode: CountingMode = "robust",
    band: float = 0.0,
    stitch_seconds: float = 2.0,
) -> list[LineCount]:
    """Count every line on the ground truth and on each tracker's tracks of ``sequence``.

    Args:
        sequence: The sequence (public detections).
        truth: Ground-truth boxes with their ids as tracker ids, one per frame.
        lines: Line name to segment.
        trackers: Trackers under test.
        min_crossing_frames: Hysteresis of the live counter.
        mode: The live counter's mode.
        band: Band width in pixels for robust live counting and the re-count
            (``0``: automatic, a quarter of the box height).
        stitch_seconds: The re-count's longest stitched gap.

    Returns:
        One count per line and tracker, lines outermost.
    """
    rate = sequence.frame_rate
    tracked = {tracker.name: _tracks(tracker, sequence) for tracker in trackers}
    recount_lines = [RecountLine(name, seg[0], seg[1], band) for name, seg in lines.items()]
    band_truth = count_paths(trajectories_of(truth, rate), recount_lines)
    recounted = {
        name: recount(trajectories_of(frames, rate), recount_lines, stitch_seconds=stitch_seconds)
        for name, frames in tracked.items()
    }
    out = []
    for index, (name, segment) in enumerate(lines.items()):
        reference = band_truth[index]
        if mode == "strict":
            truth_in, truth_out = count_crossings(
                truth, segment, frame_rate=rate, min_crossing_frames=min_crossing_frames
            )
        else:
            truth_in, truth_out = reference.in_count, reference.out_count
        for tracker_name, frames in tracked.items():
            counted_in, counted_out = count_crossings(
                frames,
                segment,
                frame_rate=rate,
                min_crossing_frames=min_crossing_frames,
                mode=mode,
                band=band,
            )
            tally = recounted[tracker_name][index]
            out.append(
                LineCount(
                    sequence.name,
                    name,
                    tracker_name,
                    truth_in,
                    truth_out,
                    counted_in,
                    counted_out,
                    recount_truth_in=reference.in_count,
                    recount_truth_out=reference.out_count,
                    recounted_in=tally.in_count,
                    recounted_out=tally.out_count,
                    mode=mode,
                )
            )
    return out

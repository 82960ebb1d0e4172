"""Multi-object tracking evaluation: run trackers on MOTChallenge sequences and score them.

The service times each tracker's update call only (converting inputs and
outputs happens outside the timed region), writes one result file per tracker
and sequence, and asks a ``MotScorer`` for HOTA, MOTA and IDF1 per benchmark
group (MOT15 rules for TUD-style sequences, MOT17 rules for ``MOT17-*``).
"""

from __future__ import annotations

import gc
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from argus.domain.detections import Detections
from argus.ports.tracker import BoxTracker, MotScorer, MotScores

__all__ = [
    "COMBINED",
    "OURS",
    "EvalTracker",
    "GroupReport",
    "MotReport",
    "MotSequence",
    "PortTracker",
    "TrackRows",
    "TrackerResult",
    "benchmark_of",
    "evaluate_mot",
    "run_tracker",
]

COMBINED = "COMBINED"
"""Key of the scores over all sequences of a group."""

OURS = "argus"
"""Name of Argus's own tracker in reports."""

_MOT17_STYLE = ("MOT16", "MOT17", "MOT20")


def benchmark_of(sequence_name: str) -> str:
    """Return the TrackEval benchmark whose rules score a sequence (``MOT15`` by default)."""
    prefix = sequence_name[:5].upper()
    return prefix if prefix in _MOT17_STYLE else "MOT15"


@dataclass(frozen=True, eq=False)
class MotSequence:
    """A MOTChallenge sequence's detections, one ``Detections`` per frame.

    Attributes:
        name: Sequence name (from ``seqinfo.ini``).
        directory: The sequence folder (holds ``gt/gt.txt`` for scoring).
        frame_rate: Frames per second.
        frames: Detections of frames ``1..length``.
        has_ground_truth: Whether ``gt/gt.txt`` exists.
    """

    name: str
    directory: Path
    frame_rate: float
    frames: tuple[Detections, ...]
    has_ground_truth: bool = True

    @property
    def benchmark(self) -> str:
        """The TrackEval benchmark rules for this sequence."""
        return benchmark_of(self.name)


@dataclass(frozen=True, eq=False)
class TrackRows:
    """Tracker output of a whole sequence, one row per tracked box.

    Attributes:
        frame: 1-based frame numbers, shape ``(M,)``.
        track_id: Track ids, shape ``(M,)``.
        xyxy: Boxes, shape ``(M, 4)``.
    """

    frame: npt.NDArray[np.int64]
    track_id: npt.NDArray[np.int64]
    xyxy: npt.NDArray[np.float64]


class EvalTracker(Protocol):
    """A tracker under evaluation, split so that only ``update`` is timed."""

    @property
    def name(self) -> str:
        """Name in reports."""
        ...

    def start(self, frame_rate: float) -> None:
        """Begin a new sequence at this frame rate (fresh state)."""
        ...

    def prepare(self, detections: Detections) -> Any:
        """Convert a frame's detections to the tracker's input type (not timed)."""
        ...

    def update(self, prepared: Any) -> Any:
        """Track one frame (the timed call)."""
        ...

    def collect(self, output: Any) -> tuple[npt.NDArray[np.floating], npt.NDArray[np.integer]]:
        """Return boxes ``(K, 4)`` and positive ids ``(K,)`` of the tracked output (not timed)."""
        ...


class PortTracker:
    """Adapts any ``BoxTracker`` port implementation, built per frame rate, for evaluation.

    Args:
        name: Name in reports.
        factory: Builds a fresh tracker for a sequence's frame rate.
    """

    def __init__(self, name: str, factory: Callable[[float], BoxTracker]) -> None:
        self._name = name
        self._factory = factory
        self._tracker: BoxTracker | None = None

    @property
    def name(self) -> str:
        """Name in reports."""
        return self._name

    def start(self, frame_rate: float) -> None:
        """Build a fresh tracker for the sequence."""
        self._tracker = self._factory(frame_rate)

    def prepare(self, detections: Detections) -> Detections:
        """Our tracker takes ``Detections`` as they are."""
        return detections

    def update(self, prepared: Detections) -> Detections:
        """Track one frame."""
        if self._tracker is None:
            raise RuntimeError("start() must be called before update()")
        return self._tracker.update(prepared)

    def collect(self, output: Detections) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.int64]]:
        """Boxes and ids of the confirmed tracks."""
        return output.xyxy, output.tracker_id


@dataclass(frozen=True)
class SequenceRun:
    """One tracker over one sequence.

    Attributes:
        rows: The tracked boxes.
        seconds: Time spent inside the update calls (best of the repeats).
        updates: Update calls (frames).
    """

    rows: TrackRows
    seconds: float
    updates: int


def run_tracker(tracker: EvalTracker, sequence: MotSequence, repeats: int = 1) -> SequenceRun:
    """Run a tracker over a sequence, timing ``update`` only; keep the fastest repeat."""
    prepared = [tracker.prepare(d) for d in sequence.frames]
    best = math.inf
    outputs: list[Any] = []
    for _ in range(max(1, repeats)):
        tracker.start(sequence.frame_rate)
        outputs = []
        gc.collect()
        elapsed = 0.0
        for item in prepared:
            t0 = time.perf_counter()
            out = tracker.update(item)
            elapsed += time.perf_counter() - t0
            outputs.append(out)
        best = min(best, elapsed)
    frames: list[npt.NDArray[np.int64]] = []
    ids: list[npt.NDArray[np.int64]] = []
    boxes: list[npt.NDArray[np.float64]] = []
    for number, out in enumerate(outputs, start=1):
        xyxy, tid = tracker.collect(out)
        tid = np.asarray(tid, dtype=np.int64).reshape(-1)
        keep = tid > 0
        frames.append(np.full(int(keep.sum()), number, dtype=np.int64))
        ids.append(tid[keep])
        boxes.append(np.asarray(xyxy, dtype=np.float64).reshape(-1, 4)[keep])
    rows = TrackRows(np.concatenate(frames), np.concatenate(ids), np.concatenate(boxes))
    return SequenceRun(rows, best, len(prepared))


@dataclass(frozen=True)
class TrackerResult:
    """One tracker's scores and speed on a group of sequences.

    Attributes:
        scores: Sequence name (and ``COMBINED``) to scores.
        seconds: Time inside update calls per sequence.
        updates: Update calls per sequence.
    """

    scores: dict[str, MotScores]
    seconds: dict[str, float]
    updates: dict[str, int]

    def updates_per_second(self, sequence: str = COMBINED) -> float:
        """Update calls per second of update time, for one sequence or all."""
        if sequence == COMBINED:
            seconds, updates = sum(self.seconds.values()), sum(self.updates.values())
        else:
            seconds, updates = self.seconds[sequence], self.updates[sequence]
        return updates / seconds if seconds > 0 else math.inf


@dataclass(frozen=True)
class GroupReport:
    """All trackers on the sequences scored under one benchmark's rules.

    Attributes:
        benchmark: ``MOT15`` or ``MOT17`` (etc.).
        sequences: Sequence names, in input order.
        results: Tracker name to its result, ours first.
    """

    benchmark: str
    sequences: tuple[str, ...]
    results: dict[str, TrackerResult]

    def ratios(self, ours: str = OURS) -> dict[str, float]:
        """Ours over the best reference: ``hota``, ``idf1`` and ``speed`` (vs the fastest)."""
        refs = [r for name, r in self.results.items() if name != ours]
        mine = self.results[ours]
        if not refs:
            return {"hota": math.nan, "idf1": math.nan, "speed": math.nan}
        best_hota = max(r.scores[COMBINED].hota for r in refs)
        best_idf1 = max(r.scores[COMBINED].idf1 for r in refs)
        fastest = max(r.updates_per_second() for r in refs)
        return {
            "hota": _ratio(mine.scores[COMBINED].hota, best_hota),
            "idf1": _ratio(mine.scores[COMBINED].idf1, best_idf1),
            "speed": _ratio(mine.updates_per_second(), fastest),
        }


def _ratio(value: float, reference: float) -> float:
    return value / reference if reference > 0 else math.nan


@dataclass(frozen=True)
class MotReport:
    """Every group's report and where the result files are.

    Attributes:
        groups: One report per benchmark group, in order of first appearance.
        result_files: Tracker name to (sequence name to result file).
    """

    groups: list[GroupReport]
    result_files: dict[str, dict[str, Path]] = field(default_factory=dict)


def evaluate_mot(
    sequences: Sequence[MotSequence],
    trackers: Sequence[EvalTracker],
    scorer: MotScorer,
    write: Callable[[Path, TrackRows], None],
    out_dir: Path,
    *,
    repeats: int = 1,
    on_progress: Callable[[str], None] | None = None,
) -> MotReport:
    """Run every tracker on every sequence, write results and score them.

    Args:
        sequences: Loaded sequences (each with ground truth).
        trackers: Ours first, then references.
        scorer: Computes HOTA, MOTA and IDF1 from the files.
        write: Writes a result file.
        out_dir: The first tracker's files go to ``out_dir/<seq>.txt``, the
            others' to ``out_dir/references/<name>/<seq>.txt``.
        repeats: Runs per tracker and sequence; the fastest is timed.
        on_progress: Called with a short message per tracker and sequence.
    """
    runs: dict[str, dict[str, SequenceRun]] = {}
    files: dict[str, dict[str, Path]] = {}
    for position, tracker in enumerate(trackers):
        folder = out_dir if position == 0 else out_dir / "references" / tracker.name
        for sequence in sequences:
            if on_progress is not None:
                on_progress(f"{tracker.name}: {sequence.name}")
            run = run_tracker(tracker, sequence, repeats)
            path = folder / f"{sequence.name}.txt"
            write(path, run.rows)
            runs.setdefault(tracker.name, {})[sequence.name] = run
            files.setdefault(tracker.name, {})[sequence.name] = path
    groups: dict[str, list[MotSequence]] = {}
    for sequence in sequences:
        groups.setdefault(sequence.benchmark, []).append(sequence)
    reports = []
    for benchmark, members in groups.items():
        names = [s.name for s in members]
        scores = scorer.score(
            benchmark,
            {s.name: s.directory for s in members},
            {t: {n: files[t][n] for n in names} for t in files},
        )
        results = {
            t.name: TrackerResult(
                scores=scores[t.name],
                seconds={n: runs[t.name][n].seconds for n in names},
                updates={n: runs[t.name][n].updates for n in names},
            )
            for t in trackers
        }
        reports.append(GroupReport(benchmark, tuple(names), results))
    return MotReport(reports, files)

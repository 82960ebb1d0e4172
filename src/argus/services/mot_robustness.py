"""Robustness evaluation: every tracker on faulted copies of MOT sequences, per fault level.

For each level and seed, each source sequence is faulted (``mot_faults``),
written as a MOTChallenge folder, tracked by every tracker and scored with the
benchmark rules of its source (MOT15 for TUD-style, MOT17 for ``MOT17-*``).
All seeds of a level are scored together, so a level's ``COMBINED`` scores
cover every sequence and seed.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from argus.ports.tracker import MotScorer, MotScores
from argus.services.mot import (
    COMBINED,
    EvalTracker,
    GroupReport,
    MotReport,
    MotSequence,
    TrackRows,
    evaluate_mot,
)
from argus.services.mot_faults import FaultedSequence, FaultLevel

__all__ = ["LevelReport", "RobustnessReport", "evaluate_levels"]


@dataclass(frozen=True)
class LevelReport:
    """Every tracker on one fault level.

    Attributes:
        level: The faults applied.
        seeds: The seeds used.
        report: Scores per benchmark group (``COMBINED`` over sequences and seeds).
        sequences: The faulted sequences (detections, moved truth, camera warps).
        directories: Faulted sequence name to its MOTChallenge folder.
    """

    level: FaultLevel
    seeds: tuple[int, ...]
    report: MotReport
    sequences: tuple[FaultedSequence, ...]
    directories: dict[str, Path]

    def group(self, benchmark: str | None = None) -> GroupReport:
        """The group scored by ``benchmark``'s rules (default: the first group).

        Raises:
            KeyError: No sequence of this level is scored by that benchmark.
        """
        for group in self.report.groups:
            if benchmark is None or group.benchmark == benchmark:
                return group
        raise KeyError(f"no {benchmark} sequences at level {self.level.name}")

    def scores(self, tracker: str, benchmark: str | None = None) -> MotScores:
        """A tracker's combined scores on one benchmark group of this level."""
        return self.group(benchmark).results[tracker].scores[COMBINED]

    def updates_per_second(self, tracker: str, benchmark: str | None = None) -> float:
        """A tracker's update calls per second of update time on one group."""
        return self.group(benchmark).results[tracker].updates_per_second()


@dataclass(frozen=True)
class RobustnessReport:
    """Every tracker on every fault level.

    Attributes:
        levels: One report per level, in the order asked.
    """

    levels: list[LevelReport]

    def level(self, name: str) -> LevelReport:
        """The report of the level called ``name``.

        Raises:
            KeyError: No such level was evaluated.
        """
        for report in self.levels:
            if report.level.name == name:
                return report
        raise KeyError(f"level {name!r} was not evaluated")

    @property
    def trackers(self) -> tuple[str, ...]:
        """Tracker names, ours first."""
        if not self.levels or not self.levels[0].report.groups:
            return ()
        return tuple(self.levels[0].report.groups[0].results)

    @property
    def benchmarks(self) -> tuple[str, ...]:
        """Benchmark groups, in order of first appearance."""
        seen = [g.benchmark for lv in self.levels for g in lv.report.groups]
        return tuple(dict.fromkeys(seen))

    def mean_hota(self, tracker: str, benchmark: str | None = None) -> float:
        """A tracker's HOTA averaged over all levels (one benchmark group)."""
        values = [lv.scores(tracker, benchmark).hota for lv in self.levels]
        return sum(values) / len(values) if values else math.nan


def evaluate_levels(
    sources: Sequence[Path],
    levels: Sequence[FaultLevel],
    seeds: Sequence[int],
    *,
    fault: Callable[[Path, FaultLevel, int], FaultedSequence],
    store: Callable[[FaultedSequence, Path], Path],
    load: Callable[[Path], MotSequence],
    trackers: Sequence[EvalTracker],
    scorer: MotScorer,
    write: Callable[[Path, TrackRows], None],
    out_dir: Path,
    repeats: int = 1,
    on_progress: Callable[[str], None] | None = None,
) -> RobustnessReport:
    """Fault every source at every level and seed, track and score.

    Args:
        sources: Source MOTChallenge folders (with ground truth).
        levels: Fault levels.
        seeds: Seeds per level (each a different draw of the same faults).
        fault: Faults one source folder.
        store: Writes a faulted sequence under a folder and returns its folder.
        load: Reads a (faulted) folder as a ``MotSequence``.
        trackers: Ours first, then references.
        scorer: Computes HOTA, MOTA and IDF1 from the files.
        write: Writes a tracker result file.
        out_dir: ``<level>/sequences`` holds the faulted folders,
            ``<level>/results`` the result files.
        repeats: Runs per tracker and sequence; the fastest is timed.
        on_progress: Called with a short message per step.
    """
    reports: list[LevelReport] = []
    for level in levels:
        faulted: list[FaultedSequence] = []
        folders: dict[str, Path] = {}
        for seed in seeds:
            for source in sources:
                seq = fault(Path(source), level, seed)
                folders[seq.name] = store(seq, out_dir / level.name / "sequences")
                faulted.append(seq)
        if on_progress is not None:
            on_progress(f"level {level.name}: {len(faulted)} faulted sequences")
        report = evaluate_mot(
            [load(folders[s.name]) for s in faulted],
            trackers,
            scorer,
            write,
            out_dir / level.name / "results",
            repeats=repeats,
            on_progress=on_progress,
        )
        reports.append(LevelReport(level, tuple(seeds), report, tuple(faulted), folders))
    return RobustnessReport(reports)

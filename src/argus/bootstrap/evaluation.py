"""Tracker evaluation on MOTChallenge folders (``argus eval``): Argus's tracker and references.

The scoring and counting logic is ``argus.services.mot`` and
``argus.services.counting``; this wires in the adapters they need: the
MOTChallenge file format, the reference trackers and TrackEval.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from argus.bootstrap.container import make_tracker
from argus.domain.analytics.line import CountingMode
from argus.domain.tracking import ByteTracker, TrackerConfig
from argus.services.counting import LineCount, default_lines, evaluate_counts
from argus.services.mot import OURS, EvalTracker, MotReport, PortTracker, evaluate_mot
from argus.services.mot_faults import LEVELS, FaultLevel, level_named
from argus.services.mot_robustness import RobustnessReport, evaluate_levels

__all__ = [
    "evaluate_count_dirs",
    "evaluate_mot_dirs",
    "evaluate_robustness",
    "reference_tracker_names",
]


def reference_tracker_names() -> tuple[str, ...]:
    """Names of the reference trackers ``evaluate_mot_dirs`` can compare with."""
    from argus.adapters.mot.references import REFERENCE_TRACKERS

    return tuple(REFERENCE_TRACKERS)


def _trackers(config: TrackerConfig | None, references: Sequence[str]) -> list[EvalTracker]:
    """Argus's tracker (built per sequence frame rate from ``config``), then the references."""
    from argus.adapters.mot.references import ReferenceTracker

    base = config if config is not None else TrackerConfig()

    def ours(frame_rate: float) -> ByteTracker:
        return make_tracker(dataclasses.replace(base, frame_rate=frame_rate))

    trackers: list[EvalTracker] = [PortTracker(OURS, ours)]
    trackers += [ReferenceTracker(name) for name in references]
    return trackers


def evaluate_mot_dirs(
    seq_dirs: Sequence[Path],
    out_dir: Path,
    *,
    references: Sequence[str] = (),
    config: TrackerConfig | None = None,
    repeats: int = 1,
    on_progress: Callable[[str], None] | None = None,
) -> MotReport:
    """Run Argus's tracker (and references) on MOTChallenge folders and score them with TrackEval.

    Each sequence's frame rate (``seqinfo.ini``) scales the lost-track buffer.
    """
    from argus.adapters.mot.format import load_sequence, write_tracks
    from argus.adapters.mot.trackeval_runner import TrackEvalScorer

    trackers = _trackers(config, references)
    sequences = [load_sequence(Path(d)) for d in seq_dirs]
    return evaluate_mot(
        sequences,
        trackers,
        TrackEvalScorer(),
        write_tracks,
        out_dir,
        repeats=repeats,
        on_progress=on_progress,
    )


def evaluate_count_dirs(
    seq_dirs: Sequence[Path],
    lines: Mapping[str, tuple[tuple[float, float], tuple[float, float]]] | None = None,
    *,
    references: Sequence[str] = (),
    min_crossing_frames: int = 2,
    mode: CountingMode = "robust",
    band: float = 0.0,
) -> list[LineCount]:
    """Line counts from Argus's (and reference) tracks vs ground truth on MOTChallenge folders.

    Without ``lines`` each sequence gets three full-height vertical lines.
    Every count has the live count (``mode``, ``band``) and the offline
    re-count (``argus.services.counting.evaluate_counts``).
    """
    from argus.adapters.mot.format import load_ground_truth, load_sequence, read_frame_size
    from argus.adapters.mot.references import reference_tracker

    out: list[LineCount] = []
    for seq_dir in seq_dirs:
        sequence = load_sequence(seq_dir)
        trackers: list[EvalTracker] = [
            PortTracker(OURS, lambda rate: make_tracker(TrackerConfig(frame_rate=rate)))
        ]
        trackers += [reference_tracker(name) for name in references]
        out += evaluate_counts(
            sequence,
            load_ground_truth(seq_dir),
            lines if lines is not None else default_lines(*read_frame_size(seq_dir)),
            trackers,
            min_crossing_frames=min_crossing_frames,
            mode=mode,
            band=band,
        )
    return out


def evaluate_robustness(
    seq_dirs: Sequence[Path],
    out_dir: Path,
    *,
    levels: Sequence[FaultLevel | str] = LEVELS,
    seeds: Sequence[int] = (0,),
    references: Sequence[str] = (),
    config: TrackerConfig | None = None,
    repeats: int = 1,
    on_progress: Callable[[str], None] | None = None,
) -> RobustnessReport:
    """Score Argus's tracker (and references) on faulted copies of MOTChallenge folders.

    Every source is faulted at every level and seed (``argus.services.mot_faults``),
    written under ``out_dir/<level>/sequences`` and scored with TrackEval
    (MOT15 rules for TUD-style sources, MOT17 rules for ``MOT17-*``).

    Args:
        seq_dirs: Source folders with ``seqinfo.ini`` and ``gt/gt.txt``.
        out_dir: Where faulted folders and result files go.
        levels: Fault levels or their names (default: all of ``LEVELS``).
        seeds: Seeds per level.
        references: Reference tracker names to run on the same input.
        config: Argus's tracker settings (the frame rate is set per sequence).
        repeats: Runs per tracker and sequence; the fastest is timed.
        on_progress: Called with a short message per step.

    Returns:
        Per level, per benchmark group and tracker, combined scores and speed,
        plus the faulted sequences.

    Raises:
        ValidationError: An unknown level name or a malformed source folder.
        ConfigError: An unknown reference tracker.
    """
    from argus.adapters.mot.faulted import fault_sequence, write_faulted
    from argus.adapters.mot.format import load_sequence, write_tracks
    from argus.adapters.mot.trackeval_runner import TrackEvalScorer

    chosen = [level_named(lv) if isinstance(lv, str) else lv for lv in levels]
    return evaluate_levels(
        [Path(d) for d in seq_dirs],
        chosen,
        list(seeds),
        fault=fault_sequence,
        store=write_faulted,
        load=load_sequence,
        trackers=_trackers(config, references),
        scorer=TrackEvalScorer(),
        write=write_tracks,
        out_dir=Path(out_dir),
        repeats=repeats,
        on_progress=on_progress,
    )

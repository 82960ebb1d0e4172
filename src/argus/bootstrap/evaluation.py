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
from argus.domain.tracking import ByteTracker, TrackerConfig
from argus.services.counting import LineCount, default_lines, evaluate_counts
from argus.services.mot import OURS, EvalTracker, MotReport, PortTracker, evaluate_mot

__all__ = ["evaluate_count_dirs", "evaluate_mot_dirs", "reference_tracker_names"]


def reference_tracker_names() -> tuple[str, ...]:
    """Names of the reference trackers ``evaluate_mot_dirs`` can compare with."""
    from argus.adapters.mot.references import REFERENCE_TRACKERS

    return tuple(REFERENCE_TRACKERS)


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
    from argus.adapters.mot.references import ReferenceTracker
    from argus.adapters.mot.trackeval_runner import TrackEvalScorer

    base = config if config is not None else TrackerConfig()

    def ours(frame_rate: float) -> ByteTracker:
        return make_tracker(dataclasses.replace(base, frame_rate=frame_rate))

    trackers: list[EvalTracker] = [PortTracker(OURS, ours)]
    trackers += [ReferenceTracker(name) for name in references]
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
) -> list[LineCount]:
    """Line counts from Argus's (and reference) tracks vs ground truth on MOTChallenge folders.

    Without ``lines`` each sequence gets three full-height vertical lines.
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
        )
    return out

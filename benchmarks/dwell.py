"""Dwell accuracy: dwell per visit of Argus's tracks against the ground truth (TUD).

Argus's tracker tracks the public detections of TUD-Campus and TUD-Stadtmitte;
the tracks are recorded as a pipeline records them (5 Hz ``tracks.minute``
samples) and ``argus.domain.analytics.dwell`` measures the visits to three
full-height zones per sequence (left half, middle half, right half), joining
fragmented tracks first. The truth is the visits of the ground-truth
trajectories to the same zones (``argus.services.dwell_eval``). The goal
(issue 23): every mean dwell within 20 % of the truth. The per-exit column is
what a live zone reports per track fragment (the dwell API before issue 23).

    python -m benchmarks.dwell
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from benchmarks._common import REPO_ROOT, Section, markdown_table, progress, run_main

__all__ = ["GOAL", "MOT_DIR", "TUD", "checks_of", "run"]

MOT_DIR = REPO_ROOT.parent / "shared" / "eval" / "mot"
"""Where the MOTChallenge sequences are (beside the checkout)."""
TUD = ("TUD-Campus", "TUD-Stadtmitte")
GOAL = 0.20
TITLE = "Dwell per visit vs ground truth (`benchmarks/dwell.py`)"


def checks_of(seq_dir: Path) -> list[object]:
    """The ``DwellCheck`` of each side zone of one sequence folder (Argus's tracker)."""
    from argus.adapters.mot.format import load_ground_truth, load_sequence, read_frame_size
    from argus.bootstrap.container import make_tracker
    from argus.domain.tracking import TrackerConfig
    from argus.services.dwell_eval import evaluate_dwell, side_zones
    from argus.services.mot import OURS, PortTracker

    size = read_frame_size(seq_dir)
    tracker = PortTracker(OURS, lambda rate: make_tracker(TrackerConfig(frame_rate=rate)))
    return list(
        evaluate_dwell(
            load_sequence(seq_dir), load_ground_truth(seq_dir), side_zones(*size), tracker, size
        )
    )


def run(quick: bool = False) -> Section:
    """Measure every TUD sequence beside the checkout (``quick`` changes nothing: it is fast)."""
    del quick
    from argus.services.dwell_eval import DwellCheck

    dirs = [MOT_DIR / n for n in TUD if (MOT_DIR / n / "gt" / "gt.txt").is_file()]
    if not dirs:
        reason = f"skipped: {MOT_DIR} is absent (../shared/eval is only beside a project checkout)"
        progress(f"dwell: {reason}")
        return Section(TITLE, reason, [f"dwell: {reason}"])
    rows: list[Sequence[object]] = []
    worst = 0.0
    for seq_dir in dirs:
        progress(f"dwell: {seq_dir.name}")
        for check in checks_of(seq_dir):
            assert isinstance(check, DwellCheck)
            worst = max(worst, check.error)
            rows.append(
                [
                    f"{check.sequence} {check.zone}",
                    f"{check.truth_visits} · {check.truth_mean:.2f} s",
                    f"{check.visits} · {check.mean:.2f} s",
                    f"{check.error:.0%}",
                    f"{check.exits} · {check.exit_mean:.2f} s",
                ]
            )
    header = ["sequence and zone", "truth: visits · mean", "per visit", "error", "per exit (old)"]
    verdict = "met" if worst <= GOAL else "missed"
    body = markdown_table(header, rows) + f"\n\nGoal: every error <= {GOAL:.0%}: {verdict} "
    body += f"(worst {worst:.0%}).\n"
    return Section(TITLE, body, [f"dwell per visit: worst error {worst:.0%} ({verdict})"])


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m benchmarks.dwell``."""
    return run_main("Dwell per visit vs ground-truth trajectories on TUD.", run, argv)


if __name__ == "__main__":
    raise SystemExit(main())

"""Line-count accuracy: live and re-counted, Argus's tracker against reference trackers.

Every tracker tracks the public detections of each shared sequence
(TUD-Campus, TUD-Stadtmitte, MOT17-02/04/11/13) and, when
``argus.services.mot_faults`` is importable, faulted copies of the ground
truth at the robustness levels. Three full-height vertical lines per sequence
(``default_lines``) are counted live (``LineZone`` robust mode) and
re-counted offline (``argus.domain.analytics.recount``). The truth is the
ground-truth trajectories' crossings under the band semantics (see
``argus.services.counting``). Error = |in - true in| + |out - true out| per
line, summed, as a share of the true crossings.

The robustness levels keep every fault but camera motion (``camera_motion``
set to 0, levels named ``<level>-still``): the lines are fixed in the image,
so under a moving camera the ground truth "crosses" them whenever the camera
sways past a person standing near a line, and the truth would measure the
sway rather than people walking. Counting under camera motion needs the lines
fixed in the scene (motion-compensated), which these counts do not do.

    python -m benchmarks.counting [--quick]
"""

from __future__ import annotations

import dataclasses
import tempfile
from collections.abc import Sequence
from pathlib import Path

from benchmarks._common import REPO_ROOT, Section, markdown_table, progress, run_main

__all__ = ["MOT_DIR", "render", "run"]

MOT_DIR = REPO_ROOT.parent / "shared" / "eval" / "mot"
"""Where the MOTChallenge sequences are (beside the checkout)."""

TUD = ("TUD-Campus", "TUD-Stadtmitte")
MOT17 = ("MOT17-02-FRCNN", "MOT17-04-FRCNN", "MOT17-11-FRCNN", "MOT17-13-FRCNN")
LEVELS = ("light", "medium", "heavy")
QUICK_LEVELS = ("medium",)
GOAL = 0.10
TITLE = "Counting accuracy: live and re-counted (`benchmarks/counting.py`)"


def _share(error: int, truth: int) -> str:
    return f"{error} ({error / truth:.1%})" if truth else f"{error} (n/a)"


def render(results: Sequence[tuple[str, Sequence[object]]]) -> Section:
    """Turn ``(set name, LineCounts)`` pairs into one table per set, with the goal per set.

    Each table has a row per sequence and a total row: true crossings, then
    per tracker the live and the re-counted error with its share of the true
    crossings. The goal: Argus's re-count under 10 % of the true crossings on
    every sequence, and fewer errors than every reference's re-count and live
    count.
    """
    from argus.services.counting import LineCount
    from argus.services.mot import OURS

    parts: list[str] = []
    headline: list[str] = []
    for set_name, counts in results:
        rows_of = [c for c in counts if isinstance(c, LineCount)]
        trackers = list(dict.fromkeys(c.tracker for c in rows_of))
        sequences = list(dict.fromkeys(c.sequence for c in rows_of))
        header = ["sequence", "true crossings"]
        for tracker in trackers:
            header += [f"{tracker} live", f"{tracker} re-count"]
        table = []
        every_sequence = True
        for sequence in [*sequences, "all"]:
            chosen = [c for c in rows_of if sequence in ("all", c.sequence)]
            truth = sum(c.recount_truth for c in chosen if c.tracker == trackers[0])
            row: list[object] = [sequence, truth]
            for tracker in trackers:
                mine = [c for c in chosen if c.tracker == tracker]
                row += [
                    _share(sum(c.error for c in mine), truth),
                    _share(sum(c.recount_error for c in mine), truth),
                ]
            table.append(row)
            ours = sum(c.recount_error for c in chosen if c.tracker == OURS)
            if sequence != "all" and truth and ours / truth >= GOAL:
                every_sequence = False
        ours_total = sum(c.recount_error for c in rows_of if c.tracker == OURS)
        truth_total = sum(c.recount_truth for c in rows_of if c.tracker == trackers[0])
        others = [
            min(
                sum(c.recount_error for c in rows_of if c.tracker == t),
                sum(c.error for c in rows_of if c.tracker == t),
            )
            for t in trackers
            if t != OURS
        ]
        ahead = all(ours_total < other for other in others)
        met = every_sequence and ahead
        parts += [f"### {set_name}", "", markdown_table(header, table), ""]
        headline.append(
            f"counting {set_name}: {OURS} re-count {_share(ours_total, truth_total)} miscounted "
            f"of {truth_total} true crossings (goal < {GOAL:.0%} on every sequence and ahead of "
            f"every reference: {'met' if met else 'not met'})"
        )
    note = (
        "Live: `LineZone` robust mode (band, switch guard, stitching 1 s). Re-count: "
        "`recount()` over the whole sequence (smoothing, cutting at implausible jumps, "
        "global stitching up to 2 s). The truth: ground-truth trajectories counted with the "
        "band semantics (a crossing is leaving the band, a quarter of the box height wide, on "
        "the other side, within the segment)."
    )
    return Section(TITLE, "\n".join([*parts, note]), headline)


def _faulted_dirs(sources: Sequence[Path], level: str, root: Path) -> list[Path] | None:
    """Faulted copies at ``level`` with a still camera (see the module notes); None: no faults."""
    try:
        from argus.adapters.mot.faulted import fault_sequence, write_faulted
        from argus.services.mot_faults import level_named
    except ImportError:
        return None
    still = dataclasses.replace(level_named(level), name=f"{level}-still", camera_motion=0.0)
    return [write_faulted(fault_sequence(d, still, 0), root) for d in sources]


def run(quick: bool) -> Section:
    """Run the counting benchmark and return its section (skipped without the material)."""
    names = TUD if quick else TUD + MOT17
    dirs = [MOT_DIR / n for n in names if (MOT_DIR / n / "gt" / "gt.txt").is_file()]
    if not dirs:
        reason = f"skipped: {MOT_DIR} is absent (../shared/eval is only beside a project checkout)"
        progress(f"counting: {reason}")
        return Section(TITLE, reason, [f"counting: {reason}"])
    from argus.bootstrap.evaluation import evaluate_count_dirs, reference_tracker_names

    references = reference_tracker_names()
    results: list[tuple[str, Sequence[object]]] = []
    progress("counting: public detections")
    results.append(("public detections", evaluate_count_dirs(dirs, references=references)))
    with tempfile.TemporaryDirectory(prefix="argus-bench-count-") as tmp:
        for level in QUICK_LEVELS if quick else LEVELS:
            faulted = _faulted_dirs(dirs, level, Path(tmp) / level)
            if faulted is None:
                progress("counting: argus.services.mot_faults is absent; no robustness levels")
                break
            progress(f"counting: robustness level {level}")
            counts = evaluate_count_dirs(faulted, references=references)
            results.append((f"robustness level {level}, still camera (seed 0)", counts))
    return render(results)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m benchmarks.counting``."""
    return run_main("Line-count accuracy, live and re-counted, vs reference trackers.", run, argv)


if __name__ == "__main__":
    raise SystemExit(main())

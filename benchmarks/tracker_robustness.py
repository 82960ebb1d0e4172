"""Tracker robustness: every tracker on faulted copies of the MOT sequences, per fault level.

The faults (``argus.services.mot_faults``) are drawn from the ground truth:
misses in runs (occlusions), size-proportional jitter, false positives (some
persisting), fragmented boxes, merged boxes of overlapping people, camera
motion (a smooth random walk with a slight zoom, moving detections and ground
truth alike) and frame-rate drops. Levels ``light``, ``medium`` and ``heavy``
combine them; the other levels apply one fault each at medium strength.
Argus's tracker and the reference trackers see the same faulted detections
and are scored with TrackEval (MOT15 rules for TUD, MOT17 rules for MOT17).

    python -m benchmarks.tracker_robustness [--quick]

``--quick`` uses the TUD sequences and one seed; the full run adds the MOT17
sequences and a second seed.
"""

from __future__ import annotations

import math
import tempfile
from collections.abc import Sequence
from pathlib import Path

from benchmarks._common import Section, fmt_ratio, markdown_table, progress, run_main
from benchmarks.tracker import MOT17, MOT_DIR, TUD

__all__ = ["render", "run"]

QUICK_SEEDS = (0,)
SEEDS = (0, 1)
HOTA_GOAL = 1.0


def render(report: object) -> Section:
    """Turn a ``RobustnessReport`` into tables per level and benchmark, ratios and goals."""
    from argus.services.mot import COMBINED, OURS
    from argus.services.mot_robustness import RobustnessReport

    assert isinstance(report, RobustnessReport)
    parts: list[str] = []
    headline: list[str] = []
    for benchmark in report.benchmarks:
        overview = []
        hota_ratios: list[float] = []
        idf1_ratios: list[float] = []
        for level in report.levels:
            group = level.group(benchmark)
            rows = []
            for name, result in group.results.items():
                s = result.scores[COMBINED]
                rows.append(
                    [name, f"{s.hota:.1f}", f"{s.mota:.1f}", f"{s.idf1:.1f}", s.id_switches]
                )
            parts += [
                f"### {level.level.name} ({benchmark}, {len(group.sequences)} faulted sequences)",
                "",
                markdown_table(["tracker", "HOTA", "MOTA", "IDF1", "IDs"], rows),
                "",
            ]
            if len(group.results) > 1:
                r = group.ratios()
                hota_ratios.append(r["hota"])
                idf1_ratios.append(r["idf1"])
                overview.append(
                    [level.level.name, fmt_ratio(r["hota"]), fmt_ratio(r["idf1"])]
                    + [f"{res.scores[COMBINED].hota:.1f}" for res in group.results.values()]
                )
                parts += [
                    f"{OURS} / best reference: HOTA {fmt_ratio(r['hota'])}, "
                    f"IDF1 {fmt_ratio(r['idf1'])}.",
                    "",
                ]
        if overview:
            names = list(report.levels[0].group(benchmark).results)
            parts += [
                f"### Overview ({benchmark}): {OURS} / best reference and HOTA per level",
                "",
                markdown_table(
                    ["level", "HOTA ratio", "IDF1 ratio", *(f"HOTA {n}" for n in names)], overview
                ),
                "",
            ]
            worst = min(hota_ratios, default=math.nan)
            met = all(v >= HOTA_GOAL for v in hota_ratios)
            mean = sum(hota_ratios) / len(hota_ratios)
            headline.append(
                f"robustness {benchmark}: HOTA of the best reference, worst level "
                f"{fmt_ratio(worst)}, mean {fmt_ratio(mean)} over {len(hota_ratios)} levels "
                f"(goal >= {HOTA_GOAL:.2f} on every level: {'met' if met else 'not met'}); "
                f"IDF1 worst {fmt_ratio(min(idf1_ratios, default=math.nan))}"
            )
    return Section("Tracker robustness (faulted MOT)", "\n".join(parts), headline)


def run(quick: bool) -> Section:
    """Run the robustness benchmark and return its section (skipped without the material)."""
    names = TUD if quick else TUD + MOT17
    dirs = [MOT_DIR / n for n in names if (MOT_DIR / n / "gt" / "gt.txt").is_file()]
    title = "Tracker robustness (faulted MOT)"
    if not any(d.name in TUD for d in dirs):
        reason = f"skipped: {MOT_DIR} is absent (../shared/eval is only beside a project checkout)"
        progress(f"tracker_robustness: {reason}")
        return Section(title, reason, [f"tracker_robustness: {reason}"])
    from argus.bootstrap.evaluation import evaluate_robustness, reference_tracker_names

    seeds = QUICK_SEEDS if quick else SEEDS
    with tempfile.TemporaryDirectory(prefix="argus-bench-robust-") as tmp:
        report = evaluate_robustness(
            dirs,
            Path(tmp),
            seeds=seeds,
            references=reference_tracker_names(),
            on_progress=lambda message: progress(f"tracker_robustness: {message}"),
        )
    section = render(report)
    note = (
        f"\nSequences: {', '.join(d.name for d in dirs)}; seeds {', '.join(map(str, seeds))} "
        "per level, scored together. Detections are drawn from the ground truth with the "
        "level's faults (deterministic per sequence, level and seed); reference trackers run "
        "with their default settings and the faulted sequence's frame rate.\n"
    )
    return Section(section.title, section.body + note, section.headline)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m benchmarks.tracker_robustness``."""
    return run_main("Tracker robustness on faulted MOT sequences.", run, argv)


if __name__ == "__main__":
    raise SystemExit(main())

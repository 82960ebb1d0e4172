"""Multi-object tracking: Argus's tracker against reference trackers, same input, same run.

Runs Argus's ByteTrack-class tracker, supervision's ``sv.ByteTrack`` and the
``trackers`` package's ByteTrack, SORT and OC-SORT on MOTChallenge public detections
from ``../shared/eval/mot`` and scores them with TrackEval (HOTA, MOTA, IDF1).
Speed is update calls per second counting only the time inside each tracker's
update call (inputs are converted before, outputs read after), the fastest of
the repetitions. Accuracy is quoted from the TUD sequences (MOT15 rules); the
MOT17 detections are a tracker's own boxes and flatter every tracker, so they
serve for speed and regressions. The official ByteTrack's published TUD figures
(measured by peers, not run here) are shown beside them for context.

    python -m benchmarks.tracker [--quick]
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path

from benchmarks._common import REPO_ROOT, Section, fmt_ratio, markdown_table, progress, run_main

__all__ = ["MOT_DIR", "render", "run"]

MOT_DIR = REPO_ROOT.parent / "shared" / "eval" / "mot"
"""Where the MOTChallenge sequences are (beside the checkout)."""

TUD = ("TUD-Campus", "TUD-Stadtmitte")
MOT17 = ("MOT17-02-FRCNN", "MOT17-04-FRCNN", "MOT17-11-FRCNN", "MOT17-13-FRCNN")
REPEATS = 5
QUICK_REPEATS = 1
SPEED_GOAL = 3.0
OFFICIAL_BYTETRACK = "official ByteTrack (published by peers, not run here)"
OFFICIAL_SCORES: dict[str, tuple[float, float, float, int | None]] = {
    "COMBINED": (53.2, 67.9, 74.7, 14),
    "TUD-Campus": (51.4, 61.3, 71.3, None),
    "TUD-Stadtmitte": (53.7, 69.9, 75.8, None),
}
"""HOTA, MOTA, IDF1 and ID switches of the official ByteTrack on TUD (MOT15 rules)."""


def _official(group: object) -> tuple[list[list[object]], list[str], list[str]]:
    """The official ByteTrack's row, a per-sequence comparison and the ID-switch goal."""
    from argus.services.mot import COMBINED, OURS, GroupReport

    assert isinstance(group, GroupReport)
    if group.benchmark != "MOT15" or set(group.sequences) != set(TUD) or OURS not in group.results:
        return [], [], []
    hota, mota, idf1, ids = OFFICIAL_SCORES[COMBINED]
    row: list[object] = [
        OFFICIAL_BYTETRACK,
        f"{hota:.1f}",
        f"{mota:.1f}",
        f"{idf1:.1f}",
        ids,
        "n/a",
    ]
    ours = group.results[OURS].scores
    per_seq = [
        [
            seq,
            f"{ours[seq].hota:.1f} / {OFFICIAL_SCORES[seq][0]:.1f}",
            f"{ours[seq].mota:.1f} / {OFFICIAL_SCORES[seq][1]:.1f}",
            f"{ours[seq].idf1:.1f} / {OFFICIAL_SCORES[seq][2]:.1f}",
        ]
        for seq in group.sequences
    ]
    table = [
        f"Per sequence, {OURS} / official ByteTrack (published):",
        "",
        markdown_table(["sequence", "HOTA", "MOTA", "IDF1"], per_seq),
        "",
    ]
    switches = ours[COMBINED].id_switches
    assert ids is not None
    goal = (
        f"tracker MOT15 ID switches: {OURS} {switches} vs official ByteTrack {ids} "
        f"(goal: fewer than the official ByteTrack: {'met' if switches < ids else 'not met'})"
    )
    return [row], table, [goal]


def render(report: object) -> Section:
    """Turn a ``MotReport`` into tables per benchmark group, with ratios and goals."""
    from argus.services.mot import COMBINED, OURS, MotReport

    assert isinstance(report, MotReport)
    parts: list[str] = []
    headline: list[str] = []
    for group in report.groups:
        rows = []
        for name, result in group.results.items():
            s = result.scores[COMBINED]
            rows.append(
                [
                    name,
                    f"{s.hota:.1f}",
                    f"{s.mota:.1f}",
                    f"{s.idf1:.1f}",
                    s.id_switches,
                    f"{result.updates_per_second():.0f}",
                ]
            )
        official_rows, official_table, official_goal = _official(group)
        parts += [
            f"### {group.benchmark}: {', '.join(group.sequences)}",
            "",
            markdown_table(
                ["tracker", "HOTA", "MOTA", "IDF1", "IDs", "updates/s"], rows + official_rows
            ),
            "",
            *official_table,
        ]
        if len(group.results) > 1:
            r = group.ratios()
            accuracy_met = r["hota"] >= 1.0 and r["idf1"] >= 1.0
            speed_met = r["speed"] >= SPEED_GOAL
            parts += [
                f"{OURS} / best reference: HOTA {fmt_ratio(r['hota'])}, IDF1 "
                f"{fmt_ratio(r['idf1'])}, updates/s {fmt_ratio(r['speed'])} of the fastest.",
                "",
            ]
            # The accuracy bar is set on MOT15 (public detections); MOT17's
            # detections are a tracker's own boxes and flatter every tracker, so
            # there its figures are a regression check without a goal.
            accuracy_goal = (
                f"(goal >= 1.00: {'met' if accuracy_met else 'not met'})"
                if group.benchmark == "MOT15"
                else "(no accuracy goal: flattering detections)"
            )
            headline.append(
                f"tracker {group.benchmark}: HOTA {fmt_ratio(r['hota'])}, IDF1 "
                f"{fmt_ratio(r['idf1'])} of the best reference {accuracy_goal}, updates/s "
                f"{fmt_ratio(r['speed'])} of the fastest (goal >= {SPEED_GOAL:.2f}: "
                f"{'met' if speed_met else 'not met'})"
            )
        headline += official_goal
    return Section("Tracker (MOT)", "\n".join(parts), headline)


def run(quick: bool) -> Section:
    """Run the tracker benchmark and return its section (skipped without the material)."""
    names = TUD if quick else TUD + MOT17
    dirs = [MOT_DIR / n for n in names if (MOT_DIR / n / "gt" / "gt.txt").is_file()]
    if not any(d.name in TUD for d in dirs):
        reason = f"skipped: {MOT_DIR} is absent (../shared/eval is only beside a project checkout)"
        progress(f"tracker: {reason}")
        return Section("Tracker (MOT)", reason, [f"tracker: {reason}"])
    from argus.bootstrap.evaluation import evaluate_mot_dirs, reference_tracker_names

    with tempfile.TemporaryDirectory(prefix="argus-bench-mot-") as tmp:
        report = evaluate_mot_dirs(
            dirs,
            Path(tmp),
            references=reference_tracker_names(),
            repeats=QUICK_REPEATS if quick else REPEATS,
            on_progress=lambda message: progress(f"tracker: {message}"),
        )
    section = render(report)
    note = (
        "\nSpeed: time inside update() only, fastest of "
        f"{QUICK_REPEATS if quick else REPEATS} runs per sequence; reference trackers with "
        "their default settings and the sequence's frame rate.\n"
    )
    return Section(section.title, section.body + note, section.headline)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m benchmarks.tracker``."""
    return run_main("Tracker accuracy and speed vs reference trackers.", run, argv)


if __name__ == "__main__":
    raise SystemExit(main())

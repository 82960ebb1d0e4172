"""``argus eval``: accuracy and speed of Argus's components on public benchmarks."""

from __future__ import annotations

import math
import tempfile
from pathlib import Path

import typer

from argus.bootstrap.evaluation import (
    evaluate_count_dirs,
    evaluate_mot_dirs,
    evaluate_robustness,
    reference_tracker_names,
)
from argus.domain.errors import ConfigError
from argus.services.counting import LineCount
from argus.services.mot import COMBINED, OURS, GroupReport, MotReport
from argus.services.mot_faults import LEVELS
from argus.services.mot_robustness import RobustnessReport

__all__ = ["eval_app", "render_report", "render_robustness"]

_LEVELS = ", ".join(level.name for level in LEVELS)

_REFERENCES = ", ".join(reference_tracker_names())

eval_app = typer.Typer(
    help="Evaluate Argus's components on public benchmarks.", no_args_is_help=True
)


def _table(group: GroupReport) -> list[str]:
    lines = [f"{group.benchmark} ({', '.join(group.sequences)})"]
    header = (
        f"  {'tracker':<20} {'sequence':<18} {'HOTA':>6} {'MOTA':>6} {'IDF1':>6} "
        f"{'IDs':>5} {'updates/s':>10}"
    )
    for name, result in group.results.items():
        lines.append("")
        lines.append(header)
        for seq in (*group.sequences, COMBINED):
            s = result.scores[seq]
            ups = result.updates_per_second(seq)
            lines.append(
                f"  {name:<20} {seq:<18} {s.hota:6.1f} {s.mota:6.1f} {s.idf1:6.1f} "
                f"{s.id_switches:5d} {ups:10.0f}"
            )
    return lines


def _fmt(value: float) -> str:
    return "n/a" if not math.isfinite(value) else f"{value:.2f}x"


def render_report(report: MotReport, min_speed_ratio: float) -> tuple[list[str], list[str]]:
    """Return the printed lines and the failed bars (empty when all hold).

    Bars, per group with references: HOTA and IDF1 at least the best
    reference's, and updates per second at least ``min_speed_ratio`` times
    the fastest reference's (0 disables the speed bar).
    """
    lines: list[str] = []
    failures: list[str] = []
    for group in report.groups:
        lines += [*_table(group), ""]
        if len(group.results) < 2:
            continue
        ratios = group.ratios()
        lines.append(
            f"  {OURS} / best reference on {group.benchmark}: HOTA {_fmt(ratios['hota'])}, "
            f"IDF1 {_fmt(ratios['idf1'])}, updates/s {_fmt(ratios['speed'])} (vs the fastest)"
        )
        lines.append("")
        for key, bar in (("hota", 1.0), ("idf1", 1.0), ("speed", min_speed_ratio)):
            if bar > 0 and not ratios[key] >= bar:
                failures.append(f"{group.benchmark} {key} ratio {_fmt(ratios[key])} < {bar:.2f}x")
    return lines, failures


def _reference_names(reference: list[str] | None) -> list[str]:
    names = list(reference or [])
    if "all" in names:
        names = list(reference_tracker_names())
    unknown = sorted(set(names) - set(reference_tracker_names()))
    if unknown:
        raise ConfigError(
            f"unknown reference tracker(s): {', '.join(unknown)} "
            f"(known: {', '.join(reference_tracker_names())})"
        )
    return names


def mot(
    seq_dirs: list[Path] = typer.Argument(
        ..., help="MOTChallenge sequence folders (seqinfo.ini, det/det.txt, gt/gt.txt)."
    ),
    out: Path = typer.Option(
        None, "--out", "-o", help="Folder for <seq>.txt results (a temporary one when omitted)."
    ),
    reference: list[str] = typer.Option(
        None,
        "--reference",
        "-r",
        help=f"Reference tracker to run on the same input (repeatable): {_REFERENCES}, or 'all'.",
    ),
    repeat: int = typer.Option(
        1, "--repeat", min=1, max=20, help="Runs per tracker and sequence; the fastest is timed."
    ),
    check: bool = typer.Option(
        False, "--check", help="Exit 1 unless ours meets the bars against the references."
    ),
    min_speed_ratio: float = typer.Option(
        3.0,
        "--min-speed-ratio",
        min=0.0,
        help="Speed bar for --check: ours / fastest reference updates per second (0 disables).",
    ),
) -> None:
    """Track MOTChallenge public detections and score HOTA, MOTA and IDF1 with TrackEval.

    TUD-* style sequences are scored by MOT15 rules, MOT16/17/20-* by MOT17
    rules. Speed is the time inside each tracker's update call only.
    """
    names = _reference_names(reference)
    if check and not names:
        raise ConfigError("--check compares with references: add --reference NAME (or 'all')")
    with tempfile.TemporaryDirectory(prefix="argus-mot-") as tmp:
        out_dir = out if out is not None else Path(tmp)
        report = evaluate_mot_dirs(
            seq_dirs,
            out_dir,
            references=names,
            repeats=repeat,
            on_progress=lambda message: typer.echo(f"tracking {message}", err=True),
        )
        lines, failures = render_report(report, min_speed_ratio)
        for line in lines:
            typer.echo(line)
        if out is not None:
            typer.echo(f"results written to {out_dir}")
    if check:
        if failures:
            for failure in failures:
                typer.secho(f"bar not met: {failure}", fg=typer.colors.RED, err=True)
            raise typer.Exit(1)
        typer.echo("all bars met")


eval_app.command(name="mot")(mot)


def _parse_line(value: str) -> tuple[str, tuple[tuple[float, float], tuple[float, float]]]:
    name, sep, coords = value.partition("=")
    try:
        x1, y1, x2, y2 = (float(v) for v in coords.split(","))
    except ValueError:
        sep = ""
    if not sep or not name.strip():
        raise ConfigError(f"--line takes NAME=X1,Y1,X2,Y2, got {value!r}")
    return name.strip(), ((x1, y1), (x2, y2))


def counts(
    seq_dirs: list[Path] = typer.Argument(
        ..., help="MOTChallenge sequence folders with det/det.txt and gt/gt.txt."
    ),
    line: list[str] = typer.Option(
        None,
        "--line",
        "-l",
        help="Counting line NAME=X1,Y1,X2,Y2 (repeatable); default: vertical lines at "
        "1/4, 1/2 and 3/4 of the width.",
    ),
    reference: list[str] = typer.Option(
        None, "--reference", "-r", help=f"Also count with: {_REFERENCES}, or 'all'."
    ),
    min_crossing_frames: int = typer.Option(
        2, "--min-crossing-frames", min=1, max=100, help="Hysteresis of the line counter."
    ),
    mode: str = typer.Option(
        "robust", "--mode", help="Live counting mode: robust (band, stitching) or strict."
    ),
    band: float = typer.Option(
        0.0, "--band", min=0.0, help="Band width in pixels (0: a quarter of the box height)."
    ),
) -> None:
    """Compare line counts from tracks with counts from the ground-truth trajectories.

    Each tracker's tracks are counted live (frame by frame, ``--mode``) and
    re-counted offline with look-ahead (smoothing and stitching over the
    whole sequence). The truth is the ground-truth trajectories' crossings
    under the same semantics: strict for a strict live count, the band for a
    robust live count and for the re-count.
    """
    if mode not in ("robust", "strict"):
        raise ConfigError(f"--mode takes robust or strict, got {mode!r}")
    lines = dict(_parse_line(v) for v in line) if line else None
    names = _reference_names(reference)
    results = evaluate_count_dirs(
        seq_dirs,
        lines,
        references=names,
        min_crossing_frames=min_crossing_frames,
        mode="robust" if mode == "robust" else "strict",
        band=band,
    )
    trackers = list(dict.fromkeys(r.tracker for r in results))
    header = f"{'sequence':<16} {'line':<10} {'truth in/out':>12}"
    typer.echo(header + "".join(f" {t:>18}" for t in trackers))
    rows: dict[tuple[str, str], list[LineCount]] = {}
    for r in results:
        rows.setdefault((r.sequence, r.line), []).append(r)
    for (sequence, name), group in rows.items():
        truth = f"{group[0].truth_in}/{group[0].truth_out}"
        cells = "".join(f" {f'{r.counted_in}/{r.counted_out} (err {r.error})':>18}" for r in group)
        typer.echo(f"{sequence:<16} {name:<10} {truth:>12}{cells}")
        truth = f"{group[0].recount_truth_in}/{group[0].recount_truth_out}"
        cells = "".join(
            f" {f'{r.recounted_in}/{r.recounted_out} (err {r.recount_error})':>18}" for r in group
        )
        typer.echo(f"{'  re-counted':<27} {truth:>12}{cells}")
    truth_total = sum(r.truth for r in results if r.tracker == trackers[0])
    for tracker in trackers:
        error = sum(r.error for r in results if r.tracker == tracker)
        share = f"{error / truth_total:.1%}" if truth_total else "n/a"
        typer.echo(f"{tracker}: {error} miscounted of {truth_total} true crossings ({share})")
    recount_total = sum(r.recount_truth for r in results if r.tracker == trackers[0])
    for tracker in trackers:
        error = sum(r.recount_error for r in results if r.tracker == tracker)
        share = f"{error / recount_total:.1%}" if recount_total else "n/a"
        typer.echo(
            f"{tracker} re-counted: {error} miscounted of {recount_total} true crossings ({share})"
        )


eval_app.command(name="counts")(counts)


def render_robustness(report: RobustnessReport) -> list[str]:
    """Return one table per fault level and benchmark group, with ours over the best reference."""
    lines: list[str] = []
    for level in report.levels:
        for group in level.report.groups:
            count = len(group.sequences)
            lines += [
                f"{level.level.name} / {group.benchmark} ({count} faulted sequences)",
                f"  {'tracker':<20} {'HOTA':>6} {'MOTA':>6} {'IDF1':>6} {'IDs':>5} "
                f"{'updates/s':>10}",
            ]
            for name, result in group.results.items():
                s = result.scores[COMBINED]
                lines.append(
                    f"  {name:<20} {s.hota:6.1f} {s.mota:6.1f} {s.idf1:6.1f} "
                    f"{s.id_switches:5d} {result.updates_per_second():10.0f}"
                )
            if len(group.results) > 1:
                r = group.ratios()
                lines.append(
                    f"  {OURS} / best reference: HOTA {_fmt(r['hota'])}, IDF1 {_fmt(r['idf1'])}"
                )
            lines.append("")
    return lines


def robustness(
    seq_dirs: list[Path] = typer.Argument(
        ..., help="MOTChallenge sequence folders with seqinfo.ini and gt/gt.txt."
    ),
    level: list[str] = typer.Option(
        None,
        "--level",
        "-L",
        help=f"Fault level (repeatable; default all): {_LEVELS}.",
    ),
    seeds: int = typer.Option(1, "--seeds", min=1, max=20, help="Seeds 0..N-1 per level."),
    reference: list[str] = typer.Option(
        None, "--reference", "-r", help=f"Also score: {_REFERENCES}, or 'all'."
    ),
    out: Path = typer.Option(
        None,
        "--out",
        "-o",
        help="Folder for the faulted sequences and results (a temporary one when omitted).",
    ),
) -> None:
    """Score trackers on faulted copies of the sequences, per fault level.

    Faults: misses in runs, size-proportional jitter, false positives,
    fragmented and merged boxes, camera motion and frame-rate drops. They are
    drawn from the ground truth (the public detections are not used); the
    same level and seed always give the same faulted sequence.
    """
    names = _reference_names(reference)
    with tempfile.TemporaryDirectory(prefix="argus-robust-") as tmp:
        out_dir = out if out is not None else Path(tmp)
        report = evaluate_robustness(
            seq_dirs,
            out_dir,
            levels=list(level) if level else LEVELS,
            seeds=range(seeds),
            references=names,
            on_progress=lambda message: typer.echo(f"tracking {message}", err=True),
        )
        for line in render_robustness(report):
            typer.echo(line)
        if out is not None:
            typer.echo(f"faulted sequences and results written to {out_dir}")


eval_app.command(name="robustness")(robustness)

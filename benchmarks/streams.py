"""Streams sustained: how many cameras this box analyses at 5 fps each, full-frame against gated.

The cameras run through the pipelines ``argus serve`` runs: ``edge_pipelines``
with an in-memory bus and a temporary data dir (a ``CameraWorker`` thread per
camera, a file source looped in real time and thinned to 5 fps, the shared
yolov7-tiny detector at 416 px, tracker, frame ring, tamper checks, outbox).
Cameras alternate between ``vtest.avi`` (fixed camera, busy street, 10 fps) and
``bikes.mp4`` (moving camera with cuts, 25 fps) from ``../shared/eval/media``.

At each number of cameras K, **full** (no motion settings: every analysed frame
detected whole) then **gated** (the shared detector defaults carry
``MotionSpec()``, as ``ARGUS_MOTION_GATING=true`` makes them, and the worker's
gate turns that into a ``GatedDetector`` per camera run).

Each point starts K cameras, waits for every first analysed frame (bounded) and
a warm-up, then measures over a window: each camera's analysed fps and the share
of real time it read its stream at (frames read per second over the clip's
frame rate: a pipeline that cannot keep up falls behind its source), this
process's CPU per second, RSS, and the load of other processes. **Sustained** is
the largest K whose slowest camera kept >= 95 % of real time and analysed >= 95 %
of 5 fps: the shared inference scheduler keeps a saturated camera on time by
analysing fewer frames, so real time alone no longer shows saturation. A mode
below half of real time or of 5 fps is not tried at larger K.

    python -m benchmarks.streams [--quick] [--cameras 4,8,16] [--seconds 30] [--warmup 10]
                                 [--plot docs/img/streams.svg | --no-plot]
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from benchmarks._common import (
    REPO_ROOT,
    Section,
    busy_cpu_seconds,
    fmt_ratio,
    machine_info,
    markdown_table,
    other_cpu_share,
    own_cpu_seconds,
    progress,
    ratio,
    render_report,
    run_section,
)
from benchmarks._streams_plot import plot_svg

if TYPE_CHECKING:
    from argus.bootstrap.container import Container
    from argus.config import Settings
    from argus.domain.cameras import Camera

__all__ = ["Point", "main", "plot_svg_of", "render", "run", "sustained"]

TITLE = "Streams sustained (cameras at 5 analysed fps)"
MEDIA = REPO_ROOT.parent / "shared" / "eval" / "media"
CLIPS = (MEDIA / "vtest.avi", MEDIA / "bikes.mp4")
PLOT = REPO_ROOT / "docs" / "img" / "streams.svg"
MODES = ("full", "gated")
LABELS = {"full": "full-frame", "gated": "motion-gated"}
COUNTS = (4, 8, 12, 16, 20, 24, 32)
QUICK_COUNTS = (2, 4)
TARGET_FPS = 5.0
KEEPS_UP = 0.95
"""Share of real time, and of the target fps, the slowest camera must keep for K cameras to
count as sustained."""
FIRST_FRAME_WAIT_S = 120.0
"""Seconds a point waits at most for every camera's first analysed frame."""


@dataclass(frozen=True)
class Point:
    """One measured point: K cameras of one mode over the window.

    Attributes:
        mode: ``full`` or ``gated``.
        fps: Analysed frames per second of each camera over the window.
        realtime: Share of real time each camera's stream was read at (1.0: kept up).
        cpu: This process's CPU seconds per second over the window.
        cores: Usable cores (the CPU share is of all of them).
        rss_mb: Resident memory at the window's end.
        idle_mb: Resident memory before the point's first camera started.
        others: Share of the machine (0..1) other processes used meanwhile.
        restarts: Pipeline restarts seen during the window.
    """

    mode: str
    fps: tuple[float, ...]
    realtime: tuple[float, ...]
    cpu: float
    cores: int
    rss_mb: float
    idle_mb: float
    others: float = math.nan
    restarts: int = 0

    @property
    def cameras(self) -> int:
        """K, the number of cameras."""
        return len(self.fps)

    @property
    def min_fps(self) -> float:
        """The slowest camera's analysed fps."""
        return min(self.fps, default=math.nan)

    @property
    def mean_fps(self) -> float:
        """Mean analysed fps per camera."""
        return sum(self.fps) / len(self.fps) if self.fps else math.nan

    @property
    def min_realtime(self) -> float:
        """The share of real time the slowest camera kept."""
        return min(self.realtime, default=math.nan)

    @property
    def cpu_percent(self) -> float:
        """CPU used, as a percentage of all usable cores."""
        return 100.0 * self.cpu / self.cores if self.cores > 0 else math.nan

    @property
    def mb_per_camera(self) -> float:
        """Resident memory above the process before the point, per camera (model included)."""
        return (self.rss_mb - self.idle_mb) / self.cameras if self.cameras else math.nan

    @property
    def sustained(self) -> bool:
        """Whether the slowest camera kept 95 % of real time and analysed 95 % of 5 fps."""
        return self.min_realtime >= KEEPS_UP and self.min_fps >= KEEPS_UP * TARGET_FPS


def sustained(points: Sequence[Point], mode: str) -> int:
    """The largest K of ``mode`` whose slowest camera kept up (``Point.sustained``); 0: none."""
    return max((p.cameras for p in points if p.mode == mode and p.sustained), default=0)


def _memory_slope(points: Sequence[Point]) -> float:
    """Least-squares MB of RSS per extra camera; ``nan`` with fewer than two K."""
    xs = [float(p.cameras) for p in points]
    ys = [p.rss_mb for p in points]
    if len(set(xs)) < 2:
        return math.nan
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum(
        (x - mx) ** 2 for x in xs
    )


def _count_text(points: Sequence[Point], mode: str) -> str:
    """The sustained count as text: ``>= K`` when even the largest K tried kept up."""
    count = sustained(points, mode)
    tried = [p.cameras for p in points if p.mode == mode]
    if not tried:
        return "n/a"
    if count == max(tried):
        return f">= {count}"
    return str(count) if count else f"< {min(tried)}"


def render(points: Sequence[Point], seconds: float, plot: str | None = None) -> Section:
    """The report section: one row per mode and K, the sustained counts and their ratio."""
    rows = [
        [
            p.mode,
            p.cameras,
            f"{p.min_fps:.2f}",
            f"{p.mean_fps:.2f}",
            f"{100 * p.min_realtime:.0f} %",
            "yes" if p.sustained else "no",
            f"{p.cpu_percent:.0f} %",
            f"{p.rss_mb:.0f}",
            f"{p.mb_per_camera:.1f}",
            "n/a" if math.isnan(p.others) else f"{100 * p.others:.0f} %",
            p.restarts,
        ]
        for p in sorted(points, key=lambda p: (MODES.index(p.mode), p.cameras))
    ]
    headers = ["mode", "cameras", "min fps", "mean fps", "slowest real time", "keeps up"]
    headers += ["CPU (of the box)", "RSS MB", "MB per camera", "other load", "restarts"]
    body = markdown_table(headers, rows)
    cores = points[0].cores if points else 0
    gain = ratio(float(sustained(points, "gated")), float(sustained(points, "full")))
    slopes = {m: _memory_slope([p for p in points if p.mode == m]) for m in MODES}
    memory = ", ".join(f"{m} {v:.1f}" for m, v in slopes.items() if math.isfinite(v))
    body += (
        f"\n\nAnalysed fps over a {seconds:g} s window per point, {cores} usable cores. "
        f"A camera keeps up when it reads its stream at >= {100 * KEEPS_UP:.0f} % of real time "
        f"and analyses >= {KEEPS_UP * TARGET_FPS:.2f} fps. MB per camera is RSS above the "
        "process before the point, over K (the shared model included)"
        + (f"; marginal RSS per extra camera (least squares): {memory} MB." if memory else ".")
    )
    if plot:
        body += f"\n\n![analysed fps and CPU against cameras]({plot})"
    headline = [
        f"streams sustained at {TARGET_FPS:g} fps on {cores} cores (slowest camera >= "
        f"{100 * KEEPS_UP:.0f} % of real time and of {TARGET_FPS:g} fps): "
        f"full-frame {_count_text(points, 'full')}, "
        f"motion-gated {_count_text(points, 'gated')} ({fmt_ratio(gain)} full-frame)"
    ]
    return Section(TITLE, body, headline)


def plot_svg_of(points: Sequence[Point]) -> str:
    """The SVG plot: mean analysed fps per camera and CPU % of the box against K, per mode."""
    series = {
        LABELS[m]: [(p.cameras, p.mean_fps, p.cpu_percent) for p in points if p.mode == m]
        for m in MODES
    }
    return plot_svg(series, TARGET_FPS)


def _rss_mb() -> float:
    """This process's resident memory in MB (``VmRSS``); ``nan`` without ``/proc``."""
    try:
        status = Path("/proc/self/status").read_text(encoding="utf-8")
    except OSError:
        return math.nan
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return math.nan


def _cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _cameras(count: int) -> list[Camera]:
    from argus.domain.cameras import Camera

    clips = [c for c in CLIPS if c.is_file()]
    return [
        Camera(id=f"cam-{i:02d}", name=f"camera {i}", stream_url=str(clips[i % len(clips)]))
        for i in range(count)
    ]


async def _point(
    mode: str,
    count: int,
    *,
    settings: Settings,
    container: Container,
    seconds: float,
    warmup: float,
    rates: Mapping[str, float],
) -> Point:
    """Run ``count`` cameras of ``mode`` and measure them over ``seconds`` after ``warmup``.

    ``rates`` gives each clip's frame rate by path, against which the frames a
    camera read count as a share of real time.
    """
    from argus.adapters.bus.memory import MemoryEventBus
    from argus.adapters.pipelines import DetectDefaults
    from argus.bootstrap.edge import edge_pipelines
    from argus.scene import MotionSpec

    idle = _rss_mb()
    bus = MemoryEventBus()
    motion = MotionSpec() if mode == "gated" else None
    defaults = DetectDefaults(input_size=416, motion=motion)
    edge = edge_pipelines(settings, bus, container=container, defaults=defaults)
    cameras = _cameras(count)
    try:
        for camera in cameras:
            await edge.apply(camera, [], [])
        deadline = time.monotonic() + FIRST_FRAME_WAIT_S
        while time.monotonic() < deadline:
            details = [edge.detail(c.id) for c in cameras]
            if all(d is not None and d.frames_detected > 0 for d in details):
                break
            await asyncio.sleep(0.5)
        await asyncio.sleep(warmup)
        before = [edge.detail(c.id) for c in cameras]
        busy0, own0, started = busy_cpu_seconds(), own_cpu_seconds(), time.perf_counter()
        await asyncio.sleep(seconds)
        after = [edge.detail(c.id) for c in cameras]
        wall = time.perf_counter() - started
        own = own_cpu_seconds() - own0
        others = other_cpu_share(busy_cpu_seconds() - busy0, own, wall, os.cpu_count() or 1)
        rss = _rss_mb()
    finally:
        await edge.close()
        await bus.close()
    fps: list[float] = []
    realtime: list[float] = []
    restarts = 0
    for camera, b, a in zip(cameras, before, after, strict=True):
        if a is None or b is None:
            fps.append(0.0)
            realtime.append(0.0)
            continue
        # A restart starts the counters again: count only the new run's frames then.
        same_run = a.restarts == b.restarts
        restarts += a.restarts - b.restarts
        detected = a.frames_detected - (b.frames_detected if same_run else 0)
        read = a.frames_in - (b.frames_in if same_run else 0)
        fps.append(max(0, detected) / wall)
        realtime.append(max(0, read) / wall / rates[camera.stream_url])
    cpu = own / wall
    return Point(mode, tuple(fps), tuple(realtime), cpu, _cores(), rss, idle, others, restarts)


async def _measure(counts: Sequence[int], seconds: float, warmup: float) -> list[Point]:
    from argus.bootstrap.container import build_container
    from argus.config import Settings, default_data_dir

    points: list[Point] = []
    with tempfile.TemporaryDirectory(prefix="argus-streams-") as tmp:
        data_dir = Path(tmp)
        shared_models = default_data_dir() / "models"
        if shared_models.is_dir():
            # Reuse the packs already built; a fresh data dir would build them again.
            (data_dir / "models").symlink_to(shared_models, target_is_directory=True)
        settings = Settings(data_dir=data_dir, media_dirs=str(MEDIA))
        container = build_container(settings)
        rates = {str(c): container.frame_rate(c) or 25.0 for c in CLIPS if c.is_file()}
        given_up: set[str] = set()
        for count in counts:
            for mode in MODES:
                if mode in given_up:
                    continue
                progress(f"streams: {mode}, {count} cameras")
                point = await _point(
                    mode,
                    count,
                    settings=settings,
                    container=container,
                    seconds=seconds,
                    warmup=warmup,
                    rates=rates,
                )
                progress(
                    f"streams: {mode}, {count} cameras: min {point.min_fps:.2f} / mean "
                    f"{point.mean_fps:.2f} fps, slowest at {100 * point.min_realtime:.0f} % of "
                    f"real time, CPU {point.cpu_percent:.0f} %"
                )
                points.append(point)
                if point.min_realtime < 0.5 or point.mean_fps < 0.5 * TARGET_FPS:
                    given_up.add(mode)
    return points


def measure(
    counts: Sequence[int], seconds: float, warmup: float, plot: Path | None = PLOT
) -> Section:
    """Measure every mode at every K and write the plot to ``plot`` (none when ``None``)."""
    if not CLIPS[0].is_file():
        reason = f"skipped: {CLIPS[0]} is absent (../shared/eval is only beside a checkout)"
        return Section(TITLE, reason, [f"streams sustained: {reason}"])
    points = asyncio.run(_measure(counts, seconds, warmup))
    link = None
    if plot is not None and points:
        plot.parent.mkdir(parents=True, exist_ok=True)
        plot.write_text(plot_svg_of(points), encoding="utf-8")
        progress(f"streams: plot written to {plot}")
        docs = REPO_ROOT / "docs"
        link = str(plot.relative_to(docs)) if plot.is_relative_to(docs) else str(plot)
    return render(points, seconds, link)


def run(quick: bool) -> Section:
    """The benchmark of ``python -m benchmarks``: K in (2, 4) for 10 s when ``quick``."""
    if quick:
        return measure(QUICK_COUNTS, 10.0, 5.0, None)
    return measure(COUNTS, 30.0, 10.0)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print its markdown report."""
    parser = argparse.ArgumentParser(description="Camera streams sustained at 5 analysed fps.")
    parser.add_argument("--quick", action="store_true", help="K in 2,4 for 10 s, no plot")
    parser.add_argument("--cameras", default=None, help="comma-separated K values")
    parser.add_argument("--seconds", type=float, default=None, help="window per point (30)")
    parser.add_argument("--warmup", type=float, default=None, help="warm-up per point (10)")
    parser.add_argument("--plot", type=Path, default=None, help=f"SVG plot path ({PLOT})")
    parser.add_argument("--no-plot", action="store_true", help="write no plot")
    args = parser.parse_args(argv)
    quick = bool(args.quick)
    counts = (
        [int(v) for v in str(args.cameras).split(",") if v.strip()]
        if args.cameras
        else list(QUICK_COUNTS if quick else COUNTS)
    )
    seconds = args.seconds if args.seconds is not None else 10.0 if quick else 30.0
    warmup = args.warmup if args.warmup is not None else 5.0 if quick else 10.0
    plot = None if args.no_plot or (quick and args.plot is None) else args.plot or PLOT
    section = run_section(lambda _quick: measure(counts, seconds, warmup, plot), quick)
    print(render_report([section], machine_info(), quick))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

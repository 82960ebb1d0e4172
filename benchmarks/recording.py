"""Continuous recording: CPU and bytes per stream-second, Argus's remux against ``ffmpeg -c copy``.

The same H.264 clip is recorded into MP4 segments of ``--segment`` seconds,
read as fast as possible (the cost of a real-time camera is the same work
spread over time), ``--passes`` times by each recorder in a rotating order:

* **Argus SegmentRecorder**: PyAV remux in this process, keyframe-aligned
  segments, sidecars, renames (``argus.adapters.recording``);
* **ffmpeg -c copy**: the ``ffmpeg`` binary's segment muxer
  (``-f segment -reset_timestamps 1``), CPU measured as its child rusage;
  skipped with a note when ``ffmpeg`` is not on ``PATH``;
* **PyAV demux only**: reading the packets and writing nothing, the floor of
  any recorder in this process (what the remux adds is the rest).

Reported: CPU seconds per second of stream recorded, output bytes per second
of stream, and the ratios to ``ffmpeg -c copy`` and to the demux floor, all
from the same run.

    python -m benchmarks.recording [--quick] [--passes N] [--segment S]
"""

from __future__ import annotations

import argparse
import resource
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from benchmarks._common import (
    Section,
    find_video,
    fmt_ratio,
    machine_info,
    markdown_table,
    median,
    progress,
    ratio,
    render_report,
    run_section,
)

__all__ = ["ARGUS", "FFMPEG", "FLOOR", "RecordResult", "main", "measure", "render", "run"]

PASSES = 20
QUICK_PASSES = 3
SEGMENT_SECONDS = 10.0
ARGUS = "Argus SegmentRecorder (PyAV remux)"
FFMPEG = "ffmpeg -c copy (segment muxer)"
FLOOR = "PyAV demux only (no output)"


@dataclass
class RecordResult:
    """One recorder's passes: stream seconds recorded, CPU seconds and bytes written."""

    name: str
    stream_seconds: list[float] = field(default_factory=list)
    cpu_seconds: list[float] = field(default_factory=list)
    bytes: list[int] = field(default_factory=list)
    segments: list[int] = field(default_factory=list)

    @property
    def cpu_per_second(self) -> float:
        """Median CPU seconds per stream-second over the passes."""
        return median([c / s for c, s in zip(self.cpu_seconds, self.stream_seconds, strict=True)])

    @property
    def bytes_per_second(self) -> float:
        """Median output bytes per stream-second over the passes."""
        return median([b / s for b, s in zip(self.bytes, self.stream_seconds, strict=True)])


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _output_bytes(directory: Path) -> tuple[int, int]:
    files = [p for p in directory.rglob("*.mp4") if p.is_file()]
    return sum(p.stat().st_size for p in files), len(files)


def _argus(path: Path, out: Path, segment: float) -> tuple[float, float, int, int]:
    from argus.adapters.recording import SegmentRecorder

    recorder = SegmentRecorder(
        "bench",
        str(path),
        out,
        segment_seconds=segment,
        realtime=False,
        now=lambda: datetime(2026, 1, 1, tzinfo=UTC),
    )
    started = time.process_time()
    segments = list(recorder.segments())
    cpu = time.process_time() - started
    seconds = sum(s.duration.total_seconds() for s in segments)
    return seconds, cpu, sum(s.bytes for s in segments), len(segments)


def _ffmpeg(path: Path, out: Path, segment: float) -> tuple[float, float, int, int]:
    binary = shutil.which("ffmpeg")
    assert binary is not None
    out.mkdir(parents=True, exist_ok=True)
    command = [
        binary,
        "-hide_banner",
        "-loglevel",
        "error",
        "-nostdin",
        "-i",
        str(path),
        "-map",
        "0:v:0",
        "-c",
        "copy",
        "-f",
        "segment",
        "-segment_time",
        f"{segment:g}",
        "-reset_timestamps",
        "1",
        str(out / "seg%05d.mp4"),
    ]
    before = _children_cpu()
    subprocess.run(command, check=True, capture_output=True)
    cpu = _children_cpu() - before
    written, count = _output_bytes(out)
    return _duration(path), cpu, written, count


def _floor(path: Path, out: Path, segment: float) -> tuple[float, float, int, int]:
    import av

    del out, segment
    started = time.process_time()
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        for _packet in container.demux(stream):
            pass
    return _duration(path), time.process_time() - started, 0, 0


def _duration(path: Path) -> float:
    import av

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        if stream.duration is not None and stream.time_base is not None:
            return float(stream.duration * stream.time_base)
        return (container.duration or 0) / 1_000_000


Recorder = Callable[[Path, Path, float], tuple[float, float, int, int]]


def recorders() -> tuple[dict[str, Recorder], str | None]:
    """The recorders to time, and why ffmpeg is left out (``None`` when it is not)."""
    chosen: dict[str, Recorder] = {ARGUS: _argus}
    skipped = None
    if shutil.which("ffmpeg") is None:
        skipped = "`ffmpeg` is not on PATH here, so the `ffmpeg -c copy` reference was skipped"
    else:
        chosen[FFMPEG] = _ffmpeg
    chosen[FLOOR] = _floor
    return chosen, skipped


def measure(
    path: Path, passes: int, segment: float, chosen: dict[str, Recorder]
) -> list[RecordResult]:
    """Record ``path`` ``passes`` times with every recorder, in rotating order."""
    names = list(chosen)
    results = {name: RecordResult(name) for name in names}
    with tempfile.TemporaryDirectory(prefix="argus-bench-recording-") as scratch:
        for name in names:  # warm-up: page cache, library initialisation
            chosen[name](path, Path(scratch) / f"warm-{names.index(name)}", segment)
        for rep in range(passes):
            shift = rep % len(names)
            for name in names[shift:] + names[:shift]:
                out = Path(scratch) / f"{rep}-{names.index(name)}"
                seconds, cpu, written, count = chosen[name](path, out, segment)
                result = results[name]
                result.stream_seconds.append(seconds)
                result.cpu_seconds.append(cpu)
                result.bytes.append(written)
                result.segments.append(count)
                shutil.rmtree(out, ignore_errors=True)
            progress(f"recording: pass {rep + 1}/{passes} done")
    return [results[name] for name in names]


def render(
    results: Sequence[RecordResult], clip_note: str, segment: float, skipped: str | None
) -> Section:
    """Turn the passes into a table with ratios to ffmpeg and to the demux floor."""
    by_name = {r.name: r for r in results}
    reference = by_name.get(FFMPEG)
    floor = by_name.get(FLOOR)
    rows = []
    for result in results:
        cpu = result.cpu_per_second
        rows.append(
            [
                result.name,
                f"{median(result.stream_seconds):.1f}",
                "/".join(map(str, sorted(set(result.segments)))),
                f"{cpu * 1e3:.3f}",
                f"{result.bytes_per_second / 1e3:.1f}" if result.name != FLOOR else "-",
                fmt_ratio(ratio(cpu, reference.cpu_per_second)) if reference else "n/a",
                fmt_ratio(ratio(result.bytes_per_second, reference.bytes_per_second))
                if reference and result.name != FLOOR
                else "n/a",
                fmt_ratio(ratio(cpu, floor.cpu_per_second)) if floor else "n/a",
            ]
        )
    table = markdown_table(
        [
            "recorder",
            "stream s / pass",
            "segments",
            "CPU ms per stream-s",
            "kB per stream-s",
            "CPU vs ffmpeg",
            "bytes vs ffmpeg",
            "CPU vs demux floor",
        ],
        rows,
    )
    passes = len(results[0].cpu_seconds) if results else 0
    body = (
        f"Clip: {clip_note}, recorded into {segment:g} s MP4 segments as fast as it reads, "
        f"{passes} passes per recorder in rotating order after one warm-up each; medians. "
        "CPU per stream-second is what one camera costs the box when recorded in real time. "
        + (f"*{skipped}.*" if skipped else "")
        + "\n\n"
        + table
        + "\n"
    )
    argus = by_name[ARGUS]
    line = f"recording: Argus remux {argus.cpu_per_second * 1e3:.3f} CPU-ms per stream-second"
    if reference is not None:
        cpu_ratio = ratio(argus.cpu_per_second, reference.cpu_per_second)
        bytes_ratio = ratio(argus.bytes_per_second, reference.bytes_per_second)
        line += f" = {fmt_ratio(cpu_ratio)} ffmpeg -c copy; bytes {fmt_ratio(bytes_ratio)}"
    else:
        line += " (ffmpeg absent: no reference ratio)"
    if floor is not None:
        line += f"; {fmt_ratio(ratio(argus.cpu_per_second, floor.cpu_per_second))} the demux floor"
    return Section("Continuous recording (remux vs ffmpeg -c copy)", body, [line])


def run(quick: bool, passes: int | None = None, segment: float = SEGMENT_SECONDS) -> Section:
    """Run the recording benchmark and return its section."""
    path, note = find_video()
    progress(f"recording: {note}")
    chosen, skipped = recorders()
    if skipped:
        progress(f"recording: {skipped}")
    count = passes if passes is not None else (QUICK_PASSES if quick else PASSES)
    return render(measure(path, count, segment, chosen), note, segment, skipped)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m benchmarks.recording``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="fewer passes (noisier numbers)")
    parser.add_argument("--passes", type=int, default=None, help="passes per recorder")
    parser.add_argument("--segment", type=float, default=SEGMENT_SECONDS, help="segment seconds")
    args = parser.parse_args(argv)
    section = run_section(
        lambda quick: run(quick, args.passes, float(args.segment)), bool(args.quick)
    )
    print(render_report([section], machine_info(), bool(args.quick)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

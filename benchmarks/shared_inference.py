"""Shared inference: K cameras on one detector, each calling ``detect`` vs one batching scheduler.

K simulated cameras (threads) each analyse real frames (``vtest.avi`` and
``bikes.mp4`` from ``../shared/eval/media``, cameras alternating clips) at a
target fps; a camera that falls behind skips the frames it missed, as a live
camera does. Two ways of sharing one yolov7-tiny detector are run back to back
in the same process with the same frames:

* **direct** (today): every camera thread calls ``detect`` on the shared detector;
* **scheduler**: every camera calls a ``ScheduledDetector`` facade, and one
  ``InferenceScheduler`` thread runs fair batches of up to ``MAX_BATCH`` images.

Both are measured with ONNX Runtime ``intra_op_num_threads`` 1 and 2
(``inter_op_num_threads`` 1). Reported per phase: analysed images/s sustained
over the whole box, analysed fps per camera (mean and slowest camera), CPU
seconds of this process per image (it includes any thread-pool spinning),
median ``detect`` latency, and the scheduler's mean batch; ratios scheduler /
direct are taken within each thread setting.

    python -m benchmarks.shared_inference [--quick]
"""

from __future__ import annotations

import resource
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from benchmarks._common import (
    REPO_ROOT,
    Section,
    fmt_ms,
    fmt_ratio,
    markdown_table,
    median,
    progress,
    ratio,
    run_main,
)

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from argus.ports.detector import Detector

    Image = npt.NDArray[np.uint8]

__all__ = ["Phase", "main", "render", "run"]

MEDIA = REPO_ROOT.parent / "shared" / "eval" / "media"
CLIPS = ("vtest.avi", "bikes.mp4")
PACK_SIZE = 416
TARGET_FPS = 5.0
MAX_BATCH = 8
THREADS = (1, 2)
FRAMES_PER_CLIP = 24
CAMERAS, SECONDS = 16, 20.0
QUICK_CAMERAS, QUICK_SECONDS = 12, 5.0
MODES = ("direct", "scheduler")


@dataclass
class Phase:
    """One run of K cameras for a fixed time.

    Attributes:
        mode: ``direct`` or ``scheduler``.
        threads: ONNX Runtime intra-op threads.
        cameras: Number of cameras.
        seconds: Wall time of the run.
        cpu_seconds: CPU time this process used meanwhile.
        frames: Frames analysed per camera.
        latencies: Seconds of each ``detect`` call (submit to result for the scheduler).
        mean_batch: The scheduler's mean batch size (1 for direct).
    """

    mode: str
    threads: int
    cameras: int
    seconds: float
    cpu_seconds: float
    frames: list[int] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    mean_batch: float = 1.0

    @property
    def images_per_s(self) -> float:
        """Images analysed per second by the whole box."""
        return ratio(float(sum(self.frames)), self.seconds)

    @property
    def cpu_per_image(self) -> float:
        """CPU seconds per analysed image."""
        return ratio(self.cpu_seconds, float(sum(self.frames)))

    def fps(self) -> tuple[float, float]:
        """Mean and slowest analysed fps per camera."""
        rates = [n / self.seconds for n in self.frames] or [0.0]
        return sum(rates) / len(rates), min(rates)


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _camera(
    detector: Detector,
    frames: Sequence[Image],
    until: float,
    fps: float,
    latencies: list[float],
) -> int:
    """Analyse ``frames`` in a loop at ``fps`` until ``until``; return frames analysed."""
    pause = threading.Event()
    due, done = time.perf_counter(), 0
    while (now := time.perf_counter()) < until:
        if now < due:
            pause.wait(min(due, until) - now)
            continue
        started = time.perf_counter()
        detector.detect(frames[done % len(frames)])
        latencies.append(time.perf_counter() - started)
        done += 1
        due = max(due + 1.0 / fps, time.perf_counter() - 1.0 / fps)
    return done


def measure(
    shared: Detector,
    clips: Sequence[Sequence[Image]],
    *,
    mode: str,
    threads: int,
    cameras: int,
    seconds: float,
) -> Phase:
    """Run ``cameras`` camera threads for ``seconds`` in one mode."""
    from argus.adapters.detectors.scheduler import InferenceScheduler, ScheduledDetector

    scheduler = InferenceScheduler(shared, max_batch=MAX_BATCH) if mode == "scheduler" else None
    if scheduler is not None:
        scheduler.start()
    facades: list[Detector] = [
        shared if scheduler is None else ScheduledDetector(scheduler, f"cam-{n}", timeout_s=60.0)
        for n in range(cameras)
    ]
    counts = [0] * cameras
    latencies: list[list[float]] = [[] for _ in range(cameras)]
    cpu0, started = _cpu(), time.perf_counter()
    until = started + seconds

    def worker(n: int) -> None:
        counts[n] = _camera(facades[n], clips[n % len(clips)], until, TARGET_FPS, latencies[n])

    workers = [threading.Thread(target=worker, args=(n,)) for n in range(cameras)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    wall, cpu = time.perf_counter() - started, _cpu() - cpu0
    mean_batch = 1.0
    if scheduler is not None:
        mean_batch = scheduler.stats().mean_batch_size
        scheduler.stop()
    return Phase(
        mode, threads, cameras, wall, cpu, counts, [x for c in latencies for x in c], mean_batch
    )


def render(phases: Sequence[Phase], settings: str) -> Section:
    """Turn phases into the table and headline (ratios within each thread setting)."""
    direct = {p.threads: p for p in phases if p.mode == "direct"}
    rows = []
    for p in phases:
        base = direct.get(p.threads)
        mean_fps, min_fps = p.fps()
        rows.append(
            [
                f"{p.mode}, intra_op {p.threads}",
                str(p.cameras),
                f"{p.images_per_s:.1f}",
                f"{mean_fps:.2f} / {min_fps:.2f}",
                fmt_ms(p.cpu_per_image),
                fmt_ms(median(p.latencies)),
                f"{p.mean_batch:.2f}",
                fmt_ratio(ratio(p.images_per_s, base.images_per_s) if base else float("nan")),
                fmt_ratio(ratio(p.cpu_per_image, base.cpu_per_image) if base else float("nan")),
            ]
        )
    table = markdown_table(
        [
            "mode",
            "cameras",
            "images/s",
            "fps per camera mean / min",
            "CPU ms/image",
            "detect p50 ms",
            "mean batch",
            "images/s vs direct",
            "CPU/image vs direct",
        ],
        rows,
    )
    headline = []
    for threads, base in sorted(direct.items()):
        for p in phases:
            if p.mode == "scheduler" and p.threads == threads:
                headline.append(
                    f"shared_inference, {p.cameras} cameras at {TARGET_FPS:g} fps, intra_op "
                    f"{threads}: scheduler {p.images_per_s:.1f} images/s = "
                    f"{fmt_ratio(ratio(p.images_per_s, base.images_per_s))} direct "
                    f"({base.images_per_s:.1f}), CPU/image "
                    f"{fmt_ratio(ratio(p.cpu_per_image, base.cpu_per_image))}, "
                    f"mean batch {p.mean_batch:.1f}"
                )
    body = f"{settings}\n\n{table}\n"
    return Section(
        "Shared inference (K cameras: direct detect vs one batching scheduler)", body, headline
    )


def read_clips(count: int) -> list[list[Image]]:
    """Frames of each clip in ``CLIPS`` (every 5th frame), read with Argus's FileSource."""
    from argus.adapters.video.file import FileSource

    clips: list[list[Image]] = []
    for name in CLIPS:
        frames: list[Image] = []
        with FileSource(MEDIA / name) as source:
            for frame in source.frames():
                if frame.index % 5 == 0:
                    frames.append(frame.image)
                    if len(frames) == count:
                        break
        clips.append(frames)
    return clips


def run(quick: bool) -> Section:
    """Run every mode under every thread setting and return the section."""
    import onnxruntime as ort

    from argus.adapters.detectors.onnx_yolo import OnnxYoloDetector
    from benchmarks.detector import PACK, pack_dir

    missing = [name for name in CLIPS if not (MEDIA / name).is_file()]
    if missing:
        return Section("Shared inference", f"skipped: {', '.join(missing)} absent from {MEDIA}.")
    cameras, seconds = (QUICK_CAMERAS, QUICK_SECONDS) if quick else (CAMERAS, SECONDS)
    clips = read_clips(FRAMES_PER_CLIP)
    phases: list[Phase] = []
    with pack_dir([PACK_SIZE]) as (directory, where):
        progress(f"shared_inference: {PACK} pack {where}")
        for threads in THREADS:
            detector = OnnxYoloDetector(
                Path(directory) / f"{PACK}-{PACK_SIZE}.onnx",
                model_ref=f"{PACK}@bench",
                intra_op_num_threads=threads,
                inter_op_num_threads=1,
            )
            for size in range(1, MAX_BATCH + 1):  # warm every batch shape
                detector.detect_batch([clips[size % 2][0]] * size)
            for mode in MODES:
                phase = measure(
                    detector, clips, mode=mode, threads=threads, cameras=cameras, seconds=seconds
                )
                phases.append(phase)
                progress(
                    f"shared_inference: intra_op {threads} {mode}: "
                    f"{phase.images_per_s:.1f} images/s, batch {phase.mean_batch:.2f}"
                )
    sizes = ", ".join(
        f"{name} {c[0].shape[1]}x{c[0].shape[0]}" for name, c in zip(CLIPS, clips, strict=True)
    )
    settings = (
        f"Model: {PACK} at {PACK_SIZE} px ({where}); onnxruntime {ort.__version__} CPU, "
        f"inter_op_num_threads=1. {cameras} cameras ({sizes}, {FRAMES_PER_CLIP} frames each, "
        f"looped), target {TARGET_FPS:g} fps each (offered {cameras * TARGET_FPS:g} images/s), "
        f"{seconds:g} s per phase, scheduler max_batch {MAX_BATCH}. CPU is this process's "
        "user + system time (decoding is done beforehand, so it is inference, pre- and "
        "post-processing and thread overhead)."
    )
    return render(phases, settings)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m benchmarks.shared_inference``."""
    return run_main("K cameras on one detector: direct vs batching scheduler.", run, argv)


if __name__ == "__main__":
    raise SystemExit(main())

"""Detector overhead: Argus's full ``detect`` against a bare ``InferenceSession.run``.

For each yolov7-tiny input size (320, 416, 640) one ``OnnxYoloDetector`` is
opened with fixed thread settings. The reference is ``session.run`` of that very
detector's session on the tensor ``preprocess`` makes of the same frame (made
once, outside the timing), so both sides share the model, graph optimisations
and thread pool; the full call adds letterbox, tensor layout, output decoding,
score filtering and NMS. Calls are interleaved one by one (alternating which
goes first) over real frames of the benchmark clip after a warm-up, and the
medians are compared: ``overhead = median(full) / median(bare)``, goal <= 1.10.

A second table compares ``detect_batch`` of 4 frames with 4 ``detect`` calls
(and a bare batch-4 ``session.run``).

The yolov7-tiny pack is reused from ``$ARGUS_DATA_DIR/models/yolov7-tiny/`` when
built there, else built into a temporary directory.

    python -m benchmarks.detector [--quick] [--threads N]
"""

from __future__ import annotations

import argparse
import gc
import os
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from benchmarks._common import (
    Section,
    find_video,
    fmt_ms,
    fmt_ratio,
    machine_info,
    markdown_table,
    median,
    progress,
    quantile,
    ratio,
    render_report,
    run_section,
)

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from argus.adapters.detectors.onnx_yolo import OnnxYoloDetector

    Image = npt.NDArray[np.uint8]

__all__ = [
    "GOAL",
    "SIZES",
    "BatchResult",
    "SizeResult",
    "render",
    "run",
]

PACK = "yolov7-tiny"
SIZES: tuple[int, ...] = (320, 416, 640)
GOAL = 1.10
"""Headline goal: the full ``detect`` costs at most 10 % more than the bare run."""

NUM_FRAMES = 8
BATCH = 4
WARMUP = 3
# Interleaved single-frame iterations per size, and batch repetitions per size.
ITERATIONS = {320: 240, 416: 160, 640: 100}
QUICK_ITERATIONS = 8
BATCH_REPEATS = {320: 40, 416: 30, 640: 20}
QUICK_BATCH_REPEATS = 2


@dataclass
class SizeResult:
    """Per-call seconds of one input size."""

    size: int
    full: list[float] = field(default_factory=list)
    bare: list[float] = field(default_factory=list)
    preprocess: list[float] = field(default_factory=list)
    postprocess: list[float] = field(default_factory=list)
    detections: list[int] = field(default_factory=list)

    @property
    def overhead(self) -> float:
        """Median full call over median bare run: the headline ratio."""
        return ratio(median(self.full), median(self.bare))

    @property
    def paired_overhead(self) -> float:
        """Median of the per-iteration ratios (robust to slow drifts of the machine)."""
        pairs = [f / b for f, b in zip(self.full, self.bare, strict=True) if b > 0]
        return median(pairs)


@dataclass
class BatchResult:
    """Seconds per repetition (for all ``BATCH`` frames) of one input size."""

    size: int
    singles: list[float] = field(default_factory=list)
    batch: list[float] = field(default_factory=list)
    bare_batch: list[float] = field(default_factory=list)


@contextmanager
def pack_dir(sizes: Sequence[int]) -> Iterator[tuple[Path, str]]:
    """Yield the directory holding ``yolov7-tiny-<size>.onnx`` files and a note."""
    data_dir = os.environ.get("ARGUS_DATA_DIR")
    if data_dir:
        built = Path(data_dir) / "models" / PACK
        if all((built / f"{PACK}-{s}.onnx").is_file() for s in sizes):
            yield built, f"reused from {built}"
            return
    from argus.adapters.modelpacks.catalog import Yolov7TinyBuilder

    with tempfile.TemporaryDirectory(prefix="argus-bench-") as tmp:
        started = time.perf_counter()
        Yolov7TinyBuilder().build(Path(tmp), sizes)
        yield (
            Path(tmp),
            f"built into a temporary directory in {time.perf_counter() - started:.1f} s",
        )


def read_frames(path: Path, count: int) -> list[Image]:
    """Return ``count`` frames spread over the clip (read with Argus's FileSource)."""
    import av

    from argus.adapters.video.file import FileSource

    with av.open(str(path)) as container:
        total = container.streams.video[0].frames
    step = max(1, total // count) if total > 0 else 25
    frames: list[Image] = []
    with FileSource(path) as source:
        for frame in source.frames():
            if frame.index % step == 0:
                frames.append(frame.image)
                if len(frames) == count:
                    break
    if not frames:
        raise RuntimeError(f"{path}: no frames decoded")
    return frames


def _timed(call: Callable[..., object], *args: object) -> float:
    started = time.perf_counter()
    call(*args)
    return time.perf_counter() - started


def _detect_each(detector: OnnxYoloDetector, images: Sequence[Image]) -> None:
    for image in images:
        detector.detect(image)


def _open(model: Path, threads: int) -> OnnxYoloDetector:
    from argus.adapters.detectors.onnx_yolo import OnnxYoloDetector

    return OnnxYoloDetector(
        model, model_ref=f"{PACK}@bench", intra_op_num_threads=threads, inter_op_num_threads=1
    )


def measure_size(
    detector: OnnxYoloDetector, frames: Sequence[Image], iterations: int
) -> SizeResult:
    """Interleave full ``detect`` and bare ``session.run`` calls on the same frames."""
    import numpy as np

    session, input_name = detector.session, detector.input_name
    prepared = [detector.preprocess([image]) for image in frames]
    raws = [detector.infer(tensor) for tensor, _ in prepared]
    bare_out = session.run(None, {input_name: prepared[0][0]})[0]
    if not np.allclose(bare_out, raws[0], rtol=1e-4, atol=1e-4):
        raise RuntimeError("the bare run and detect's inference disagree; not comparable")
    result = SizeResult(detector.input_size)
    for i in range(WARMUP):
        image, (tensor, _) = frames[i % len(frames)], prepared[i % len(frames)]
        detector.detect(image)
        session.run(None, {input_name: tensor})
    gc.collect()
    for i in range(iterations):
        k = i % len(frames)
        image, (tensor, metas), raw = frames[k], prepared[k], raws[k]
        feed = {input_name: tensor}
        if i % 2 == 0:
            result.full.append(_timed(detector.detect, image))
            result.bare.append(_timed(session.run, None, feed))
        else:
            result.bare.append(_timed(session.run, None, feed))
            result.full.append(_timed(detector.detect, image))
        result.preprocess.append(_timed(detector.preprocess, [image]))
        result.postprocess.append(_timed(detector.postprocess, raw, metas))
        if i < len(frames):
            result.detections.append(len(detector.detect(image)))
    return result


def measure_batch(detector: OnnxYoloDetector, frames: Sequence[Image], repeats: int) -> BatchResult:
    """Time ``detect_batch`` of ``BATCH`` frames against ``BATCH`` single ``detect`` calls."""
    import numpy as np

    session, input_name = detector.session, detector.input_name
    groups = [
        [frames[(start + j) % len(frames)] for j in range(BATCH)]
        for start in range(0, len(frames), BATCH)
    ]
    tensors = [detector.preprocess(group)[0] for group in groups]
    result = BatchResult(detector.input_size)
    for group, tensor in zip(groups, tensors, strict=True):  # warm-up of the batch shape
        detector.detect_batch(group)
        session.run(None, {input_name: tensor})
    gc.collect()
    for rep in range(repeats):
        group, tensor = groups[rep % len(groups)], tensors[rep % len(groups)]
        feed = {input_name: np.ascontiguousarray(tensor)}
        calls: list[tuple[list[float], Callable[..., object], tuple[object, ...]]] = [
            (result.singles, _detect_each, (detector, group)),
            (result.batch, detector.detect_batch, (group,)),
            (result.bare_batch, session.run, (None, feed)),
        ]
        shift = rep % len(calls)
        for sink, call, args in calls[shift:] + calls[:shift]:
            sink.append(_timed(call, *args))
    return result


def render(
    sizes: Sequence[SizeResult],
    batches: Sequence[BatchResult],
    settings: str,
    goal: float = GOAL,
) -> Section:
    """Turn timings into the overhead and batch tables."""
    rows = []
    for r in sizes:
        full, bare = median(r.full), median(r.bare)
        rows.append(
            [
                str(r.size),
                fmt_ms(full),
                fmt_ms(bare),
                fmt_ratio(r.overhead),
                fmt_ratio(r.paired_overhead),
                f"{fmt_ms(quantile(r.full, 0.25))}-{fmt_ms(quantile(r.full, 0.75))}",
                f"{fmt_ms(quantile(r.bare, 0.25))}-{fmt_ms(quantile(r.bare, 0.75))}",
                fmt_ms(median(r.preprocess)),
                fmt_ms(median(r.postprocess)),
                f"{median([float(d) for d in r.detections]):.0f}",
                "yes" if r.overhead <= goal else "no",
            ]
        )
    table = markdown_table(
        [
            "input",
            "full detect ms",
            "bare run ms",
            "overhead (full/bare)",
            "paired ratio",
            "full p25-p75",
            "bare p25-p75",
            "preprocess ms",
            "postprocess ms",
            "detections",
            f"<= {goal:.2f}",
        ],
        rows,
    )
    batch_rows = []
    for b in batches:
        singles, batch = median(b.singles) / BATCH, median(b.batch) / BATCH
        batch_rows.append(
            [
                str(b.size),
                fmt_ms(singles),
                fmt_ms(batch),
                fmt_ms(median(b.bare_batch) / BATCH),
                fmt_ratio(ratio(batch, singles)),
                str(len(b.batch)),
            ]
        )
    batch_table = markdown_table(
        [
            "input",
            f"{BATCH} x detect, ms/frame",
            f"detect_batch({BATCH}), ms/frame",
            f"bare run batch {BATCH}, ms/frame",
            "batch / singles",
            "repetitions",
        ],
        batch_rows,
    )
    iterations = len(sizes[0].full) if sizes else 0
    body = (
        f"{settings}\n\n"
        f"Single frame: {iterations} interleaved calls per size (medians); "
        "*preprocess* (letterbox + tensor) and *postprocess* (decode + filter + NMS) are "
        "timed separately in the same loop, so full ~ preprocess + bare + postprocess.\n\n"
        f"{table}\n\n"
        f"Batch of {BATCH} frames (ratio < 1 means batching is faster per frame):\n\n"
        f"{batch_table}\n"
    )
    verdict = all(r.overhead <= goal for r in sizes)
    overheads = ", ".join(f"{r.size}: {fmt_ratio(r.overhead)}" for r in sizes)
    headline = [
        f"detector overhead full detect / bare session.run: {overheads} "
        f"(goal <= {goal:.2f}: {'met' if verdict else 'not met'})",
        "detector ms/frame full vs bare: "
        + ", ".join(
            f"{r.size}: {fmt_ms(median(r.full))} vs {fmt_ms(median(r.bare))}" for r in sizes
        ),
    ]
    if batches:
        headline.append(
            f"detect_batch({BATCH}) / {BATCH} x detect per frame: "
            + ", ".join(
                f"{b.size}: {fmt_ratio(ratio(median(b.batch), median(b.singles)))}" for b in batches
            )
        )
    return Section("Detector (yolov7-tiny, full detect vs bare onnxruntime run)", body, headline)


def run(quick: bool, threads: int | None = None) -> Section:
    """Run the detector benchmark and return its section."""
    import onnxruntime as ort

    threads = threads or os.cpu_count() or 1
    path, note = find_video()
    progress(f"detector: frames from {note}")
    frames = read_frames(path, NUM_FRAMES)
    height, width = frames[0].shape[:2]
    sizes: list[SizeResult] = []
    batches: list[BatchResult] = []
    with pack_dir(SIZES) as (directory, where):
        progress(f"detector: {PACK} pack {where}")
        for size in SIZES:
            detector = _open(directory / f"{PACK}-{size}.onnx", threads)
            iterations = QUICK_ITERATIONS if quick else ITERATIONS[size]
            repeats = QUICK_BATCH_REPEATS if quick else BATCH_REPEATS[size]
            sizes.append(measure_size(detector, frames, iterations))
            batches.append(measure_batch(detector, frames, repeats))
            batch_ratio = ratio(median(batches[-1].batch), median(batches[-1].singles))
            progress(
                f"detector: {size} done, overhead {fmt_ratio(sizes[-1].overhead)}, "
                f"batch/singles {fmt_ratio(batch_ratio)}"
            )
            del detector
    settings = (
        f"Model: {PACK} ({where}); frames: {len(frames)} real {width}x{height} frames of "
        f"{note}; onnxruntime {ort.__version__} CPUExecutionProvider, "
        f"intra_op_num_threads={threads}, inter_op_num_threads=1, ORT_ENABLE_ALL, "
        "same session for both sides; default thresholds (conf 0.25, IoU 0.45)."
    )
    return render(sizes, batches, settings)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m benchmarks.detector``."""
    parser = argparse.ArgumentParser(description="Detector overhead: full detect vs bare run.")
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    parser.add_argument(
        "--threads", type=int, default=None, help="ORT intra-op threads (default: all cores)"
    )
    args = parser.parse_args(argv)
    threads: int | None = args.threads
    section = run_section(lambda quick: run(quick, threads), bool(args.quick))
    print(render_report([section], machine_info(), bool(args.quick)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

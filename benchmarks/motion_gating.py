"""Motion gating: what detecting only around motion saves, and what it costs in recall.

Every clip is read at about 5 analysed frames per second. For each frame the
same yolov7-tiny detector (416 px, one thread) runs on the full frame (the
reference, today's behaviour) and a ``GatedDetector`` built exactly as
``argus serve`` builds it for a scene with ``detect.motion: {}`` (the
defaults) sees the frame next; the two are interleaved frame by frame so both
see the same machine. Reported per clip:

* **recall of gated against full-frame** detections at IoU 0.5 (same class):
  how many of the full-frame boxes gating still reports;
* on ``vtest.avi``, **recall against the public detections** ``vtest.det.txt``
  (MOT format ``frame,id,x,y,w,h,score,...``, 1-based frames) of both, persons
  only: the accuracy cost of gating in points;
* **inference** images and share of frame pixels per frame, and frames that
  were full passes, crop passes and skipped;
* **CPU seconds per frame** (process time, motion detection included) of gated
  against full-frame, as a ratio measured in the same run.

Clips (``../shared/eval/media``): ``vtest.avi`` (a fixed camera over a busy
pedestrian street), ``bikes.mp4`` (a moving camera with cuts: gating should
fall back to full passes and cost about the same), and a **still scene**: the
first vtest frame repeated with Gaussian sensor noise (sigma 2), what most
cameras show most of the time.

    python -m benchmarks.motion_gating [--quick]
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from benchmarks._common import (
    REPO_ROOT,
    Section,
    fmt_ratio,
    markdown_table,
    progress,
    ratio,
    run_main,
)

if TYPE_CHECKING:
    import numpy.typing as npt

    from argus.domain.detections import Detections
    from argus.ports.detector import Detector

    Image = npt.NDArray[np.uint8]

__all__ = ["ClipResult", "load_public", "recall", "render", "run"]

MEDIA = REPO_ROOT.parent / "shared" / "eval" / "media"
VTEST = MEDIA / "vtest.avi"
BIKES = MEDIA / "bikes.mp4"
PUBLIC = MEDIA / "vtest.det.txt"
CLASSES = ("person", "bicycle", "car", "motorcycle", "bus", "truck")
PUBLIC_MIN_SCORE = 0.5
STILL_FRAMES = 100
QUICK_FRAMES = 40


@dataclass
class ClipResult:
    """Measurements of one clip."""

    name: str
    frames: int = 0
    full_boxes: int = 0
    matched: int = 0
    full_cpu: list[float] = field(default_factory=list)
    gated_cpu: list[float] = field(default_factory=list)
    full_passes: int = 0
    region_passes: int = 0
    skipped: int = 0
    images: int = 0
    inferred_share: float = 0.0
    public_total: int = 0
    public_full: int = 0
    public_gated: int = 0

    @property
    def recall(self) -> float:
        """Share of full-frame boxes that gating reports too (IoU >= 0.5, same class)."""
        return self.matched / self.full_boxes if self.full_boxes else float("nan")

    @property
    def cpu_ratio(self) -> float:
        """CPU per frame, gated over full-frame."""
        return ratio(sum(self.gated_cpu), sum(self.full_cpu))


def recall(reference: Detections, found: Detections, *, same_class: bool = True) -> int:
    """How many ``reference`` boxes a ``found`` box matches at IoU >= 0.5."""
    from argus.domain.nms import box_iou

    if not len(reference) or not len(found):
        return 0
    match = box_iou(reference.xyxy, found.xyxy) >= 0.5
    if same_class:
        match &= reference.class_id[:, None] == found.class_id[None, :]
    return int(match.any(axis=1).sum())


def load_public(text: str, min_score: float = PUBLIC_MIN_SCORE) -> dict[int, np.ndarray]:
    """Boxes ``(N, 4)`` xyxy per 0-based frame from MOT-format lines ``frame,id,x,y,w,h,score``."""
    out: dict[int, list[tuple[float, float, float, float]]] = {}
    for line in text.splitlines():
        parts = line.split(",")
        if len(parts) < 7 or float(parts[6]) < min_score:
            continue
        x, y, w, h = (float(v) for v in parts[2:6])
        out.setdefault(int(parts[0]) - 1, []).append((x, y, x + w, y + h))
    return {k: np.asarray(v, dtype=np.float32).reshape(-1, 4) for k, v in out.items()}


def _frames(path: Path, step: int, limit: int | None) -> Iterator[tuple[int, Image]]:
    import cv2

    capture = cv2.VideoCapture(str(path))
    index = taken = 0
    try:
        while limit is None or taken < limit:
            ok, image = capture.read()
            if not ok:
                return
            if index % step == 0:
                taken += 1
                yield index, np.asarray(image, dtype=np.uint8)
            index += 1
    finally:
        capture.release()


def _still(limit: int) -> Iterator[tuple[int, Image]]:
    first = next(_frames(VTEST, 1, 1))[1]
    rng = np.random.default_rng(0)
    for i in range(limit):
        noise = rng.normal(0.0, 2.0, first.shape)
        yield i, np.clip(first + noise, 0, 255).astype(np.uint8)


def _detector() -> Detector:
    from argus.bootstrap.container import build_container
    from argus.bootstrap.models import DetectorOptions
    from argus.config import Settings

    return build_container(Settings()).detector(
        DetectorOptions(
            model="yolov7-tiny",
            input_size=416,
            classes=list(CLASSES),
            intra_op_threads=1,
            inter_op_threads=1,
        )
    )


def measure(
    name: str,
    frames: Iterator[tuple[int, Image]],
    detector: Detector,
    public: dict[int, np.ndarray] | None = None,
) -> ClipResult:
    """Run full-frame and gated detection frame by frame over one clip."""
    from argus.adapters.detectors.gated import GatedDetector, gate_detector
    from argus.domain.detections import Detections
    from argus.scene import DetectSpec, MotionSpec

    gated = gate_detector(detector, DetectSpec(motion=MotionSpec()))
    assert isinstance(gated, GatedDetector)
    result = ClipResult(name)
    person = detector.class_names.index("person")
    for index, image in frames:
        started = time.process_time()
        full = detector.detect(image)
        middle = time.process_time()
        found = gated.detect(image)
        result.full_cpu.append(middle - started)
        result.gated_cpu.append(time.process_time() - middle)
        result.frames += 1
        result.full_boxes += len(full)
        result.matched += recall(full, found)
        if public is not None:
            boxes = public.get(index, np.zeros((0, 4), np.float32))
            truth = Detections(
                xyxy=boxes,
                confidence=np.ones(len(boxes), np.float32),
                class_id=np.zeros(len(boxes), np.int64),
            )
            result.public_total += len(truth)
            result.public_full += recall(
                truth, full.select(full.class_id == person), same_class=False
            )
            result.public_gated += recall(
                truth, found.select(found.class_id == person), same_class=False
            )
    stats = gated.stats
    result.full_passes = stats.full_passes
    result.region_passes = stats.region_passes
    result.skipped = stats.skipped_frames
    result.images = stats.images
    result.inferred_share = stats.inferred_share
    return result


def render(results: Sequence[ClipResult]) -> Section:
    """The report section: one row per clip."""
    rows = []
    headline = []
    for r in results:
        per_frame = r.images / r.frames if r.frames else float("nan")
        full_ms = 1000 * sum(r.full_cpu) / max(1, r.frames)
        gated_ms = 1000 * sum(r.gated_cpu) / max(1, r.frames)
        rows.append(
            [
                r.name,
                r.frames,
                f"{100 * r.recall:.1f} %",
                f"{r.full_passes} / {r.region_passes} / {r.skipped}",
                f"{per_frame:.2f}",
                f"{100 * r.inferred_share:.0f} %",
                f"{full_ms:.1f}",
                f"{gated_ms:.1f}",
                fmt_ratio(r.cpu_ratio),
            ]
        )
        headline.append(
            f"motion gating, {r.name}: CPU/frame {fmt_ratio(r.cpu_ratio)} of full-frame, "
            f"recall vs full-frame {100 * r.recall:.1f} %"
        )
    body = markdown_table(
        [
            "clip",
            "frames",
            "recall vs full-frame (IoU 0.5)",
            "full / crop / skipped frames",
            "inference images / frame",
            "pixels inferred",
            "full-frame CPU ms/frame",
            "gated CPU ms/frame",
            "gated / full CPU",
        ],
        rows,
    )
    public = [r for r in results if r.public_total]
    if public:
        lines = [
            [
                r.name,
                r.public_total,
                f"{100 * r.public_full / r.public_total:.1f} %",
                f"{100 * r.public_gated / r.public_total:.1f} %",
                f"{100 * (r.public_gated - r.public_full) / r.public_total:+.1f}",
            ]
            for r in public
        ]
        body += "\n\nRecall of persons against the public detections `vtest.det.txt` "
        body += f"(score >= {PUBLIC_MIN_SCORE}, IoU 0.5):\n\n"
        body += markdown_table(
            ["clip", "public boxes", "full-frame", "gated", "gating cost (points)"], lines
        )
        headline += [
            f"motion gating, {r.name}: recall vs vtest.det.txt "
            f"{100 * r.public_full / r.public_total:.1f} % full-frame, "
            f"{100 * r.public_gated / r.public_total:.1f} % gated"
            for r in public
        ]
    return Section("Motion-gated detection", body, headline)


def run(quick: bool) -> Section:
    """Measure every clip present; a short note when the eval media is absent."""
    if not VTEST.is_file():
        reason = f"skipped: {VTEST} is absent (../shared/eval is only beside a checkout)"
        return Section("Motion-gated detection", reason, [f"motion gating: {reason}"])
    detector = _detector()
    detector.detect(next(_frames(VTEST, 1, 1))[1])  # warm-up, not timed
    limit = QUICK_FRAMES if quick else None
    public = load_public(PUBLIC.read_text(encoding="utf-8")) if PUBLIC.is_file() else None
    results = []
    progress("motion_gating: vtest.avi")
    results.append(
        measure("vtest.avi (busy, fixed camera)", _frames(VTEST, 2, limit), detector, public)
    )
    if BIKES.is_file():
        progress("motion_gating: bikes.mp4")
        results.append(
            measure("bikes.mp4 (moving camera, cuts)", _frames(BIKES, 5, limit), detector)
        )
    progress("motion_gating: still scene")
    results.append(
        measure("still scene (vtest frame + noise)", _still(limit or STILL_FRAMES), detector)
    )
    return render(results)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print its markdown report."""
    return run_main("Motion-gated detection against full-frame detection.", run, argv)


if __name__ == "__main__":
    raise SystemExit(main())

"""Detector accuracy on an annotated set: mAP of each shipped pack (``model_eval``).

The annotated set is built from ``../shared/eval/media/vtest.avi``: that clip
is PETS 2009 S2L1 (795 frames) scaled from 768x576 to 480x360, and the MOT15
ground truth of PETS09-S2L1 (``gt/gt.txt``: every pedestrian boxed by the
MOTChallenge annotators, frame-aligned; checked against ``vtest.det.txt``)
labels it. The benchmark reads that file from ``$ARGUS_EVAL_PETS_GT`` or
``../shared/eval/mot/PETS09-S2L1/gt/gt.txt`` and skips with a reason without
it. Labelling, exactly: boxes scaled by 0.625 and clipped to the frame, class
``person``; rows whose flag (column 7) is 0 (people the annotators marked as
not to be scored: hidden or barely visible) become ignore regions, where a
detection counts neither way. Up to ``FRAMES`` labelled frames, evenly spread
over the clip, are scored (fewer with ``--quick``).

Each model runs with a confidence floor of 0.001 (COCO's convention, so AP
sees the whole precision-recall curve), person class only; precision and
recall are counted at 0.25 (the cameras' default confidence). Scoring is
faster-coco-eval (the scorer the product's evaluations use). The reference,
scored the same way in the same run, is the public detections shipped for the
same clip (``vtest.det.txt``, from the SORT repository), and every model's time
per frame is a ratio of yolov7-tiny at 640 measured in the same run.

    python -m benchmarks.model_eval [--quick]
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

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

if TYPE_CHECKING:
    import numpy.typing as npt

    from argus.domain.detection_eval import AnnotatedFrame, EvaluationScores
    from argus.domain.detections import Detections
    from argus.domain.hard_examples import LabelBox

    Image = npt.NDArray[np.uint8]

__all__ = [
    "FRAMES",
    "MODELS",
    "Result",
    "gt_path",
    "parse_ground_truth",
    "render",
    "run",
]

TITLE = "Detector accuracy on an annotated set (`model_eval`)"
EVAL_DIR = REPO_ROOT.parent / "shared" / "eval"
VIDEO = EVAL_DIR / "media" / "vtest.avi"
PUBLIC_DETECTIONS = EVAL_DIR / "media" / "vtest.det.txt"
GT_ENV = "ARGUS_EVAL_PETS_GT"
SCALE = 0.625
"""vtest.avi (480x360) is PETS09-S2L1 (768x576) scaled by 0.625."""
WIDTH, HEIGHT = 480, 360
FRAMES = 40
QUICK_FRAMES = 6
MODELS: tuple[tuple[str, int], ...] = (
    ("yolov7-tiny", 320),
    ("yolov7-tiny", 416),
    ("yolov7-tiny", 640),
    ("ssd-mobilenet-v3", 320),
)
REFERENCE = ("yolov7-tiny", 640)
PRODUCTION_DEFAULT = "yolov7-tiny 320"
"""The first model of ``MODELS``: what a shadow run compares the others with."""
CONF_FLOOR = 0.001
OPERATING = 0.25


@dataclass(frozen=True, slots=True)
class Result:
    """One model's scores and speed on the set."""

    name: str
    scores: EvaluationScores
    seconds: tuple[float, ...]
    agreement: float | None = None
    """Shadow agreement with the production default (yolov7-tiny 320) at the operating score."""


def gt_path() -> Path:
    """Where the PETS09-S2L1 ground truth is read from."""
    named = os.environ.get(GT_ENV)
    return Path(named) if named else EVAL_DIR / "mot" / "PETS09-S2L1" / "gt" / "gt.txt"


def _box(x: float, y: float, w: float, h: float, score: float | None = None) -> LabelBox | None:
    from argus.domain.hard_examples import LabelBox

    x1, y1 = max(0.0, x * SCALE), max(0.0, y * SCALE)
    x2, y2 = min(float(WIDTH), (x + w) * SCALE), min(float(HEIGHT), (y + h) * SCALE)
    if x2 - x1 < 1 or y2 - y1 < 1:
        return None
    return LabelBox(x1, y1, x2, y2, "person", score)


def parse_ground_truth(text: str) -> dict[int, AnnotatedFrame]:
    """MOT15 ``gt.txt`` rows (768x576 pixels) as annotated 480x360 frames, by 1-based frame."""
    from argus.domain.detection_eval import AnnotatedFrame

    truth: dict[int, list[LabelBox]] = {}
    ignore: dict[int, list[LabelBox]] = {}
    for line in text.splitlines():
        parts = line.strip().split(",")
        if len(parts) < 7:
            continue
        frame = int(float(parts[0]))
        box = _box(*(float(v) for v in parts[2:6]))
        truth.setdefault(frame, [])
        ignore.setdefault(frame, [])
        if box is not None:
            (truth if float(parts[6]) > 0 else ignore)[frame].append(box)
    return {
        f: AnnotatedFrame(WIDTH, HEIGHT, tuple(truth[f]), tuple(ignore[f])) for f in sorted(truth)
    }


def public_detections(frames: Sequence[int]) -> list[list[LabelBox]]:
    """The public detections of vtest.avi (already in its pixels) for ``frames``."""
    from argus.domain.hard_examples import LabelBox

    wanted = {f: i for i, f in enumerate(frames)}
    out: list[list[LabelBox]] = [[] for _ in frames]
    for line in PUBLIC_DETECTIONS.read_text().splitlines():
        parts = line.split(",")
        index = wanted.get(int(float(parts[0])))
        if index is None:
            continue
        x, y, w, h, score = (float(v) for v in parts[2:7])
        x1, y1 = max(0.0, x), max(0.0, y)
        x2, y2 = min(float(WIDTH), x + w), min(float(HEIGHT), y + h)
        if x2 - x1 >= 1 and y2 - y1 >= 1:
            out[index].append(LabelBox(x1, y1, x2, y2, "person", min(1.0, max(0.0, score))))
    return out


def sample(frames: Sequence[int], count: int) -> list[int]:
    """Up to ``count`` of ``frames``, evenly spread (first and last included)."""
    if len(frames) <= count:
        return list(frames)
    step = (len(frames) - 1) / (count - 1)
    return sorted({frames[round(i * step)] for i in range(count)})


def read_frames(numbers: Sequence[int]) -> list[Image]:
    """The 1-based ``numbers`` frames of vtest.avi, decoded in one pass."""
    import cv2

    wanted = set(numbers)
    out: dict[int, Image] = {}
    capture = cv2.VideoCapture(str(VIDEO))
    try:
        index = 0
        while len(out) < len(wanted):
            ok, image = capture.read()
            if not ok:
                break
            index += 1
            if index in wanted:
                out[index] = np.asarray(image, dtype=np.uint8)
    finally:
        capture.release()
    return [out[n] for n in numbers]


def _run_model(
    name: str, size: int, images: Sequence[Image]
) -> tuple[list[list[LabelBox]], list[float]]:
    from argus.bootstrap.container import build_container
    from argus.bootstrap.models import DetectorOptions
    from argus.config import Settings
    from argus.domain.hard_examples import LabelBox

    detector = build_container(Settings()).detector(
        DetectorOptions(
            model=name,
            input_size=size if name != "ssd-mobilenet-v3" else None,
            conf_threshold=CONF_FLOOR,
            classes=["person"],
            intra_op_threads=1,
            inter_op_threads=1,
        )
    )
    detector.detect(images[0])  # warm-up, not timed
    boxes: list[list[LabelBox]] = []
    seconds: list[float] = []
    for image in images:
        started = time.perf_counter()
        found = detector.detect(image)
        seconds.append(time.perf_counter() - started)
        boxes.append(
            [
                LabelBox(float(b[0]), float(b[1]), float(b[2]), float(b[3]), "person", float(s))
                for b, s in zip(found.xyxy.tolist(), found.confidence.tolist(), strict=True)
                if b[2] > b[0] and b[3] > b[1]
            ]
        )
    return boxes, seconds


def _detections(boxes: Sequence[LabelBox]) -> Detections:
    from argus.domain.detections import Detections

    kept = [b for b in boxes if b.score is not None and b.score >= OPERATING]
    if not kept:
        return Detections.empty(("person",))
    return Detections(
        xyxy=np.array([[b.x1, b.y1, b.x2, b.y2] for b in kept], dtype=np.float32),
        confidence=np.array([b.score for b in kept], dtype=np.float32),
        class_id=np.zeros(len(kept), dtype=np.int64),
        class_names=("person",),
    )


def shadow_agreement(
    production: Sequence[Sequence[LabelBox]], candidate: Sequence[Sequence[LabelBox]]
) -> float:
    """What a shadow run would report: agreement of two models' boxes at the operating score."""
    from argus.domain.detection_agreement import AgreementTally, compare

    tally = AgreementTally()
    for mine, theirs in zip(production, candidate, strict=True):
        tally = tally.add(compare(_detections(mine), _detections(theirs)))
    return tally.agreement


def evaluate(quick: bool) -> tuple[list[Result], Result, int, int]:
    """Score every model and the public detections; also the frame and box counts."""
    from argus.adapters.evaluation.coco_scorer import CocoScorer

    annotated = parse_ground_truth(gt_path().read_text())
    numbers = sample(sorted(annotated), QUICK_FRAMES if quick else FRAMES)
    frames = [annotated[n] for n in numbers]
    progress(f"model_eval: decoding {len(numbers)} frames of {VIDEO.name}")
    images = read_frames(numbers)
    scorer = CocoScorer()
    results = []
    production: list[list[LabelBox]] | None = None
    for name, size in MODELS:
        progress(f"model_eval: {name} at {size}")
        boxes, seconds = _run_model(name, size, images)
        scores = scorer.score(frames, boxes, classes=["person"], score_threshold=OPERATING)
        production = production if production is not None else boxes
        agreement = shadow_agreement(production, boxes)
        results.append(Result(f"{name} {size}", scores, tuple(seconds), agreement))
    public = scorer.score(
        frames, public_detections(numbers), classes=["person"], score_threshold=OPERATING
    )
    reference = Result("public detections (vtest.det.txt)", public, ())
    truth = sum(len(f.truth) for f in frames)
    return results, reference, len(frames), truth


def render(results: Sequence[Result], reference: Result, frames: int, truth: int) -> Section:
    """The report section: a table of every model and the reference."""
    ref_name = f"{REFERENCE[0]} {REFERENCE[1]}"
    ref_time = next((median(r.seconds) for r in results if r.name == ref_name), float("nan"))
    ref_map = reference.scores.map50
    rows = []
    for r in [*results, reference]:
        person = r.scores.classes[0] if r.scores.classes else None
        ms = median(r.seconds) if r.seconds else float("nan")
        rows.append(
            [
                r.name,
                f"{r.scores.map50:.3f}",
                fmt_ratio(ratio(r.scores.map50, ref_map)),
                f"{r.scores.map50_95:.3f}",
                f"{r.scores.precision:.2f}",
                f"{r.scores.recall:.2f}",
                str(person.detections if person else 0),
                "-" if not r.seconds else f"{ms * 1000:.1f}",
                "-" if not r.seconds else fmt_ratio(ratio(ms, ref_time)),
                "-" if r.agreement is None else f"{100 * r.agreement:.0f} %",
            ]
        )
    head = [
        "model",
        "mAP@0.5",
        "vs public dets",
        "mAP@0.5:0.95",
        f"precision @{OPERATING}",
        f"recall @{OPERATING}",
        "boxes scored",
        "ms/frame",
        f"time vs {ref_name}",
        f"shadow agreement with {PRODUCTION_DEFAULT}",
    ]
    body = "\n\n".join(
        [
            f"{frames} frames of vtest.avi (PETS09-S2L1 at 480x360), {truth} labelled people "
            "(MOT15 ground truth scaled by 0.625; rows flagged 0 are ignore regions). "
            f"Person class only; confidence floor {CONF_FLOOR}, precision and recall at "
            f"{OPERATING}; faster-coco-eval; one ONNX Runtime / OpenCV thread per model. "
            "The last column is what a shadow run beside the default (yolov7-tiny 320) would "
            f"report on these frames: boxes at {OPERATING} or more matched at IoU 0.5.",
            markdown_table(head, rows),
        ]
    )
    best = {r.name: r.scores.map50 for r in results}
    headline = [
        "model_eval: person mAP@0.5 on PETS09-S2L1 frames "
        + ", ".join(f"{n} {v:.2f}" for n, v in best.items())
        + f" (public detections {ref_map:.2f})"
    ]
    return Section(TITLE, body, headline)


def run(quick: bool) -> Section:
    """Measure and render; a skip note without the clip or the ground truth."""
    if not VIDEO.is_file():
        return Section(TITLE, f"*Skipped: {VIDEO} is absent.*")
    path = gt_path()
    if not path.is_file():
        return Section(
            TITLE,
            f"*Skipped: no PETS09-S2L1 ground truth at {path} (set ${GT_ENV} to the MOT15 "
            "`PETS09-S2L1/gt/gt.txt`).*",
        )
    results, reference, frames, truth = evaluate(quick)
    return render(results, reference, frames, truth)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print its markdown section."""
    return run_main("Detector accuracy on an annotated set.", run, argv)


if __name__ == "__main__":
    raise SystemExit(main())

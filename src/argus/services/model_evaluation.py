"""One evaluation: a model version run over the annotated set and scored.

The annotated set is the accepted hard examples (labels reviewed by someone
other than the labeller) of the cameras the evaluation was asked for, newest
first, up to a limit. Each example's sealed frame is read back, decoded and
fed to the model; an example marked "nothing here" has no truth, so every
box the model draws on it is a false positive. Scoring is the injected
``DetectionScorer`` (faster-coco-eval). Decoding, detection and scoring run
in a worker thread: the event loop stays free.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from argus.domain.detection_eval import AnnotatedFrame, EvaluationScores
from argus.domain.detections import Detections
from argus.domain.errors import ValidationError
from argus.domain.hard_examples import ExampleState, HardExample, LabelBox
from argus.ports.detection_eval import DetectionScorer
from argus.ports.detector import Detector
from argus.ports.hard_examples import ExampleFilter, HardExampleStore
from argus.ports.workstations import ImageDecoder

__all__ = ["AnnotatedSet", "EvaluationTools", "evaluate_model"]

_PAGE = 200


@dataclass(frozen=True, slots=True)
class EvaluationTools:
    """What an evaluation needs besides the store.

    Attributes:
        detectors: Builds the detector of a model reference (may raise ``ModelError``).
        frame: Reads an example's sealed frame (JPEG bytes) by example id.
        decode: Decodes the frame into BGR pixels.
        scorer: Scores the boxes against the labels.
    """

    detectors: Callable[[str], Detector]
    frame: Callable[[str], Awaitable[bytes]]
    decode: ImageDecoder
    scorer: DetectionScorer


@dataclass(frozen=True, slots=True)
class AnnotatedSet:
    """The examples of one evaluation and their labelled frames (same order)."""

    examples: tuple[HardExample, ...]
    frames: tuple[AnnotatedFrame, ...]


async def annotated_set(
    store: HardExampleStore, camera_ids: Sequence[str] | None, limit: int
) -> AnnotatedSet:
    """The accepted examples of ``camera_ids`` (``None``: every camera), newest first."""
    where = ExampleFilter(camera_ids=camera_ids, states={ExampleState.ACCEPTED})
    examples: list[HardExample] = []
    offset = 0
    while len(examples) < limit:
        page = await store.list(where, limit=min(_PAGE, limit - len(examples)), offset=offset)
        examples.extend(page.items)
        offset += len(page.items)
        if len(page.items) == 0 or offset >= page.total:
            break
    frames = tuple(AnnotatedFrame(e.width, e.height, truth=e.labels) for e in examples)
    return AnnotatedSet(tuple(examples), frames)


def _boxes(found: Detections, width: int, height: int) -> list[LabelBox]:
    names = found.class_names
    boxes = []
    for (left, top, right, bottom), score, cls in zip(
        found.xyxy.tolist(), found.confidence.tolist(), found.class_id.tolist(), strict=True
    ):
        x1, y1 = max(0.0, left), max(0.0, top)
        x2, y2 = min(float(width), right), min(float(height), bottom)
        if x2 > x1 and y2 > y1:
            name = names[cls] if 0 <= cls < len(names) else str(cls)
            boxes.append(LabelBox(x1, y1, x2, y2, name, min(1.0, max(0.0, score))))
    return boxes


async def evaluate_model(
    tools: EvaluationTools,
    model: str,
    annotated: AnnotatedSet,
    *,
    score_threshold: float,
) -> EvaluationScores:
    """Run ``model`` over the set and score it.

    Raises:
        ValidationError: The set is empty or holds no labelled object.
        ModelError: The model cannot be built.
    """
    if not annotated.examples:
        raise ValidationError("no accepted hard examples to evaluate on")
    classes = sorted({b.class_name for f in annotated.frames for b in f.truth})
    if not classes:
        raise ValidationError("the accepted examples hold no labelled object")
    detector = await asyncio.to_thread(tools.detectors, model)
    predictions: list[list[LabelBox]] = []
    for example in annotated.examples:
        data = await tools.frame(example.id)

        def detect(data: bytes = data, example: HardExample = example) -> list[LabelBox]:
            image = tools.decode(data)
            height, width = image.shape[:2]
            found = _boxes(detector.detect(image), width, height)
            if (width, height) == (example.width, example.height):
                return found
            sx, sy = example.width / width, example.height / height
            return [
                LabelBox(
                    b.x1 * sx,
                    b.y1 * sy,
                    min(b.x2 * sx, example.width),
                    min(b.y2 * sy, example.height),
                    b.class_name,
                    b.score,
                )
                for b in found
            ]

        predictions.append(await asyncio.to_thread(detect))
    return await asyncio.to_thread(
        tools.scorer.score,
        annotated.frames,
        predictions,
        classes=classes,
        score_threshold=score_threshold,
    )

"""``DetectionScorer`` over faster-coco-eval (the C++ port of pycocotools' COCOeval).

The annotated frames become a COCO ground-truth dictionary: one image per
frame, one category per class, truth boxes as annotations and ignore regions
as ``iscrowd`` annotations (COCO's rule for crowds: a detection overlapping
one is neither matched nor counted as a false positive, and missing it costs
nothing). Areas are left to COCO's size ranges only for its own summary; the
reported numbers use every size (``area=all``) and 100 detections per image.
Precision and recall per class are counted at one score threshold (the
confidence a camera runs at) from faster-coco-eval's own matches at IoU 0.5:
a detection matched to a truth box is a true positive, one matched to an
ignore region counts neither way, any other is a false positive.
(``extended_metrics`` of faster-coco-eval 1.8 counts detections matched to
``iscrowd`` regions as true positives, so it is not used.)
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from typing import Any

from faster_coco_eval import COCO, COCOeval_faster  # type: ignore[import-untyped]

from argus.domain.detection_eval import AnnotatedFrame, ClassScores, EvaluationScores
from argus.domain.errors import ValidationError
from argus.domain.hard_examples import LabelBox

__all__ = ["CocoScorer"]

log = logging.getLogger(__name__)


def _xywh(box: LabelBox) -> list[float]:
    return [float(box.x1), float(box.y1), float(box.x2 - box.x1), float(box.y2 - box.y1)]


def _quiet(*_: Any, **__: Any) -> None:
    """faster-coco-eval's print function: its progress lines are noise here."""


def _ground_truth(frames: Sequence[AnnotatedFrame], categories: dict[str, int]) -> dict[str, Any]:
    images: list[dict[str, Any]] = []
    annotations: list[dict[str, Any]] = []
    for image_id, frame in enumerate(frames, start=1):
        images.append({"id": image_id, "width": frame.width, "height": frame.height})
        for crowd, boxes in ((0, frame.truth), (1, frame.ignore)):
            for box in boxes:
                category = categories.get(box.class_name)
                if category is None:
                    continue
                annotations.append(
                    {
                        "id": len(annotations) + 1,
                        "image_id": image_id,
                        "category_id": category,
                        "bbox": _xywh(box),
                        "area": box.area,
                        "iscrowd": crowd,
                    }
                )
    cats = [{"id": i, "name": n} for n, i in categories.items()]
    return {"images": images, "annotations": annotations, "categories": cats}


def _finite(value: Any) -> float:
    number = float(value)
    return number if math.isfinite(number) and number >= 0 else 0.0


class CocoScorer:
    """Scores detections against annotated frames with faster-coco-eval."""

    def score(
        self,
        frames: Sequence[AnnotatedFrame],
        predictions: Sequence[Sequence[LabelBox]],
        *,
        classes: Sequence[str] | None = None,
        score_threshold: float = 0.25,
    ) -> EvaluationScores:
        """Score ``predictions[i]`` against ``frames[i]`` (see ``DetectionScorer``)."""
        if len(frames) != len(predictions):
            raise ValidationError(f"{len(predictions)} prediction lists for {len(frames)} frames")
        names = (
            list(dict.fromkeys(classes))
            if classes is not None
            else sorted({b.class_name for f in frames for b in f.truth})
        )
        categories = {name: i for i, name in enumerate(names, start=1)}
        results: list[dict[str, Any]] = []
        for image_id, boxes in enumerate(predictions, start=1):
            for box in boxes:
                if box.score is None:
                    raise ValidationError("every predicted box needs a score")
                category = categories.get(box.class_name)
                if category is not None:
                    results.append(
                        {
                            "image_id": image_id,
                            "category_id": category,
                            "bbox": _xywh(box),
                            "score": float(box.score),
                        }
                    )
        truth_counts = dict.fromkeys(names, 0)
        for frame in frames:
            for box in frame.truth:
                if box.class_name in truth_counts:
                    truth_counts[box.class_name] += 1
        det_counts = dict.fromkeys(names, 0)
        for result in results:
            det_counts[names[result["category_id"] - 1]] += 1
        if not frames or not any(truth_counts.values()):
            return EvaluationScores(0.0, 0.0, 0.0, 0.0, len(frames), ())
        return self._evaluate(
            frames, categories, results, truth_counts, det_counts, score_threshold=score_threshold
        )

    def _evaluate(
        self,
        frames: Sequence[AnnotatedFrame],
        categories: dict[str, int],
        results: list[dict[str, Any]],
        truth_counts: dict[str, int],
        det_counts: dict[str, int],
        *,
        score_threshold: float,
    ) -> EvaluationScores:
        truth = COCO(_ground_truth(frames, categories), print_function=_quiet)
        detections = truth.loadRes(results)
        evaluator = COCOeval_faster(truth, detections, "bbox", print_function=_quiet)
        evaluator.run()
        precision = evaluator.eval["precision"]  # [iou, recall, class, area, max dets]
        rates = _operating_point(evaluator, truth, detections, score_threshold)
        per_class = []
        for k, name in enumerate(sorted(categories, key=categories.__getitem__)):
            curve = precision[:, :, k, 0, -1]
            p, r = rates.get(categories[name], (0.0, 0.0))
            per_class.append(
                ClassScores(
                    class_name=name,
                    ap50=_mean_valid(curve[0]),
                    ap50_95=_mean_valid(curve),
                    precision=p,
                    recall=r,
                    truth=truth_counts[name],
                    detections=det_counts[name],
                )
            )
        scored = [c for c in per_class if c.truth > 0]
        stats = evaluator.stats_as_dict
        return EvaluationScores(
            map50=_finite(stats["AP_50"]),
            map50_95=_finite(stats["AP_all"]),
            precision=sum(c.precision for c in scored) / len(scored),
            recall=sum(c.recall for c in scored) / len(scored),
            frames=len(frames),
            classes=tuple(per_class),
        )


def _mean_valid(values: Any) -> float:
    """Mean of the entries COCOeval filled (``-1`` marks a class without truth)."""
    valid = values[values > -1]
    return float(valid.mean()) if valid.size else 0.0


def _operating_point(
    evaluator: Any, truth: Any, detections: Any, threshold: float
) -> dict[int, tuple[float, float]]:
    """Per category id: precision and recall of the detections scoring ``threshold`` or more."""
    crowd = {i for i, a in truth.anns.items() if a.get("iscrowd", 0)}
    to_truth: dict[int, bool] = {}
    for key, iou in evaluator.eval.get("matched", {}).items():
        if iou < 0.5:
            continue
        dt_id, gt_id = (int(part) for part in key.split("_", 1))
        # A detection matched to a truth box wins over one matched to an ignore region.
        to_truth[dt_id] = to_truth.get(dt_id, False) or gt_id not in crowd
    tp: dict[int, int] = {}
    fp: dict[int, int] = {}
    for dt_id, ann in detections.anns.items():
        if float(ann["score"]) < threshold:
            continue
        category = int(ann["category_id"])
        matched = to_truth.get(dt_id)
        if matched is True:
            tp[category] = tp.get(category, 0) + 1
        elif matched is None:
            fp[category] = fp.get(category, 0) + 1
    totals: dict[int, int] = {}
    for gt_id, ann in truth.anns.items():
        if gt_id not in crowd:
            totals[int(ann["category_id"])] = totals.get(int(ann["category_id"]), 0) + 1
    rates = {}
    for category, total in totals.items():
        hits, misses = tp.get(category, 0), fp.get(category, 0)
        kept = hits + misses
        rates[category] = (hits / kept if kept else 0.0, hits / total if total else 0.0)
    return rates

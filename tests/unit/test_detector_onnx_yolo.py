"""OnnxYoloDetector decoding, batching and filters on tiny synthetic ONNX models."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TypedDict

import numpy as np
import numpy.typing as npt
import pytest

from argus.adapters.detectors.layouts import Layout
from argus.adapters.detectors.onnx_yolo import OnnxYoloDetector
from argus.ports.detector import Detector
from tests.factories import Candidate, solid_image, write_yolo_model, yolo_output

NAMES = ("person", "bicycle", "car")
SIZE = 64
REF = "synthetic@1"

# A box centred in the 64 x 64 input: input corners (22, 27, 42, 37).
CENTRE = Candidate(cx=32, cy=32, w=20, h=10, class_id=1, score=0.9, obj=0.5)


def _build(
    tmp_path: Path,
    layout: str,
    candidates: Sequence[Candidate],
    *,
    batch: int | None = None,
    score_from_image: bool = False,
) -> Path:
    """Write a synthetic model answering ``candidates``.

    With ``score_from_image`` each candidate's class score is the input image's
    mean instead (white image: 1, black image: 0).
    """
    if not score_from_image:
        base = yolo_output(layout, candidates, len(NAMES), rows=16)
        return write_yolo_model(tmp_path / f"{layout}.onnx", base, batch=batch)
    boxes_only = [Candidate(c.cx, c.cy, c.w, c.h, c.class_id, 0.0) for c in candidates]
    scores_only = [Candidate(0, 0, 0, 0, c.class_id, 1.0, obj=0.0) for c in candidates]
    base = yolo_output(layout, boxes_only, len(NAMES), rows=16)
    delta = yolo_output(layout, scores_only, len(NAMES), rows=16)
    return write_yolo_model(tmp_path / f"{layout}.onnx", base, delta=delta, batch=batch)


def _counting(detector: OnnxYoloDetector, monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, ...]]:
    """Record the shape of every tensor the detector feeds to ONNX Runtime."""
    seen: list[tuple[int, ...]] = []
    infer = detector.infer

    def spy(tensor: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        seen.append(tensor.shape)
        return infer(tensor)

    monkeypatch.setattr(detector, "infer", spy)
    return seen


@pytest.mark.parametrize(
    ("layout", "expected_layout", "expected_score"),
    [
        pytest.param("yolov5", Layout.YOLOV5, 0.45, id="yolov5-obj-times-cls"),
        pytest.param("yolov8", Layout.YOLOV8, 0.9, id="yolov8"),
        pytest.param("yolov8-rows", Layout.YOLOV8_ROWS, 0.9, id="yolov8-rows"),
    ],
)
def test_each_layout_maps_boxes_back_to_the_source(
    tmp_path: Path, layout: str, expected_layout: Layout, expected_score: float
) -> None:
    model = _build(tmp_path, layout, [CENTRE])
    detector = OnnxYoloDetector(model, model_ref=REF, class_names=NAMES, input_size=SIZE)

    found = detector.detect(solid_image(480, 640))

    assert detector.layout is expected_layout
    assert len(found) == 1
    # 640 x 480 -> scale 0.1, 64 x 48 placed 8 rows down.
    np.testing.assert_allclose(found.xyxy, [[220, 190, 420, 290]], atol=1e-3)
    np.testing.assert_allclose(found.confidence, [expected_score], atol=1e-6)
    assert found.labels == ["bicycle"]
    assert found.model == REF
    assert found.class_names == NAMES


def test_boxes_in_the_padding_are_clipped_to_the_image(tmp_path: Path) -> None:
    model = _build(tmp_path, "yolov8", [Candidate(60, 4, 16, 8, 0, 0.8)])
    detector = OnnxYoloDetector(model, model_ref=REF, class_names=NAMES, input_size=SIZE)
    found = detector.detect(solid_image(480, 640))
    np.testing.assert_allclose(found.xyxy, [[520, 0, 640, 0]], atol=1e-3)


@pytest.mark.parametrize(
    ("batch", "images", "expected_calls"),
    [
        pytest.param(None, 3, [(3, 3, SIZE, SIZE)], id="dynamic-one-run"),
        pytest.param(None, 1, [(1, 3, SIZE, SIZE)], id="dynamic-single"),
        pytest.param(1, 3, [(1, 3, SIZE, SIZE)] * 3, id="fixed-1-per-image"),
        pytest.param(2, 3, [(2, 3, SIZE, SIZE)] * 2, id="fixed-2-padded"),
    ],
)
def test_detect_batch_runs_once_per_model_batch(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    batch: int | None,
    images: int,
    expected_calls: list[tuple[int, ...]],
) -> None:
    candidate = Candidate(32, 32, 20, 20, class_id=0, score=1.0)
    model = _build(tmp_path, "yolov8", [candidate], batch=batch, score_from_image=True)
    detector = OnnxYoloDetector(model, model_ref=REF, class_names=NAMES, input_size=SIZE)
    calls = _counting(detector, monkeypatch)
    # White images score 1, black ones 0: results must follow their own image.
    frames = [solid_image(SIZE, SIZE, 255 if i % 2 == 0 else 0) for i in range(images)]

    results = detector.detect_batch(frames)

    assert calls == expected_calls
    assert detector.batch_size == batch
    assert [len(r) for r in results] == [1 if i % 2 == 0 else 0 for i in range(images)]
    for found in results[::2]:
        np.testing.assert_allclose(found.xyxy, [[22, 22, 42, 42]], atol=1e-3)
        assert float(found.confidence[0]) == pytest.approx(1.0)


def test_detect_batch_handles_mixed_sizes(tmp_path: Path) -> None:
    model = _build(tmp_path, "yolov5", [CENTRE])
    detector = OnnxYoloDetector(model, model_ref=REF, class_names=NAMES, input_size=SIZE)
    wide, tall = solid_image(480, 640), solid_image(640, 480)
    results = detector.detect_batch([wide, tall])
    np.testing.assert_allclose(results[0].xyxy, [[220, 190, 420, 290]], atol=1e-3)
    np.testing.assert_allclose(results[1].xyxy, [[140, 270, 340, 370]], atol=1e-3)


def test_detect_batch_of_nothing(tmp_path: Path) -> None:
    detector = OnnxYoloDetector(
        _build(tmp_path, "yolov8", [CENTRE]), model_ref=REF, class_names=NAMES
    )
    assert detector.detect_batch([]) == []


class Options(TypedDict, total=False):
    """Filtering options of ``OnnxYoloDetector``."""

    conf_threshold: float
    iou_threshold: float
    class_thresholds: dict[int, float]
    classes: list[int]
    max_detections: int


# Three overlapping boxes of different classes plus a far one; scores per class.
SCENE = [
    Candidate(20, 20, 20, 20, class_id=0, score=0.90),
    Candidate(21, 20, 20, 20, class_id=0, score=0.80),  # same class, overlaps: NMS
    Candidate(20, 21, 20, 20, class_id=2, score=0.60),  # other class, overlaps: survives
    Candidate(50, 50, 8, 8, class_id=1, score=0.30),
    Candidate(52, 10, 8, 8, class_id=2, score=0.20),
]


@pytest.mark.parametrize(
    ("options", "expected_labels"),
    [
        pytest.param({}, ["person", "car", "bicycle"], id="defaults-class-aware-nms"),
        pytest.param({"conf_threshold": 0.5}, ["person", "car"], id="conf-threshold"),
        pytest.param(
            {"class_thresholds": {2: 0.1}}, ["person", "car", "bicycle", "car"], id="per-class-low"
        ),
        pytest.param({"class_thresholds": {0: 0.95, 1: 0.35}}, ["car"], id="per-class-high"),
        pytest.param({"classes": [0]}, ["person"], id="class-filter"),
        pytest.param(
            {"classes": [1, 2], "conf_threshold": 0.1}, ["car", "bicycle", "car"], id="filter-many"
        ),
        pytest.param({"max_detections": 2}, ["person", "car"], id="max-detections"),
        pytest.param(
            {"iou_threshold": 0.95}, ["person", "person", "car", "bicycle"], id="loose-iou"
        ),
    ],
)
def test_thresholds_filter_and_nms(
    tmp_path: Path, options: Options, expected_labels: list[str]
) -> None:
    model = _build(tmp_path, "yolov8", SCENE)
    detector = OnnxYoloDetector(model, model_ref=REF, class_names=NAMES, input_size=SIZE, **options)
    found = detector.detect(solid_image(SIZE, SIZE))
    assert found.labels == expected_labels
    assert list(found.confidence) == sorted(found.confidence, reverse=True)


def test_satisfies_the_detector_port(tmp_path: Path) -> None:
    detector = OnnxYoloDetector(
        _build(tmp_path, "yolov8", [CENTRE]), model_ref=REF, class_names=NAMES
    )
    assert isinstance(detector, Detector)


def test_preprocess_letterboxes_to_rgb_unit_nchw(tmp_path: Path) -> None:
    detector = OnnxYoloDetector(
        _build(tmp_path, "yolov8", [CENTRE]), model_ref=REF, class_names=NAMES, input_size=SIZE
    )
    blue = solid_image(32, 64, (255, 0, 0))

    tensor, metas = detector.preprocess([blue])

    assert tensor.shape == (1, 3, SIZE, SIZE)
    assert tensor.dtype == np.float32
    assert tensor.flags.c_contiguous
    pad, inside = tensor[0, :, 0, 0], tensor[0, :, SIZE // 2, SIZE // 2]
    np.testing.assert_allclose(pad, [114 / 255] * 3, rtol=1e-6)
    np.testing.assert_allclose(inside, [0.0, 0.0, 1.0], rtol=1e-6)  # R, G, B
    assert (metas[0].pad_top, metas[0].new_height, metas[0].scale) == (16, 32, 1.0)


def test_bare_session_run_matches_detect(tmp_path: Path) -> None:
    """The public pieces compose to ``detect`` (what a benchmark relies on)."""
    detector = OnnxYoloDetector(
        _build(tmp_path, "yolov5", [CENTRE]), model_ref=REF, class_names=NAMES, input_size=SIZE
    )
    image = solid_image(480, 640, 90)
    tensor, metas = detector.preprocess([image])
    raw = detector.session.run([detector.output_name], {detector.input_name: tensor})[0]
    by_parts = detector.postprocess(raw, metas)[0]
    whole = detector.detect(image)
    np.testing.assert_array_equal(by_parts.xyxy, whole.xyxy)
    np.testing.assert_array_equal(by_parts.confidence, whole.confidence)


def test_layout_is_decided_on_first_output_when_axes_are_symbolic(tmp_path: Path) -> None:
    base = yolo_output("yolov8-rows", [CENTRE], len(NAMES), rows=16)
    model = write_yolo_model(
        tmp_path / "m.onnx", base, output_dims=["b", "n", "k"], opaque_output=True
    )
    detector = OnnxYoloDetector(model, model_ref=REF, class_names=NAMES, input_size=SIZE)
    assert detector.layout is None
    assert len(detector.detect(solid_image(SIZE, SIZE))) == 1
    assert detector.layout is Layout.YOLOV8_ROWS


def test_threads_are_configurable(tmp_path: Path) -> None:
    detector = OnnxYoloDetector(
        _build(tmp_path, "yolov8", [CENTRE]),
        model_ref=REF,
        class_names=NAMES,
        intra_op_num_threads=1,
        inter_op_num_threads=1,
    )
    options = detector.session.get_session_options()
    assert (options.intra_op_num_threads, options.inter_op_num_threads) == (1, 1)
    assert detector.session.get_providers() == ["CPUExecutionProvider"]

"""Output layouts, class-name parsing and the shared detection filter (no model)."""

from __future__ import annotations

from pathlib import Path
from typing import TypedDict

import numpy as np
import pytest

from argus.adapters.detectors.filtering import DetectionFilter
from argus.adapters.detectors.layouts import Layout, decode, detect_layout, parse_layout
from argus.adapters.detectors.names import parse_names, read_names_file
from argus.domain.errors import ConfigError, DetectorError, ModelError
from tests.factories import Candidate, yolo_output

Dims = tuple[int | str | None, ...]


class FilterArgs(TypedDict, total=False):
    """Keyword arguments of ``DetectionFilter`` besides the class count."""

    conf_threshold: float
    iou_threshold: float
    class_thresholds: dict[int, float]
    classes: list[int]
    max_detections: int


@pytest.mark.parametrize(
    ("shape", "num_classes", "given", "expected"),
    [
        pytest.param((1, 25200, 85), 80, None, Layout.YOLOV5, id="v5-640"),
        pytest.param(("batch", "anchors", 85), 80, None, Layout.YOLOV5, id="v5-symbolic"),
        pytest.param((1, 84, 8400), 80, None, Layout.YOLOV8, id="v8-640"),
        pytest.param((None, 84, None), 80, None, Layout.YOLOV8, id="v8-dynamic"),
        pytest.param((1, 8400, 84), 80, None, Layout.YOLOV8_ROWS, id="v8-rows"),
        pytest.param((1, 10, 5), 1, None, Layout.YOLOV8_ROWS, id="one-class-rows"),
        pytest.param((1, 5, 10), 1, None, Layout.YOLOV8, id="one-class-v8"),
        pytest.param((1, 84, 85), 80, Layout.YOLOV5, Layout.YOLOV5, id="ambiguous-but-given"),
        pytest.param((1, 84, 84), 80, Layout.YOLOV8, Layout.YOLOV8, id="square-given"),
        pytest.param(("b", "n", "k"), 80, None, None, id="all-symbolic-undecided"),
        pytest.param(("b", "n", "k"), 80, Layout.YOLOV8, None, id="symbolic-given-unchecked"),
    ],
)
def test_detect_layout(
    shape: Dims, num_classes: int, given: Layout | None, expected: Layout | None
) -> None:
    assert detect_layout(shape, num_classes, given) is expected


@pytest.mark.parametrize(
    ("shape", "num_classes", "given", "message"),
    [
        pytest.param((1, 84, 85), 80, None, "ambiguous between yolov5 and yolov8", id="v5-v8"),
        pytest.param((1, 84, 84), 80, None, "ambiguous", id="square"),
        pytest.param((1, 100, 7), 80, None, "fits no known layout", id="post-nms-export"),
        pytest.param((1, 25200, 85), 3, None, "fits no known layout", id="wrong-class-count"),
        pytest.param((1, 25200, 85), 80, Layout.YOLOV8, "does not fit layout yolov8", id="given"),
        pytest.param((1, 85), 80, None, "expected 3 dimensions", id="two-dims"),
        pytest.param((1, 1, 25200, 85), 80, None, "expected 3 dimensions", id="four-dims"),
    ],
)
def test_detect_layout_rejects(
    shape: Dims, num_classes: int, given: Layout | None, message: str
) -> None:
    with pytest.raises(DetectorError, match=message) as caught:
        detect_layout(shape, num_classes, given)
    assert str(tuple(shape)) in str(caught.value)
    assert f"(B, N, {5 + num_classes}) for yolov5" in str(caught.value)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        pytest.param("yolov7", Layout.YOLOV5, id="v7"),
        pytest.param("YOLOv5", Layout.YOLOV5, id="case"),
        pytest.param("yolov11", Layout.YOLOV8, id="v11"),
        pytest.param("yolo11", Layout.YOLOV8, id="yolo11"),
        pytest.param("yolov8-rows", Layout.YOLOV8_ROWS, id="rows"),
    ],
)
def test_parse_layout(name: str, expected: Layout) -> None:
    assert parse_layout(name) is expected


def test_parse_layout_rejects_unknown() -> None:
    with pytest.raises(DetectorError, match="unknown output layout 'ssd'"):
        parse_layout("ssd")


@pytest.mark.parametrize("layout", [pytest.param(layout, id=layout.value) for layout in Layout])
def test_decode_each_layout(layout: Layout) -> None:
    candidates = [
        Candidate(50, 40, 20, 10, class_id=2, score=0.8, obj=0.5),
        Candidate(10, 10, 4, 4, class_id=0, score=0.3, obj=1.0),
    ]
    raw = yolo_output(layout.value, candidates, num_classes=3, rows=5)[0]
    decoded = decode(raw, layout, 3, min_score=0.1)
    obj_first = 0.5 if layout is Layout.YOLOV5 else 1.0
    np.testing.assert_allclose(decoded.xyxy, [[40, 35, 60, 45], [8, 8, 12, 12]])
    np.testing.assert_allclose(decoded.scores, [0.8 * obj_first, 0.3])
    assert decoded.class_id.tolist() == [2, 0]


def test_decode_v5_score_is_objectness_times_class() -> None:
    raw = yolo_output("yolov5", [Candidate(5, 5, 2, 2, 1, score=0.9, obj=0.2)], 2)[0]
    below = decode(raw, Layout.YOLOV5, 2, min_score=0.25)
    above = decode(raw, Layout.YOLOV5, 2, min_score=0.15)
    assert len(below.scores) == 0
    np.testing.assert_allclose(above.scores, [0.18])


def test_decode_rejects_a_slice_of_the_wrong_width() -> None:
    with pytest.raises(DetectorError, match=r"needs \(N, 85\)"):
        decode(np.zeros((10, 84), np.float32), Layout.YOLOV5, 80)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param('["person", "bicycle"]', ("person", "bicycle"), id="json-list"),
        pytest.param('{"0": "person", "1": "car"}', ("person", "car"), id="json-dict"),
        pytest.param("{0: 'person', 1: 'bicycle'}", ("person", "bicycle"), id="ultralytics"),
        pytest.param("{1: 'b', 0: 'a'}", ("a", "b"), id="dict-unordered"),
        pytest.param("['a', 'b']", ("a", "b"), id="python-list"),
    ],
)
def test_parse_names(text: str, expected: tuple[str, ...]) -> None:
    assert parse_names(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("__import__('os').system('true')", id="code-is-not-run"),
        pytest.param("{0: 'a', 2: 'c'}", id="gap-in-ids"),
        pytest.param("{'x': 'a'}", id="non-integer-key"),
        pytest.param("[]", id="empty"),
        pytest.param("[1, 2]", id="not-strings"),
        pytest.param("'person'", id="bare-string"),
        pytest.param("{0: 'a'", id="truncated"),
    ],
)
def test_parse_names_rejects(text: str) -> None:
    with pytest.raises(ModelError):
        parse_names(text)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        pytest.param("person\nbicycle\n", ("person", "bicycle"), id="lf"),
        pytest.param("person\r\nbicycle", ("person", "bicycle"), id="crlf-no-final-newline"),
        pytest.param("person\ntraffic light\n\n\n", ("person", "traffic light"), id="trailing"),
    ],
)
def test_read_names_file(tmp_path: Path, content: str, expected: tuple[str, ...]) -> None:
    path = tmp_path / "names.txt"
    path.write_bytes(content.encode())
    assert read_names_file(path) == expected


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param("a\n\nb\n", "blank line 2", id="blank-in-middle"),
        pytest.param("\n\n", "empty", id="empty"),
    ],
)
def test_read_names_file_rejects(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "names.txt"
    path.write_text(content)
    with pytest.raises(ModelError, match=message):
        read_names_file(path)


def test_read_names_file_missing(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="cannot read"):
        read_names_file(tmp_path / "absent.txt")


# Candidates: (box, score, class) with boxes 0 and 1 overlapping (IoU ~0.82).
BOXES = np.array(
    [[0, 0, 10, 10], [1, 0, 11, 10], [50, 50, 60, 60], [80, 80, 90, 90]], dtype=np.float32
)
SCORES = np.array([0.9, 0.8, 0.4, 0.2], dtype=np.float32)


@pytest.mark.parametrize(
    ("classes", "kwargs", "expected"),
    [
        pytest.param([0, 0, 1, 2], {}, [0, 2], id="defaults"),
        pytest.param([0, 1, 1, 2], {}, [0, 1, 2], id="class-aware-nms"),
        pytest.param([0, 0, 1, 2], {"conf_threshold": 0.1}, [0, 2, 3], id="low-threshold"),
        pytest.param([0, 0, 1, 2], {"class_thresholds": {1: 0.5, 2: 0.1}}, [0, 3], id="per-class"),
        pytest.param([0, 0, 1, 2], {"classes": [1, 2], "conf_threshold": 0.1}, [2, 3], id="filter"),
        pytest.param([0, 0, 1, 2], {"classes": []}, [], id="filter-none"),
        pytest.param([0, 0, 1, 2], {"max_detections": 1}, [0], id="max-detections"),
        pytest.param([0, 0, 1, 2], {"iou_threshold": 0.9}, [0, 1, 2], id="loose-nms"),
        pytest.param([0, 0, -1, 7], {"conf_threshold": 0.1}, [0], id="ids-out-of-range-dropped"),
    ],
)
def test_detection_filter(classes: list[int], kwargs: FilterArgs, expected: list[int]) -> None:
    selector = DetectionFilter(3, **kwargs)
    kept = selector.select(BOXES, SCORES, np.asarray(classes, dtype=np.int64))
    assert kept.tolist() == expected


def test_detection_filter_drops_non_finite() -> None:
    boxes = BOXES.copy()
    boxes[2, 0] = np.nan
    scores = SCORES.copy()
    scores[0] = np.nan
    kept = DetectionFilter(num_classes=3, conf_threshold=0.1).select(
        boxes, scores, np.array([0, 0, 1, 2])
    )
    assert kept.tolist() == [1, 3]


def test_detection_filter_min_score() -> None:
    selector = DetectionFilter(
        num_classes=3, conf_threshold=0.5, class_thresholds={1: 0.2}, classes=[0, 2]
    )
    assert selector.min_score == pytest.approx(0.5)


@pytest.mark.parametrize(
    ("num_classes", "kwargs"),
    [
        pytest.param(0, {}, id="no-classes"),
        pytest.param(3, {"conf_threshold": 1.5}, id="conf-above-one"),
        pytest.param(3, {"iou_threshold": -0.1}, id="iou-negative"),
        pytest.param(3, {"conf_threshold": float("nan")}, id="conf-nan"),
        pytest.param(3, {"max_detections": 0}, id="max-det-zero"),
        pytest.param(3, {"class_thresholds": {3: 0.5}}, id="threshold-unknown-class"),
        pytest.param(3, {"class_thresholds": {0: 2.0}}, id="threshold-out-of-range"),
        pytest.param(3, {"classes": [0, 5]}, id="filter-unknown-class"),
    ],
)
def test_detection_filter_rejects(num_classes: int, kwargs: FilterArgs) -> None:
    with pytest.raises(ConfigError):
        DetectionFilter(num_classes, **kwargs)

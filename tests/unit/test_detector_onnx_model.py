"""OnnxYoloDetector loading: class names, input checks, bad shapes and bad files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Required, TypedDict, Unpack

import numpy as np
import numpy.typing as npt
import pytest
from onnx import TensorProto

from argus.adapters.detectors import load_class_names
from argus.adapters.detectors.onnx_yolo import DEFAULT_INPUT_SIZE, OnnxYoloDetector
from argus.domain.errors import ConfigError, DetectorError, ModelError, ValidationError
from tests.factories import Candidate, solid_image, write_yolo_model, yolo_output

COCO80 = tuple(f"class{i}" for i in range(80))
NAMES = ("person", "bicycle", "car")
REF = "synthetic@1"
ONE = [Candidate(32, 32, 20, 10, class_id=2, score=0.9)]


class ModelArgs(TypedDict, total=False):
    """Options of ``write_yolo_model``."""

    input_size: int | None
    channels: int
    input_type: int
    metadata: dict[str, str]


class DetectorArgs(TypedDict, total=False):
    """Keyword arguments of ``OnnxYoloDetector``."""

    model_ref: Required[str]
    class_names: tuple[str, ...]
    input_size: int
    conf_threshold: float
    class_thresholds: dict[int, float]
    classes: list[int]
    intra_op_num_threads: int


def _v8(tmp_path: Path, **kwargs: Unpack[ModelArgs]) -> Path:
    base = yolo_output("yolov8", ONE, len(NAMES), rows=16)
    return write_yolo_model(tmp_path / "v8.onnx", base, **kwargs)


@pytest.mark.parametrize(
    "metadata",
    [
        pytest.param(json.dumps(list(NAMES)), id="json-list"),
        pytest.param("{0: 'person', 1: 'bicycle', 2: 'car'}", id="ultralytics-dict-string"),
        pytest.param(json.dumps({"0": "person", "1": "bicycle", "2": "car"}), id="json-dict"),
    ],
)
def test_names_from_model_metadata(tmp_path: Path, metadata: str) -> None:
    model = _v8(tmp_path, metadata={"names": metadata, "stride": "32"})
    detector = OnnxYoloDetector(model, model_ref=REF)
    assert detector.class_names == NAMES
    assert detector.detect(solid_image(64, 64)).labels == ["car"]
    assert load_class_names(None, model) == NAMES


def test_names_from_a_file(tmp_path: Path) -> None:
    names_file = tmp_path / "coco.names"
    names_file.write_text("person\nbicycle\ncar\n")
    model = _v8(tmp_path)
    names = load_class_names(names_file, model)
    assert names == NAMES
    assert OnnxYoloDetector(model, model_ref=REF, class_names=names).class_names == NAMES


def test_given_names_win_over_metadata(tmp_path: Path) -> None:
    model = _v8(tmp_path, metadata={"names": json.dumps(["a", "b", "c"])})
    assert OnnxYoloDetector(model, model_ref=REF, class_names=NAMES).class_names == NAMES


@pytest.mark.parametrize(
    ("metadata", "message"),
    [
        pytest.param({}, "no 'names' metadata", id="absent"),
        pytest.param({"names": "not a list"}, "cannot parse class names", id="garbage"),
    ],
)
def test_missing_or_bad_names_metadata(
    tmp_path: Path, metadata: dict[str, str], message: str
) -> None:
    model = _v8(tmp_path, metadata=metadata)
    with pytest.raises(ModelError, match=message):
        OnnxYoloDetector(model, model_ref=REF)
    with pytest.raises(ModelError, match=message):
        load_class_names(None, model)


@pytest.mark.parametrize(
    ("shape_of", "names", "layout", "message"),
    [
        pytest.param((1, 84, 85), COCO80, None, "ambiguous", id="ambiguous-v5-v8"),
        pytest.param((1, 100, 7), COCO80, None, "fits no known layout", id="post-nms-output"),
        pytest.param((1, 16, 85), NAMES, None, "fits no known layout", id="names-too-few"),
        pytest.param((1, 16, 85), COCO80, "yolov8", "does not fit layout yolov8", id="wrong"),
        pytest.param((1, 16, 85), COCO80, "ssd", "unknown output layout", id="unknown-name"),
    ],
)
def test_bad_output_shapes_are_refused(
    tmp_path: Path,
    shape_of: tuple[int, int, int],
    names: tuple[str, ...],
    layout: str | None,
    message: str,
) -> None:
    model = write_yolo_model(tmp_path / "bad.onnx", np.zeros(shape_of, np.float32))
    with pytest.raises(DetectorError, match=message) as caught:
        OnnxYoloDetector(model, model_ref=REF, class_names=names, layout=layout)
    if layout is None:
        assert str(shape_of[1:]).strip("()") in str(caught.value)


def test_ambiguous_shape_is_accepted_with_an_explicit_layout(tmp_path: Path) -> None:
    model = write_yolo_model(tmp_path / "sq.onnx", np.zeros((1, 84, 85), np.float32))
    detector = OnnxYoloDetector(model, model_ref=REF, class_names=COCO80, layout="yolov7")
    assert len(detector.detect(solid_image(64, 64))) == 0


def test_bad_output_at_run_time_is_a_detector_error(tmp_path: Path) -> None:
    model = write_yolo_model(
        tmp_path / "late.onnx",
        np.zeros((1, 16, 6), np.float32),
        output_dims=["b", "n", "k"],
        opaque_output=True,
    )
    detector = OnnxYoloDetector(model, model_ref=REF, class_names=NAMES)
    with pytest.raises(DetectorError, match=r"\(1, 16, 6\) fits no known layout"):
        detector.detect(solid_image(64, 64))


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        pytest.param({"channels": 1}, DetectorError, r"expected \(B, 3, S, S\)", id="grey"),
        pytest.param(
            {"input_type": TensorProto.UINT8}, DetectorError, "tensor\\(uint8\\)", id="uint8"
        ),
    ],
)
def test_bad_inputs_are_refused(
    tmp_path: Path, kwargs: ModelArgs, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        OnnxYoloDetector(_v8(tmp_path, **kwargs), model_ref=REF, class_names=NAMES)


@pytest.mark.parametrize(
    ("model_size", "asked", "expected"),
    [
        pytest.param(64, None, 64, id="from-model"),
        pytest.param(64, 64, 64, id="same"),
        pytest.param(None, 96, 96, id="dynamic-asked"),
        pytest.param(None, None, DEFAULT_INPUT_SIZE, id="dynamic-default"),
    ],
)
def test_input_size(
    tmp_path: Path, model_size: int | None, asked: int | None, expected: int
) -> None:
    model = _v8(tmp_path, input_size=model_size)
    detector = OnnxYoloDetector(model, model_ref=REF, class_names=NAMES, input_size=asked)
    assert detector.input_size == expected
    tensor, _ = detector.preprocess([solid_image(10, 20)])
    assert tensor.shape == (1, 3, expected, expected)


@pytest.mark.parametrize(
    "kwargs",
    [
        pytest.param({"input_size": 32}, id="size-mismatch"),
        pytest.param({"model_ref": "no-version"}, id="model-ref"),
        pytest.param({"conf_threshold": 1.2}, id="conf"),
        pytest.param({"class_thresholds": {5: 0.3}}, id="per-class-unknown-id"),
        pytest.param({"classes": [3]}, id="filter-unknown-id"),
        pytest.param({"intra_op_num_threads": -1}, id="threads"),
    ],
)
def test_bad_arguments_are_config_errors(tmp_path: Path, kwargs: DetectorArgs) -> None:
    arguments: DetectorArgs = {"model_ref": REF, "class_names": NAMES}
    arguments.update(kwargs)
    with pytest.raises(ConfigError):
        OnnxYoloDetector(_v8(tmp_path), **arguments)


@pytest.mark.parametrize(
    "content",
    [pytest.param(None, id="missing"), pytest.param(b"not a model", id="garbage")],
)
def test_unloadable_model_is_a_model_error(tmp_path: Path, content: bytes | None) -> None:
    path = tmp_path / "model.onnx"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(ModelError, match="cannot load ONNX model"):
        OnnxYoloDetector(path, model_ref=REF, class_names=NAMES)
    with pytest.raises(ModelError, match="cannot load ONNX model"):
        load_class_names(None, path)


@pytest.mark.parametrize(
    "image",
    [
        pytest.param(np.zeros((10, 10), np.uint8), id="grey"),
        pytest.param(np.zeros((10, 10, 4), np.uint8), id="bgra"),
        pytest.param(np.zeros((10, 10, 3), np.float32), id="float"),
        pytest.param(np.zeros((0, 10, 3), np.uint8), id="empty"),
    ],
)
def test_bad_images_are_validation_errors(tmp_path: Path, image: npt.NDArray[Any]) -> None:
    detector = OnnxYoloDetector(_v8(tmp_path), model_ref=REF, class_names=NAMES)
    with pytest.raises(ValidationError, match="image 1 must be"):
        detector.detect_batch([solid_image(8, 8), image])

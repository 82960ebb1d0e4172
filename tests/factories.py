"""Shared test factories: detection sets, images and tiny synthetic ONNX models.

The ONNX builders make graphs with the input and output signature of a YOLO
export but no network inside: the output is a chosen tensor ``base`` plus the
mean of each input image times a chosen tensor ``delta``::

    output[b] = base + mean(images[b]) * delta

With ``delta`` left out the model answers ``base`` for every image; with a
``delta`` that is 1 in the objectness or score column, a white image scores 1
and a black one 0, so batching tests can tell images apart.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import onnx
from onnx import TensorProto, helper, numpy_helper

from argus.domain.detections import Detections
from argus.domain.frames import Frame, SourceStats

__all__ = [
    "Candidate",
    "make_detections",
    "solid_image",
    "write_yolo_model",
    "yolo_output",
]

OPSET = 17
IR_VERSION = 8


def make_detections(
    xyxy: Sequence[Sequence[float]],
    confidence: Sequence[float] | None = None,
    class_id: Sequence[int] | None = None,
    *,
    tracker_id: Sequence[int] | None = None,
    class_names: Sequence[str] = ("person", "car"),
    model: str = "test@1",
) -> Detections:
    """Build a ``Detections`` from small lists.

    Args:
        xyxy: Box corners, one ``(x1, y1, x2, y2)`` per detection.
        confidence: Scores; defaults to 0.9 each.
        class_id: Classes; defaults to 0 each.
        tracker_id: Track ids; defaults to untracked (-1).
        class_names: Names indexed by class id.
        model: ``name@version`` of the set.
    """
    n = len(xyxy)
    return Detections(
        xyxy=np.asarray(xyxy, dtype=np.float32).reshape(n, 4),
        confidence=np.asarray(confidence if confidence is not None else [0.9] * n, np.float32),
        class_id=np.asarray(class_id if class_id is not None else [0] * n, np.int64),
        tracker_id=np.asarray(tracker_id if tracker_id is not None else [-1] * n, np.int64),
        class_names=tuple(class_names),
        model=model,
    )


def solid_image(height: int, width: int, value: int | Sequence[int] = 0) -> npt.NDArray[np.uint8]:
    """Return a BGR uint8 image ``(height, width, 3)`` of one colour."""
    image = np.empty((height, width, 3), dtype=np.uint8)
    image[...] = np.asarray(value, dtype=np.uint8)
    return image


@dataclass(frozen=True)
class Candidate:
    """One raw candidate box of a synthetic YOLO output.

    Attributes:
        cx: Box centre x in network-input pixels.
        cy: Box centre y in network-input pixels.
        w: Box width in network-input pixels.
        h: Box height in network-input pixels.
        class_id: The class that scores ``score``; every other class scores 0.
        score: Class score.
        obj: Objectness (``yolov5`` layout only).
    """

    cx: float
    cy: float
    w: float
    h: float
    class_id: int
    score: float
    obj: float = 1.0


def yolo_output(
    layout: str,
    candidates: Sequence[Candidate],
    num_classes: int,
    rows: int | None = None,
) -> npt.NDArray[np.float32]:
    """Build a one-image model output ``(1, ...)`` in a layout.

    Args:
        layout: ``yolov5`` ``(1, N, 5+C)``, ``yolov8`` ``(1, 4+C, N)`` or
            ``yolov8-rows`` ``(1, N, 4+C)``.
        candidates: The boxes; the remaining rows are all zeros.
        num_classes: Number of classes ``C``.
        rows: Total candidate count ``N`` (at least ``len(candidates)``).
    """
    n = rows if rows is not None else max(len(candidates), 1)
    has_obj = layout == "yolov5"
    first_class = 5 if has_obj else 4
    table = np.zeros((n, first_class + num_classes), dtype=np.float32)
    for i, c in enumerate(candidates):
        table[i, :4] = (c.cx, c.cy, c.w, c.h)
        if has_obj:
            table[i, 4] = c.obj
        table[i, first_class + c.class_id] = c.score
    if layout == "yolov8":
        table = np.ascontiguousarray(table.T)
    return table[None]


def write_yolo_model(
    path: Path,
    base: npt.NDArray[np.float32],
    *,
    delta: npt.NDArray[np.float32] | None = None,
    batch: int | None = None,
    input_size: int | None = 64,
    channels: int = 3,
    input_type: int = TensorProto.FLOAT,
    output_dims: Sequence[int | str | None] | None = None,
    opaque_output: bool = False,
    metadata: dict[str, str] | None = None,
) -> Path:
    """Write a tiny ONNX model with a YOLO export's signature.

    Args:
        path: Where to write the ``.onnx`` file.
        base: Output for every image, shape ``(1, A, B)``.
        delta: Added per image times the image's mean in ``[0, 1]``, shape
            ``(1, A, B)``; zeros when ``None``.
        batch: Fixed batch size, or ``None`` for a dynamic axis named ``batch``.
        input_size: Square input side, or ``None`` for dynamic spatial axes.
        channels: Input channels (3 for a real detector).
        input_type: ONNX element type of the input (FLOAT for a real detector).
        output_dims: Declared output shape; defaults to ``(batch, A, B)``.
        opaque_output: Route the output through a reshape whose target shape
            is computed at run time, so ONNX Runtime cannot infer any output
            dimension and only the declared ``output_dims`` remain.
        metadata: ``metadata_props`` of the model, e.g. ``{"names": "..."}``.

    Returns:
        ``path``.
    """
    base = np.asarray(base, dtype=np.float32)
    delta = np.zeros_like(base) if delta is None else np.asarray(delta, dtype=np.float32)
    batch_dim: int | str = batch if batch is not None else "batch"
    side: int | str = input_size if input_size is not None else "side"
    inputs = [
        helper.make_tensor_value_info("images", input_type, [batch_dim, channels, side, side])
    ]
    declared = list(output_dims) if output_dims is not None else [batch_dim, *base.shape[1:]]
    outputs = [helper.make_tensor_value_info("output", TensorProto.FLOAT, declared)]
    cast_to = "images_f" if input_type != TensorProto.FLOAT else "images"
    nodes = []
    if cast_to != "images":
        nodes.append(helper.make_node("Cast", ["images"], [cast_to], to=TensorProto.FLOAT))
    nodes += [
        helper.make_node("ReduceMean", [cast_to], ["mean"], axes=[1, 2, 3], keepdims=1),
        helper.make_node("Reshape", ["mean", "mean_shape"], ["mean_3d"]),
        helper.make_node("Mul", ["mean_3d", "delta"], ["scaled"]),
        helper.make_node("Add", ["scaled", "base"], ["summed" if opaque_output else "output"]),
    ]
    if opaque_output:
        nodes += [
            helper.make_node("Shape", ["summed"], ["summed_shape"]),
            helper.make_node("Abs", ["summed_shape"], ["opaque_shape"]),
            helper.make_node("Reshape", ["summed", "opaque_shape"], ["output"]),
        ]
    initializers = [
        numpy_helper.from_array(np.asarray([-1, 1, 1], dtype=np.int64), "mean_shape"),
        numpy_helper.from_array(delta, "delta"),
        numpy_helper.from_array(base, "base"),
    ]
    graph = helper.make_graph(nodes, "synthetic_yolo", inputs, outputs, initializers)
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="argus-tests"
    )
    model.ir_version = IR_VERSION
    for key, value in (metadata or {}).items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


class ScriptedDetector:
    """A ``Detector`` that returns prepared detections, one set per call, in order."""

    def __init__(self, frames: Sequence[Detections], class_names: tuple[str, ...]) -> None:
        self._frames = list(frames)
        self._calls = 0
        self.class_names = class_names
        self.model_ref = "scripted@1"

    def detect(self, image: npt.NDArray[np.uint8]) -> Detections:
        """Return the next prepared set (empty once they run out)."""
        del image
        if self._calls >= len(self._frames):
            return Detections.empty(self.class_names, self.model_ref)
        self._calls += 1
        return self._frames[self._calls - 1]

    def detect_batch(self, images: Sequence[npt.NDArray[np.uint8]]) -> list[Detections]:
        """Return the next prepared sets, one per image."""
        return [self.detect(image) for image in images]


class ListSource:
    """A ``VideoSource`` over blank frames at a fixed rate, closed state recorded."""

    def __init__(self, count: int, fps: float = 10.0, size: tuple[int, int] = (120, 160)) -> None:
        self.source_id = "list"
        self.closed = False
        self._count = count
        self._fps = fps
        self._size = size
        self.stats = SourceStats()

    def frames(self) -> Iterator[Frame]:
        """Yield ``count`` black frames with timestamps ``i / fps``."""
        for i in range(self._count):
            yield Frame(solid_image(*self._size), i, i / self._fps, self.source_id)

    def close(self) -> None:
        """Record that the consumer closed the source."""
        self.closed = True


class PassthroughTracker:
    """A ``Tracker`` that hands detections on as they are (their track ids, if any, kept)."""

    def update(
        self, detections: Detections, *, image: npt.NDArray[np.uint8] | None = None
    ) -> Detections:
        """Return ``detections`` unchanged."""
        del image
        return detections

    def reset(self) -> None:
        """Nothing to forget."""

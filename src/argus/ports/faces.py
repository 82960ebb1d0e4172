"""The face detector and face embedder ports."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from argus.domain.faces import Face, FaceDetections

__all__ = ["FaceDetector", "FaceEmbedder"]


@runtime_checkable
class FaceDetector(Protocol):
    """Finds faces and their five landmarks.

    Implementations take BGR uint8 images of shape ``(H, W, 3)``, any size, and
    return boxes and landmarks in that image's pixels.
    """

    @property
    def model_ref(self) -> str:
        """``name@version`` of the model."""
        ...

    def detect(self, image: npt.NDArray[np.uint8]) -> FaceDetections:
        """Detect the faces in one image."""
        ...


@runtime_checkable
class FaceEmbedder(Protocol):
    """Turns a detected face into a descriptor compared by Euclidean distance."""

    @property
    def model_ref(self) -> str:
        """``name@version`` of the model."""
        ...

    @property
    def dimension(self) -> int:
        """Length of a descriptor."""
        ...

    def embed(self, image: npt.NDArray[np.uint8], face: Face) -> npt.NDArray[np.float32]:
        """Align ``face`` of the BGR ``image`` and return its descriptor ``(dimension,)``."""
        ...

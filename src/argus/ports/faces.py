"""The face detector, face embedder and liveness checker ports."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from argus.domain.detections import Detections
from argus.domain.faces import Face, FaceDetections
from argus.domain.liveness import LivenessScore

__all__ = ["FaceDetector", "FaceEmbedder", "LivenessChecker"]


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


@runtime_checkable
class LivenessChecker(Protocol):
    """Tells a live face from a presented one (photo, screen) over several frames."""

    @property
    def window(self) -> int:
        """How many recent frames one assessment uses."""
        ...

    def assess(
        self,
        frames: Sequence[npt.NDArray[np.uint8]],
        faces: Sequence[Face],
        objects: Sequence[Detections | None] | None = None,
    ) -> LivenessScore:
        """Score BGR ``frames`` (oldest first) and the user's face in each, one per frame.

        ``objects`` are the object detector's detections of the same frames, one per
        frame (``None`` where the detector did not run on that frame), for the cues
        that look at what surrounds the face (a screen, laptop or phone around it).
        """
        ...

"""The detector port."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from argus.domain.detections import Detections

__all__ = ["Detector"]


@runtime_checkable
class Detector(Protocol):
    """Turns images into detections.

    Implementations take BGR uint8 images of shape ``(H, W, 3)``, any size,
    and return one ``Detections`` per image, boxes in that image's pixels.
    """

    @property
    def class_names(self) -> tuple[str, ...]:
        """Names indexed by class id."""
        ...

    @property
    def model_ref(self) -> str:
        """``name@version`` of the model, recorded with every detection."""
        ...

    def detect(self, image: npt.NDArray[np.uint8]) -> Detections:
        """Detect objects in one image."""
        ...

    def detect_batch(self, images: Sequence[npt.NDArray[np.uint8]]) -> list[Detections]:
        """Detect objects in several images (e.g. one per camera) in one inference call."""
        ...

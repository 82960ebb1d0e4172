"""The models run once on several clients' frames: faces, descriptors, objects.

A detector or embedder that can take several images at once (CenterFace's
``detect_many``, dlib ResNet's ``chip``/``embed_chips``, the object detector's
``detect_batch``) gets them in one call; any other implementation of the ports
is called per image, with the same results.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from argus.domain.detections import Detections
from argus.domain.faces import Face, FaceDetections
from argus.ports.detector import Detector
from argus.ports.faces import FaceDetector, FaceEmbedder

__all__ = ["ChipEmbedder", "ScalableFaceDetector", "detect_faces", "detect_objects", "embed_faces"]

Image = npt.NDArray[np.uint8]


@runtime_checkable
class ScalableFaceDetector(Protocol):
    """A face detector that takes several images and the longest side to run them at."""

    def detect_many(
        self, images: Sequence[Image], max_side: int | None = None
    ) -> list[FaceDetections]:
        """Faces of each image, detected at ``max_side``."""
        ...


@runtime_checkable
class ChipEmbedder(Protocol):
    """An embedder that aligns chips and embeds several at once."""

    def chip(self, image: Image, face: Face) -> Image:
        """The aligned chip of ``face`` in ``image``."""
        ...

    def embed_chips(self, chips: Sequence[Image]) -> npt.NDArray[np.float32]:
        """Descriptors ``(N, dimension)`` of aligned chips."""
        ...


def detect_faces(
    detector: FaceDetector,
    images: Sequence[Image],
    sides: Sequence[int],
    accept: Sequence[Callable[[Face], bool]] | None = None,
) -> list[Face | None]:
    """The largest face of each image, trying the ``sides`` smallest first.

    An image goes on to the next side when the previous one found no face, or a
    face that its ``accept`` check refused (the last side's answer is final). A
    detector without ``detect_many`` runs once per image at its own size.
    """
    if not isinstance(detector, ScalableFaceDetector):
        return [detector.detect(image).largest() for image in images]
    found: list[Face | None] = [None] * len(images)
    todo = list(range(len(images)))
    for n, side in enumerate(sides):
        if not todo:
            break
        final = n == len(sides) - 1
        results = detector.detect_many([images[i] for i in todo], side)
        for i, faces in zip(todo, results, strict=True):
            face = faces.largest()
            if face is not None and (final or accept is None or accept[i](face)):
                found[i] = face
        todo = [i for i in todo if found[i] is None]
    return found


def embed_faces(
    embedder: FaceEmbedder, items: Sequence[tuple[Image, Face]]
) -> list[npt.NDArray[np.float32]]:
    """The descriptor of each ``(image, face)``, in one model run where possible."""
    if not items:
        return []
    if isinstance(embedder, ChipEmbedder):
        out = embedder.embed_chips([embedder.chip(image, face) for image, face in items])
        return [np.asarray(row, np.float32) for row in out]
    return [embedder.embed(image, face) for image, face in items]


def detect_objects(detector: Detector, images: Sequence[Image]) -> list[Detections]:
    """The object detections of each image (one batch)."""
    if not images:
        return []
    return list(detector.detect_batch(list(images)))

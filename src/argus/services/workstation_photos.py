"""Enrolment photos turned into descriptors and face thumbnails (the photos are not kept).

Each photo must show exactly one face. Its descriptor is what verification
matches; its thumbnail (the square around the face, :data:`THUMBNAIL_SIZE`
pixels, JPEG) is what an administrator sees of the subject. Both are stored
with the subject and erased with it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from argus.domain.errors import ValidationError
from argus.domain.workstations import THUMBNAIL_SIZE, FaceSubject, face_crop
from argus.ports.faces import FaceDetector, FaceEmbedder
from argus.ports.video import JpegEncoder
from argus.ports.workstations import ImageDecoder

__all__ = ["Described", "SubjectView", "describe_photos"]


@dataclass(frozen=True, slots=True)
class SubjectView:
    """A subject as the registry shows it.

    Attributes:
        subject: The subject.
        embeddings: How many descriptors it has.
        photos: Ids of its descriptors that keep a face thumbnail, oldest first.
    """

    subject: FaceSubject
    embeddings: int
    photos: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Described:
    """What enrolment made of some photos, one entry per photo in order.

    Attributes:
        model: ``name@version`` of the embedder.
        vectors: The descriptors.
        thumbnails: The face thumbnails (JPEG), ``None`` where none is kept.
    """

    model: str
    vectors: tuple[npt.NDArray[np.float32], ...]
    thumbnails: tuple[bytes | None, ...]


def describe_photos(
    photos: Sequence[bytes],
    decode: ImageDecoder,
    models: tuple[FaceDetector, FaceEmbedder],
    encode: JpegEncoder | None = None,
) -> Described:
    """The descriptor and thumbnail of the one face in each photo (blocking: run it in a
    worker thread).

    Args:
        photos: Encoded photos (JPEG, PNG).
        decode: Decodes one photo.
        models: The face detector and the embedder.
        encode: Encodes a thumbnail as JPEG; ``None`` keeps no thumbnails.

    Raises:
        ValidationError: A photo that is not an image, or one without exactly one face
            (the message names the photo, counting from 1).
    """
    images = []
    for number, data in enumerate(photos, 1):
        try:
            images.append(decode(data))
        except ValidationError as exc:
            raise ValidationError(f"photo {number}: {exc}") from exc
    detector, embedder = models
    vectors, thumbnails = [], []
    for number, image in enumerate(images, 1):
        faces = detector.detect(image)
        if len(faces) != 1:
            found = "no face was found" if not len(faces) else f"{len(faces)} faces were found"
            raise ValidationError(
                f"photo {number}: {found}; enrol with photos that show the subject's face alone"
            )
        face = faces.item(0)
        vectors.append(embedder.embed(image, face))
        crop = None if encode is None else encode(face_crop(image, face.xyxy, THUMBNAIL_SIZE))
        thumbnails.append(crop)
    return Described(embedder.model_ref, tuple(vectors), tuple(thumbnails))

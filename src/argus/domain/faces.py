"""Faces: detections with five landmarks, descriptors, and matching against enrolled people.

A face descriptor (embedding) is a float32 vector (128 values for dlib's ResNet);
two faces are the same person when the Euclidean distance between their
descriptors is at most a threshold. :data:`DEFAULT_MATCH_THRESHOLD` was
calibrated on labelled photos (``benchmarks/face.py``), not taken from folklore.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from argus.domain.errors import ValidationError

__all__ = [
    "DEFAULT_MATCH_THRESHOLD",
    "EnrolledFaces",
    "Face",
    "FaceDetections",
    "MatchResult",
    "embedding_distance",
    "embedding_distances",
    "match",
]

FloatArray = npt.NDArray[np.float32]

DEFAULT_MATCH_THRESHOLD = 0.6
"""Largest descriptor distance accepted as the same person.

Calibrated with ``benchmarks/face.py`` on the labelled ``face_recognition`` photos
through Argus's own pipeline (CenterFace landmarks, Argus alignment, converted
ResNet): genuine pairs reach at most 0.520 and impostor pairs start at 0.682, so
every threshold in between gives 100 % true accepts and 0 % false accepts there;
0.60 is the middle of that gap (the largest margin on both sides), the choice
least likely to flip on unseen pairs. That it equals dlib's training margin is a
finding, not an assumption; the set is small (28 genuine, 182 impostor pairs).
"""

N_LANDMARKS = 5


def _frozen(values: npt.ArrayLike, name: str, shape: tuple[int, ...]) -> FloatArray:
    array = np.ascontiguousarray(values, dtype=np.float32)
    if array.shape != shape:
        raise ValidationError(f"{name} must have shape {shape}, got {array.shape}")
    if not np.all(np.isfinite(array)):
        raise ValidationError(f"{name} contains NaN or infinite values")
    array.setflags(write=False)
    return array


@dataclass(frozen=True, slots=True)
class Face:
    """One detected face.

    Attributes:
        xyxy: Box corners ``(x1, y1, x2, y2)`` in image pixels.
        confidence: Detector score in ``[0, 1]``.
        landmarks: Five ``(x, y)`` points in image pixels, in image order: the eye
            on the image's left, the other eye, nose tip, mouth corner on the
            image's left, the other mouth corner.
    """

    xyxy: tuple[float, float, float, float]
    confidence: float
    landmarks: tuple[tuple[float, float], ...]

    def landmark_array(self) -> FloatArray:
        """The landmarks as a ``(5, 2)`` float32 array."""
        return np.asarray(self.landmarks, dtype=np.float32).reshape(N_LANDMARKS, 2)

    @property
    def width(self) -> float:
        """Box width in pixels."""
        return self.xyxy[2] - self.xyxy[0]

    @property
    def height(self) -> float:
        """Box height in pixels."""
        return self.xyxy[3] - self.xyxy[1]


@dataclass(frozen=True, eq=False)
class FaceDetections:
    """The faces found in one image, as parallel read-only arrays.

    Attributes:
        xyxy: Boxes ``(N, 4)`` float32, ``x1 <= x2`` and ``y1 <= y2``.
        confidence: Scores ``(N,)`` float32 in ``[0, 1]``.
        landmarks: Points ``(N, 5, 2)`` float32 as ``(x, y)``, order as in :class:`Face`.
        model: ``name@version`` of the detector.
    """

    xyxy: FloatArray
    confidence: FloatArray
    landmarks: FloatArray
    model: str = ""

    def __post_init__(self) -> None:
        xyxy = np.asarray(self.xyxy)
        n = xyxy.shape[0] if xyxy.ndim == 2 else -1
        if n < 0:
            raise ValidationError(f"xyxy must have shape (N, 4), got {xyxy.shape}")
        object.__setattr__(self, "xyxy", _frozen(self.xyxy, "xyxy", (n, 4)))
        object.__setattr__(self, "confidence", _frozen(self.confidence, "confidence", (n,)))
        object.__setattr__(
            self, "landmarks", _frozen(self.landmarks, "landmarks", (n, N_LANDMARKS, 2))
        )
        if np.any(self.xyxy[:, 2] < self.xyxy[:, 0]) or np.any(self.xyxy[:, 3] < self.xyxy[:, 1]):
            raise ValidationError("face boxes must have x1 <= x2 and y1 <= y2")
        if np.any((self.confidence < 0) | (self.confidence > 1)):
            raise ValidationError("face confidences must lie in [0, 1]")

    @classmethod
    def empty(cls, model: str = "") -> FaceDetections:
        """No faces."""
        return cls(
            np.zeros((0, 4), np.float32),
            np.zeros(0, np.float32),
            np.zeros((0, N_LANDMARKS, 2), np.float32),
            model,
        )

    def __len__(self) -> int:
        return int(self.xyxy.shape[0])

    def __iter__(self) -> Iterator[Face]:
        return (self.item(i) for i in range(len(self)))

    def item(self, i: int) -> Face:
        """Return face ``i`` as a :class:`Face`."""
        x1, y1, x2, y2 = (float(v) for v in self.xyxy[i])
        points = tuple((float(x), float(y)) for x, y in self.landmarks[i])
        return Face((x1, y1, x2, y2), float(self.confidence[i]), points)

    def select(self, mask: npt.NDArray[np.bool_] | npt.NDArray[np.int64]) -> FaceDetections:
        """Return the faces picked by a boolean mask or an index array."""
        return FaceDetections(
            self.xyxy[mask], self.confidence[mask], self.landmarks[mask], self.model
        )

    def largest(self) -> Face | None:
        """The face with the largest box (the person at the screen), or ``None``."""
        if not len(self):
            return None
        areas = (self.xyxy[:, 2] - self.xyxy[:, 0]) * (self.xyxy[:, 3] - self.xyxy[:, 1])
        return self.item(int(np.argmax(areas)))


def _descriptor(values: npt.ArrayLike, name: str = "embedding") -> npt.NDArray[np.float64]:
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1 or array.size == 0 or not np.all(np.isfinite(array)):
        raise ValidationError(f"{name} must be a finite 1-d vector, got shape {array.shape}")
    return array


def embedding_distance(a: npt.ArrayLike, b: npt.ArrayLike) -> float:
    """Euclidean distance between two descriptors of the same length."""
    va, vb = _descriptor(a, "a"), _descriptor(b, "b")
    if va.shape != vb.shape:
        raise ValidationError(f"descriptors differ in length: {va.size} and {vb.size}")
    return float(np.linalg.norm(va - vb))


def embedding_distances(embedding: npt.ArrayLike, gallery: npt.ArrayLike) -> FloatArray:
    """Distances ``(M,)`` from one descriptor ``(D,)`` to each row of ``gallery`` ``(M, D)``."""
    query = _descriptor(embedding)
    rows = np.asarray(gallery, dtype=np.float64)
    if rows.ndim != 2 or rows.shape[1] != query.size:
        raise ValidationError(f"gallery must have shape (M, {query.size}), got {rows.shape}")
    return np.asarray(np.linalg.norm(rows - query, axis=1), dtype=np.float32)


@dataclass(frozen=True, eq=False)
class EnrolledFaces:
    """Reference descriptors of enrolled people, one row per reference photo.

    Attributes:
        identities: Who each row belongs to, ``(M,)``.
        embeddings: Descriptors ``(M, D)`` float32, read-only.
    """

    identities: tuple[str, ...]
    embeddings: FloatArray

    def __post_init__(self) -> None:
        rows = np.asarray(self.embeddings)
        dim = rows.shape[1] if rows.ndim == 2 else -1
        m = len(self.identities)
        if dim <= 0:
            raise ValidationError(f"embeddings must have shape (M, D), got {rows.shape}")
        object.__setattr__(self, "embeddings", _frozen(rows, "embeddings", (m, dim)))

    @classmethod
    def of(cls, people: dict[str, Sequence[npt.ArrayLike]]) -> EnrolledFaces:
        """Build from ``{identity: [descriptor, ...]}``."""
        identities = tuple(name for name, refs in people.items() for _ in refs)
        rows = [np.asarray(r, np.float32) for refs in people.values() for r in refs]
        if not rows:
            raise ValidationError("no reference descriptors given")
        return cls(identities, np.stack(rows))

    def __len__(self) -> int:
        return len(self.identities)

    def only(self, identity: str) -> EnrolledFaces:
        """The references of one person (for 1:1 verification)."""
        mask = np.asarray([i == identity for i in self.identities])
        if not mask.any():
            raise ValidationError(f"{identity!r} is not enrolled")
        return EnrolledFaces(
            tuple(i for i in self.identities if i == identity), self.embeddings[mask]
        )


@dataclass(frozen=True, slots=True)
class MatchResult:
    """The outcome of matching one descriptor against enrolled references.

    Attributes:
        identity: The matched person, or ``None`` when the nearest is too far.
        nearest: The nearest enrolled person, accepted or not.
        distance: Distance to the nearest reference.
        threshold: The acceptance threshold used.
    """

    identity: str | None
    nearest: str
    distance: float
    threshold: float

    @property
    def accepted(self) -> bool:
        """Whether the nearest reference is within the threshold."""
        return self.identity is not None


def match(
    embedding: npt.ArrayLike,
    enrolled: EnrolledFaces,
    threshold: float = DEFAULT_MATCH_THRESHOLD,
) -> MatchResult:
    """Match a descriptor against every reference; accept the nearest within ``threshold``.

    Raises:
        ValidationError: No references, a length mismatch, or a non-positive threshold.
    """
    if not threshold > 0:
        raise ValidationError(f"threshold must be positive, got {threshold}")
    if not len(enrolled):
        raise ValidationError("nobody is enrolled")
    distances = embedding_distances(embedding, enrolled.embeddings)
    best = int(np.argmin(distances))
    distance = float(distances[best])
    nearest = enrolled.identities[best]
    return MatchResult(nearest if distance <= threshold else None, nearest, distance, threshold)

"""Workstation security: the people a workstation may be used by, its client, its decisions.

* :class:`FaceSubject`: a person who may sit at some workstations. Face
  descriptors are kept (:class:`FaceEmbedding`, one per enrolment photo), each
  with a small JPEG of the face it was made from (:func:`face_crop`), never the
  photos; deleting the subject erases its descriptors and thumbnails (GDPR).
* :class:`VerifyClient`: a registered workstation agent. It signs in with its id
  and a key (only the key's SHA-256 is stored), names the subjects allowed at its
  screen, and is ``active``, ``paused`` or ``blocked``.
* :class:`DecisionRecord`: one non-allow decision sent to a client (the decision
  history), with its reasons, scores and the evidence frame it saved.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, get_args

import numpy as np
import numpy.typing as npt

from argus.domain.checks import aware_utc, text
from argus.domain.errors import ValidationError

__all__ = [
    "ClientStatus",
    "DecisionRecord",
    "FaceEmbedding",
    "FaceSubject",
    "VerifyClient",
    "check_client_status",
    "face_crop",
]

ClientStatus = Literal["active", "paused", "blocked"]
"""Whether a client may connect: ``paused`` and ``blocked`` clients are refused."""

CLIENT_STATUSES: tuple[ClientStatus, ...] = get_args(ClientStatus)
MAX_SUBJECTS = 100
"""Subjects one client may name."""
MAX_DIMENSION = 4096
"""Longest descriptor accepted."""
THUMBNAIL_SIZE = 128
"""Side in pixels of the square face thumbnail kept per enrolment photo."""
MAX_THUMBNAIL_BYTES = 256 << 10
"""Largest thumbnail accepted (a 128 px JPEG is a few kilobytes)."""
THUMBNAIL_MARGIN = 0.25
"""Margin around the face box, as a fraction of its longer side, on each side."""


def check_client_status(value: object) -> ClientStatus:
    """``value`` as a :data:`ClientStatus` (``ValidationError`` otherwise)."""
    for status in CLIENT_STATUSES:
        if value == status:
            return status
    raise ValidationError(f"unknown client status {value!r}; expected one of {CLIENT_STATUSES}")


def _id(value: object, where: str) -> str:
    return text(value, where, 64)


@dataclass(frozen=True, slots=True)
class FaceSubject:
    """A person whose face may unlock the workstations that name them.

    Attributes:
        id: Stable id.
        name: Display name (not used for matching).
        created_at: When the subject was created (UTC).
    """

    id: str
    name: str
    created_at: datetime

    def __post_init__(self) -> None:
        _id(self.id, "subject id")
        text(self.name, "subject name", 200)
        object.__setattr__(self, "created_at", aware_utc(self.created_at, "created_at"))


@dataclass(frozen=True, eq=False)
class FaceEmbedding:
    """One reference descriptor of a subject (from one enrolment photo).

    Attributes:
        id: Stable id.
        subject_id: Whose face it is.
        model: ``name@version`` of the embedder that made it (descriptors of
            different models are not comparable).
        vector: The descriptor ``(D,)`` float32, read-only.
        created_at: When it was enrolled (UTC).
        thumbnail: A small JPEG of the face it was made from, or ``None``
            (descriptors enrolled before thumbnails were kept).
    """

    id: str
    subject_id: str
    model: str
    vector: npt.NDArray[np.float32]
    created_at: datetime
    thumbnail: bytes | None = None

    def __post_init__(self) -> None:
        _id(self.id, "embedding id")
        if self.thumbnail is not None:
            if not isinstance(self.thumbnail, bytes) or not self.thumbnail:
                raise ValidationError("a thumbnail must be non-empty bytes")
            if len(self.thumbnail) > MAX_THUMBNAIL_BYTES:
                raise ValidationError(f"a thumbnail must be at most {MAX_THUMBNAIL_BYTES} bytes")
        _id(self.subject_id, "subject id")
        text(self.model, "embedding model", 200)
        array = np.array(self.vector, dtype=np.float32)
        if array.ndim != 1 or not 0 < array.size <= MAX_DIMENSION:
            raise ValidationError(f"a descriptor must be a 1-d vector, got shape {array.shape}")
        if not np.all(np.isfinite(array)):
            raise ValidationError("a descriptor must be finite")
        array.setflags(write=False)
        object.__setattr__(self, "vector", array)
        object.__setattr__(self, "created_at", aware_utc(self.created_at, "created_at"))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, FaceEmbedding):
            return NotImplemented
        return (
            (self.id, self.subject_id, self.model, self.created_at)
            == (other.id, other.subject_id, other.model, other.created_at)
            and self.vector.shape == other.vector.shape
            and bool(np.array_equal(self.vector, other.vector))
            and self.thumbnail == other.thumbnail
        )

    def __hash__(self) -> int:
        return hash(self.id)

    def to_bytes(self) -> bytes:
        """The vector as little-endian float32 bytes (how the SQL store keeps it)."""
        return self.vector.astype("<f4").tobytes()

    @staticmethod
    def vector_from_bytes(data: bytes) -> npt.NDArray[np.float32]:
        """The inverse of :meth:`to_bytes`."""
        if len(data) % 4 or not data:
            raise ValidationError(f"a stored descriptor of {len(data)} bytes is not float32")
        return np.frombuffer(data, dtype="<f4").astype(np.float32)


def face_crop(
    image: npt.NDArray[np.uint8],
    xyxy: tuple[float, float, float, float],
    size: int = THUMBNAIL_SIZE,
    margin: float = THUMBNAIL_MARGIN,
) -> npt.NDArray[np.uint8]:
    """The square around a face box, scaled to ``size`` x ``size`` pixels.

    The square is centred on the box, its side the box's longer side plus
    ``margin`` of it on each side, moved inside the image where it crosses an edge
    (and shrunk to the image's shorter side when larger). Scaling down averages
    the source pixels each output pixel covers; scaling up repeats the nearest.

    Args:
        image: The photo, ``(H, W, C)`` uint8.
        xyxy: The face box ``(x1, y1, x2, y2)`` in image pixels.
        size: Side of the result in pixels.
        margin: Extra room around the box, a fraction of its longer side per side.

    Returns:
        ``(size, size, C)`` uint8.
    """
    height, width = image.shape[:2]
    x1, y1, x2, y2 = xyxy
    side = round(max(x2 - x1, y2 - y1) * (1 + 2 * margin))
    side = max(1, min(side, width, height))
    left = round((x1 + x2) / 2 - side / 2)
    top = round((y1 + y2) / 2 - side / 2)
    left = min(max(left, 0), width - side)
    top = min(max(top, 0), height - side)
    square = image[top : top + side, left : left + side].astype(np.float64)
    if side < size:  # scale up: nearest pixel
        index = (np.arange(size) * side) // size
        return np.ascontiguousarray(square[index][:, index].astype(np.uint8))
    edges = np.round(np.linspace(0, side, size + 1)).astype(np.int64)
    sums = np.zeros((side + 1, side + 1, square.shape[2]), np.float64)
    sums[1:, 1:] = square.cumsum(0).cumsum(1)
    lo, hi = edges[:-1], edges[1:]
    total = (
        sums[hi][:, hi] - sums[lo][:, hi] - sums[hi][:, lo] + sums[lo][:, lo]
    )  # (size, size, C): each output pixel's source block summed
    area = np.outer(hi - lo, hi - lo)[:, :, None]
    return np.ascontiguousarray(np.clip(np.round(total / area), 0, 255).astype(np.uint8))


@dataclass(frozen=True, slots=True)
class VerifyClient:
    """A registered workstation agent.

    Attributes:
        id: The client id it signs in with.
        name: Display name (the workstation).
        key_hash: SHA-256 (hex) of its secret key.
        subjects: Ids of the subjects allowed at this workstation.
        status: ``active``, ``paused`` (by an administrator) or ``blocked``
            (by an administrator or after repeated violations).
        violations: Non-allow episodes recorded so far.
        created_at: When it was registered (UTC).
        last_seen: When it last signed in or sent a frame.
    """

    id: str
    name: str
    key_hash: str
    subjects: tuple[str, ...]
    created_at: datetime
    status: ClientStatus = "active"
    violations: int = 0
    last_seen: datetime | None = None

    def __post_init__(self) -> None:
        _id(self.id, "client id")
        text(self.name, "client name", 200)
        if len(self.key_hash) != 64 or any(c not in "0123456789abcdef" for c in self.key_hash):
            raise ValidationError("key_hash must be 64 lower-case hex digits (SHA-256)")
        subjects = tuple(dict.fromkeys(self.subjects))
        if len(subjects) > MAX_SUBJECTS:
            raise ValidationError(f"a client may name at most {MAX_SUBJECTS} subjects")
        for subject in subjects:
            _id(subject, "subject id")
        object.__setattr__(self, "subjects", subjects)
        check_client_status(self.status)
        if isinstance(self.violations, bool) or self.violations < 0:
            raise ValidationError("violations must be a count")
        object.__setattr__(self, "created_at", aware_utc(self.created_at, "created_at"))
        if self.last_seen is not None:
            object.__setattr__(self, "last_seen", aware_utc(self.last_seen, "last_seen"))


@dataclass(frozen=True, slots=True)
class DecisionRecord:
    """A decision the server sent a client, kept in the history.

    Attributes:
        id: Stable id (sorts by time).
        client_id: The client it was sent to.
        action: ``lock_screen``, ``sign_out`` or ``block`` (see ``verification.Action``).
        reasons: Why, the deciding reason first.
        scores: The numbers behind it (finite).
        at: When it was decided (UTC).
        frame_seq: The client's frame number (1 is the session's first frame).
        subject: The enrolled subject the face matched, if any.
        evidence_id: The encrypted frame saved as evidence, if any.
    """

    id: str
    client_id: str
    action: str
    reasons: tuple[str, ...]
    at: datetime
    frame_seq: int = 0
    subject: str | None = None
    evidence_id: str | None = None
    scores: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _id(self.id, "decision id")
        _id(self.client_id, "client id")
        text(self.action, "action", 20)
        object.__setattr__(self, "reasons", tuple(text(r, "reason", 40) for r in self.reasons))
        cleaned: dict[str, float] = {}
        for key, value in self.scores.items():
            if not isinstance(value, int | float) or not math.isfinite(value):
                raise ValidationError(f"score {key!r} must be finite")
            cleaned[text(key, "score name", 40)] = float(value)
        object.__setattr__(self, "scores", cleaned)
        object.__setattr__(self, "at", aware_utc(self.at, "at"))
        if self.subject is not None:
            _id(self.subject, "subject id")
        if self.evidence_id is not None:
            _id(self.evidence_id, "evidence id")
        if isinstance(self.frame_seq, bool) or self.frame_seq < 0:
            raise ValidationError("frame_seq must be a count")

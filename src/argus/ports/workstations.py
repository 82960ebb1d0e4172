"""Stores of workstation security: face subjects, verify clients, decisions, shared capacity.

Every method is one transaction (one command on Redis). Unknown ids raise
``NotFoundError``, taken ids ``ConflictError``, a failing store ``StorageError``.

The capacity state (``CapacityStore``) is one JSON document with a version:
``save`` writes it only when the stored version is still the one read
(compare-and-set), so several server processes can share it without locks.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from argus.domain.workstations import (
    ClientStatus,
    DecisionRecord,
    FaceEmbedding,
    FaceSubject,
    VerifyClient,
)
from argus.ports.paging import Page

__all__ = [
    "CapacityStore",
    "DecisionRepository",
    "ImageDecoder",
    "SubjectRepository",
    "VerifyClientRepository",
    "VersionedState",
]

ImageDecoder = Callable[[bytes], npt.NDArray[np.uint8]]
"""Decodes an encoded image (JPEG, PNG) into BGR pixels ``(H, W, 3)``; raises
``ValidationError`` for bytes that are not an image or an image over its pixel limit."""


@dataclass(frozen=True, slots=True)
class VersionedState:
    """The shared capacity document and its version (1 after the first save)."""

    state: dict[str, Any]
    version: int


class SubjectRepository(Protocol):
    """Face subjects and their reference descriptors."""

    async def add(self, subject: FaceSubject) -> None:
        """Store a new subject (``ConflictError`` when the id is taken)."""
        ...

    async def get(self, subject_id: str) -> FaceSubject:
        """The subject with ``subject_id`` (``NotFoundError`` when none)."""
        ...

    async def list(self, *, limit: int = 100, offset: int = 0) -> Page[FaceSubject]:
        """Subjects, oldest first."""
        ...

    async def delete(self, subject_id: str) -> int:
        """Delete a subject and erase its descriptors and their thumbnails; return how many
        descriptors were erased.

        Raises:
            NotFoundError: No such subject.
        """
        ...

    async def add_embeddings(self, embeddings: Sequence[FaceEmbedding]) -> None:
        """Store descriptors (all or none).

        Raises:
            NotFoundError: A descriptor names an unknown subject.
            ConflictError: An id is taken.
        """
        ...

    async def embeddings(self, subject_ids: Sequence[str]) -> tuple[FaceEmbedding, ...]:
        """The descriptors of these subjects (unknown ids have none), oldest first."""
        ...

    async def count_embeddings(self, subject_id: str) -> int:
        """How many descriptors a subject has (0 for an unknown one)."""
        ...

    async def photos(self, subject_id: str) -> tuple[str, ...]:
        """Ids of the subject's descriptors that keep a face thumbnail, oldest first (none
        for an unknown subject)."""
        ...

    async def thumbnail(self, subject_id: str, embedding_id: str) -> bytes:
        """The face thumbnail (JPEG) of one of the subject's descriptors.

        Raises:
            NotFoundError: No such subject, no such descriptor of it, or one without a
                thumbnail.
        """
        ...


class VerifyClientRepository(Protocol):
    """Registered workstation clients."""

    async def add(self, client: VerifyClient) -> None:
        """Store a new client (``ConflictError`` when the id is taken)."""
        ...

    async def get(self, client_id: str) -> VerifyClient:
        """The client with ``client_id`` (``NotFoundError`` when none)."""
        ...

    async def list(self, *, limit: int = 100, offset: int = 0) -> Page[VerifyClient]:
        """Clients, oldest first."""
        ...

    async def update(
        self, client_id: str, *, name: str | None = None, subjects: Sequence[str] | None = None
    ) -> VerifyClient:
        """Change the name and/or the allowed subjects; return the client."""
        ...

    async def set_status(self, client_id: str, status: ClientStatus) -> VerifyClient:
        """Set ``active``, ``paused`` or ``blocked``; return the client."""
        ...

    async def add_violation(self, client_id: str) -> VerifyClient:
        """Count one more violation (atomically); return the client."""
        ...

    async def touch(self, client_id: str, at: datetime) -> None:
        """Record that the client was seen at ``at``."""
        ...

    async def delete(self, client_id: str) -> None:
        """Remove a client (its decision history stays)."""
        ...


class DecisionRepository(Protocol):
    """The decision history (append-only)."""

    async def add(self, record: DecisionRecord) -> None:
        """Append a record (``ConflictError`` when the id is taken)."""
        ...

    async def list(
        self, *, client_id: str | None = None, limit: int = 100, offset: int = 0
    ) -> Page[DecisionRecord]:
        """Records, newest first, of one client or of all."""
        ...


class CapacityStore(Protocol):
    """The capacity document shared by every server process."""

    async def load(self) -> VersionedState | None:
        """The stored document, or ``None`` before the first save."""
        ...

    async def save(self, state: dict[str, Any], expected_version: int) -> bool:
        """Store ``state`` as version ``expected_version + 1`` if the stored version is
        still ``expected_version`` (0: nothing stored yet); False when someone else wrote
        first (read again and retry)."""
        ...

    async def close(self) -> None:
        """Release connections (a no-op for stores that share the database's)."""
        ...

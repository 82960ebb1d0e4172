"""In-memory stores of face subjects, verify clients, decisions and capacity (the reference)."""

from __future__ import annotations

import builtins
import copy
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from argus.domain.errors import ConflictError, NotFoundError
from argus.domain.workstations import (
    ClientStatus,
    DecisionRecord,
    FaceEmbedding,
    FaceSubject,
    VerifyClient,
    check_client_status,
)
from argus.ports.paging import Page, check_page
from argus.ports.workstations import VersionedState

__all__ = [
    "MemoryCapacityStore",
    "MemoryDecisionRepository",
    "MemorySubjectRepository",
    "MemoryVerifyClientRepository",
]


def _no_check() -> None:
    return None


class MemorySubjectRepository:
    """Subjects and descriptors in dicts (see ``SubjectRepository``)."""

    def __init__(self, check: Callable[[], None] = _no_check) -> None:
        self._check = check
        self._subjects: dict[str, FaceSubject] = {}
        self._embeddings: dict[str, FaceEmbedding] = {}

    def tables(self) -> tuple[dict[str, Any], ...]:
        """The containers of its state (a unit of work restores them on rollback)."""
        return (
            self._subjects,
            self._embeddings,
        )

    async def add(self, subject: FaceSubject) -> None:
        self._check()
        if subject.id in self._subjects:
            raise ConflictError(f"subject {subject.id} already exists")
        self._subjects[subject.id] = subject

    async def get(self, subject_id: str) -> FaceSubject:
        self._check()
        try:
            return self._subjects[subject_id]
        except KeyError:
            raise NotFoundError(f"no subject {subject_id}") from None

    async def list(self, *, limit: int = 100, offset: int = 0) -> Page[FaceSubject]:
        self._check()
        check_page(limit, offset)
        ordered = sorted(self._subjects.values(), key=lambda s: (s.created_at, s.id))
        return Page(tuple(ordered[offset : offset + limit]), len(ordered))

    async def delete(self, subject_id: str) -> int:
        await self.get(subject_id)
        erased = [e.id for e in self._embeddings.values() if e.subject_id == subject_id]
        for embedding_id in erased:
            del self._embeddings[embedding_id]
        del self._subjects[subject_id]
        return len(erased)

    async def add_embeddings(self, embeddings: Sequence[FaceEmbedding]) -> None:
        self._check()
        ids = [e.id for e in embeddings]
        for embedding in embeddings:
            if embedding.subject_id not in self._subjects:
                raise NotFoundError(f"no subject {embedding.subject_id}")
        if len(set(ids)) != len(ids) or any(i in self._embeddings for i in ids):
            raise ConflictError("an embedding id is taken")
        for embedding in embeddings:
            self._embeddings[embedding.id] = embedding

    async def embeddings(self, subject_ids: Sequence[str]) -> tuple[FaceEmbedding, ...]:
        self._check()
        wanted = set(subject_ids)
        found = [e for e in self._embeddings.values() if e.subject_id in wanted]
        return tuple(sorted(found, key=lambda e: (e.created_at, e.id)))

    async def count_embeddings(self, subject_id: str) -> int:
        self._check()
        return sum(1 for e in self._embeddings.values() if e.subject_id == subject_id)

    async def photos(self, subject_id: str) -> tuple[str, ...]:
        found = await self.embeddings([subject_id])
        return tuple(e.id for e in found if e.thumbnail is not None)

    async def thumbnail(self, subject_id: str, embedding_id: str) -> bytes:
        self._check()
        embedding = self._embeddings.get(embedding_id)
        if embedding is None or embedding.subject_id != subject_id or not embedding.thumbnail:
            raise NotFoundError(f"no photo {embedding_id} of subject {subject_id}")
        return embedding.thumbnail


class MemoryVerifyClientRepository:
    """Verify clients in a dict (see ``VerifyClientRepository``)."""

    def __init__(self, check: Callable[[], None] = _no_check) -> None:
        self._check = check
        self._clients: dict[str, VerifyClient] = {}

    def tables(self) -> tuple[dict[str, Any], ...]:
        """The containers of its state (a unit of work restores them on rollback)."""
        return (self._clients,)

    async def add(self, client: VerifyClient) -> None:
        self._check()
        if client.id in self._clients:
            raise ConflictError(f"client {client.id} already exists")
        self._clients[client.id] = client

    async def get(self, client_id: str) -> VerifyClient:
        self._check()
        try:
            return self._clients[client_id]
        except KeyError:
            raise NotFoundError(f"no client {client_id}") from None

    async def list(self, *, limit: int = 100, offset: int = 0) -> Page[VerifyClient]:
        self._check()
        check_page(limit, offset)
        ordered = sorted(self._clients.values(), key=lambda c: (c.created_at, c.id))
        return Page(tuple(ordered[offset : offset + limit]), len(ordered))

    async def _change(self, client_id: str, **changes: Any) -> VerifyClient:
        client = replace(await self.get(client_id), **changes)
        self._clients[client_id] = client
        return client

    async def update(
        self, client_id: str, *, name: str | None = None, subjects: Sequence[str] | None = None
    ) -> VerifyClient:
        changes: dict[str, Any] = {}
        if name is not None:
            changes["name"] = name
        if subjects is not None:
            changes["subjects"] = tuple(subjects)
        return await self._change(client_id, **changes)

    async def set_status(self, client_id: str, status: ClientStatus) -> VerifyClient:
        return await self._change(client_id, status=check_client_status(status))

    async def add_violation(self, client_id: str) -> VerifyClient:
        client = await self.get(client_id)
        return await self._change(client_id, violations=client.violations + 1)

    async def touch(self, client_id: str, at: datetime) -> None:
        await self._change(client_id, last_seen=at)

    async def delete(self, client_id: str) -> None:
        await self.get(client_id)
        del self._clients[client_id]


class MemoryDecisionRepository:
    """The decision history in a list (see ``DecisionRepository``)."""

    def __init__(self, check: Callable[[], None] = _no_check) -> None:
        self._check = check
        self._records: dict[str, DecisionRecord] = {}

    async def add(self, record: DecisionRecord) -> None:
        self._check()
        if record.id in self._records:
            raise ConflictError(f"decision {record.id} already exists")
        self._records[record.id] = record

    async def list(
        self, *, client_id: str | None = None, limit: int = 100, offset: int = 0
    ) -> Page[DecisionRecord]:
        self._check()
        check_page(limit, offset)
        found: builtins.list[DecisionRecord] = [
            r for r in self._records.values() if client_id is None or r.client_id == client_id
        ]
        found.sort(key=lambda r: (r.at, r.id), reverse=True)
        return Page(tuple(found[offset : offset + limit]), len(found))


class MemoryCapacityStore:
    """The capacity document in memory (one process; see ``CapacityStore``)."""

    def __init__(self, check: Callable[[], None] = _no_check) -> None:
        self._check = check
        self._stored: VersionedState | None = None

    async def load(self) -> VersionedState | None:
        self._check()
        stored = self._stored
        if stored is None:
            return None
        return VersionedState(copy.deepcopy(stored.state), stored.version)

    async def save(self, state: dict[str, Any], expected_version: int) -> bool:
        self._check()
        current = 0 if self._stored is None else self._stored.version
        if current != expected_version:
            return False
        self._stored = VersionedState(copy.deepcopy(state), current + 1)
        return True

    async def close(self) -> None:
        return None

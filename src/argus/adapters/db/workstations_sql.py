"""SQL stores of face subjects, verify clients, decisions and the shared capacity document."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from argus.adapters.db._sqlcore import Bind, count_rows, delete_by_id, transaction
from argus.adapters.db.crypto import RowCipher
from argus.adapters.db.tables import (
    capacity_state,
    face_embeddings,
    face_subjects,
    verify_clients,
    verify_decisions,
)
from argus.domain.errors import (
    ConflictError,
    NotFoundError,
    StorageError,
    ValidationError,
)
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
    "SqlCapacityStore",
    "SqlDecisionRepository",
    "SqlSubjectRepository",
    "SqlVerifyClientRepository",
]

Row = sa.Row[Any]


def _stored(kind: str, build: Any, row: Row) -> Any:
    """Build a domain value from a row, blaming the store when it does not validate."""
    try:
        return build(row)
    except (ValidationError, TypeError, ValueError) as exc:
        raise StorageError(f"a stored {kind} is unreadable: {exc}") from exc


def _subject(row: Row) -> FaceSubject:
    return FaceSubject(id=row.id, name=row.name, created_at=row.created_at)


class SqlSubjectRepository:
    """Subjects in ``face_subjects``, descriptors in ``face_embeddings``; face thumbnails
    are sealed by ``thumbnails`` (a ``RowCipher`` bound to each descriptor's id)."""

    def __init__(self, engine: Bind, thumbnails: RowCipher) -> None:
        self._engine = engine
        self._thumbnails = thumbnails

    def _open(self, blob: bytes, embedding_id: str) -> bytes:
        return self._thumbnails.open(blob, embedding_id, f"the face thumbnail {embedding_id}")

    def _embedding(self, row: Row) -> FaceEmbedding:
        return FaceEmbedding(
            id=row.id,
            subject_id=row.subject_id,
            model=row.model,
            vector=FaceEmbedding.vector_from_bytes(bytes(row.vector)),
            created_at=row.created_at,
            thumbnail=None if row.thumbnail is None else self._open(bytes(row.thumbnail), row.id),
        )

    async def add(self, subject: FaceSubject) -> None:
        values = {"id": subject.id, "name": subject.name, "created_at": subject.created_at}
        async with transaction(self._engine, f"adding subject {subject.id}") as connection:
            await connection.execute(sa.insert(face_subjects).values(values))

    async def get(self, subject_id: str) -> FaceSubject:
        query = sa.select(face_subjects).where(face_subjects.c.id == subject_id)
        async with transaction(self._engine, "reading a subject") as connection:
            row = (await connection.execute(query)).first()
        if row is None:
            raise NotFoundError(f"no subject {subject_id}")
        result: FaceSubject = _stored("subject", _subject, row)
        return result

    async def list(self, *, limit: int = 100, offset: int = 0) -> Page[FaceSubject]:
        check_page(limit, offset)
        query = (
            sa.select(face_subjects)
            .order_by(face_subjects.c.created_at, face_subjects.c.id)
            .limit(limit)
            .offset(offset)
        )
        async with transaction(self._engine, "listing subjects") as connection:
            total = await count_rows(connection, face_subjects)
            rows = (await connection.execute(query)).all()
        return Page(tuple(_stored("subject", _subject, r) for r in rows), total)

    async def delete(self, subject_id: str) -> int:
        # The descriptors go first in the same transaction: erasure does not rest on the
        # foreign key's cascade alone (SQLite enforces it only with PRAGMA foreign_keys).
        async with transaction(self._engine, f"deleting subject {subject_id}") as connection:
            erased = await connection.execute(
                sa.delete(face_embeddings).where(face_embeddings.c.subject_id == subject_id)
            )
            result = await connection.execute(
                sa.delete(face_subjects).where(face_subjects.c.id == subject_id)
            )
            if result.rowcount == 0:
                raise NotFoundError(f"no subject {subject_id}")
        return int(erased.rowcount)

    async def add_embeddings(self, embeddings: Sequence[FaceEmbedding]) -> None:
        if not embeddings:
            return
        rows = [
            {
                "id": e.id,
                "subject_id": e.subject_id,
                "model": e.model,
                "vector": e.to_bytes(),
                "created_at": e.created_at,
                "thumbnail": None
                if e.thumbnail is None
                else self._thumbnails.seal(e.thumbnail, e.id),
            }
            for e in embeddings
        ]
        owners = sorted({e.subject_id for e in embeddings})
        async with transaction(self._engine, "storing descriptors") as connection:
            known = set(
                (
                    await connection.scalars(
                        sa.select(face_subjects.c.id).where(face_subjects.c.id.in_(owners))
                    )
                ).all()
            )
            missing = [o for o in owners if o not in known]
            if missing:
                raise NotFoundError(f"no subject {missing[0]}")
            await connection.execute(sa.insert(face_embeddings), rows)

    async def embeddings(self, subject_ids: Sequence[str]) -> tuple[FaceEmbedding, ...]:
        if not subject_ids:
            return ()
        query = (
            sa.select(face_embeddings)
            .where(face_embeddings.c.subject_id.in_(sorted(set(subject_ids))))
            .order_by(face_embeddings.c.created_at, face_embeddings.c.id)
        )
        async with transaction(self._engine, "reading descriptors") as connection:
            rows = (await connection.execute(query)).all()
        return tuple(_stored("descriptor", self._embedding, r) for r in rows)

    async def count_embeddings(self, subject_id: str) -> int:
        async with transaction(self._engine, "counting descriptors") as connection:
            return await count_rows(
                connection, face_embeddings, face_embeddings.c.subject_id == subject_id
            )

    async def photos(self, subject_id: str) -> tuple[str, ...]:
        query = (
            sa.select(face_embeddings.c.id)
            .where(
                face_embeddings.c.subject_id == subject_id,
                face_embeddings.c.thumbnail.is_not(None),
            )
            .order_by(face_embeddings.c.created_at, face_embeddings.c.id)
        )
        async with transaction(self._engine, "listing face thumbnails") as connection:
            return tuple(str(i) for i in (await connection.scalars(query)).all())

    async def thumbnail(self, subject_id: str, embedding_id: str) -> bytes:
        query = sa.select(face_embeddings.c.thumbnail).where(
            face_embeddings.c.id == embedding_id, face_embeddings.c.subject_id == subject_id
        )
        async with transaction(self._engine, "reading a face thumbnail") as connection:
            data = (await connection.execute(query)).scalar()
        if not data:
            raise NotFoundError(f"no photo {embedding_id} of subject {subject_id}")
        return self._open(bytes(data), embedding_id)


def _client(row: Row) -> VerifyClient:
    return VerifyClient(
        id=row.id,
        name=row.name,
        key_hash=row.key_hash,
        subjects=tuple(str(s) for s in row.subjects),
        created_at=row.created_at,
        status=check_client_status(row.status),
        violations=int(row.violations),
        last_seen=row.last_seen,
    )


class SqlVerifyClientRepository:
    """Clients in ``verify_clients`` (see ``VerifyClientRepository``)."""

    def __init__(self, engine: Bind) -> None:
        self._engine = engine

    async def add(self, client: VerifyClient) -> None:
        values = {
            "id": client.id,
            "name": client.name,
            "key_hash": client.key_hash,
            "subjects": list(client.subjects),
            "status": client.status,
            "violations": client.violations,
            "created_at": client.created_at,
            "last_seen": client.last_seen,
        }
        async with transaction(self._engine, f"adding client {client.id}") as connection:
            await connection.execute(sa.insert(verify_clients).values(values))

    async def get(self, client_id: str) -> VerifyClient:
        query = sa.select(verify_clients).where(verify_clients.c.id == client_id)
        async with transaction(self._engine, "reading a client") as connection:
            row = (await connection.execute(query)).first()
        if row is None:
            raise NotFoundError(f"no client {client_id}")
        result: VerifyClient = _stored("client", _client, row)
        return result

    async def list(self, *, limit: int = 100, offset: int = 0) -> Page[VerifyClient]:
        check_page(limit, offset)
        query = (
            sa.select(verify_clients)
            .order_by(verify_clients.c.created_at, verify_clients.c.id)
            .limit(limit)
            .offset(offset)
        )
        async with transaction(self._engine, "listing clients") as connection:
            total = await count_rows(connection, verify_clients)
            rows = (await connection.execute(query)).all()
        return Page(tuple(_stored("client", _client, r) for r in rows), total)

    async def _set(self, client_id: str, values: dict[str, Any]) -> VerifyClient:
        if values:
            async with transaction(self._engine, f"changing client {client_id}") as connection:
                result = await connection.execute(
                    sa.update(verify_clients).where(verify_clients.c.id == client_id).values(values)
                )
            if result.rowcount == 0:
                raise NotFoundError(f"no client {client_id}")
        return await self.get(client_id)

    async def update(
        self, client_id: str, *, name: str | None = None, subjects: Sequence[str] | None = None
    ) -> VerifyClient:
        current = await self.get(client_id)
        values: dict[str, Any] = {}
        if name is not None:
            values["name"] = name
        if subjects is not None:
            values["subjects"] = list(dict.fromkeys(subjects))
        # Validate the result before writing it (a bad name never reaches the row).
        VerifyClient(
            id=current.id,
            name=values.get("name", current.name),
            key_hash=current.key_hash,
            subjects=tuple(values.get("subjects", current.subjects)),
            created_at=current.created_at,
        )
        return await self._set(client_id, values)

    async def set_status(self, client_id: str, status: ClientStatus) -> VerifyClient:
        return await self._set(client_id, {"status": check_client_status(status)})

    async def add_violation(self, client_id: str) -> VerifyClient:
        # One UPDATE: concurrent violations of one client from two servers both count.
        return await self._set(client_id, {"violations": verify_clients.c.violations + 1})

    async def touch(self, client_id: str, at: datetime) -> None:
        await self._set(client_id, {"last_seen": at})

    async def delete(self, client_id: str) -> None:
        await delete_by_id(self._engine, verify_clients, "client", client_id)


def _decision(row: Row) -> DecisionRecord:
    return DecisionRecord(
        id=row.id,
        client_id=row.client_id,
        action=row.action,
        reasons=tuple(str(r) for r in row.reasons),
        scores={str(k): float(v) for k, v in dict(row.scores).items()},
        at=row.at,
        frame_seq=int(row.frame_seq),
        subject=row.subject,
        evidence_id=row.evidence_id,
    )


class SqlDecisionRepository:
    """The decision history in ``verify_decisions`` (see ``DecisionRepository``)."""

    def __init__(self, engine: Bind) -> None:
        self._engine = engine

    async def add(self, record: DecisionRecord) -> None:
        values = {
            "id": record.id,
            "client_id": record.client_id,
            "subject": record.subject,
            "action": record.action,
            "reasons": list(record.reasons),
            "scores": dict(record.scores),
            "at": record.at,
            "frame_seq": record.frame_seq,
            "evidence_id": record.evidence_id,
        }
        async with transaction(self._engine, "recording a decision") as connection:
            await connection.execute(sa.insert(verify_decisions).values(values))

    async def list(
        self, *, client_id: str | None = None, limit: int = 100, offset: int = 0
    ) -> Page[DecisionRecord]:
        check_page(limit, offset)
        where: builtins.list[Any] = []
        if client_id is not None:
            where.append(verify_decisions.c.client_id == client_id)
        query = (
            sa.select(verify_decisions)
            .where(*where)
            .order_by(verify_decisions.c.at.desc(), verify_decisions.c.id.desc())
            .limit(limit)
            .offset(offset)
        )
        async with transaction(self._engine, "listing decisions") as connection:
            total = await count_rows(connection, verify_decisions, *where)
            rows = (await connection.execute(query)).all()
        return Page(tuple(_stored("decision", _decision, r) for r in rows), total)


class SqlCapacityStore:
    """The capacity document as one row of ``capacity_state`` (see ``CapacityStore``).

    Args:
        engine: The database's engine (not disposed of by ``close``).
        name: The row's key, so several systems could share a database.
    """

    def __init__(self, engine: Bind, name: str = "workstations") -> None:
        self._engine = engine
        self._name = name

    async def load(self) -> VersionedState | None:
        query = sa.select(capacity_state.c.state, capacity_state.c.version).where(
            capacity_state.c.name == self._name
        )
        async with transaction(self._engine, "reading the capacity state") as connection:
            row = (await connection.execute(query)).first()
        if row is None:
            return None
        if not isinstance(row.state, dict):
            raise StorageError("the stored capacity state is not a JSON object")
        return VersionedState(dict(row.state), int(row.version))

    async def save(self, state: dict[str, Any], expected_version: int) -> bool:
        now = datetime.now(UTC)
        if expected_version == 0:
            values = {"name": self._name, "version": 1, "state": state, "updated_at": now}
            try:
                async with transaction(self._engine, "creating the capacity state") as connection:
                    await connection.execute(sa.insert(capacity_state).values(values))
            except ConflictError:
                return False
            return True
        statement = (
            sa.update(capacity_state)
            .where(
                capacity_state.c.name == self._name,
                capacity_state.c.version == expected_version,
            )
            .values(version=expected_version + 1, state=state, updated_at=now)
        )
        async with transaction(self._engine, "saving the capacity state") as connection:
            result = await connection.execute(statement)
        return bool(result.rowcount == 1)

    async def close(self) -> None:
        return None

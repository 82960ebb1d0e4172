"""The workstation stores' contract: subjects, clients, decisions, capacity on every store.

Subjects, clients and decisions run against the in-memory store, SQLite and
PostgreSQL through the repository contract's ``store`` fixture. The capacity
document runs against the same three kinds of store and Redis
(``ARGUS_TEST_REDIS_URL``, a key of its own per test).
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from argus.adapters.capacity_redis import RedisCapacityStore
from argus.adapters.db.memory import MemoryDatabase
from argus.adapters.db.sql import SqlDatabase
from argus.domain.errors import ConflictError, NotFoundError, StorageError, ValidationError
from argus.domain.workstations import DecisionRecord, FaceEmbedding, FaceSubject, VerifyClient
from argus.ports.workstations import CapacityStore
from tests.integration import test_repositories_contract as contract
from tests.integration.test_repositories_contract import T0, Store

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

store = contract.store

REDIS_URL = os.environ.get("ARGUS_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
HASH = "a" * 64


def _subject(n: int = 0) -> FaceSubject:
    return FaceSubject(id=f"subject-{n:03d}", name=f"Person {n}", created_at=T0 + timedelta(n))


def _embedding(subject: str, n: int, seed: int = 0) -> FaceEmbedding:
    vector = np.random.default_rng(seed * 100 + n).normal(size=128).astype(np.float32)
    return FaceEmbedding(
        id=f"emb-{subject}-{n}",
        subject_id=subject,
        model="dlib-face-resnet@1.0",
        vector=vector,
        created_at=T0 + timedelta(minutes=n),
    )


def _client(n: int = 0, **changes: Any) -> VerifyClient:
    client = VerifyClient(
        id=f"client-{n:03d}",
        name=f"Desk {n}",
        key_hash=HASH,
        subjects=("subject-000",),
        created_at=T0 + timedelta(seconds=n),
    )
    return replace(client, **changes)


def _decision(n: int, client: str = "client-000", **changes: Any) -> DecisionRecord:
    record = DecisionRecord(
        id=f"decision-{n:03d}",
        client_id=client,
        action="lock_screen",
        reasons=("wrong_user",),
        at=T0 + timedelta(seconds=n),
        frame_seq=n,
        subject=None,
        evidence_id=f"ev-{n}",
        scores={"distance": 0.81, "phone": 0.0},
    )
    return replace(record, **changes)


# --- subjects and descriptors ----------------------------------------------------------------


async def test_subjects_keep_descriptors_bit_for_bit(store: Store) -> None:
    repo = store.db.face_subjects
    await repo.add(_subject(0))
    await repo.add(_subject(1))
    made = [
        _embedding("subject-000", 0),
        _embedding("subject-000", 1),
        _embedding("subject-001", 0),
    ]
    await repo.add_embeddings(made)
    assert await repo.get("subject-000") == _subject(0)
    assert await repo.embeddings(["subject-000"]) == tuple(made[:2])
    assert await repo.embeddings(["subject-000", "subject-001", "nobody"]) == (
        made[0],
        made[2],
        made[1],
    )
    assert await repo.embeddings([]) == ()
    assert await repo.count_embeddings("subject-000") == 2
    page = await repo.list(limit=1, offset=1)
    assert (page.items, page.total) == ((_subject(1),), 2)


async def test_deleting_a_subject_erases_its_descriptors(store: Store) -> None:
    repo = store.db.face_subjects
    await repo.add(_subject(0))
    await repo.add(_subject(1))
    await repo.add_embeddings([_embedding("subject-000", i) for i in range(3)])
    await repo.add_embeddings([_embedding("subject-001", 0)])
    assert await repo.delete("subject-000") == 3
    assert await repo.embeddings(["subject-000"]) == ()
    assert await repo.count_embeddings("subject-000") == 0
    assert len(await repo.embeddings(["subject-001"])) == 1
    with pytest.raises(NotFoundError):
        await repo.get("subject-000")
    with pytest.raises(NotFoundError):
        await repo.delete("subject-000")


async def test_descriptors_need_their_subject_and_fresh_ids(store: Store) -> None:
    repo = store.db.face_subjects
    with pytest.raises(NotFoundError):
        await repo.add_embeddings([_embedding("subject-404", 0)])
    await repo.add(_subject(0))
    with pytest.raises(ConflictError):
        await repo.add(_subject(0))
    await repo.add_embeddings([_embedding("subject-000", 0)])
    with pytest.raises(ConflictError):
        await repo.add_embeddings([_embedding("subject-000", 1), _embedding("subject-000", 0)])
    # all or nothing: the new one of the failed batch was not kept
    assert await repo.count_embeddings("subject-000") == 1


# --- clients ---------------------------------------------------------------------------------


async def test_client_lifecycle(store: Store) -> None:
    repo = store.db.verify_clients
    await repo.add(_client(0))
    await repo.add(_client(1))
    with pytest.raises(ConflictError):
        await repo.add(_client(0))
    assert await repo.get("client-000") == _client(0)
    changed = await repo.update("client-000", name="Front desk", subjects=["s1", "s2", "s1"])
    assert (changed.name, changed.subjects) == ("Front desk", ("s1", "s2"))
    assert (await repo.update("client-000")).name == "Front desk"
    assert (await repo.set_status("client-000", "blocked")).status == "blocked"
    assert (await repo.set_status("client-000", "active")).status == "active"
    await repo.touch("client-000", T0 + timedelta(hours=1))
    assert (await repo.get("client-000")).last_seen == T0 + timedelta(hours=1)
    page = await repo.list(limit=10)
    assert [c.id for c in page.items] == ["client-000", "client-001"]
    await repo.delete("client-001")
    with pytest.raises(NotFoundError):
        await repo.get("client-001")


@pytest.mark.parametrize(
    "operation",
    ["get", "update", "set_status", "add_violation", "touch", "delete"],
)
async def test_unknown_clients_are_not_found(store: Store, operation: str) -> None:
    repo = store.db.verify_clients
    calls: dict[str, Any] = {
        "get": lambda: repo.get("nobody"),
        "update": lambda: repo.update("nobody", name="x"),
        "set_status": lambda: repo.set_status("nobody", "paused"),
        "add_violation": lambda: repo.add_violation("nobody"),
        "touch": lambda: repo.touch("nobody", T0),
        "delete": lambda: repo.delete("nobody"),
    }
    with pytest.raises(NotFoundError):
        await calls[operation]()


async def test_bad_status_and_names_are_refused(store: Store) -> None:
    repo = store.db.verify_clients
    await repo.add(_client(0))
    with pytest.raises(ValidationError):
        await repo.set_status("client-000", "gone")  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        await repo.update("client-000", name="")
    assert (await repo.get("client-000")).name == "Desk 0"


async def test_concurrent_violations_all_count(store: Store) -> None:
    repo = store.db.verify_clients
    await repo.add(_client(0))
    await asyncio.gather(*(repo.add_violation("client-000") for _ in range(8)))
    assert (await repo.get("client-000")).violations == 8


# --- decisions -------------------------------------------------------------------------------


async def test_decisions_newest_first_per_client(store: Store) -> None:
    repo = store.db.verify_decisions
    for n in range(5):
        await repo.add(_decision(n, "client-000" if n % 2 == 0 else "client-001"))
    with pytest.raises(ConflictError):
        await repo.add(_decision(0))
    page = await repo.list(limit=2)
    assert (page.total, [r.id for r in page.items]) == (5, ["decision-004", "decision-003"])
    mine = await repo.list(client_id="client-000")
    assert [r.id for r in mine.items] == ["decision-004", "decision-002", "decision-000"]
    assert mine.items[-1] == _decision(0)
    assert (await repo.list(client_id="nobody")).total == 0


# --- the capacity document -------------------------------------------------------------------


@pytest.fixture(params=["memory", "sqlite", "postgresql", "redis"])
async def capacity(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[CapacityStore]:
    """A fresh capacity document of each kind (a database row, or a Redis hash)."""
    kind: str = request.param
    if kind == "memory":
        yield MemoryDatabase().capacity
        return
    if kind == "redis":
        try:
            redis = await RedisCapacityStore.connect(REDIS_URL, prefix=f"t-{uuid.uuid4().hex[:12]}")
        except StorageError as exc:
            pytest.fail(f"Redis is not reachable ({exc}); run scripts/services.sh")
        try:
            yield redis
        finally:
            await redis.clear()
            await redis.close()
        return
    schema = f"t_{uuid.uuid4().hex[:12]}" if kind == "postgresql" else None
    url = contract.POSTGRES_URL if schema else f"sqlite:///{tmp_path / 'argus.db'}"
    try:
        db = await SqlDatabase.open(url, secret_key=contract.SECRET, schema=schema)
    except StorageError as exc:
        pytest.fail(f"{kind} is not reachable ({exc}); run scripts/services.sh")
    try:
        yield db.capacity
    finally:
        await db.close()
        if schema is not None:
            await contract._drop_schema(schema)


async def test_capacity_compare_and_set(capacity: CapacityStore) -> None:
    assert await capacity.load() is None
    assert not await capacity.save({"n": 1}, 1)  # nothing stored: only version 0 is current
    assert await capacity.save({"n": 1, "queue": ["a", "b"]}, 0)
    assert not await capacity.save({"n": 2}, 0)  # the first writer won
    loaded = await capacity.load()
    assert loaded is not None
    assert (loaded.state, loaded.version) == ({"n": 1, "queue": ["a", "b"]}, 1)
    loaded.state["n"] = 99  # the caller's copy is its own
    assert await capacity.save({"n": 2}, 1)
    assert not await capacity.save({"n": 3}, 1)
    again = await capacity.load()
    assert again is not None
    assert (again.state, again.version) == ({"n": 2}, 2)


async def test_capacity_racing_writers_lose_no_update(capacity: CapacityStore) -> None:
    async def increment() -> None:
        while True:
            stored = await capacity.load()
            count = 0 if stored is None else int(stored.state["count"])
            if await capacity.save({"count": count + 1}, 0 if stored is None else stored.version):
                return

    await asyncio.gather(*(increment() for _ in range(10)))
    final = await capacity.load()
    assert final is not None
    assert (final.state, final.version) == ({"count": 10}, 10)

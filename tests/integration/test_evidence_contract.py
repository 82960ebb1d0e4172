"""The evidence repository's contract on every store: in-memory, SQLite and PostgreSQL.

The same cases run through the ``store`` fixture of the repository contract
(``test_repositories_contract``): a fresh memory store, SQLite file, or
PostgreSQL schema per test. Items here carry made-up envelopes; the crypto is
tested in ``test_evidence_crypto`` and end to end in ``test_evidence_service``.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta, timezone
from typing import Any

import pytest
import sqlalchemy as sa

from argus.adapters.db.evidence_memory import MemoryEvidenceRepository
from argus.adapters.db.evidence_sql import SqlEvidenceRepository
from argus.adapters.db.sql import SqlDatabase
from argus.domain.errors import (
    ConflictError,
    IntegrityError,
    NotFoundError,
    StorageError,
    ValidationError,
)
from argus.domain.evidence import EvidenceItem
from argus.domain.evidence_status import EvidenceGap, TamperedEvidence
from argus.ports.evidence import EvidenceFilter, EvidenceRepository
from tests.integration import test_repositories_contract as contract
from tests.integration.test_repositories_contract import T0, Store

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

store = contract.store


def _item(n: int = 0, **changes: Any) -> EvidenceItem:
    evidence_id = f"01HEVIDENCE{n:016d}"
    item = EvidenceItem(
        id=evidence_id,
        kind="snapshot" if n % 2 == 0 else "clip",
        content_type="image/jpeg" if n % 2 == 0 else "video/mp4",
        created_at=T0 + timedelta(minutes=n),
        size=1000 + n,
        sha256=f"{n:064x}",
        storage_key=f"2026/03/01/{evidence_id}",
        kid="k1",
        wrapped_key=bytes([n % 256]) * 60,
        nonce=bytes(12),
        hmac=bytes([7]) * 32,
        alert_id=f"alert-{n % 3}",
        incident_id="incident-1" if n % 2 == 0 else None,
        camera_id=f"cam-{n % 2}",
        created_by="system",
    )
    return replace(item, **changes)


def _repository(made: Store) -> EvidenceRepository:
    if isinstance(made.db, SqlDatabase):
        return SqlEvidenceRepository(made.db.engine)
    return MemoryEvidenceRepository()


async def test_add_then_get_returns_the_item(store: Store) -> None:
    repository = _repository(store)
    plain = _item(1)
    locked = _item(2).with_lock("user:op-1", T0 + timedelta(hours=1))
    for item in (plain, locked):
        await repository.add(item)
    assert await repository.get(plain.id) == plain
    assert await repository.get(locked.id) == locked


async def test_times_in_other_zones_come_back_in_utc(store: Store) -> None:
    repository = _repository(store)
    item = _item(3, created_at=T0.astimezone(timezone(timedelta(hours=-5))))
    await repository.add(item)
    stored = await repository.get(item.id)
    assert stored.created_at == T0
    assert stored.created_at.utcoffset() == timedelta(0)


async def test_a_taken_id_conflicts_and_an_unknown_one_is_not_found(store: Store) -> None:
    repository = _repository(store)
    await repository.add(_item(1))
    with pytest.raises(ConflictError):
        await repository.add(_item(1, size=5))
    with pytest.raises(NotFoundError):
        await repository.get("01HUNKNOWN")


FILTERS: list[tuple[str, dict[str, Any], list[int]]] = [
    ("all", {}, [0, 1, 2, 3, 4, 5]),
    ("alert", {"alert_id": "alert-1"}, [1, 4]),
    ("incident", {"incident_id": "incident-1"}, [0, 2, 4]),
    ("camera", {"camera_id": "cam-1"}, [1, 3, 5]),
    ("created-before", {"created_before": T0 + timedelta(minutes=2)}, [0, 1]),
    ("locked", {"locked": True}, [3]),
    ("unlocked-and-old", {"locked": False, "created_before": T0 + timedelta(minutes=4)}, [0, 1, 2]),
    ("alert-and-camera", {"alert_id": "alert-0", "camera_id": "cam-1"}, [3]),
]


@pytest.mark.parametrize(("name", "where", "expected"), FILTERS, ids=[f[0] for f in FILTERS])
async def test_list_filters_oldest_first(
    store: Store, name: str, where: dict[str, Any], expected: list[int]
) -> None:
    repository = _repository(store)
    for n in (5, 3, 0, 4, 1, 2):  # inserted out of order
        item = _item(n)
        await repository.add(item.with_lock("user:op-1", T0) if n == 3 else item)
    page = await repository.list(EvidenceFilter(**where))
    assert [item.id for item in page.items] == [_item(n).id for n in expected], name
    assert page.total == len(expected)


async def test_list_pages_with_a_stable_total(store: Store) -> None:
    repository = _repository(store)
    for n in range(7):
        await repository.add(_item(n))
    first = await repository.list(limit=3)
    second = await repository.list(limit=3, offset=3)
    last = await repository.list(limit=3, offset=6)
    ids = [item.id for page in (first, second, last) for item in page.items]
    assert ids == [_item(n).id for n in range(7)]
    assert {first.total, second.total, last.total} == {7}
    for limit, offset in ((0, 0), (1001, 0), (10, -1)):
        with pytest.raises(ValidationError):
            await repository.list(limit=limit, offset=offset)


async def test_update_is_optimistic(store: Store) -> None:
    repository = _repository(store)
    item = _item(1)
    await repository.add(item)
    locked = item.with_lock("user:op-1", T0 + timedelta(hours=1))
    await repository.update(locked)
    assert await repository.get(item.id) == locked
    with pytest.raises(ConflictError, match="changed meanwhile"):
        await repository.update(item.with_lock("user:op-2", T0))
    with pytest.raises(NotFoundError):
        await repository.update(_item(9, version=2))
    assert (await repository.list(EvidenceFilter(locked=True))).total == 1


async def test_locked_items_are_never_deleted(store: Store) -> None:
    repository = _repository(store)
    plain, locked = _item(1), _item(2, locked=True, locked_by="user:op", locked_at=T0)
    await repository.add(plain)
    await repository.add(locked)
    await repository.delete(plain.id)
    with pytest.raises(NotFoundError):
        await repository.get(plain.id)
    with pytest.raises(ConflictError, match="locked"):
        await repository.delete(locked.id)
    assert await repository.get(locked.id) == locked
    with pytest.raises(NotFoundError):
        await repository.delete(plain.id)


# --- SQL rows edited in place --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("column", "value"),
    [("camera_id", "cam-9"), ("alert_id", "alert-9"), ("kind", "clip"), ("locked", True)],
)
async def test_a_column_that_contradicts_the_body_is_an_integrity_error(
    store: Store, column: str, value: object
) -> None:
    database = store.sql
    repository = _repository(store)
    item = _item(2)
    await repository.add(item)
    async with database.engine.begin() as connection:
        await connection.execute(
            sa.text(f"UPDATE evidence SET {column} = :value WHERE id = :id"),
            {"value": value, "id": item.id},
        )
    with pytest.raises(IntegrityError, match=f"column {column}"):
        await repository.get(item.id)
    with pytest.raises(IntegrityError, match=item.id):
        await repository.list()


async def test_an_unreadable_body_is_a_storage_error(store: Store) -> None:
    database = store.sql
    repository = _repository(store)
    item = _item(1)
    await repository.add(item)
    body = {**item.to_dict(), "kind": "hologram"}
    async with database.engine.begin() as connection:
        table = sa.table("evidence", sa.column("id"), sa.column("body", sa.JSON()))
        await connection.execute(sa.update(table).where(table.c.id == item.id).values(body=body))
    with pytest.raises(StorageError, match="unreadable"):
        await repository.get(item.id)


async def test_browse_reports_the_edited_row_in_place_and_lists_the_rest(store: Store) -> None:
    database = store.sql
    repository = _repository(store)
    items = [_item(n) for n in range(4)]
    for item in items:
        await repository.add(item)
    async with database.engine.begin() as connection:
        await connection.execute(
            sa.text("UPDATE evidence SET camera_id = 'cam-9' WHERE id = :id"), {"id": items[1].id}
        )
    page = await repository.browse()
    assert page.total == 4
    assert [entry.id for entry in page.items] == [item.id for item in items]
    tampered = page.items[1]
    assert isinstance(tampered, TamperedEvidence)
    assert "column camera_id" in tampered.reason
    assert set(tampered.cameras) == {"cam-9", items[1].camera_id}
    assert tampered.claimed == items[1]
    assert [entry for n, entry in enumerate(page.items) if n != 1] == [
        item for n, item in enumerate(items) if n != 1
    ]
    # Filters go by the columns, as the list's do.
    moved = await repository.browse(EvidenceFilter(camera_id="cam-9"))
    assert [entry.id for entry in moved.items] == [items[1].id]


async def test_browse_lists_what_list_lists(store: Store) -> None:
    repository = _repository(store)
    for n in (3, 0, 2, 1):
        await repository.add(_item(n))
    cases: list[tuple[EvidenceFilter, int, int]] = [
        (EvidenceFilter(), 100, 0),
        (EvidenceFilter(alert_id="alert-1"), 100, 0),
        (EvidenceFilter(camera_id="cam-0"), 100, 0),
        (EvidenceFilter(), 2, 1),
    ]
    for where, limit, offset in cases:
        listed = await repository.list(where, limit=limit, offset=offset)
        browsed = await repository.browse(where, limit=limit, offset=offset)
        assert list(browsed.items) == list(listed.items), (where, limit, offset)
        assert browsed.total == listed.total


def _gap(n: int, **changes: Any) -> EvidenceGap:
    gap = EvidenceGap(
        alert_id=f"alert-{n}",
        camera_id=f"cam-{n % 2}",
        reason="shed",
        detail=f"gap {n}",
        at=T0 + timedelta(seconds=n),
        severity="low",
    )
    return replace(gap, **changes)


async def test_gaps_are_one_per_alert_newest_first(store: Store) -> None:
    repository = _repository(store)
    for n in (2, 0, 3, 1):
        await repository.record_gap(_gap(n))
    later = _gap(0, reason="failed", detail="disk full", at=T0 + timedelta(minutes=5))
    await repository.record_gap(later)
    page = await repository.gaps()
    assert [gap.alert_id for gap in page.items] == ["alert-0", "alert-3", "alert-2", "alert-1"]
    assert page.items[0] == later
    assert page.total == 4
    assert [g.alert_id for g in (await repository.gaps(camera_id="cam-1")).items] == [
        "alert-3",
        "alert-1",
    ]
    assert (await repository.gaps(alert_id="alert-2")).items == (_gap(2),)
    second = await repository.gaps(limit=2, offset=2)
    assert [g.alert_id for g in second.items] == ["alert-2", "alert-1"]
    with pytest.raises(ValidationError):
        await repository.gaps(limit=0)

"""The unit-of-work contract, run against every store (memory, SQLite, PostgreSQL).

A unit commits every write made through it when its block ends, and none of
them when the block raises; reads through it see its own writes; an audit
record appended through it commits (or not) with the writes. That holds for
the identity stores too (users, refresh tokens and revoked sessions, API keys,
settings), which account administration writes with its audit record.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from argus.domain.audit import AuditEntry
from argus.domain.cameras import new_id
from argus.domain.errors import ConflictError, NotFoundError
from argus.domain.identity import ApiKey, User
from argus.ports.identity import RefreshToken
from tests.integration import test_repositories_contract as contract
from tests.integration.test_alerts_contract import _alert, _incident
from tests.integration.test_repositories_contract import T0, Store, _camera, _line

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

store = contract.store


class BoomError(Exception):
    """Raised inside a unit to make it roll back."""


def _entry(target: str) -> AuditEntry:
    return AuditEntry(
        action="test.write", actor="user:op", at=T0 + timedelta(seconds=1), target=target
    )


async def test_a_unit_commits_every_write_and_its_audit_record(store: Store) -> None:
    db = store.db
    camera = _camera(1)
    async with db.unit_of_work() as unit:
        await unit.cameras.add(camera)
        await unit.lines.add(_line(camera.id))
        assert (await unit.cameras.get(camera.id)).name == camera.name  # reads its own writes
        await unit.audit.append(_entry(f"camera:{camera.id}"))
    assert await db.cameras.get(camera.id) == camera
    assert (await db.lines.list(camera.id)).total == 1
    assert [r.entry.target for r in await db.audit.records()] == [f"camera:{camera.id}"]


async def test_a_unit_that_raises_leaves_nothing(store: Store) -> None:
    db = store.db
    await db.audit.append(_entry("before"))
    camera = _camera(2)

    async def write_then_fail() -> None:
        async with db.unit_of_work() as unit:
            await unit.cameras.add(camera)
            await unit.lines.add(_line(camera.id))
            await unit.audit.append(_entry(f"camera:{camera.id}"))
            raise BoomError

    with pytest.raises(BoomError):
        await write_then_fail()
    with pytest.raises(NotFoundError):
        await db.cameras.get(camera.id)
    assert [r.entry.target for r in await db.audit.records()] == ["before"]
    assert (await db.audit.verify()).ok
    await db.audit.append(_entry("after"))  # the chain goes on from the record before
    assert (await db.audit.verify()).ok


async def test_a_conflict_midway_rolls_back_the_writes_before_it(store: Store) -> None:
    db = store.db
    alert = _alert(0, state="acknowledged", version=3)
    await db.alerts.add(replace(alert, state="new", version=1))
    stale = alert  # claims version 3 while the store holds version 1
    incident = _incident(1, alert_ids=(alert.id,))

    async def confirm() -> None:
        async with db.unit_of_work() as unit:
            await unit.incidents.add(incident)
            await unit.alerts.update(replace(stale, incident_id=incident.id))

    with pytest.raises(ConflictError):
        await confirm()
    with pytest.raises(NotFoundError):
        await db.incidents.get(incident.id)
    assert (await db.alerts.get(alert.id)).incident_id is None


async def test_an_update_and_a_delete_are_undone_too(store: Store) -> None:
    db = store.db
    camera = _camera(3)
    await db.cameras.add(camera)
    line = _line(camera.id)
    await db.lines.add(line)

    async def change_then_fail() -> None:
        async with db.unit_of_work() as unit:
            await unit.cameras.update(replace(camera, name="renamed"))
            await unit.lines.delete(line.id)
            raise BoomError

    with pytest.raises(BoomError):
        await change_then_fail()
    assert (await db.cameras.get(camera.id)).name == camera.name
    assert await db.lines.get(line.id) == line


# --- identity: users, refresh tokens, API keys, settings ----------------------------------------


def _user(name: str) -> User:
    return User(
        id=new_id(),
        username=name,
        role="operator",
        password_hash="$argon2id$not-a-real-hash",
        created_at=T0,
        updated_at=T0,
    )


def _token(user_id: str, family_id: str) -> RefreshToken:
    return RefreshToken(
        id=new_id(),
        family_id=family_id,
        user_id=user_id,
        token_hash="0" * 64,
        created_at=T0,
        expires_at=T0 + timedelta(days=1),
    )


def _key(name: str) -> ApiKey:
    return ApiKey(
        id=new_id(),
        name=name,
        key_hash="1" * 64,
        permissions=frozenset({"ingest"}),
        created_at=T0,
        created_by="user:op",
    )


async def test_a_unit_commits_identity_writes_with_their_audit_record(store: Store) -> None:
    db = store.db
    user, key = _user("ann"), _key("edge")
    token = _token(user.id, "family-1")
    async with db.unit_of_work() as unit:
        await unit.users.add(user)
        assert await unit.users.find("ann") == user  # reads its own writes
        await unit.refresh_tokens.add(token)
        await unit.api_keys.add(key)
        await unit.settings.put("security.policy", {"mfa_required_roles": ["admin"]}, T0)
        await unit.audit.append(_entry(f"user:{user.id}"))
    assert await db.users.get(user.id) == user
    assert await db.refresh_tokens.get(token.id) == token
    assert await db.api_keys.get(key.id) == key
    assert await db.settings.get("security.policy") == {"mfa_required_roles": ["admin"]}
    assert [r.entry.target for r in await db.audit.records()] == [f"user:{user.id}"]


async def test_a_unit_that_raises_leaves_the_identity_stores_as_they_were(store: Store) -> None:
    db = store.db
    ann, key = _user("ann"), _key("edge")
    token = _token(ann.id, "family-1")
    await db.users.add(ann)
    await db.refresh_tokens.add(token)
    await db.api_keys.add(key)
    await db.settings.put("security.policy", {"v": 1}, T0)
    await db.audit.append(_entry("before"))
    bob = _user("bob")
    at = T0 + timedelta(minutes=1)

    async def write_then_fail() -> None:
        async with db.unit_of_work() as unit:
            await unit.users.add(bob)
            await unit.users.update(ann.evolve(at, token_version=1, disabled=True))
            assert await unit.refresh_tokens.revoke_user(ann.id, at) == 1
            await unit.refresh_tokens.revoke_family("family-2", at)
            await unit.api_keys.revoke(key.id, at)
            await unit.api_keys.add(_key("other"))
            await unit.settings.put("security.policy", {"v": 2}, at)
            await unit.audit.append(_entry(f"user:{ann.id}"))
            raise BoomError

    with pytest.raises(BoomError):
        await write_then_fail()
    assert await db.users.get(ann.id) == ann
    assert await db.users.find("bob") is None
    assert await db.users.count() == 1
    assert await db.refresh_tokens.get(token.id) == token
    assert not await db.refresh_tokens.session_revoked("family-2")
    assert await db.api_keys.get(key.id) == key
    assert (await db.api_keys.list()).total == 1
    assert await db.settings.get("security.policy") == {"v": 1}
    assert [r.entry.target for r in await db.audit.records()] == ["before"]
    assert (await db.audit.verify()).ok


async def test_a_user_deleted_in_a_unit_that_raises_is_still_there(store: Store) -> None:
    db = store.db
    ann = _user("ann")
    await db.users.add(ann)

    async def delete_then_fail() -> None:
        async with db.unit_of_work() as unit:
            await unit.users.delete(ann.id)
            await unit.audit.append(_entry(f"user:{ann.id}"))
            raise BoomError

    with pytest.raises(BoomError):
        await delete_then_fail()
    assert await db.users.get(ann.id) == ann
    assert await db.audit.records() == []


async def test_a_taken_username_rolls_back_the_audit_record_before_it(store: Store) -> None:
    db = store.db
    await db.users.add(_user("ann"))

    async def add_twice() -> None:
        async with db.unit_of_work() as unit:
            await unit.audit.append(_entry("user:other"))
            await unit.users.add(_user("ann"))

    with pytest.raises(ConflictError):
        await add_twice()
    assert await db.users.count() == 1
    assert await db.audit.records() == []

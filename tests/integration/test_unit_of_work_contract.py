"""The unit-of-work contract, run against every store (memory, SQLite, PostgreSQL).

A unit commits every write made through it when its block ends, and none of
them when the block raises; reads through it see its own writes; an audit
record appended through it commits (or not) with the writes.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from argus.domain.audit import AuditEntry
from argus.domain.errors import ConflictError, NotFoundError
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

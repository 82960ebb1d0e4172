"""The re-count job store's contract, on memory, SQLite and PostgreSQL.

The ``store`` fixture of the repository contract (``test_repositories_contract``)
gives a fresh, migrated store of each kind.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from argus.domain.errors import ConflictError, NotFoundError, ValidationError
from argus.domain.recount_jobs import LineRecount, RecountJob
from tests.integration import test_repositories_contract as contract
from tests.integration.test_repositories_contract import T0, Store

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

store = contract.store


def _job(job_id: str, camera_id: str = "cam-1", minutes: int = 0) -> RecountJob:
    return RecountJob(
        id=job_id,
        camera_id=camera_id,
        start=T0 - timedelta(days=1),
        end=T0,
        status="queued",
        requested_by="user:ops",
        created_at=T0 + timedelta(minutes=minutes),
    )


async def test_jobs_are_stored_read_and_listed_newest_first(store: Store) -> None:
    jobs = store.db.recounts
    await jobs.add(_job("j1", minutes=1))
    await jobs.add(_job("j2", "cam-2", minutes=2))
    await jobs.add(_job("j3", minutes=3))
    assert await jobs.get("j2") == _job("j2", "cam-2", minutes=2)
    assert [j.id for j in await jobs.list()] == ["j3", "j2", "j1"]
    assert [j.id for j in await jobs.list(camera_id="cam-1")] == ["j3", "j1"]
    assert [j.id for j in await jobs.list(camera_ids={"cam-2"})] == ["j2"]
    assert [j.id for j in await jobs.list(limit=1)] == ["j3"]
    assert await jobs.list(camera_ids=set()) == ()
    with pytest.raises(ConflictError):
        await jobs.add(_job("j1"))
    with pytest.raises(NotFoundError):
        await jobs.get("nope")
    with pytest.raises(ValidationError):
        await jobs.list(limit=0)


async def test_claim_takes_the_oldest_queued_job_once_and_finish_records_the_result(
    store: Store,
) -> None:
    jobs = store.db.recounts
    assert await jobs.claim(T0) is None
    await jobs.add(_job("late", minutes=5))
    await jobs.add(_job("early", minutes=1))
    first = await jobs.claim(T0 + timedelta(hours=1))
    started = T0 + timedelta(hours=1)
    assert first == replace(_job("early", minutes=1), status="running", started_at=started)
    second = await jobs.claim(T0 + timedelta(hours=1))
    assert second is not None
    assert second.id == "late"
    assert await jobs.claim(T0) is None
    lines = (LineRecount("door", 3, 4, 5, 6), LineRecount("gate", 0, 0, 1, 0))
    await jobs.finish("early", status="done", now=T0 + timedelta(hours=2), lines=lines, samples=9)
    done = await jobs.get("early")
    assert (done.status, done.lines, done.samples, done.error) == ("done", lines, 9, None)
    assert done.finished_at == T0 + timedelta(hours=2)
    await jobs.finish("late", status="failed", now=T0, error="no camera")
    failed = await jobs.get("late")
    assert (failed.status, failed.error, failed.lines) == ("failed", "no camera", ())
    with pytest.raises(NotFoundError):
        await jobs.finish("nope", status="done", now=T0)


async def test_running_jobs_are_queued_again_after_a_restart(store: Store) -> None:
    jobs = store.db.recounts
    await jobs.add(_job("a", minutes=1))
    await jobs.add(_job("b", minutes=2))
    await jobs.add(_job("c", minutes=3))
    await jobs.claim(T0)
    await jobs.claim(T0)
    await jobs.finish("b", status="done", now=T0)
    assert await jobs.requeue() == 1
    assert [(j.id, j.status) for j in await jobs.list()] == [
        ("c", "queued"),
        ("b", "done"),
        ("a", "queued"),
    ]
    again = await jobs.claim(T0)
    assert again is not None
    assert again.id == "a"

"""The re-count job service on the memory store: windows, restarts, failures, scope.

The trajectory log is ``tests.recount_support.walks``: two people cross the
door line (one in, one out) and a third is lost 30 px before it and found
10 px past it, which the live counter missed and a re-count stitches.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from argus.adapters.db.memory import MemoryDatabase
from argus.domain.actor import Actor
from argus.domain.cameras import Camera, Line
from argus.domain.errors import NotFoundError, PermissionDeniedError, ValidationError
from argus.domain.events import EventSource
from argus.domain.identity import Principal
from argus.domain.recount_jobs import LineRecount, RecountJob
from argus.services.recount_jobs import RecountService
from tests.recount_support import SAMPLES, live_crossings, walks

pytestmark = pytest.mark.anyio

T0 = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
NOW = datetime(2026, 3, 2, 8, 0, 0, tzinfo=UTC)
ADMIN = Actor(
    principal=Principal(
        kind="user", id="u-1", name="admin", permissions=frozenset({"view", "operate"})
    )
)


def _clock() -> datetime:
    return NOW


async def _database(*, line: bool = True) -> MemoryDatabase:
    database = MemoryDatabase()
    await database.cameras.add(Camera(id="cam-1", name="Shop", stream_url="rtsp://10.0.0.5/s"))
    if line:
        door = Line(id="l-1", camera_id="cam-1", name="door", start=(100, 300), end=(1100, 300))
        await database.lines.add(door)
    source = EventSource("local", "cam-1")
    start = T0 + timedelta(seconds=10)
    await database.events.add_many([*walks(source, start), *live_crossings(source, start)])
    return database


async def _run(service: RecountService, database: MemoryDatabase, job_id: str) -> RecountJob:
    assert await service.run_next()
    assert not await service.run_next()
    return await database.recounts.get(job_id)


async def test_a_job_counts_live_beside_recounted_and_is_audited() -> None:
    database = await _database()
    service = RecountService(database, _clock)
    job = await service.request(ADMIN, "cam-1", T0, T0 + timedelta(hours=1))
    assert (job.status, job.created_at, job.requested_by) == ("queued", NOW, "user:admin")
    done = await _run(service, database, job.id)
    assert (done.status, done.started_at, done.finished_at) == ("done", NOW, NOW)
    assert done.lines == (LineRecount("door", 1, 1, 2, 1),)
    assert done.samples == SAMPLES
    actions = [r.entry.action for r in (await database.audit.list()).items]
    assert sorted(actions) == ["recount.finish", "recount.request"]


@pytest.mark.parametrize(
    ("window", "expected"),
    [
        (timedelta(hours=6), LineRecount("door", 1, 1, 2, 1)),
        # Windows of 12 s: the walkers start in the first and are followed into the
        # second (tail) without being counted twice; the third's two pieces fall in
        # two windows, so that stitch is lost (the documented cost of windows).
        (timedelta(seconds=12), LineRecount("door", 1, 1, 1, 1)),
    ],
    ids=["one-window", "a-window-boundary-inside-the-walks"],
)
async def test_a_track_is_counted_once_across_windows(
    window: timedelta, expected: LineRecount
) -> None:
    database = await _database()
    service = RecountService(database, _clock, window=window, tail=timedelta(minutes=1))
    job = await service.request(ADMIN, "cam-1", T0, T0 + timedelta(minutes=5))
    assert (await _run(service, database, job.id)).lines == (expected,)


async def test_walks_that_start_in_a_windows_tail_are_counted_by_the_next_window() -> None:
    # Windows of a minute from 55 s before T0: the walks (from T0 + 10 s) start in the
    # first window's tail, so the second counts them. They were once skipped there as
    # the first window's tracks, and the second window did not read the minute's log,
    # which is dated at the minute's start, before the window begins.
    database = await _database()
    service = RecountService(
        database, _clock, window=timedelta(minutes=1), tail=timedelta(minutes=1)
    )
    start = T0 - timedelta(seconds=55)
    job = await service.request(ADMIN, "cam-1", start, start + timedelta(minutes=5))
    assert (await _run(service, database, job.id)).lines == (LineRecount("door", 1, 1, 2, 1),)


async def test_a_camera_without_lines_is_done_with_no_figures() -> None:
    database = await _database(line=False)
    service = RecountService(database, _clock)
    job = await service.request(ADMIN, "cam-1", T0, T0 + timedelta(hours=1))
    done = await _run(service, database, job.id)
    assert (done.status, done.lines, done.samples) == ("done", (), 0)


async def test_a_failing_recount_marks_the_job_failed_with_the_reason() -> None:
    database = await _database()
    service = RecountService(database, _clock, stitch_seconds=float("nan"))
    job = await service.request(ADMIN, "cam-1", T0, T0 + timedelta(hours=1))
    failed = await _run(service, database, job.id)
    assert failed.status == "failed"
    assert failed.error
    records = (await database.audit.list()).items
    assert [r.entry.outcome for r in records if r.entry.action == "recount.finish"] == ["failure"]


async def test_requests_are_checked() -> None:
    database = await _database()
    service = RecountService(database, _clock)
    with pytest.raises(ValidationError, match="31 days"):
        await service.request(ADMIN, "cam-1", T0, T0 + timedelta(days=31, seconds=1))
    with pytest.raises(ValidationError, match="after start"):
        await service.request(ADMIN, "cam-1", T0, T0)
    with pytest.raises(NotFoundError):
        await service.request(ADMIN, "cam-2", T0, T0 + timedelta(hours=1))
    scoped = Actor(
        principal=Principal(
            kind="user",
            id="u-2",
            name="s",
            permissions=frozenset({"view", "operate"}),
            cameras=frozenset({"cam-9"}),
        )
    )
    with pytest.raises(PermissionDeniedError):
        await service.request(scoped, "cam-1", T0, T0 + timedelta(hours=1))
    job = await service.request(ADMIN, "cam-1", T0, T0 + timedelta(hours=1))
    with pytest.raises(NotFoundError):
        await service.get(scoped, job.id)
    assert await service.list(scoped) == ()
    assert [j.id for j in await service.list(ADMIN, camera_id="cam-1")] == [job.id]

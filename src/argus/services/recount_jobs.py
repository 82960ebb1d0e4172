"""Re-count jobs: a camera's period counted again from its trajectory log, in the background.

``RecountService.request`` stores a queued job (``Database.recounts``) and
audits it (``recount.request``); a background loop started in the control
plane's lifecycle claims queued jobs one at a time and runs them. A job found
``running`` at start (its server stopped under it) is queued again and runs
anew, so a restart loses no job; a result is written once, at the end.

A run reads, per line of the camera (its current lines):

* *live*: the ``line.crossed`` events of the period, per direction;
* *re-counted*: ``argus.domain.analytics.recount`` over the trajectories of
  the period's ``tracks.minute`` events (``argus.services.track_log``), with
  look-ahead: smoothing and stitching over whole trajectories.

The period is read in windows of ``window`` (6 hours) so memory stays bounded
by a window's trajectory log, not the period's. A track belongs to the window
it starts in and is read up to ``tail`` (10 minutes) past the window's end;
what a track does later than that, and stitches across a window's end, are
lost (rare: people seldom stay that long in one view). Each window's re-count
runs in a worker thread, off the event loop. Lines restricted to classes
count only tracks of those classes; each line's ``band_px`` is the re-count's
band (0: automatic, a quarter of the box height). The log records the box's
bottom-centre, so a line anchored elsewhere is re-counted on the bottom-centre.
The run is audited as ``recount.finish``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Literal

from argus.domain.actor import SYSTEM_ACTOR, Actor
from argus.domain.analytics.recount import RecountLine, recount
from argus.domain.cameras import Line, new_id
from argus.domain.errors import ArgusError
from argus.domain.recount_jobs import LineRecount, RecountJob, check_period
from argus.ports.repositories import Database, EventFilter
from argus.services.background import TaskGroup
from argus.services.track_log import TrackAssembler, track_windows
from argus.services.writes import record, require_camera, require_visible

__all__ = ["RecountService"]

log = logging.getLogger(__name__)

_MAX_LINES = 1000


class RecountService:
    """Asks for, lists and runs re-count jobs.

    Args:
        database: The store (jobs, events, lines, audit).
        clock: The current time (UTC).
        poll_s: Seconds between two looks for queued jobs when nothing wakes the loop
            (jobs queued by another server).
        window: Length of the period's slices read at once.
        tail: How far past its slice a track is followed.
        stitch_seconds: The re-count's longest gap between two pieces of one person.
    """

    def __init__(
        self,
        database: Database,
        clock: Callable[[], datetime],
        *,
        poll_s: float = 5.0,
        window: timedelta = timedelta(hours=6),
        tail: timedelta = timedelta(minutes=10),
        stitch_seconds: float = 2.0,
    ) -> None:
        self._db = database
        self._clock = clock
        self._poll_s = poll_s
        self._window = window
        self._tail = tail
        self._stitch_s = stitch_seconds
        self._wake = asyncio.Event()
        self._tasks = TaskGroup()

    async def request(
        self, actor: Actor, camera_id: str, start: datetime, end: datetime
    ) -> RecountJob:
        """Queue a re-count of ``camera_id`` over ``[start, end)``; audited as ``recount.request``.

        Raises:
            PermissionDeniedError: The camera is outside the actor's scope.
            NotFoundError: No such camera.
            ValidationError: The period is naive, empty or longer than 31 days.
        """
        require_camera(actor, camera_id)
        check_period(start, end)
        await self._db.cameras.get(camera_id)
        job = RecountJob(
            id=new_id(),
            camera_id=camera_id,
            start=start,
            end=end,
            status="queued",
            requested_by=actor.audit_name,
            created_at=self._clock(),
        )
        await self._db.recounts.add(job)
        await record(
            self._db.audit,
            actor,
            "recount.request",
            f"recount:{job.id}",
            camera_id=camera_id,
            start=start.isoformat(),
            end=end.isoformat(),
        )
        self._wake.set()
        return job

    async def get(self, actor: Actor, job_id: str) -> RecountJob:
        """The job, if the actor sees its camera.

        Raises:
            NotFoundError: No such job, or its camera is outside the actor's scope.
        """
        job = await self._db.recounts.get(job_id)
        require_visible(actor, job.camera_id, f"re-count job {job_id}")
        return job

    async def list(
        self, actor: Actor, *, camera_id: str | None = None, limit: int = 50
    ) -> tuple[RecountJob, ...]:
        """The newest jobs first, of ``camera_id`` if given, within the actor's scope.

        Raises:
            PermissionDeniedError: ``camera_id`` is outside the actor's scope.
            ValidationError: ``limit`` is outside ``[1, 1000]``.
        """
        if camera_id is not None:
            require_camera(actor, camera_id)
        scope = None if actor.principal is None else actor.principal.cameras
        return await self._db.recounts.list(camera_id=camera_id, camera_ids=scope, limit=limit)

    def start(self) -> None:
        """Run queued jobs in the background, one at a time (requeueing interrupted ones)."""
        self._tasks.start(("argus-recounts", self._loop))

    async def stop(self) -> None:
        """Stop the background loop (a job under way is cancelled and re-runs at next start)."""
        await self._tasks.stop()

    async def _loop(self) -> None:
        try:
            again = await self._db.recounts.requeue()
            if again:
                log.info("re-count: %d interrupted job(s) queued again", again)
        except ArgusError as exc:
            log.warning("re-count: could not requeue interrupted jobs: %s", exc)
        while True:
            self._wake.clear()  # before the claim: a job queued after it wakes the wait
            try:
                ran = await self.run_next()
            except ArgusError as exc:  # the store is down: say so, look again later
                log.warning("re-count: cannot look for jobs: %s", exc)
                ran = False
            except Exception:  # the top of a task loop: log and look again later
                log.exception("re-count: the job loop failed")
                ran = False
            if not ran:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self._poll_s)

    async def run_next(self) -> bool:
        """Claim the oldest queued job and run it to its end; whether there was one."""
        job = await self._db.recounts.claim(self._clock())
        if job is None:
            return False
        try:
            lines, samples = await self._compute(job)
        except ArgusError as exc:
            await self._finish(job, error=str(exc))
        except Exception as exc:
            log.exception("re-count job %s crashed", job.id)
            await self._finish(job, error=f"internal error ({type(exc).__name__})")
        else:
            await self._finish(job, lines=lines, samples=samples)
        return True

    async def _finish(
        self,
        job: RecountJob,
        *,
        lines: Sequence[LineRecount] = (),
        samples: int = 0,
        error: str | None = None,
    ) -> None:
        status: Literal["done", "failed"] = "done" if error is None else "failed"
        await self._db.recounts.finish(
            job.id, status=status, now=self._clock(), lines=lines, samples=samples, error=error
        )
        await record(
            self._db.audit,
            SYSTEM_ACTOR,
            "recount.finish",
            f"recount:{job.id}",
            outcome="success" if error is None else "failure",
            camera_id=job.camera_id,
            samples=samples,
            error=error,
        )

    async def _compute(self, job: RecountJob) -> tuple[tuple[LineRecount, ...], int]:
        lines = (await self._db.lines.list(job.camera_id, limit=_MAX_LINES)).items
        live = await self._live(job)
        found = {line.name: [0, 0] for line in lines}
        samples = 0
        if lines:
            windows = track_windows(
                self._db.events,
                job.camera_id,
                job.start,
                job.end,
                window=self._window,
                tail=self._tail,
            )
            async for part in windows:
                samples += part.assembler.samples
                tallies = await asyncio.to_thread(
                    self._count, part.assembler, lines, part.span, part.before
                )
                for name, (ins, outs) in tallies.items():
                    found[name][0] += ins
                    found[name][1] += outs
        return (
            tuple(
                LineRecount(
                    line.name,
                    live.get((line.name, "in"), 0),
                    live.get((line.name, "out"), 0),
                    found[line.name][0],
                    found[line.name][1],
                )
                for line in lines
            ),
            samples,
        )

    def _count(
        self,
        assembler: TrackAssembler,
        lines: Sequence[Line],
        span: tuple[float, float],
        before: frozenset[tuple[int, int]],
    ) -> dict[str, tuple[int, int]]:
        """One window's re-count per line (runs in a worker thread)."""
        class_ids = {name: i for i, name in enumerate(assembler.class_names())}
        groups: dict[tuple[str, ...] | None, list[Line]] = {}
        for line in lines:
            groups.setdefault(line.classes, []).append(line)
        out: dict[str, tuple[int, int]] = {}
        for classes, group in groups.items():
            trajectories = assembler.trajectories(
                class_ids, classes=classes, started=span, skip=before
            )
            targets = [RecountLine(ln.name, ln.start, ln.end, ln.band_px) for ln in group]
            for tally in recount(trajectories, targets, stitch_seconds=self._stitch_s):
                out[tally.name] = (tally.in_count, tally.out_count)
        return out

    async def _live(self, job: RecountJob) -> dict[tuple[str, str], int]:
        where = EventFilter(
            camera_id=job.camera_id, types=("line.crossed",), since=job.start, until=job.end
        )
        live: dict[tuple[str, str], int] = {}
        for bucket in await self._db.events.counts(where, interval="day"):
            if bucket.type == "line.crossed" and bucket.direction is not None:
                key = (bucket.name, bucket.direction)
                live[key] = live.get(key, 0) + bucket.count
        return live

"""The recording retention sweep: real segments on disk, a real SQLite store, legal holds kept.

Segments are remuxed from a real H.264 clip by ``SegmentRecorder`` at fixed
times; the sweep's clock is fixed too, so nothing waits on the wall clock.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import anyio
import pytest

from argus.adapters.db.sql import SqlDatabase
from argus.adapters.recording import SegmentIndex, SegmentRecorder
from argus.domain.recording import Segment
from argus.ports.audit import AuditFilter
from argus.services.recording_retention import RecordingSweeper
from tests.integration.test_alerts_contract import _alert, _incident

if TYPE_CHECKING:
    from tests.integration.conftest import Media

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

SECRET = b"recording-test-secret-0123456789"
NOW = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)


def record_file(path: Path, root: Path, camera: str, start: datetime) -> list[Segment]:
    recorder = SegmentRecorder(
        camera, str(path), root, segment_seconds=1.0, realtime=False, now=lambda: start
    )
    return list(recorder.segments())


@dataclass
class Recordings:
    """Old segments of one camera, recent ones of another, in a real store."""

    db: SqlDatabase
    index: SegmentIndex
    old: list[Segment]
    new: list[Segment]

    def sweeper(
        self,
        *,
        keep_days: float = 7,
        max_bytes: int | None = None,
        on_usage: Callable[[Mapping[str, int]], None] | None = None,
    ) -> RecordingSweeper:
        return RecordingSweeper(
            self.db,
            scan=self.index.scan,
            delete=self.index.delete,
            clock=lambda: NOW,
            keep_days=keep_days,
            max_bytes=max_bytes,
            interval=3600,
            hold_margin=timedelta(0),  # only the segment the alert happened in
            on_usage=on_usage,
        )

    async def sweeps_audited(self) -> list[dict[str, object]]:
        page = await self.db.audit.list(where=AuditFilter(action="recording.sweep"))
        assert {r.entry.actor for r in page.items} <= {"system"}
        return [dict(r.entry.details) for r in page.items]

    async def hold(self, segment: Segment, *, held: bool) -> None:
        """An incident whose alert happened inside ``segment``, under legal hold or not."""
        at = segment.start + (segment.end - segment.start) / 2
        alert = replace(_alert(camera_id=segment.camera_id), event_time=at)
        assert await self.db.alerts.add(alert)
        incident = replace(
            _incident(len(self.old) + (1 if held else 2)),
            camera_id=segment.camera_id,
            alert_ids=(alert.id,),
            legal_hold="case 2026-19" if held else None,
        )
        await self.db.incidents.add(incident)


@pytest.fixture
async def recordings(media: Media, tmp_path: Path) -> AsyncIterator[Recordings]:
    clip = media.video(frames=100, fps=25)  # four seconds, a keyframe every 0.4 s
    root = tmp_path / "recordings"
    old = record_file(clip, root, "yard", NOW - timedelta(days=10))
    new = record_file(clip, root, "door", NOW - timedelta(hours=1))
    assert len(old) >= 3
    assert len(new) >= 3
    database = await SqlDatabase.open(f"sqlite:///{tmp_path / 'argus.db'}", secret_key=SECRET)
    try:
        yield Recordings(database, SegmentIndex(root), old, new)
    finally:
        await database.close()


async def test_expired_segments_go_but_those_of_a_held_alert_stay(recordings: Recordings) -> None:
    old, new = recordings.old, recordings.new
    await recordings.hold(old[1], held=True)
    await recordings.hold(old[0], held=False)  # an incident without a hold keeps nothing
    usage: list[dict[str, int]] = []
    sweeper = recordings.sweeper(on_usage=lambda seen: usage.append(dict(seen)))

    report = await sweeper.sweep()

    assert (report.expired, report.over_budget, report.locked) == (len(old) - 1, 0, 1)
    assert report.freed_bytes == sum(s.bytes for s in old) - old[1].bytes
    assert recordings.index.scan() == [old[1], *new]
    assert usage == [{"yard": old[1].bytes, "door": sum(s.bytes for s in new)}]
    (audited,) = await recordings.sweeps_audited()
    assert audited["expired"] == len(old) - 1
    assert audited["freed_bytes"] == report.freed_bytes
    assert audited["cameras"] == ["yard"]

    again = await sweeper.sweep()  # nothing left to delete: nothing audited
    assert (again.deleted, again.locked) == (0, 1)
    assert len(await recordings.sweeps_audited()) == 1


async def test_the_budget_deletes_the_oldest_first_and_never_a_held_segment(
    recordings: Recordings,
) -> None:
    old, new = recordings.old, recordings.new
    await recordings.hold(old[0], held=True)
    total = sum(s.bytes for s in old + new)
    budget = total - old[1].bytes - old[2].bytes

    report = await recordings.sweeper(max_bytes=budget, keep_days=3650).sweep()

    # Age alone deletes nothing here; the budget takes the oldest unheld segments.
    assert report.expired == 0
    assert [s.path for s in recordings.index.scan()] == [s.path for s in [old[0], *old[3:], *new]]
    assert report.over_budget == 2
    assert report.over_budget_bytes == 0

    held_alone = await recordings.sweeper(max_bytes=0, keep_days=3650).sweep()
    assert recordings.index.scan() == [old[0]]
    assert held_alone.over_budget_bytes == old[0].bytes  # the hold wins over the budget
    assert len(await recordings.sweeps_audited()) == 2


async def test_the_background_sweep_runs_at_start_and_stops(recordings: Recordings) -> None:
    sweeper = recordings.sweeper()
    sweeper.start()
    try:
        with anyio.fail_after(60):
            while sweeper.last is None:
                await anyio.sleep(0.02)
    finally:
        await sweeper.stop()
    assert sweeper.last.deleted == len(recordings.old)
    assert recordings.index.scan() == recordings.new

"""Continuous recording in ``argus serve``: the segment index, the recorders, their retention.

``build_recording`` always builds a ``RecordingRuntime`` (the index of the
recordings root is readable, and played back, even while recording is off);
with ``ARGUS_RECORDING=true`` it also has a ``RecordingRunner`` and a
retention sweep, which its ``steps`` start and stop.

The runner learns of camera changes through ``RecordingPipelines``, a
decorator of the pipeline supervisor: every ``apply`` and ``remove`` the
camera service makes reaches the runner too, and every status it reads
carries the camera's recording (``CameraStatus.recording``).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from argus.adapters.recording import SegmentIndex
from argus.adapters.recording.runner import RecorderOptions, RecordingRunner
from argus.bootstrap.lifecycle import Step
from argus.bootstrap.sources import source_policy
from argus.config import Settings
from argus.domain.cameras import Camera, Line, Zone, utc_now
from argus.domain.recording import RecordingStatus
from argus.ports.pipelines import CameraStatus, Capture, LiveCallback, PipelineSupervisor
from argus.ports.repositories import Database
from argus.services.recording_retention import RecordingSweeper

_log = logging.getLogger(__name__)

__all__ = [
    "RecordingPipelines",
    "RecordingRuntime",
    "build_recording",
    "hold_margin",
    "recordings_root",
]


def recordings_root(settings: Settings) -> Path:
    """Where the segments are: ``ARGUS_RECORDING_DIR``, else ``data_dir/recordings``."""
    return settings.recording_dir or settings.data_dir / "recordings"


@dataclass(frozen=True, slots=True)
class RecordingRuntime:
    """This server's continuous recording (a ``RecordingMonitor``).

    Attributes:
        settings: What it was built from.
        index: The segments on disk (read by playback and export, also while off).
        runner: The recorders; ``None`` while recording is off.
        sweeper: The retention sweep; ``None`` while recording is off.
    """

    settings: Settings
    index: SegmentIndex
    runner: RecordingRunner | None = None
    sweeper: RecordingSweeper | None = None

    @property
    def enabled(self) -> bool:
        """Whether this server records (``ARGUS_RECORDING``)."""
        return self.runner is not None

    @property
    def root(self) -> Path:
        """The recordings root."""
        return self.index.root

    def status(self, camera_id: str) -> RecordingStatus | None:
        """The camera's recording; ``None`` while off or for a camera never seen."""
        return None if self.runner is None else self.runner.status(camera_id)

    def statuses(self) -> list[RecordingStatus]:
        """Every camera's recording (with segments on disk), by camera id; empty while off."""
        return [] if self.runner is None else self.runner.statuses()

    def supervise(self, pipelines: PipelineSupervisor) -> PipelineSupervisor:
        """``pipelines`` telling the recorders of camera changes (itself while off)."""
        return pipelines if self.runner is None else RecordingPipelines(pipelines, self.runner)

    def steps(self) -> tuple[Step, ...]:
        """The recorders' step: declare it before the cameras resume (each camera's ``apply``
        starts its recorder). It starts by deleting the ``.part`` files a crashed process
        left (no recorder runs yet) and stops the recorders, each closing its segment."""
        runner = self.runner
        if runner is None:
            return ()
        index = self.index

        async def start() -> None:
            files, freed = await asyncio.to_thread(index.discard_partials)
            if files:
                _log.warning(
                    "recording: deleted %d unfinished segment file(s), %d bytes, left by a "
                    "recorder that did not close them (a crash or a kill)",
                    files,
                    freed,
                )

        async def stop() -> None:
            await asyncio.to_thread(runner.stop)

        return (Step("recorders", start=start, stop=stop),)

    def sweep_steps(self) -> tuple[Step, ...]:
        """The retention sweep's step: at once, then every ``ARGUS_RECORDING_SWEEP_S``."""
        sweeper = self.sweeper
        if sweeper is None:
            return ()
        return (Step("recording retention", start=sweeper.start, stop=sweeper.stop),)


class RecordingPipelines:
    """A pipeline supervisor that also keeps the recorders in step (a decorator).

    ``apply`` and ``remove`` go to the pipelines, then to the runner (in a
    worker thread: a replaced recorder is joined); statuses gain each
    camera's ``recording``. Everything else is the pipelines' own.

    Args:
        pipelines: The decorated supervisor.
        runner: The recorders.
    """

    def __init__(self, pipelines: PipelineSupervisor, runner: RecordingRunner) -> None:
        self._pipelines = pipelines
        self._runner = runner

    @property
    def inner(self) -> PipelineSupervisor:
        """The decorated supervisor."""
        return self._pipelines

    async def apply(self, camera: Camera, lines: Sequence[Line], zones: Sequence[Zone]) -> None:
        """See ``PipelineSupervisor.apply``; the camera's recorder follows."""
        await self._pipelines.apply(camera, lines, zones)
        await asyncio.to_thread(self._runner.apply, camera)

    async def remove(self, camera_id: str) -> None:
        """See ``PipelineSupervisor.remove``; the camera's recorder stops."""
        await self._pipelines.remove(camera_id)
        await asyncio.to_thread(self._runner.remove, camera_id)

    def status(self, camera_id: str) -> CameraStatus | None:
        """See ``PipelineSupervisor.status``, with the camera's recording."""
        status = self._pipelines.status(camera_id)
        return None if status is None else self._with_recording(status)

    def statuses(self) -> list[CameraStatus]:
        """See ``PipelineSupervisor.statuses``, with each camera's recording."""
        return [self._with_recording(s) for s in self._pipelines.statuses()]

    def subscribe_live(self, camera_id: str, callback: LiveCallback) -> Callable[[], None]:
        """See ``PipelineSupervisor.subscribe_live``."""
        return self._pipelines.subscribe_live(camera_id, callback)

    def snapshot(self, camera_id: str) -> bytes | None:
        """See ``PipelineSupervisor.snapshot``."""
        return self._pipelines.snapshot(camera_id)

    async def capture(
        self, camera_id: str, at: datetime, *, pre_s: float, post_s: float
    ) -> Capture | None:
        """See ``PipelineSupervisor.capture``."""
        return await self._pipelines.capture(camera_id, at, pre_s=pre_s, post_s=post_s)

    async def close(self) -> None:
        """See ``PipelineSupervisor.close`` (the recorders stop in their own step)."""
        await self._pipelines.close()

    def _with_recording(self, status: CameraStatus) -> CameraStatus:
        recording = self._runner.status(status.camera_id)
        return status if recording is None else dataclasses.replace(status, recording=recording)


def hold_margin(settings: Settings) -> timedelta:
    """How much recording around a held alert's event time legal hold keeps.

    Five minutes, or the evidence pre- or post-roll when longer: the recording
    retention sweep and the privacy range erasure both spare this much.
    """
    return timedelta(
        seconds=max(300.0, settings.evidence_pre_roll_s, settings.evidence_post_roll_s)
    )


def build_recording(
    settings: Settings,
    database: Database,
    *,
    clock: Callable[[], datetime] = utc_now,
) -> RecordingRuntime:
    """The recording runtime of ``settings``; nothing runs yet.

    Recorded URLs go through the camera source policy at every (re)start,
    like the pipelines' (a file outside the media directories, a denied
    network: the camera's recording is in ``error``). Legal holds keep the
    recording around each held alert, at least the evidence clip's pre- and
    post-roll and five minutes either side.
    """
    index = SegmentIndex(recordings_root(settings))
    if not settings.recording:
        return RecordingRuntime(settings, index)
    policy = source_policy(settings)

    def resolve(camera: Camera) -> str:
        target = policy.check(camera.stream_url, unresolved_ok=True)
        return dataclasses.replace(camera, stream_url=target).source_url()

    options = RecorderOptions(
        segment_seconds=settings.recording_segment_s,
        open_timeout=settings.source_connect_timeout_s,
        read_timeout=settings.source_read_timeout_s,
        connect_to=policy.pin,  # every (re)connection: no DNS rebinding past the policy
    )
    runner = RecordingRunner(index.root, resolve=resolve, options=options, clock=clock)
    sweeper = RecordingSweeper(
        database,
        scan=index.scan,
        delete=index.delete,
        clock=clock,
        keep_days=settings.recording_retain_days,
        max_bytes=settings.recording_max_bytes,
        interval=settings.recording_sweep_s,
        hold_margin=hold_margin(settings),
        on_usage=runner.set_disk,
    )
    return RecordingRuntime(settings, index, runner, sweeper)

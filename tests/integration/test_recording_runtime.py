"""The recording runtime: one recorder thread per recorded camera, on real files and real RTSP.

Segment times come from an injected wall clock plus media time, so the times
asserted here are exact; only the waits for segments to appear are bounded
real waits.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from argus.adapters.recording import SegmentIndex
from argus.adapters.recording.runner import RecorderOptions, RecordingRunner
from argus.domain.backoff import BackoffPolicy
from argus.domain.cameras import Camera
from argus.domain.recording import RecordingStatus, Segment

if TYPE_CHECKING:
    from tests.integration.conftest import Media, ServerProcess

pytestmark = pytest.mark.integration

WAIT_TIMEOUT = 90.0
"""Seconds a test waits for segments or a state; generous for a loaded 2-core machine."""
T0 = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)
QUICK = RecorderOptions(
    segment_seconds=1.0,
    open_timeout=20.0,
    read_timeout=3.0,
    backoff=BackoffPolicy(initial=0.05, max_delay=0.5),
    stall_s=1.5,
    join_timeout=30.0,
)


class Recorded:
    """A runner over ``root`` collecting the segments it closes (in its threads)."""

    def __init__(
        self,
        root: Path,
        clock: Callable[[], datetime],
        options: RecorderOptions = QUICK,
    ) -> None:
        self.segments: list[Segment] = []
        self.seen: list[RecordingStatus | None] = []
        """The camera's status as each segment was handed over."""
        self._lock = threading.Lock()
        self.runner = RecordingRunner(root, options=options, clock=clock, on_segment=self._add)

    def _add(self, segment: Segment) -> None:
        status = self.runner.status(segment.camera_id)
        with self._lock:
            self.segments.append(segment)
            self.seen.append(status)

    def of(self, camera_id: str) -> list[Segment]:
        with self._lock:
            return [s for s in self.segments if s.camera_id == camera_id]

    def status(self, camera_id: str) -> RecordingStatus:
        status = self.runner.status(camera_id)
        assert status is not None, f"no recording status for {camera_id}"
        return status

    def wait_until(self, condition: Callable[[], bool], what: str) -> None:
        deadline = time.monotonic() + WAIT_TIMEOUT
        while not condition():
            if time.monotonic() > deadline:
                pytest.fail(f"{what}: {self.segments}, {self.runner.statuses()}")
            time.sleep(0.02)


@pytest.fixture
def recorded(tmp_path: Path) -> Iterator[Callable[..., Recorded]]:
    made: list[Recorded] = []

    def make(clock: Callable[[], datetime] = lambda: T0, **changes: object) -> Recorded:
        options = replace(QUICK, **changes)  # type: ignore[arg-type]
        recorded = Recorded(tmp_path / "recordings", clock, options)
        made.append(recorded)
        return recorded

    yield make
    for each in made:
        assert each.runner.stop(), "a recorder thread did not stop"


def file_camera(path: Path, camera_id: str = "cam-file", **changes: object) -> Camera:
    return replace(Camera(id=camera_id, name="Yard", stream_url=str(path)), **changes)  # type: ignore[arg-type]


def recorder_threads(camera_id: str) -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == f"argus-record-{camera_id}"]


def test_a_file_camera_is_recorded_in_real_time_and_loops_without_gaps(
    media: Media, recorded: Callable[..., Recorded]
) -> None:
    clip = media.video(frames=25, fps=25)  # one second, keyframes every 10 frames
    run = recorded()
    camera = file_camera(clip)
    run.runner.apply(camera)

    run.wait_until(lambda: run.status(camera.id).state == "recording", "recording")
    run.wait_until(lambda: len(run.of(camera.id)) >= 3, "three passes of the file")
    assert run.runner.remove(camera.id)

    segments = run.of(camera.id)
    assert segments[0].start == T0
    for before, after in itertools.pairwise(segments):
        # Each pass of the looped file is dated from where the previous one ended.
        assert after.start == before.end
    # Whole passes, then the one the removal cut short (closed, still playable).
    assert {s.duration for s in segments[:-1]} == {timedelta(seconds=1)}
    assert timedelta(0) < segments[-1].duration <= timedelta(seconds=1)
    index = SegmentIndex(run.runner.root)
    assert index.scan(camera.id) == segments
    assert index.partials() == []
    status = run.status(camera.id)
    assert status.state == "off"
    assert status.disk_bytes == sum(s.bytes for s in segments)
    assert recorder_threads(camera.id) == []


def test_the_status_counts_segments_bytes_and_the_latest_end(
    media: Media, recorded: Callable[..., Recorded]
) -> None:
    run = recorded()
    camera = file_camera(media.video(frames=25, fps=25))
    run.runner.apply(camera)
    run.wait_until(lambda: len(run.of(camera.id)) >= 3, "three segments")
    assert run.runner.remove(camera.id)

    segments = run.of(camera.id)
    assert len(run.seen) == len(segments)
    # The last segment is the one the removal closed: the camera was already forgotten.
    for count, (segment, seen) in enumerate(zip(segments[:-1], run.seen, strict=False), start=1):
        assert seen is not None
        assert seen.state == "recording"
        assert seen.segments == count
        assert seen.bytes_written == seen.disk_bytes == sum(s.bytes for s in segments[:count])
        assert seen.last_segment_end == segment.end
        assert (seen.gaps, seen.last_error, seen.reason) == (0, None, None)


def test_only_a_change_of_the_recorded_stream_restarts_the_recorder(
    media: Media, recorded: Callable[..., Recorded]
) -> None:
    run = recorded()
    clip = media.video("a.mp4", frames=25, fps=25)
    other = media.video("b.mp4", frames=25, fps=25)
    camera = file_camera(clip)
    run.runner.apply(camera)
    run.wait_until(lambda: run.status(camera.id).segments >= 1, "a segment")
    (thread,) = recorder_threads(camera.id)

    # Detection settings, a sub-stream, lines or zones: the same recorder goes on.
    run.runner.apply(replace(camera, detect_fps=2.0, detect_stream_url=str(other)))
    assert recorder_threads(camera.id) == [thread]
    assert run.status(camera.id).segments >= 1

    run.runner.apply(replace(camera, stream_url=str(other)))
    assert not thread.is_alive()
    (restarted,) = recorder_threads(camera.id)
    assert restarted is not thread
    run.wait_until(lambda: run.status(camera.id).segments >= 1, "a segment of the new stream")


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"record": False}, "recording is off for this camera"),
        ({"enabled": False}, "the camera is disabled"),
        ({"edge_node_id": "node-7"}, "run by edge node node-7"),
    ],
    ids=["record-off", "disabled", "edge-node"],
)
def test_a_camera_not_recorded_here_has_no_recorder_and_says_why(
    media: Media, recorded: Callable[..., Recorded], changes: dict[str, object], reason: str
) -> None:
    run = recorded()
    camera = file_camera(media.video(frames=25, fps=25))
    run.runner.apply(camera)
    run.wait_until(lambda: run.status(camera.id).segments >= 1, "a segment")
    (thread,) = recorder_threads(camera.id)

    run.runner.apply(replace(camera, **changes))  # type: ignore[arg-type]
    assert not thread.is_alive()
    assert recorder_threads(camera.id) == []
    status = run.status(camera.id)
    assert (status.state, status.reason) == ("off", reason)
    assert run.runner.recording() == []
    assert SegmentIndex(run.runner.root).partials() == []

    run.runner.apply(camera)  # recorded again
    run.wait_until(lambda: run.status(camera.id).state == "recording", "recording again")


def test_cameras_without_a_video_stream_to_copy_are_not_recorded(
    tmp_path: Path, recorded: Callable[..., Recorded]
) -> None:
    run = recorded()
    folder = tmp_path / "images"
    folder.mkdir()
    cameras = {
        "cam-mjpeg": "http://127.0.0.1:9/video.mjpg",
        "cam-snapshot": "https://127.0.0.1:9/snapshot.jpg",
        "cam-folder": str(folder),
    }
    for camera_id, url in cameras.items():
        run.runner.apply(file_camera(Path(url), camera_id, stream_url=url))
    assert run.runner.recording() == []
    reasons = {s.camera_id: (s.state, s.reason) for s in run.runner.statuses()}
    http = "an HTTP camera (MJPEG or snapshots) is not recorded: only RTSP and video files"
    assert reasons == {
        "cam-folder": ("off", "a folder of images is not recorded: only RTSP and video files"),
        "cam-mjpeg": ("off", http),
        "cam-snapshot": ("off", http),
    }


def test_a_removed_camera_is_forgotten_and_an_unknown_one_has_no_status(
    tmp_path: Path, recorded: Callable[..., Recorded]
) -> None:
    run = recorded()
    assert run.runner.status("nobody") is None
    assert run.runner.remove("nobody")
    camera = file_camera(tmp_path / "missing.mp4")
    run.runner.apply(camera)
    assert run.runner.remove(camera.id)
    assert run.runner.status(camera.id) is None
    assert run.runner.statuses() == []


def test_a_file_that_cannot_be_read_is_an_error_retried(
    media: Media, tmp_path: Path, recorded: Callable[..., Recorded]
) -> None:
    run = recorded()
    missing = tmp_path / "later.mp4"
    camera = file_camera(missing)
    run.runner.apply(camera)
    run.wait_until(lambda: run.status(camera.id).state == "error", "the error")
    error = run.status(camera.id).last_error
    assert error is not None
    assert "later.mp4" in error

    media.video("later.mp4", frames=25, fps=25)  # the file appears: the retry records it
    run.wait_until(lambda: run.status(camera.id).segments >= 1, "a segment after the retry")
    run.wait_until(lambda: run.status(camera.id).state == "recording", "recording")


def test_stop_closes_every_segment_and_refuses_new_cameras(
    media: Media, recorded: Callable[..., Recorded]
) -> None:
    run = recorded(segment_seconds=60.0)
    clip = media.video(frames=250, fps=25)  # ten seconds: each camera is mid-segment
    cameras = [file_camera(clip, f"cam-{n}") for n in range(2)]
    for camera in cameras:
        run.runner.apply(camera)
    run.wait_until(
        lambda: all(run.status(c.id).state == "recording" for c in cameras), "both recording"
    )
    assert run.runner.stop()

    for camera in cameras:
        (segment,) = run.of(camera.id)  # the segment in progress, closed by the stop
        assert segment.start == T0
        assert run.status(camera.id).state == "off"
        assert recorder_threads(camera.id) == []
    assert SegmentIndex(run.runner.root).partials() == []
    run.runner.apply(file_camera(clip, "cam-late"))
    assert run.status("cam-late").state == "off"
    assert recorder_threads("cam-late") == []


def test_an_rtsp_camera_is_recorded_and_reconnects_after_a_drop(
    rtsp_server: ServerProcess, recorded: Callable[..., Recorded]
) -> None:
    sessions = iter(T0 + timedelta(hours=h) for h in range(1000))
    run = recorded(clock=lambda: next(sessions))
    camera = Camera(
        id="cam-gate", name="Gate", stream_url=f"rtsp://127.0.0.1:{rtsp_server.port}/test"
    )
    run.runner.apply(camera)
    run.wait_until(lambda: len(run.of(camera.id)) >= 2, "two segments")
    assert run.status(camera.id).state == "recording"

    rtsp_server.kill()
    run.wait_until(lambda: run.status(camera.id).state == "reconnecting", "the drop noticed")
    before = run.of(camera.id)
    rtsp_server.start()
    run.wait_until(lambda: run.status(camera.id).gaps >= 1, "a gap after reconnecting")
    run.wait_until(lambda: len(run.of(camera.id)) > len(before), "a segment after the gap")
    run.wait_until(lambda: run.status(camera.id).state == "recording", "recording again")
    assert run.runner.remove(camera.id)

    segments = run.of(camera.id)
    assert before[-1].start < T0 + timedelta(hours=1)  # the first connection's
    assert segments[len(before)].start >= T0 + timedelta(hours=1)  # a later session's
    for segment, following in itertools.pairwise(segments):
        assert following.start >= segment.end  # never overlapping
    status = run.status(camera.id)
    assert status.state == "off"
    assert {s.codec for s in segments} == {"h264"}
    assert SegmentIndex(run.runner.root).scan(camera.id) == segments

"""Continuous recording by remux: a real H.264 file and the real RTSP server process.

Segment times come from an injected clock plus media time, so every time
asserted here is exact media arithmetic, never the wall clock.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING

import av
import pytest

from argus.adapters.recording import SegmentIndex, SegmentRecorder
from argus.adapters.recording.index import SIDECAR_SUFFIX
from argus.domain.backoff import BackoffPolicy
from argus.domain.recording import Gap, Segment, gaps, plan_retention

if TYPE_CHECKING:
    from tests.integration.conftest import Media, ServerProcess

pytestmark = pytest.mark.integration

WAIT_TIMEOUT = 90.0
T0 = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)


def fixed(moment: datetime) -> Callable[[], datetime]:
    return lambda: moment


def record_file(
    path: Path, root: Path, camera: str, start: datetime, seconds: float
) -> list[Segment]:
    recorder = SegmentRecorder(
        camera, str(path), root, segment_seconds=seconds, realtime=False, now=fixed(start)
    )
    return list(recorder.segments())


def source_keyframes(path: Path) -> tuple[Fraction, dict[int, bytes], int, str, bytes]:
    """Time base, keyframe packets by pts, frame count, codec and extradata of ``path``."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        keyframes = {
            p.pts: bytes(p) for p in container.demux(stream) if p.is_keyframe and p.pts is not None
        }
        assert stream.time_base is not None
        base, codec = stream.time_base, stream.codec_context.name
        extradata = bytes(stream.codec_context.extradata or b"")
    with av.open(str(path)) as container:
        frames = sum(1 for _ in container.decode(video=0))
    return base, keyframes, frames, codec, extradata


def decode_segment(root: Path, segment: Segment) -> tuple[int, str, bytes, bytes, list[int]]:
    """Frames decoded, codec, extradata, first packet's bytes and undecodable packets of a segment.

    Undecodable packets are listed (a player skips them), not raised, by index
    from the end: ``-1`` is the last packet.
    """
    frames, rejected = 0, []
    with av.open(str(root / segment.path)) as container:
        stream = container.streams.video[0]
        packets = [p for p in container.demux(stream) if p.size]
        assert packets[0].is_keyframe
        codec = stream.codec_context.name
        extradata = bytes(stream.codec_context.extradata or b"")
        head = bytes(packets[0])
        for index, packet in enumerate(packets):
            try:
                frames += len(stream.decode(packet))
            except av.InvalidDataError:
                rejected.append(index - len(packets))
        frames += len(stream.decode(None))
    return frames, codec, extradata, head, rejected


def test_a_file_is_copied_into_keyframe_aligned_segments(bikes_mp4: Path, tmp_path: Path) -> None:
    base, keyframes, frames, codec, extradata = source_keyframes(bikes_mp4)
    segments = record_file(bikes_mp4, tmp_path, "bikes", T0, 2.0)

    assert len(segments) >= 3
    assert segments[0].start == T0
    keyframe_times = {T0 + timedelta(seconds=float(pts * base)): pts for pts in keyframes}
    for before, after in itertools.pairwise(segments):
        assert after.start == before.end  # contiguous: no gap, no overlap
        assert before.duration >= timedelta(seconds=2.0)
    assert gaps(segments, T0, segments[-1].end, camera_id="bikes") == []
    decoded = 0
    for segment in segments:
        assert segment.start in keyframe_times  # every cut is on a source keyframe
        count, out_codec, out_extradata, head, rejected = decode_segment(tmp_path, segment)
        assert rejected == []
        assert count > 0
        # Copied, not re-encoded: same codec parameters, the keyframe's very bytes.
        assert (out_codec, out_extradata) == (codec, extradata)
        assert head == keyframes[keyframe_times[segment.start]]
        assert segment.bytes == (tmp_path / segment.path).stat().st_size
        decoded += count
    assert decoded == frames
    index = SegmentIndex(tmp_path)
    assert index.scan() == segments
    assert index.partials() == []


def test_an_h265_file_is_copied_as_hevc(media: Media, tmp_path: Path) -> None:
    clip = media.video("clip.mkv", frames=30, codec="libx265")
    _, keyframes, frames, codec, extradata = source_keyframes(clip)
    # B-frames in Matroska: the first packets come without decode times.
    (segment,) = record_file(clip, tmp_path / "rec", "h265", T0, 60.0)
    count, out_codec, out_extradata, head, rejected = decode_segment(tmp_path / "rec", segment)
    assert (codec, out_codec) == ("hevc", "hevc")
    assert (count, rejected) == (frames, [])
    assert out_extradata == extradata
    assert head == keyframes[min(keyframes)]


class Recording:
    """Runs a recorder in a thread and collects its segments and gaps."""

    def __init__(self, recorder: SegmentRecorder, gaps_seen: list[Gap]) -> None:
        self.recorder = recorder
        self.segments: list[Segment] = []
        self.gaps = gaps_seen
        self.error: Exception | None = None
        self._thread = threading.Thread(target=self._run, name="recorder", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            for segment in self.recorder.segments():
                self.segments.append(segment)
        except Exception as exc:  # noqa: BLE001  (handed to the test thread)
            self.error = exc

    def wait_until(self, condition: Callable[[], bool], what: str) -> None:
        deadline = time.monotonic() + WAIT_TIMEOUT
        while not condition():
            if time.monotonic() > deadline or not self._thread.is_alive():
                pytest.fail(f"{what}: {self.segments}, {self.recorder.stats}, {self.error!r}")
            time.sleep(0.02)

    def stop(self) -> None:
        self.recorder.stop()
        self._thread.join(WAIT_TIMEOUT)
        assert not self._thread.is_alive(), "the recorder did not stop"
        assert self.error is None


@pytest.fixture
def recordings() -> Iterator[list[Recording]]:
    started: list[Recording] = []
    yield started
    for recording in started:
        recording.recorder.stop()


def test_stop_is_prompt_in_real_time_and_leaves_a_playable_segment(
    bikes_mp4: Path, tmp_path: Path, recordings: list[Recording]
) -> None:
    recorder = SegmentRecorder("rt", str(bikes_mp4), tmp_path, segment_seconds=60, now=fixed(T0))
    recording = Recording(recorder, [])
    recordings.append(recording)
    recording.wait_until(lambda: recorder.stats.packets >= 3, "three packets")
    recording.stop()
    assert len(recording.segments) == 1
    assert decode_segment(tmp_path, recording.segments[0])[0] > 0
    assert SegmentIndex(tmp_path).partials() == []


def test_rtsp_drop_closes_the_segment_and_reconnects(
    rtsp_server: ServerProcess, tmp_path: Path, recordings: list[Recording]
) -> None:
    sessions = iter(T0 + timedelta(hours=h) for h in range(100))
    found: list[Gap] = []
    recorder = SegmentRecorder(
        "gate",
        f"rtsp://127.0.0.1:{rtsp_server.port}/test",
        tmp_path,
        segment_seconds=1.0,
        open_timeout=20.0,
        read_timeout=10.0,
        backoff=BackoffPolicy(initial=0.1, max_delay=1.0),
        options={"analyzeduration": "500000"},
        now=lambda: next(sessions),
        on_gap=found.append,
    )
    recording = Recording(recorder, found)
    recordings.append(recording)
    recording.wait_until(lambda: len(recording.segments) >= 2, "two segments")
    rtsp_server.kill()
    recording.wait_until(lambda: recorder.stats.last_error is not None, "the drop noticed")
    before = list(recording.segments)
    assert before[-1].start < T0 + timedelta(hours=1)  # all from the first connection
    rtsp_server.start()
    recording.wait_until(lambda: bool(found), "a gap reported after reconnecting")
    recording.wait_until(lambda: len(recording.segments) > len(before), "a segment after the gap")
    recording.stop()

    assert recorder.stats.reconnects >= 1
    (gap,) = found
    # The gap runs from the end of the segment closed by the drop to the next session's start.
    assert gap.start == before[-1].end
    after = [s for s in recording.segments if s.start >= gap.end]
    assert after[0].start == gap.end
    assert gap.end >= T0 + timedelta(hours=1)
    for segment, following in itertools.pairwise(recording.segments):
        assert following.start >= segment.end  # no overlap
        if following.start == segment.end:  # cut within a session: on a keyframe after 1 s
            assert segment.duration >= timedelta(seconds=1.0)
    for segment in recording.segments:
        frames, codec, _, _, rejected = decode_segment(tmp_path, segment)
        assert frames > 0
        # The kill can cut the packet in flight: only the dropped segment's last may be bad.
        allowed = [-1] if segment == before[-1] else []
        assert rejected in ([], allowed), (segment, rejected, frames)
        assert codec == "h264"
    assert SegmentIndex(tmp_path).scan() == sorted(recording.segments, key=lambda s: s.start)


def test_retention_deletes_expired_and_over_budget_files_but_not_locked_ones(
    bikes_mp4: Path, tmp_path: Path
) -> None:
    now = T0 + timedelta(days=30)
    old = record_file(bikes_mp4, tmp_path, "yard", now - timedelta(days=10), 2.0)
    new = record_file(bikes_mp4, tmp_path, "door", now - timedelta(hours=1), 2.0)
    foreign = [
        tmp_path / "README.txt",
        tmp_path / "door" / "notes.mp4",
        tmp_path / "yard" / "x" / "junk.mp4",
    ]
    for path in foreign:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"not a segment")
    index = SegmentIndex(tmp_path)
    assert index.scan() == sorted(old + new, key=lambda s: (s.start, s.path))
    locked = old[1]
    budget = sum(s.bytes for s in new) - new[0].bytes + locked.bytes

    plan = plan_retention(
        index.scan(), now=now, keep_days=7, max_bytes=budget, locked={locked.path}
    )
    assert set(plan.expired) == set(old) - {locked}
    assert plan.over_budget == (new[0],)
    assert index.delete(plan.delete) == plan.freed_bytes

    assert index.scan() == [locked, *new[1:]]
    for segment in plan.delete:
        assert not (tmp_path / segment.path).exists()
        assert not (tmp_path / (segment.path + SIDECAR_SUFFIX)).exists()
    assert all(path.exists() for path in foreign)
    assert index.delete(plan.delete) == 0  # already gone: nothing to do


def test_index_probes_a_segment_whose_sidecar_is_missing(bikes_mp4: Path, tmp_path: Path) -> None:
    recorded = record_file(bikes_mp4, tmp_path, "lobby", T0, 2.0)
    first = recorded[0]
    (tmp_path / "lobby" / "stray.json").write_text("{", encoding="utf-8")
    # What a crash mid-segment leaves: a .part file, or a sidecar renamed before its segment.
    day = (tmp_path / first.path).parent
    crashed = day / "lobby-20261207T090000.000Z.mp4.part"
    crashed.write_bytes((tmp_path / first.path).read_bytes()[:1000])
    orphan = day / "lobby-20261207T091000.000Z.mp4.json"
    orphan.write_text(
        (tmp_path / (first.path + SIDECAR_SUFFIX)).read_text(encoding="utf-8"), encoding="utf-8"
    )
    (tmp_path / (first.path + SIDECAR_SUFFIX)).unlink()
    index = SegmentIndex(tmp_path)
    assert index.partials() == [crashed]
    listed = index.scan("lobby")
    assert listed[1:] == recorded[1:]  # neither the .part file nor the orphan sidecar
    probed = listed[0]
    assert (probed.camera_id, probed.start, probed.path, probed.bytes, probed.codec) == (
        first.camera_id,
        first.start,
        first.path,
        first.bytes,
        first.codec,
    )
    assert abs(probed.duration - first.duration) <= timedelta(milliseconds=100)

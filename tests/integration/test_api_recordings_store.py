"""The recordings port: one contract over the in-memory store and the disk store, and the
``Range`` arithmetic the playback route uses.

The disk store reads real segments that ``SegmentRecorder`` wrote from the real
``bikes.mp4``; the memory store holds the same files' bytes.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from argus.adapters.recording import SegmentIndex, SegmentRecorder
from argus.adapters.recording.store import FileRecordingStore
from argus.domain.errors import NotFoundError
from argus.domain.recording import Segment
from argus.ports.recordings import (
    MemoryRecordingStore,
    RecordingStore,
    check_segment_id,
    segment_id,
)
from argus.services.recordings import RangeNotSatisfiableError, byte_range

pytestmark = pytest.mark.integration

T0 = datetime(2026, 3, 1, 23, 59, 55, tzinfo=UTC)
"""Just before midnight: the recording runs into the next day's directory."""
CAMERA = "cam-1"


def _record(bikes: Path, root: Path, camera: str) -> list[Segment]:
    recorder = SegmentRecorder(
        camera, str(bikes), root, segment_seconds=2.0, realtime=False, now=lambda: T0
    )
    return list(recorder.segments())


@pytest.fixture(params=["memory", "file"])
def store(
    request: pytest.FixtureRequest, bikes_mp4: Path, tmp_path: Path
) -> Iterator[tuple[RecordingStore, list[Segment]]]:
    root = tmp_path / "recordings"
    segments = _record(bikes_mp4, root, CAMERA)
    _record(bikes_mp4, root, "cam-2")
    if request.param == "file":
        yield FileRecordingStore(SegmentIndex(root)), segments
        return
    memory = MemoryRecordingStore()
    for segment in SegmentIndex(root).scan():
        memory.add(segment, (root / segment.path).read_bytes())
    yield memory, segments


def test_segments_overlapping_a_range_across_midnight(
    store: tuple[RecordingStore, list[Segment]],
) -> None:
    recordings, segments = store
    assert {s.start.date() for s in segments} == {T0.date(), T0.date() + timedelta(days=1)}
    assert recordings.overlapping(CAMERA, T0, T0 + timedelta(minutes=1)) == segments
    # The same range given in another offset: local dates are not the directories' dates.
    west = timezone(timedelta(hours=-11))
    assert (
        recordings.overlapping(
            CAMERA, T0.astimezone(west), (T0 + timedelta(minutes=1)).astimezone(west)
        )
        == segments
    )
    middle = recordings.overlapping(CAMERA, segments[1].start, segments[2].end)
    assert middle == segments[1:3]
    after = segments[-1].end
    assert recordings.overlapping(CAMERA, after, after + timedelta(hours=1)) == []
    assert recordings.overlapping("nobody", T0, T0 + timedelta(hours=1)) == []
    assert recordings.overlapping("../cam-1", T0, T0 + timedelta(hours=1)) == []


def test_a_segment_is_found_by_its_id_and_camera_only(
    store: tuple[RecordingStore, list[Segment]],
) -> None:
    recordings, segments = store
    for segment in segments:
        assert recordings.segment(CAMERA, segment_id(segment)) == segment
    wanted = segment_id(segments[0])
    with pytest.raises(NotFoundError):
        recordings.segment("cam-3", wanted)
    for bad in ("../../etc/passwd", wanted + ".mp4", wanted.lower(), "", "20260301T000000Z"):
        with pytest.raises(NotFoundError):
            recordings.segment(CAMERA, bad)


def test_bytes_are_read_by_range(store: tuple[RecordingStore, list[Segment]]) -> None:
    recordings, segments = store
    segment = segments[0]
    size = recordings.size(segment)
    assert size == segment.bytes
    whole = b"".join(recordings.chunks(segment, 0, size - 1))
    assert len(whole) == size
    assert whole[4:8] == b"ftyp"
    assert b"".join(recordings.chunks(segment, 10, 19)) == whole[10:20]


def test_a_clip_covers_the_range_asked_for(store: tuple[RecordingStore, list[Segment]]) -> None:
    recordings, segments = store
    segment = segments[1]
    start = segment.start + timedelta(seconds=0.5)
    end = segment.end - timedelta(seconds=0.5)
    clip = recordings.clip(segment, start, end)
    assert clip.segment == segment
    assert segment.start <= clip.start <= start
    assert end - timedelta(seconds=0.04) <= clip.end <= segment.end
    assert clip.data[4:8] == b"ftyp"
    whole = recordings.clip(segment, segment.start, segment.end)
    assert whole.whole
    assert whole.data == b"".join(recordings.chunks(segment, 0, segment.bytes - 1))


def test_a_deleted_segment_is_gone(store: tuple[RecordingStore, list[Segment]]) -> None:
    recordings, segments = store
    segment = segments[0]
    if isinstance(recordings, FileRecordingStore):
        recordings.index.delete([segment])
    else:
        assert isinstance(recordings, MemoryRecordingStore)
        recordings.remove(segment)
    with pytest.raises(NotFoundError):
        recordings.segment(CAMERA, segment_id(segment))
    with pytest.raises(NotFoundError):
        recordings.size(segment)
    with pytest.raises(NotFoundError):
        next(iter(recordings.chunks(segment, 0, 10)))
    with pytest.raises(NotFoundError):
        recordings.clip(segment, segment.start, segment.end)


@pytest.mark.parametrize(
    ("header", "size", "expected"),
    [
        (None, 100, None),
        ("bytes=0-9", 100, (0, 9)),
        ("bytes=90-", 100, (90, 99)),
        ("bytes=90-500", 100, (90, 99)),
        ("bytes=-10", 100, (90, 99)),
        ("bytes=-500", 100, (0, 99)),
        ("bytes=99-99", 100, (99, 99)),
    ],
    ids=str,
)
def test_byte_ranges(header: str | None, size: int, expected: tuple[int, int] | None) -> None:
    assert byte_range(header, size) == expected


@pytest.mark.parametrize(
    ("header", "size"),
    [
        ("bytes=100-", 100),
        ("bytes=5-4", 100),
        ("bytes=-0", 100),
        ("bytes=0-", 0),
        ("bytes=-5", 0),
        ("bytes=-", 100),
        ("bytes=0-1,3-4", 100),
        ("bits=0-1", 100),
        ("bytes=0x10-", 100),
        ("bytes=" + "1" * 20 + "-", 100),
    ],
    ids=str,
)
def test_unsatisfiable_byte_ranges(header: str, size: int) -> None:
    with pytest.raises(RangeNotSatisfiableError) as caught:
        byte_range(header, size)
    assert caught.value.size == size


def test_segment_ids() -> None:
    assert check_segment_id("20261207T091500.123Z") == "20261207T091500.123Z"
    assert check_segment_id("20261207T091500.123Z-2") == "20261207T091500.123Z-2"
    for bad in ("20261207T091500Z", "20261207T091500.123Z/..", "x20261207T091500.123Z"):
        with pytest.raises(NotFoundError):
            check_segment_id(bad)

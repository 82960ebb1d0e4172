"""``FileRecordingStore``: the recordings port over the segments a ``SegmentRecorder`` wrote.

Segments are found through the ``SegmentIndex`` (sidecars), narrowed to the
UTC date directories a range can touch. A segment id is turned into the one
path the layout gives it and checked to lie under the camera's directory;
nothing a caller sends is ever joined to a path unchecked.

A clip of a segment is cut by remuxing with PyAV, without re-encoding: it
starts at the last keyframe at or before the start asked for (so it may
begin up to a keyframe interval early), and it ends with the last packet
decoded before the end asked for (frames reordered past it, a few at most,
come with it). A segment lying wholly inside the range is copied as it is.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING

import av
from av.packet import Packet
from av.video.stream import VideoStream

from argus.adapters.recording.index import SegmentIndex, check_camera_id, read_sidecar
from argus.domain.errors import ConfigError, NotFoundError, StorageError
from argus.domain.recording import Segment, overlapping
from argus.ports.recordings import Clip, check_segment_id

__all__ = ["CHUNK", "FileRecordingStore"]

if TYPE_CHECKING:
    _Packet = Packet[VideoStream]

_log = logging.getLogger(__name__)

CHUNK = 256 * 1024
"""Bytes read from a segment file per piece of a streamed answer."""

_LONGEST_SEGMENT = timedelta(days=1)
"""A segment filed under the day before a range may still reach into it."""


class FileRecordingStore:
    """The segments under one recordings root.

    Args:
        index: The index of the recordings root.
    """

    def __init__(self, index: SegmentIndex) -> None:
        self._index = index

    @property
    def index(self) -> SegmentIndex:
        """The index read."""
        return self._index

    def overlapping(self, camera_id: str, start: datetime, end: datetime) -> list[Segment]:
        """See ``RecordingStore.overlapping``."""
        try:
            camera = check_camera_id(camera_id)
        except ConfigError:
            return []
        # Directories are named by UTC dates, whatever offset the range was given in.
        first = (start - _LONGEST_SEGMENT).astimezone(UTC).date()
        last = end.astimezone(UTC).date()
        days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
        found = self._index.scan(camera, days=days)
        return overlapping(found, start, end, camera_id=camera)

    def segment(self, camera_id: str, segment_id: str) -> Segment:
        """See ``RecordingStore.segment``."""
        wanted = check_segment_id(segment_id)
        missing = NotFoundError(f"no recording segment {wanted} of camera {camera_id}")
        try:
            camera = check_camera_id(camera_id)
        except ConfigError:
            raise missing from None
        relative = f"{camera}/{wanted[0:4]}-{wanted[4:6]}-{wanted[6:8]}/{camera}-{wanted}.mp4"
        path = self._path(relative)
        if path is None or not path.is_file():
            raise missing
        segment = read_sidecar(self._index.root, relative)
        if segment is None:
            # No sidecar (copied in by hand, or an older version): the index probes it.
            try:
                day = date.fromisoformat(path.parent.name)
            except ValueError:
                raise missing from None
            found = [s for s in self._index.scan(camera, days=[day]) if s.path == relative]
            segment = found[0] if found else None
        if segment is None or segment.camera_id != camera or segment.path != relative:
            raise missing
        return segment

    def size(self, segment: Segment) -> int:
        """See ``RecordingStore.size``."""
        path = self._path(segment.path)
        try:
            if path is None:
                raise FileNotFoundError(segment.path)
            return path.stat().st_size
        except OSError:
            raise NotFoundError(f"recording segment {segment.path} is gone") from None

    def chunks(self, segment: Segment, first: int, last: int) -> Iterator[bytes]:
        """See ``RecordingStore.chunks``."""
        path = self._path(segment.path)
        try:
            if path is None:
                raise FileNotFoundError(segment.path)
            handle = path.open("rb")
        except OSError:
            raise NotFoundError(f"recording segment {segment.path} is gone") from None
        with handle:
            handle.seek(first)
            left = last - first + 1
            while left > 0:
                piece = handle.read(min(CHUNK, left))
                if not piece:
                    return  # truncated under us: the answer ends short, the client sees it
                left -= len(piece)
                yield piece

    def clip(self, segment: Segment, start: datetime, end: datetime) -> Clip:
        """See ``RecordingStore.clip``."""
        path = self._path(segment.path)
        if path is None or not path.is_file():
            raise NotFoundError(f"recording segment {segment.path} is gone")
        if start <= segment.start and end >= segment.end:
            try:
                data = path.read_bytes()
            except OSError as exc:
                raise StorageError(f"reading segment {segment.path}: {exc}") from exc
            return Clip(segment, segment.start, segment.end, data, whole=True)
        try:
            return _cut(path, segment, start, end)
        except (av.FFmpegError, OSError, ValueError) as exc:
            raise StorageError(f"cutting segment {segment.path}: {exc}") from exc

    def _path(self, relative: str) -> Path | None:
        """The file of ``relative`` when it lies under the root, else ``None``."""
        root = self._index.root.resolve()
        path = (root / relative).resolve()
        return path if path.is_relative_to(root) and path.suffix == ".mp4" else None


def _cut(path: Path, segment: Segment, start: datetime, end: datetime) -> Clip:
    """Copy the packets of ``[start, end)`` of a segment into a new MP4 (see the module)."""
    with av.open(str(path), mode="r") as source:
        stream = source.streams.video[0]
        base: Fraction = stream.time_base or Fraction(1, 90_000)
        packets: list[_Packet] = [
            p for p in source.demux(stream) if p.size and (p.pts is not None or p.dts is not None)
        ]
        if not packets:
            raise ValueError("the segment holds no packets")
        origin = _ticks(packets[0])

        def wall(ticks: int) -> datetime:
            return segment.start + timedelta(seconds=float((ticks - origin) * base))

        first = 0
        for index, packet in enumerate(packets):
            if packet.is_keyframe and wall(_ticks(packet)) <= start:
                first = index
        keyframe = packets[first]
        shift = keyframe.dts if keyframe.dts is not None else _ticks(keyframe)
        floor = _ticks(keyframe)
        buffer = io.BytesIO()
        last_end = floor
        with av.open(buffer, mode="w", format="mp4") as target:
            out = target.add_stream_from_template(stream)
            for packet in packets[first:]:
                decode = packet.dts if packet.dts is not None else _ticks(packet)
                if packet is not keyframe and wall(decode) >= end:
                    break
                ticks = _ticks(packet)
                if ticks < floor:
                    continue  # a leading picture of an open GOP: it needs the frames before
                duration = packet.duration or 0
                packet.pts, packet.dts = ticks - shift, decode - shift
                packet.stream = out
                target.mux(packet)
                last_end = max(last_end, ticks + duration)
    clip_end = min(max(wall(last_end), wall(floor)), segment.end)
    return Clip(segment, wall(floor), clip_end, buffer.getvalue(), whole=False)


def _ticks(packet: _Packet) -> int:
    """A packet's presentation time (its decode time when it has none)."""
    value = packet.pts if packet.pts is not None else packet.dts
    assert value is not None
    return value

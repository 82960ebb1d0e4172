"""Erasing a stretch of time from the segments on disk (a privacy range erasure).

``SegmentEraser`` is what ``argus.services.recording_erasure`` erases
recordings through. A segment wholly inside the range is deleted with its
sidecar. A segment reaching across an edge of the range is *cut*: the
packets outside the range are copied (remuxed with PyAV, never re-encoded)
into replacement segments, each with its sidecar, and the original is gone:

* the **head** (the part before the range) keeps the segment's name and id.
  It is the longest run of packets, in decode order, that shows only frames
  before the range start: decoding a packet needs only the packets decoded
  before it, so a prefix always plays. The prefix is shortened until every
  frame it shows comes before every frame it leaves out, so it ends on a
  clean boundary (at worst the previous keyframe): its end is the time of
  the first frame left out, at or before the range start.
* the **tail** (the part after the range) starts at the first keyframe at or
  after the range end, and leaves out the leading pictures of an open GOP
  (shown before that keyframe). It is a new segment named by its start.

No frame shown inside the range is left in either part; the frames between
the range and the cut points are lost with it (the caller reports how many
seconds). Both parts are written under temporary ``.part`` names first; only
when both are complete is the tail renamed into place (after its sidecar),
then the head renamed over the original (before its sidecar). A failure
before that leaves the original untouched and raises ``StorageError``; a
crash midway leaves only what a repeated erasure cuts again.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING

import av
from av.packet import Packet
from av.video.stream import VideoStream

from argus.adapters.recording.index import (
    PART_SUFFIX,
    SegmentIndex,
    check_camera_id,
    segment_path,
    write_sidecar,
)
from argus.domain.errors import ConfigError, NotFoundError, StorageError
from argus.domain.recording import Segment, overlapping

__all__ = ["ERASE_SUFFIX", "SegmentEraser"]

if TYPE_CHECKING:
    _Packet = Packet[VideoStream]

ERASE_SUFFIX = ".erase" + PART_SUFFIX
"""Suffix of a replacement part being written (a ``.part`` file: never listed)."""

_STAMP = "%Y%m%dT%H%M%S.%f"


class SegmentEraser:
    """Deletes and cuts the segments under one recordings root (blocking calls).

    Args:
        index: The index of the recordings root.
    """

    def __init__(self, index: SegmentIndex) -> None:
        self._index = index

    def overlapping(self, camera_id: str, start: datetime, end: datetime) -> list[Segment]:
        """The closed segments of ``camera_id`` sharing time with ``[start, end)``, oldest first."""
        try:
            camera = check_camera_id(camera_id)
        except ConfigError:
            return []
        return overlapping(self._index.scan(camera), start, end, camera_id=camera)

    def delete(self, segments: Sequence[Segment]) -> int:
        """Delete segments with their sidecars; return the bytes freed."""
        return self._index.delete(segments)

    def writing(self, camera_id: str) -> list[datetime]:
        """Start times of the camera's segments still being written (``.part`` files)."""
        try:
            camera = check_camera_id(camera_id)
        except ConfigError:
            return []
        name = re.compile(rf"^{re.escape(camera)}-(\d{{8}}T\d{{6}}\.\d{{3}})Z(?:-\d+)?\.mp4\.part$")
        starts = []
        for path in (self._index.root / camera).glob(f"*/*{PART_SUFFIX}"):
            match = name.match(path.name)
            if match is not None:
                starts.append(datetime.strptime(match[1], _STAMP).replace(tzinfo=UTC))
        return sorted(starts)

    def cut_out(self, segment: Segment, since: datetime, until: datetime) -> tuple[Segment, ...]:
        """Replace ``segment`` by its parts outside ``[since, until)`` (see the module).

        Returns:
            The replacement segments, in time order (none when no frame of the
            segment lies outside the range: it is deleted).

        Raises:
            NotFoundError: The segment file is gone.
            StorageError: It could not be read or cut; it is left as it was.
        """
        root = self._index.root
        original = _inside(root, segment.path)
        if not original.is_file():
            raise NotFoundError(f"recording segment {segment.path} is gone")
        written: list[Path] = []
        try:
            parts = _write_parts(_Parts(root, segment, written), original, since, until)
        except (av.FFmpegError, OSError, ValueError) as exc:
            for path in written:
                path.unlink(missing_ok=True)
            raise StorageError(f"cutting segment {segment.path}: {exc}") from exc
        try:
            kept = [_commit(root, original, part, temporary) for part, temporary in parts]
            if not any(part.path == segment.path for part, _ in parts):
                self._index.delete([segment])
        except OSError as exc:
            raise StorageError(f"replacing segment {segment.path}: {exc}") from exc
        return tuple(sorted(kept, key=lambda s: s.start))


def _inside(root: Path, relative: str) -> Path:
    """The file of ``relative``, refused when it would leave the root."""
    base = root.resolve()
    path = (base / relative).resolve()
    if not path.is_relative_to(base) or path.suffix != ".mp4":
        raise StorageError(f"{relative!r} is not a segment under {base}")
    return path


def _commit(root: Path, original: Path, part: Segment, temporary: Path) -> Segment:
    """Move a written part into place: the tail after its sidecar, the head before its own."""
    final = root / part.path
    if final.resolve() == original:
        temporary.replace(final)  # the erased frames leave the disk first
        write_sidecar(root, part)
    else:
        final.parent.mkdir(parents=True, exist_ok=True)
        write_sidecar(root, part)
        temporary.replace(final)  # a repeated erasure rewrites the same tail
    return part


def _ticks(packet: _Packet) -> int:
    """A packet's presentation time (its decode time when it has none)."""
    value = packet.pts if packet.pts is not None else packet.dts
    assert value is not None
    return value


def _write_parts(
    writer: _Parts, original: Path, since: datetime, until: datetime
) -> list[tuple[Segment, Path]]:
    """Write the head and tail of the segment under temporary names."""
    segment = writer.segment
    with av.open(str(original), mode="r") as source:
        stream = source.streams.video[0]
        base: Fraction = stream.time_base or Fraction(1, 90_000)
        packets: list[_Packet] = [
            p for p in source.demux(stream) if p.size and (p.pts is not None or p.dts is not None)
        ]
        if not packets:
            raise ValueError("the segment holds no packets")
        times = [_ticks(p) for p in packets]
        origin = times[0]

        def wall(ticks: int) -> datetime:
            return segment.start + timedelta(seconds=float((ticks - origin) * base))

        parts: list[tuple[Segment, Path]] = []
        head = _head_length(times, [wall(t) < since for t in times])
        if head:
            end_ticks = (
                min(times[head:])
                if head < len(times)
                else max(t + (p.duration or 0) for t, p in zip(times, packets, strict=True))
            )
            end = max(min(wall(end_ticks), since, segment.end), segment.start)
            parts.append(writer.write(stream, packets[:head], segment.start, end))
        tail = next(
            (i for i, p in enumerate(packets) if p.is_keyframe and wall(times[i]) >= until), None
        )
        if tail is not None and segment.end > wall(times[tail]):
            floor = times[tail]
            kept = [p for p, t in zip(packets[tail:], times[tail:], strict=True) if t >= floor]
            start = wall(floor)
            parts.append(writer.write(stream, kept, start, segment.end))
    return parts


def _head_length(times: Sequence[int], before: Sequence[bool]) -> int:
    """Packets of the head: a decode-order prefix showing only frames before the range,
    each of them before every frame it leaves out."""
    length = next((i for i, early in enumerate(before) if not early), len(times))
    if length == len(times):
        return length
    later = list(times)  # later[i]: the earliest frame shown by packets i and after
    for i in range(len(times) - 2, -1, -1):
        later[i] = min(later[i], later[i + 1])
    shown = list(times)  # shown[i]: the latest frame shown by packets 0..i
    for i in range(1, len(times)):
        shown[i] = max(shown[i], shown[i - 1])
    while length > 0 and shown[length - 1] >= later[length]:
        length -= 1
    return length


@dataclass(frozen=True, slots=True)
class _Parts:
    """Writes the parts of one segment under temporary names, listed in ``written``."""

    root: Path
    segment: Segment
    written: list[Path]

    def write(
        self, stream: VideoStream, packets: Sequence[_Packet], start: datetime, end: datetime
    ) -> tuple[Segment, Path]:
        """Remux ``packets`` into a temporary file; return the part it will be and that file."""
        segment = self.segment
        relative = (
            segment.path if start == segment.start else segment_path(segment.camera_id, start)
        )
        temporary = self.root / (relative + ERASE_SUFFIX)
        temporary.parent.mkdir(parents=True, exist_ok=True)
        self.written.append(temporary)
        first = packets[0]
        shift = first.dts if first.dts is not None else _ticks(first)
        with av.open(str(temporary), mode="w", format="mp4") as target:
            out = target.add_stream_from_template(stream)
            for packet in packets:
                ticks = _ticks(packet)
                decode = packet.dts if packet.dts is not None else ticks
                packet.pts, packet.dts = ticks - shift, decode - shift
                packet.stream = out
                target.mux(packet)
        size = temporary.stat().st_size
        part = Segment(segment.camera_id, start, max(end, start), relative, size, segment.codec)
        return part, temporary

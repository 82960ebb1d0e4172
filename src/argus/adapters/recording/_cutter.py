"""Cutting one connection's packets into keyframe-aligned MP4 segments (used by ``remux``).

``Cutter`` decides where segments start and end, fills in missing decode
times and dates segments; ``SegmentWriter`` writes one segment under a
``.part`` name and renames it once closed, after its sidecar.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING

import av
from av.container import OutputContainer
from av.packet import Packet
from av.video.stream import VideoStream

from argus.adapters.recording.index import PART_SUFFIX, segment_path, write_sidecar
from argus.adapters.video._av import describe, translate
from argus.domain.errors import SourceError
from argus.domain.recording import Segment

__all__ = ["Cutter", "RecorderStats", "SegmentWriter"]

if TYPE_CHECKING:
    _Packet = Packet[VideoStream]


@dataclass
class RecorderStats:
    """Counters of one recorder, read by health checks (not thread-safe, only indicative)."""

    segments: int = 0
    bytes: int = 0
    packets: int = 0
    packets_dropped: int = 0
    reconnects: int = 0
    gaps: int = 0
    last_error: str | None = None
    last_packet_at: float | None = None
    """``time.monotonic()`` when the latest packet arrived (a stalled stream stops it)."""


class SegmentWriter:
    """One segment being written: a ``.part`` file renamed when closed."""

    def __init__(
        self, root: Path, camera_id: str, template: VideoStream, start: datetime, offset: int
    ) -> None:
        self.camera_id = camera_id
        self.start = start
        self.offset = offset
        self.relative = segment_path(camera_id, start)
        final = root / self.relative
        final.parent.mkdir(parents=True, exist_ok=True)
        suffix = 1
        while final.exists():  # two segments in the same millisecond (a quick reconnect)
            self.relative = segment_path(camera_id, start)[: -len(".mp4")] + f"-{suffix}.mp4"
            final, suffix = root / self.relative, suffix + 1
        self.root = root
        self.final = final
        self.part = final.with_name(final.name + PART_SUFFIX)
        self.codec = template.codec_context.name
        self._container: OutputContainer = av.open(str(self.part), mode="w", format="mp4")
        self._stream = self._container.add_stream_from_template(template)
        self.last_dts: int | None = None
        self.end_ticks = 0
        self.packets = 0

    def mux(self, packet: _Packet, ticks: int, dts: int, end_ticks: int) -> None:
        """Write ``packet`` with its timestamps moved back by the segment's offset."""
        packet.pts = ticks - self.offset
        packet.dts = dts - self.offset
        packet.stream = self._stream
        self._container.mux(packet)
        self.last_dts = dts
        self.end_ticks = max(self.end_ticks, end_ticks)
        self.packets += 1

    def close(self, end: datetime) -> Segment:
        """Finish the file, write its sidecar, give it its final name."""
        self._container.close()
        segment = Segment(
            self.camera_id,
            self.start,
            max(end, self.start),
            self.relative,
            self.part.stat().st_size,
            self.codec,
        )
        write_sidecar(self.root, segment)
        self.part.replace(self.final)
        return segment

    def abort(self) -> None:
        """Drop the file after a write error."""
        with contextlib.suppress(av.FFmpegError, OSError):
            self._container.close()
        self.part.unlink(missing_ok=True)


class Cutter:
    """The segments of one connection: waits for a keyframe, cuts, rebases, dates.

    Wall-clock times are the clock's reading at the connection's first
    keyframe plus the media time since.
    """

    def __init__(
        self,
        root: Path,
        camera_id: str,
        stream: VideoStream,
        *,
        segment_seconds: float,
        now: Callable[[], datetime],
        stats: RecorderStats,
    ) -> None:
        self._root = root
        self._camera_id = camera_id
        self._stream = stream
        self._base = stream.time_base or Fraction(1, 90_000)
        self._limit = int(segment_seconds / self._base)
        self._now = now
        self._stats = stats
        self._anchor: tuple[datetime, int, float] | None = None  # wall, ticks, monotonic
        self._writer: SegmentWriter | None = None
        self._held: list[tuple[_Packet, int]] = []
        self._last_dts: int | None = None
        rate = stream.average_rate or stream.guessed_rate
        self._frame_ticks = max(1, round(1 / (rate * self._base))) if rate else 1

    def admit(self, packet: _Packet) -> int | None:
        """Return the packet's presentation ticks, or ``None`` to skip it."""
        ticks = packet.pts if packet.pts is not None else packet.dts
        if ticks is None or not packet.size:
            return None
        self._stats.packets += 1
        self._stats.last_packet_at = time.monotonic()
        if self._anchor is None:
            if not packet.is_keyframe:
                self._stats.packets_dropped += 1  # undecodable before the first keyframe
                return None
            self._anchor = (self._now(), ticks, time.monotonic())
        return ticks

    def delay(self, ticks: int) -> float:
        """Seconds to wait before ``ticks`` is due, when a file is read in real time."""
        assert self._anchor is not None
        due = self._anchor[2] + float((ticks - self._anchor[1]) * self._base)
        return due - time.monotonic()

    def write(self, packet: _Packet, ticks: int) -> list[Segment]:
        """Write an admitted packet; return the segments it closed (by starting new ones).

        A demuxer that knows decode times only after a few packets (Matroska
        with B-frames) leaves them unset at first: those packets are held
        until one has a decode time, then given the ones before it, a frame
        apart, as FFmpeg's own remux does.
        """
        self._held.append((packet, ticks))
        if packet.dts is None and self._last_dts is None:
            return []
        held, self._held = self._held, []
        step = packet.duration or self._frame_ticks
        if packet.dts is not None:
            last = packet.dts
        else:
            assert self._last_dts is not None
            last = self._last_dts + step  # one missing decode time mid-stream
        closed = []
        for position, (each, each_ticks) in enumerate(held):
            segment = self._put(each, each_ticks, last - (len(held) - 1 - position) * step)
            if segment is not None:
                closed.append(segment)
        return closed

    def finish(self) -> Segment | None:
        """Close the segment in progress; ``None`` when it holds nothing."""
        held, self._held = self._held, []
        for packet, ticks in held:  # decode times never came: no reordering, so dts = pts
            self._put(packet, ticks, ticks)
        writer, self._writer = self._writer, None
        if writer is None:
            return None
        if not writer.packets:
            writer.abort()
            return None
        return self._close(writer)

    def _put(self, packet: _Packet, ticks: int, dts: int) -> Segment | None:
        closed = None
        writer = self._writer
        if writer is not None and packet.is_keyframe and ticks - writer.offset >= self._limit:
            closed, writer = self._close(writer), None
        dts = min(dts, ticks)
        if writer is None:
            writer = self._writer = self._open(self._wall(ticks), dts)
        if writer.last_dts is not None and dts <= writer.last_dts:
            self._stats.packets_dropped += 1  # a timestamp jump the muxer would refuse
            return closed
        try:
            writer.mux(packet, ticks, dts, ticks + (packet.duration or self._frame_ticks))
        except av.FFmpegError as exc:
            self._writer = None
            writer.abort()
            raise translate(exc, f"segment of {self._camera_id}") from exc
        self._last_dts = dts
        return closed

    def _wall(self, ticks: int) -> datetime:
        assert self._anchor is not None
        return self._anchor[0] + timedelta(seconds=float((ticks - self._anchor[1]) * self._base))

    def _open(self, start: datetime, offset: int) -> SegmentWriter:
        try:
            return SegmentWriter(self._root, self._camera_id, self._stream, start, offset)
        except (av.FFmpegError, OSError) as exc:
            raise SourceError(f"opening a segment of {self._camera_id}: {describe(exc)}") from exc

    def _close(self, writer: SegmentWriter) -> Segment:
        self._writer = None
        try:
            segment = writer.close(self._wall(writer.end_ticks))
        except (av.FFmpegError, OSError) as exc:
            writer.abort()
            raise SourceError(f"closing a segment of {self._camera_id}: {describe(exc)}") from exc
        self._stats.segments += 1
        self._stats.bytes += segment.bytes
        return segment

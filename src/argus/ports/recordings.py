"""The recordings port: a camera's segments, their bytes, and clips cut from them.

``RecordingStore`` is what ``RecordingService`` (timeline, playback, export)
reads continuous recordings through. Its methods block (they read the disk
and remux video): the service calls them off the event loop. The disk
implementation is ``argus.adapters.recording.store.FileRecordingStore``;
``MemoryRecordingStore`` here holds segments as bytes, for tests of the
service and as the reference of the contract test.

A segment is named on the API by its *segment id* (``segment_id``): the
UTC start stamp of its file name (``20261207T091500.123Z``, with ``-1`` when
two segments started in the same millisecond). A store resolves an id to a
segment of the camera it was asked about, never to a path given by a caller.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePosixPath
from typing import Protocol, runtime_checkable

from argus.domain.errors import NotFoundError, ValidationError
from argus.domain.recording import Segment, overlapping

__all__ = [
    "SEGMENT_ID",
    "Clip",
    "MemoryRecordingStore",
    "RecordingStore",
    "check_segment_id",
    "segment_id",
    "segment_id_or_none",
]

SEGMENT_ID = re.compile(r"^\d{8}T\d{6}\.\d{3}Z(?:-\d{1,6})?$")
"""What a segment id looks like: a UTC stamp to the millisecond, and a rare ``-n``."""


def segment_id(segment: Segment) -> str:
    """The id of ``segment``: its file name without the camera prefix and ``.mp4``.

    Raises:
        ValidationError: The file is not named like a segment of its camera.
    """
    name = PurePosixPath(segment.path).name
    prefix = f"{segment.camera_id}-"
    if not (name.startswith(prefix) and name.endswith(".mp4")):
        raise ValidationError(f"{segment.path!r} is not named like a segment")
    return check_segment_id(name[len(prefix) : -len(".mp4")])


def check_segment_id(value: str) -> str:
    """Return ``value`` if it is a well-formed segment id.

    Raises:
        NotFoundError: It is not (no segment can have it).
    """
    if not SEGMENT_ID.fullmatch(value):
        raise NotFoundError(f"no recording segment {value[:40]!r}")
    return value


@dataclass(frozen=True, slots=True)
class Clip:
    """A stretch of one segment, as a playable MP4 of its own.

    Attributes:
        segment: The segment it was taken from.
        start: Time of its first frame: the keyframe at or before the start
            asked for (a clip copied without re-encoding must start on one).
        end: Time just after its last frame.
        data: The MP4.
        whole: The segment's own bytes, unchanged (it lay wholly in the range).
    """

    segment: Segment
    start: datetime
    end: datetime
    data: bytes
    whole: bool


@runtime_checkable
class RecordingStore(Protocol):
    """A camera's recorded segments (blocking calls: run them in a thread)."""

    def overlapping(self, camera_id: str, start: datetime, end: datetime) -> list[Segment]:
        """The closed segments of ``camera_id`` sharing time with ``[start, end)``, oldest first.

        A camera id that cannot name a recordings directory has no segments.
        """
        ...

    def segment(self, camera_id: str, segment_id: str) -> Segment:
        """The segment of ``camera_id`` with this id.

        Raises:
            NotFoundError: The id is malformed, or no such segment of this camera exists.
        """
        ...

    def size(self, segment: Segment) -> int:
        """The segment file's size in bytes now (``NotFoundError`` once it is deleted)."""
        ...

    def chunks(self, segment: Segment, first: int, last: int) -> Iterator[bytes]:
        """The bytes ``first..last`` (inclusive) of the segment file, in pieces.

        Raises:
            NotFoundError: The segment was deleted (raised by the first ``next``).
        """
        ...

    def clip(self, segment: Segment, start: datetime, end: datetime) -> Clip:
        """``[start, end)`` of ``segment`` as an MP4, copied without re-encoding.

        Raises:
            NotFoundError: The segment was deleted meanwhile.
            StorageError: The segment could not be read or cut.
        """
        ...


class MemoryRecordingStore:
    """Segments held in memory; a clip is always the whole segment (no MP4 is parsed)."""

    def __init__(self) -> None:
        self._files: dict[str, tuple[Segment, bytes]] = {}

    def add(self, segment: Segment, data: bytes) -> None:
        """Hold ``segment`` with ``data`` as its file."""
        self._files[segment.path] = (segment, data)

    def remove(self, segment: Segment) -> None:
        """Forget ``segment`` (retention deleted it)."""
        self._files.pop(segment.path, None)

    def overlapping(self, camera_id: str, start: datetime, end: datetime) -> list[Segment]:
        """See ``RecordingStore.overlapping``."""
        return overlapping((s for s, _ in self._files.values()), start, end, camera_id=camera_id)

    def segment(self, camera_id: str, segment_id: str) -> Segment:
        """See ``RecordingStore.segment``."""
        wanted = check_segment_id(segment_id)
        for segment, _ in self._files.values():
            if segment.camera_id == camera_id and segment_id_or_none(segment) == wanted:
                return segment
        raise NotFoundError(f"no recording segment {wanted} of camera {camera_id}")

    def size(self, segment: Segment) -> int:
        """See ``RecordingStore.size``."""
        return len(self._data(segment))

    def chunks(self, segment: Segment, first: int, last: int) -> Iterator[bytes]:
        """See ``RecordingStore.chunks``."""
        data = self._data(segment)
        yield data[first : last + 1]

    def clip(self, segment: Segment, start: datetime, end: datetime) -> Clip:
        """See ``RecordingStore.clip``: the whole segment."""
        del start, end
        return Clip(segment, segment.start, segment.end, self._data(segment), whole=True)

    def _data(self, segment: Segment) -> bytes:
        held = self._files.get(segment.path)
        if held is None or held[0].camera_id != segment.camera_id:
            raise NotFoundError(f"recording segment {segment.path} is gone")
        return held[1]


def segment_id_or_none(segment: Segment) -> str | None:
    """``segment_id``, or ``None`` for a file not named like a segment."""
    try:
        return segment_id(segment)
    except (ValidationError, NotFoundError):
        return None

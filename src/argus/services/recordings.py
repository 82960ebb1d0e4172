"""Continuous recordings as a use case: the timeline, playback of a segment, sealed export.

``timeline`` lists a camera's segments, the gaps between them and the
markers of its alerts and events (``recording_markers``) over at most
``MAX_TIMELINE``. ``media`` resolves a segment id through the store (never a
path from the caller) and serves one byte range of it. ``export`` cuts at
most ``MAX_EXPORT_RANGE`` out of the segments without re-encoding, stores
each piece as encrypted evidence of the camera (``video/mp4``, kind
``clip``) with a JSON description of the export (kind ``document``), and
hands them to ``EvidenceService.export``: the bundle is signed and checked
like every evidence bundle (``argus evidence verify``).

Every call checks the actor's camera scope (an unseen camera is
``NotFoundError``). Audit actions, target ``camera:<id>``: ``recording.play``
(the first read of a segment by an actor, whatever byte range it asks for: a
player's later range requests within ``PLAY_AUDIT_WINDOW`` are not recorded
again, and no choice of ranges reads a segment unrecorded) and
``recording.export`` (range, items, bundle sha256).
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import re
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from argus.domain.actor import Actor
from argus.domain.cameras import utc_now
from argus.domain.codec import iso_z
from argus.domain.errors import NotFoundError, ValidationError
from argus.domain.recording import Gap, Segment, gaps
from argus.ports.recording_status import RecordingMonitor
from argus.ports.recordings import Clip, RecordingStore, segment_id
from argus.ports.repositories import Database
from argus.services.evidence import MAX_EXPORT, EvidenceService
from argus.services.evidence_vault import sha256_hex
from argus.services.recording_markers import Marker, markers
from argus.services.writes import record, require_visible

__all__ = [
    "DEFAULT_TIMELINE",
    "GAP_TOLERANCE",
    "MAX_EXPORT_BYTES",
    "MAX_EXPORT_RANGE",
    "MAX_TIMELINE",
    "PLAY_AUDIT_WINDOW",
    "RangeNotSatisfiableError",
    "RecorderView",
    "RecordingExport",
    "RecordingService",
    "SegmentMedia",
    "Timeline",
    "byte_range",
]

MAX_TIMELINE = timedelta(hours=24)
"""Longest range one timeline query covers."""
DEFAULT_TIMELINE = timedelta(hours=1)
"""The range of a timeline query that names no start or no end."""
MAX_EXPORT_RANGE = timedelta(hours=1)
"""Longest range one export covers."""
MAX_EXPORT_BYTES = 512 * 1024 * 1024
"""Most segment bytes one export reads (a bundle is built in memory)."""
GAP_TOLERANCE = timedelta(milliseconds=500)
"""Shorter breaks between segments are not reported as gaps."""
PLAY_AUDIT_WINDOW = timedelta(minutes=10)
"""Reads of a segment by the same actor within this time of its audited read are not
recorded again (a player asks for many ranges of one segment)."""
_PLAYS_REMEMBERED = 4096
"""Most (actor, camera, segment) reads remembered for ``PLAY_AUDIT_WINDOW``."""

_RANGE = re.compile(r"^bytes=(\d{0,19})-(\d{0,19})$")


class RangeNotSatisfiableError(ValidationError):
    """A ``Range`` header the segment cannot answer (HTTP 416).

    Attributes:
        size: The segment's size, for ``Content-Range: bytes */size``.
    """

    def __init__(self, message: str, size: int) -> None:
        super().__init__(message)
        self.size = size


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The inclusive byte range a ``Range`` header asks of a file of ``size`` bytes.

    One range of unit ``bytes`` is honoured (``a-b``, ``a-``, ``-n``); the end
    is clamped to the file. ``None`` when there is no header.

    Raises:
        RangeNotSatisfiableError: Malformed, several ranges, another unit,
            reversed, starting past the end, an empty suffix, or an empty file.
    """
    if header is None:
        return None
    match = _RANGE.fullmatch(header.strip())
    if match is None:
        raise RangeNotSatisfiableError("only one range of bytes is served", size)
    head, tail = match.groups()
    if not head and not tail:
        raise RangeNotSatisfiableError("a range names a start or a length", size)
    if not head:
        length = int(tail)
        if length == 0 or size == 0:
            raise RangeNotSatisfiableError("an empty range", size)
        return max(0, size - length), size - 1
    first = int(head)
    last = int(tail) if tail else size - 1
    if first >= size or last < first:
        raise RangeNotSatisfiableError(f"range {first}-{tail} is outside 0-{size - 1}", size)
    return first, min(last, size - 1)


@dataclass(frozen=True, slots=True)
class RecorderView:
    """Whether the server records, and what the camera's recorder is doing.

    Attributes:
        enabled: Recording is switched on for this server (``ARGUS_RECORDING``).
        state: The camera's recorder state (``starting``, ``recording``,
            ``reconnecting``, ``off``, ``error``); ``None`` when no recorder runs for it.
    """

    enabled: bool
    state: str | None = None


@dataclass(frozen=True, slots=True)
class Timeline:
    """A camera's recordings over a range.

    Attributes:
        camera_id: The camera.
        start: Start of the range.
        end: End of the range.
        recording: The recorder's state.
        segments: Segments sharing time with the range, oldest first.
        gaps: Stretches of the range no segment covers.
        markers: Alerts and events of the range, in time order.
        markers_truncated: Some markers were left out (``MAX_MARKERS``).
    """

    camera_id: str
    start: datetime
    end: datetime
    recording: RecorderView
    segments: tuple[Segment, ...]
    gaps: tuple[Gap, ...]
    markers: tuple[Marker, ...]
    markers_truncated: bool


@dataclass(frozen=True, slots=True)
class SegmentMedia:
    """One byte range of a segment file, ready to stream.

    Attributes:
        segment: The segment.
        size: The file's size.
        first: First byte served.
        last: Last byte served (inclusive).
        partial: A range was asked for (HTTP 206).
        chunks: The bytes, read lazily (blocking: iterate in a thread).
    """

    segment: Segment
    size: int
    first: int
    last: int
    partial: bool
    chunks: Iterator[bytes]

    @property
    def length(self) -> int:
        """Bytes served."""
        return self.last - self.first + 1


@dataclass(frozen=True, slots=True)
class RecordingExport:
    """An export of a camera's recordings.

    Attributes:
        bundle: The signed evidence bundle (zip).
        sha256: The bundle's sha256.
        clips: The pieces of video it holds, in time order (without their bytes:
            those are in the bundle).
        evidence_ids: The evidence items stored: the description first, then the clips.
    """

    bundle: bytes
    sha256: str
    clips: tuple[Clip, ...]
    evidence_ids: tuple[str, ...]


def _check_range(start: datetime, end: datetime, longest: timedelta) -> None:
    for name, moment in (("start", start), ("end", end)):
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValidationError(f"{name} must carry a time zone (e.g. 2026-12-07T09:00:00Z)")
    if end <= start:
        raise ValidationError(f"end ({iso_z(end)}) must be after start ({iso_z(start)})")
    if end - start > longest:
        raise ValidationError(f"a range may cover at most {longest}, not {end - start}")


class RecordingService:
    """Timeline, playback and export of continuous recordings.

    Args:
        database: The store (cameras, alerts, events, audit).
        store: The recorded segments.
        evidence: Stores the exported clips and signs the bundle.
        monitor: This server's recorders (``None``: recording is not set up here).
        clock: The current UTC time (the default timeline range ends now).
        max_export_bytes: Most segment bytes one export reads.
    """

    def __init__(
        self,
        database: Database,
        store: RecordingStore,
        evidence: EvidenceService,
        *,
        monitor: RecordingMonitor | None = None,
        clock: Callable[[], datetime] = utc_now,
        max_export_bytes: int = MAX_EXPORT_BYTES,
    ) -> None:
        self._db = database
        self._store = store
        self._evidence = evidence
        self._monitor = monitor
        self._clock = clock
        self._max_export_bytes = max_export_bytes
        self._exporting = asyncio.Lock()
        self._played: OrderedDict[tuple[str, str, str], datetime] = OrderedDict()

    def _recorder(self, camera_id: str) -> RecorderView:
        monitor = self._monitor
        if monitor is None or not monitor.enabled:
            return RecorderView(False)
        status = monitor.status(camera_id)
        return RecorderView(True, None if status is None else status.state)

    async def _camera(self, actor: Actor, camera_id: str) -> None:
        """Refuse a camera the actor may not see, or one that does not exist (404)."""
        require_visible(actor, camera_id, f"camera {camera_id}")
        await self._db.cameras.get(camera_id)

    async def timeline(
        self,
        camera_id: str,
        start: datetime | None = None,
        end: datetime | None = None,
        *,
        actor: Actor,
    ) -> Timeline:
        """Segments, gaps and markers of ``[start, end)`` (the last hour by default).

        Raises:
            NotFoundError: No such camera, or the actor may not see it.
            ValidationError: The range is naive, reversed or over ``MAX_TIMELINE``.
        """
        await self._camera(actor, camera_id)
        if end is None:
            end = self._clock() if start is None else start + DEFAULT_TIMELINE
        if start is None:
            start = end - DEFAULT_TIMELINE
        _check_range(start, end, MAX_TIMELINE)
        segments = await asyncio.to_thread(self._store.overlapping, camera_id, start, end)
        holes = gaps(segments, start, end, camera_id=camera_id, tolerance=GAP_TOLERANCE)
        marks, truncated = await markers(self._db, camera_id, start, end)
        return Timeline(
            camera_id,
            start,
            end,
            self._recorder(camera_id),
            tuple(segments),
            tuple(holes),
            tuple(marks),
            truncated,
        )

    async def media(
        self, camera_id: str, segment: str, range_header: str | None, *, actor: Actor
    ) -> SegmentMedia:
        """The bytes of a segment a ``Range`` header asks for (all of them without one).

        Raises:
            NotFoundError: No such camera or segment of it, or the actor may not see it.
            RangeNotSatisfiableError: The range cannot be served.
        """
        await self._camera(actor, camera_id)
        found = await asyncio.to_thread(self._store.segment, camera_id, segment)
        size = await asyncio.to_thread(self._store.size, found)
        asked = byte_range(range_header, size)
        first, last = asked if asked is not None else (0, size - 1)
        if self._first_play(actor, camera_id, segment):
            await record(
                self._db.audit,
                actor,
                "recording.play",
                f"camera:{camera_id}",
                at=self._clock(),
                segment=segment,
                start=iso_z(found.start),
                end=iso_z(found.end),
                bytes=f"{first}-{last}",
            )
        return SegmentMedia(
            found,
            size,
            first,
            last,
            asked is not None,
            self._store.chunks(found, first, last) if size else iter(()),
        )

    def _first_play(self, actor: Actor, camera_id: str, segment: str) -> bool:
        """Whether this read of a segment is the actor's first within ``PLAY_AUDIT_WINDOW``.

        Judged by who reads what, never by the byte range asked for: ``bytes=1-`` and
        the like would otherwise read a whole segment without an audit record.
        """
        now = self._clock()
        key = (actor.audit_name, camera_id, segment)
        before = self._played.pop(key, None)
        if before is not None and now - before < PLAY_AUDIT_WINDOW:
            self._played[key] = before
            return False
        self._played[key] = now
        while len(self._played) > _PLAYS_REMEMBERED:
            self._played.popitem(last=False)
        return True

    async def export(
        self, camera_id: str, start: datetime, end: datetime, *, actor: Actor
    ) -> RecordingExport:
        """A signed evidence bundle of the camera's recordings of ``[start, end)``.

        Raises:
            NotFoundError: No such camera, the actor may not see it, or nothing
                was recorded in the range.
            ValidationError: The range is naive, reversed, over ``MAX_EXPORT_RANGE``,
                or holds too many segments or bytes for one bundle.
            StorageError: A segment could not be read or cut.
        """
        await self._camera(actor, camera_id)
        _check_range(start, end, MAX_EXPORT_RANGE)
        async with self._exporting:  # one bundle in memory at a time
            segments = await asyncio.to_thread(self._store.overlapping, camera_id, start, end)
            if not segments:
                raise NotFoundError(
                    f"camera {camera_id} has no recording between {iso_z(start)} and {iso_z(end)}"
                )
            if len(segments) > MAX_EXPORT - 1:
                raise ValidationError(
                    f"the range holds {len(segments)} segments; export a shorter range"
                )
            total = sum(s.bytes for s in segments)
            if total > self._max_export_bytes:
                raise ValidationError(
                    f"the range holds {total} bytes of video, more than one export takes "
                    f"({self._max_export_bytes}); export a shorter range"
                )
            clips: list[Clip] = []
            ids: list[str] = []
            for segment in segments:
                clip = await asyncio.to_thread(self._store.clip, segment, start, end)
                item = await self._evidence.store(
                    clip.data, "clip", "video/mp4", actor=actor, camera_id=camera_id
                )
                # Its bytes are in the evidence store now, and come back in the bundle:
                # holding them here too would add the range's size to an export's memory.
                clips.append(dataclasses.replace(clip, data=b""))
                ids.append(item.id)
                del clip
            about = _description(camera_id, start, end, clips, ids)
            document = await self._evidence.store(
                about, "document", "application/json", actor=actor, camera_id=camera_id
            )
            evidence_ids = (document.id, *ids)
            bundle = await self._evidence.export(evidence_ids, actor=actor)
        digest = sha256_hex(bundle)
        await record(
            self._db.audit,
            actor,
            "recording.export",
            f"camera:{camera_id}",
            at=self._clock(),
            start=iso_z(start),
            end=iso_z(end),
            clips=len(clips),
            evidence=list(evidence_ids),
            bundle_sha256=digest,
        )
        return RecordingExport(bundle, digest, tuple(clips), evidence_ids)


def _description(
    camera_id: str, start: datetime, end: datetime, clips: list[Clip], ids: list[str]
) -> bytes:
    """The export's ``recording.json``: what was asked, and what each clip shows."""
    document = {
        "camera_id": camera_id,
        "requested": {"start": iso_z(start), "end": iso_z(end)},
        "clips": [
            {
                "evidence_id": evidence_id,
                "segment_id": segment_id(clip.segment),
                "start": iso_z(clip.start),
                "end": iso_z(clip.end),
                "codec": clip.segment.codec,
                "whole_segment": clip.whole,
            }
            for clip, evidence_id in zip(clips, ids, strict=True)
        ],
        "note": "Copied from the recording without re-encoding: a clip starts at the "
        "keyframe at or before the requested start, so it may begin a little earlier.",
    }
    return (json.dumps(document, indent=2, sort_keys=True) + "\n").encode()

"""Erasing a camera's continuous recordings in a time range (part of a privacy range erasure).

``RecordingErasure.erase`` goes through the camera's segments that share time
with ``[since, until)``:

* a segment wholly inside the range is deleted with its sidecar;
* a segment across an edge of the range is **cut** (``SegmentFiles.cut_out``):
  what lies outside the range is copied, without re-encoding, into
  replacement segments and the original is gone. A copy must start on a
  keyframe, so the part after the range starts at the first keyframe at or
  after its end, and the part before it ends on a frame boundary at or
  before its start: no frame shown inside the range remains, and the few
  frames between the range and the cut points are erased too
  (``seconds_beyond_range``). A segment that cannot be cut (an unreadable
  file) is deleted whole instead, and listed with the error;
* a segment sharing time with an alert of an incident under legal hold (the
  alert's time plus or minus ``hold_margin``, as the recording retention
  sweep keeps it) stays whole, listed with the hold's reason;
* a segment still being written when the range reaches into it cannot be
  cut yet: it is listed, and the erasure is to be made again once it closes.

The timeline and playback read the segments on disk, so what is deleted or
cut no longer shows there.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from argus.domain.codec import iso_z
from argus.domain.errors import NotFoundError, StorageError
from argus.domain.recording import Segment
from argus.ports.recordings import segment_id_or_none
from argus.ports.repositories import Database

__all__ = ["RecordingErasure", "RecordingsErased", "SegmentFiles"]


class SegmentFiles(Protocol):
    """The segments on disk, as an erasure changes them (blocking calls: run them in a thread).

    ``argus.adapters.recording.erase.SegmentEraser`` is the implementation.
    """

    def overlapping(self, camera_id: str, start: datetime, end: datetime) -> list[Segment]:
        """The closed segments of ``camera_id`` sharing time with ``[start, end)``, oldest first."""
        ...

    def delete(self, segments: Sequence[Segment]) -> int:
        """Delete segments with their sidecars; return the bytes freed."""
        ...

    def cut_out(self, segment: Segment, since: datetime, until: datetime) -> tuple[Segment, ...]:
        """Replace ``segment`` by its keyframe-aligned parts outside ``[since, until)``.

        Raises:
            NotFoundError: The segment is gone.
            StorageError: It could not be cut; it is left as it was.
        """
        ...

    def writing(self, camera_id: str) -> list[datetime]:
        """Start times of the camera's segments still being written."""
        ...


def _seconds(delta: timedelta) -> float:
    return max(0.0, delta.total_seconds())


def _name(segment: Segment) -> str:
    return segment_id_or_none(segment) or segment.path


@dataclass(frozen=True, slots=True)
class RecordingsErased:
    """What erasing a range did to a camera's recordings.

    Attributes:
        deleted: Ids of the segments deleted whole (inside the range, or uncuttable).
        cut: Ids of the segments cut at the range's edges.
        parts: Ids of the segments that now hold what the cut segments kept
            (a part before the range keeps its segment's id).
        uncut: Segments deleted whole because cutting them failed: id and error.
        kept: Segments left as they were: id and reason (a legal hold, or still
            being written).
        seconds_erased: Seconds of video removed in all.
        seconds_beyond_range: Of those, seconds outside the range (lost to
            keyframe alignment, or to a segment deleted whole).
        bytes_freed: Bytes of video removed from disk (net of the parts written).
    """

    deleted: tuple[str, ...] = ()
    cut: tuple[str, ...] = ()
    parts: tuple[str, ...] = ()
    uncut: tuple[tuple[str, str], ...] = ()
    kept: tuple[tuple[str, str], ...] = ()
    seconds_erased: float = 0.0
    seconds_beyond_range: float = 0.0
    bytes_freed: int = 0

    def to_dict(self, limit: int | None = None) -> dict[str, object]:
        """Return the JSON-ready form (the response's and the audit record's).

        Args:
            limit: Most ids listed per list (the counts are always complete).
        """
        return {
            "edges": "cut",
            "segments_deleted": len(self.deleted),
            "segments_cut": len(self.cut),
            "seconds_erased": round(self.seconds_erased, 3),
            "seconds_beyond_range": round(self.seconds_beyond_range, 3),
            "bytes_freed": self.bytes_freed,
            "deleted": list(self.deleted[:limit]),
            "cut": list(self.cut[:limit]),
            "parts": list(self.parts[:limit]),
            "uncut": [{"id": i, "error": e} for i, e in self.uncut[:limit]],
        }


@dataclass(frozen=True, slots=True)
class _Window:
    start: datetime
    end: datetime
    reason: str


class RecordingErasure:
    """Erases a camera's recordings in a range (see the module docstring).

    Args:
        files: The segments on disk.
        database: The store (the alerts legal holds keep).
        hold_margin: Recording kept either side of a held alert's time.
    """

    def __init__(
        self,
        files: SegmentFiles,
        database: Database,
        *,
        hold_margin: timedelta = timedelta(minutes=5),
    ) -> None:
        self._files = files
        self._db = database
        self._margin = hold_margin
        self._lock = asyncio.Lock()

    async def _windows(self, camera_id: str, held_alerts: Mapping[str, str]) -> list[_Window]:
        windows = []
        for alert_id, why in held_alerts.items():
            try:
                alert = await self._db.alerts.get(alert_id)
            except NotFoundError:
                continue
            if alert.camera_id == camera_id:
                at = alert.event_time
                windows.append(_Window(at - self._margin, at + self._margin, why))
        return windows

    async def erase(
        self,
        camera_id: str,
        since: datetime,
        until: datetime,
        held_alerts: Mapping[str, str],
    ) -> RecordingsErased:
        """Erase the camera's recordings of ``[since, until)`` (erasures run one at a time).

        Args:
            camera_id: The camera.
            since: Start of the range (aware, inclusive).
            until: End of the range (aware, exclusive).
            held_alerts: Alerts of incidents under legal hold, with the reason of each.
        """
        async with self._lock:
            windows = await self._windows(camera_id, held_alerts)
            segments = await asyncio.to_thread(self._files.overlapping, camera_id, since, until)
            deleted: list[str] = []
            cut: list[str] = []
            parts: list[str] = []
            uncut: list[tuple[str, str]] = []
            kept: list[tuple[str, str]] = []
            erased = beyond = 0.0
            freed = 0
            for segment in segments:
                hold = next((w for w in windows if segment.overlaps(w.start, w.end)), None)
                if hold is not None:
                    kept.append((_name(segment), hold.reason))
                    continue
                left: tuple[Segment, ...] = ()
                if not (since <= segment.start and segment.end <= until):
                    try:
                        left = await asyncio.to_thread(self._files.cut_out, segment, since, until)
                    except NotFoundError:
                        continue  # deleted meanwhile (retention)
                    except StorageError as exc:
                        uncut.append((_name(segment), str(exc)))
                if left:
                    cut.append(_name(segment))
                    parts.extend(_name(p) for p in left)
                    freed += segment.bytes - sum(p.bytes for p in left)
                else:
                    freed += await asyncio.to_thread(self._files.delete, [segment])
                    deleted.append(_name(segment))
                removed = _seconds(segment.duration) - sum(_seconds(p.duration) for p in left)
                inside = _seconds(min(segment.end, until) - max(segment.start, since))
                erased += removed
                beyond += max(0.0, removed - inside)
            for start in await asyncio.to_thread(self._files.writing, camera_id):
                if start < until:
                    kept.append(
                        (
                            f"{iso_z(start)} (being written)",
                            "the segment is still being recorded; make the erasure again "
                            "once it is closed (within ARGUS_RECORDING_SEGMENT_S)",
                        )
                    )
        return RecordingsErased(
            tuple(deleted),
            tuple(cut),
            tuple(parts),
            tuple(uncut),
            tuple(kept),
            erased,
            beyond,
            freed,
        )

"""Bodies of the recordings API: a camera's timeline and the export of a range."""

from __future__ import annotations

from datetime import datetime
from typing import Literal, Self

from pydantic import BaseModel, Field

from argus.api.schemas.common import Moment, StrictModel
from argus.ports.recordings import segment_id_or_none
from argus.services.recordings import Timeline

__all__ = [
    "RecorderPublic",
    "RecordingExportCreate",
    "RecordingGapPublic",
    "RecordingMarkerPublic",
    "RecordingSegmentPublic",
    "TimelinePublic",
]


class RecorderPublic(BaseModel):
    """Whether the server records, and what this camera's recorder is doing."""

    enabled: bool = Field(description="Recording is switched on for the server.")
    state: str | None = Field(
        description="recording, reconnecting, off or error; null when no recorder runs for "
        "the camera."
    )


class RecordingSegmentPublic(BaseModel):
    """One recorded MP4 segment (GET ``/cameras/{camera_id}/recordings/{id}`` plays it)."""

    id: str = Field(description="Opaque, URL-safe segment id (its UTC start stamp).")
    start: datetime
    end: datetime
    bytes: int
    codec: str = Field(description="h264 or hevc.")


class RecordingGapPublic(BaseModel):
    """A stretch of the range with no recording."""

    start: datetime
    end: datetime


class RecordingMarkerPublic(BaseModel):
    """An alert or an event of the camera, at the time it happened."""

    time: datetime
    kind: Literal["alert", "event"]
    id: str = Field(description="The alert's or the event's id.")
    type: str = Field(description="The event type, e.g. line.crossed.")
    label: str
    severity: str | None = Field(description="low, medium or high for an alert; null for events.")


class TimelinePublic(BaseModel):
    """A camera's recordings over a range: segments, gaps, alert and event markers."""

    camera_id: str
    start: datetime
    end: datetime
    recording: RecorderPublic
    segments: list[RecordingSegmentPublic] = Field(description="Sorted by start.")
    gaps: list[RecordingGapPublic]
    markers: list[RecordingMarkerPublic] = Field(description="In time order.")
    markers_truncated: bool = Field(
        description="More than 2000 markers: every alert is listed, then the newest events."
    )

    @classmethod
    def of(cls, timeline: Timeline) -> Self:
        """The public view of ``timeline``."""
        return cls(
            camera_id=timeline.camera_id,
            start=timeline.start,
            end=timeline.end,
            recording=RecorderPublic(
                enabled=timeline.recording.enabled, state=timeline.recording.state
            ),
            segments=[
                RecordingSegmentPublic(
                    id=identifier, start=s.start, end=s.end, bytes=s.bytes, codec=s.codec
                )
                for s in timeline.segments
                if (identifier := segment_id_or_none(s)) is not None
            ],
            gaps=[RecordingGapPublic(start=g.start, end=g.end) for g in timeline.gaps],
            markers=[
                RecordingMarkerPublic(
                    time=m.time,
                    kind=m.kind,
                    id=m.id,
                    type=m.type,
                    label=m.label,
                    severity=m.severity,
                )
                for m in timeline.markers
            ],
            markers_truncated=timeline.markers_truncated,
        )


class RecordingExportCreate(StrictModel):
    """A range of a camera's recordings to export as a signed evidence bundle."""

    start: Moment = Field(strict=False, description="From (inclusive, with a UTC offset).")
    end: Moment = Field(
        strict=False, description="To (exclusive, with a UTC offset); at most 1 hour after start."
    )

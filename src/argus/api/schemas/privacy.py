"""Privacy request schemas: subject erasure and export, camera range erasure, the request log."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Self

from pydantic import BaseModel, Field

from argus.api.schemas.audit import AuditRecordPublic
from argus.api.schemas.common import Moment, StrictModel
from argus.services.privacy_bundle import MIN_PASSPHRASE
from argus.services.privacy_results import Kept, RangeErasure, SubjectErasure
from argus.services.recording_erasure import RecordingsErased

__all__ = [
    "KeptPublic",
    "PrivacyRequestList",
    "RangeErasureCreate",
    "RangeErasurePublic",
    "RecordingErasurePublic",
    "SubjectErasureCreate",
    "SubjectErasurePublic",
    "SubjectExportCreate",
    "UncutSegmentPublic",
]

_REASON = Field(
    min_length=1,
    max_length=1000,
    description="Why (the request's reference, e.g. 'GDPR art. 17 request 2026-041').",
)


class SubjectErasureCreate(StrictModel):
    """A request to erase everything about a face subject."""

    reason: str = _REASON


class SubjectExportCreate(StrictModel):
    """A request to export what is held about a face subject."""

    passphrase: str = Field(
        min_length=MIN_PASSPHRASE,
        max_length=1024,
        description="The bundle is encrypted under this passphrase (AES-256-GCM, scrypt); "
        "it is neither stored nor logged.",
    )
    reason: str = Field(default="", max_length=1000, description="Why (recorded in the audit).")


class RangeErasureCreate(StrictModel):
    """A request to erase a camera's events and evidence in a time range."""

    camera_id: str = Field(min_length=1, max_length=200, description="The camera.")
    since: Moment = Field(strict=False, description="From (inclusive, with a UTC offset).")
    until: Moment = Field(strict=False, description="To (exclusive, with a UTC offset).")
    reason: str = _REASON


class KeptPublic(BaseModel):
    """Something a request did not erase, and why."""

    kind: str = Field(description="evidence, decision, event or recording (a segment).")
    id: str
    reason: str = Field(description="The legal hold (incident and its reason) or the lock.")

    @classmethod
    def of(cls, kept: Kept) -> Self:
        """The public view."""
        return cls(kind=kept.kind, id=kept.id, reason=kept.reason)


class SubjectErasurePublic(BaseModel):
    """What erasing a face subject did."""

    request_id: str
    subject_id: str
    erased: dict[str, int] = Field(description="descriptors, decisions and evidence erased.")
    kept: list[KeptPublic]

    @classmethod
    def of(cls, result: SubjectErasure) -> Self:
        """The public view."""
        return cls(
            request_id=result.request_id,
            subject_id=result.subject_id,
            erased={
                "descriptors": result.descriptors,
                "decisions": result.decisions,
                "evidence": result.evidence,
            },
            kept=[KeptPublic.of(k) for k in result.kept],
        )


class UncutSegmentPublic(BaseModel):
    """A segment deleted whole because it could not be cut."""

    id: str
    error: str


class RecordingErasurePublic(BaseModel):
    """What a range erasure did to the camera's continuous recordings."""

    edges: str = Field(
        description="How segments across the range's edges are treated: 'cut' (remuxed at "
        "keyframes, the parts outside the range kept as new segments)."
    )
    segments_deleted: int = Field(description="Segments deleted whole.")
    segments_cut: int = Field(description="Segments cut at an edge of the range.")
    seconds_erased: float = Field(description="Seconds of video removed in all.")
    seconds_beyond_range: float = Field(
        description="Of those, seconds outside the range: the frames between an edge and the "
        "keyframe-aligned cut, and segments deleted whole because they could not be cut."
    )
    bytes_freed: int
    deleted: list[str] = Field(description="Ids of the segments deleted.")
    cut: list[str] = Field(description="Ids of the segments cut.")
    parts: list[str] = Field(
        description="Ids of the segments that now hold what the cut ones kept "
        "(a part before the range keeps its segment's id)."
    )
    uncut: list[UncutSegmentPublic] = Field(
        description="Segments deleted whole because cutting them failed."
    )

    @classmethod
    def of(cls, erased: RecordingsErased) -> Self:
        """The public view."""
        return cls(
            edges="cut",
            segments_deleted=len(erased.deleted),
            segments_cut=len(erased.cut),
            seconds_erased=round(erased.seconds_erased, 3),
            seconds_beyond_range=round(erased.seconds_beyond_range, 3),
            bytes_freed=erased.bytes_freed,
            deleted=list(erased.deleted),
            cut=list(erased.cut),
            parts=list(erased.parts),
            uncut=[UncutSegmentPublic(id=i, error=e) for i, e in erased.uncut],
        )


class RangeErasurePublic(BaseModel):
    """What erasing a camera's time range did."""

    request_id: str
    camera_id: str
    since: datetime
    until: datetime
    erased: dict[str, int] = Field(description="events and evidence erased.")
    recordings: RecordingErasurePublic | None = Field(
        description="The continuous recordings erased (null where none are kept)."
    )
    kept: list[KeptPublic]

    @classmethod
    def of(cls, result: RangeErasure) -> Self:
        """The public view."""
        return cls(
            request_id=result.request_id,
            camera_id=result.camera_id,
            since=result.since,
            until=result.until,
            erased={"events": result.events, "evidence": result.evidence},
            recordings=(
                None if result.recordings is None else RecordingErasurePublic.of(result.recordings)
            ),
            kept=[KeptPublic.of(k) for k in result.kept],
        )


class PrivacyRequestList(BaseModel):
    """The privacy requests made, newest first (their audit records)."""

    items: list[AuditRecordPublic]
    total: int
    limit: int
    offset: int

    @classmethod
    def page(cls, items: list[Any], total: int, limit: int, offset: int) -> Self:
        """A page of audit records."""
        return cls(
            items=[AuditRecordPublic.of(r) for r in items], total=total, limit=limit, offset=offset
        )

"""Privacy request schemas: subject erasure and export, camera range erasure, the request log."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Self

from pydantic import BaseModel, Field

from argus.api.schemas.audit import AuditRecordPublic
from argus.api.schemas.common import Moment, StrictModel
from argus.services.privacy_bundle import MIN_PASSPHRASE
from argus.services.privacy_results import Kept, RangeErasure, SubjectErasure

__all__ = [
    "KeptPublic",
    "PrivacyRequestList",
    "RangeErasureCreate",
    "RangeErasurePublic",
    "SubjectErasureCreate",
    "SubjectErasurePublic",
    "SubjectExportCreate",
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

    kind: str = Field(description="evidence, decision or event.")
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


class RangeErasurePublic(BaseModel):
    """What erasing a camera's time range did."""

    request_id: str
    camera_id: str
    since: datetime
    until: datetime
    erased: dict[str, int] = Field(description="events and evidence erased.")
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

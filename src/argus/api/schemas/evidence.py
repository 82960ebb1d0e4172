"""Bodies of the evidence API."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Annotated, Self

from pydantic import BaseModel, Field

from argus.api.schemas.common import StrictModel
from argus.domain.evidence import EvidenceItem
from argus.domain.evidence_status import EvidenceEntry, EvidenceGap, TamperedEvidence
from argus.ports.paging import Page

__all__ = [
    "EvidenceExport",
    "EvidenceGapList",
    "EvidenceGapPublic",
    "EvidenceList",
    "EvidencePublic",
    "PublicKey",
]

EvidenceId = Annotated[str, Field(min_length=1, max_length=64)]


class EvidencePublic(BaseModel):
    """Metadata of one evidence object (its content is at ``content_url``)."""

    id: str
    kind: str = Field(
        description="snapshot, clip, frame, document, or before/after (an edge camera's view "
        "before and after it was tampered with or lost)."
    )
    content_type: str
    created_at: datetime
    size: int = Field(description="Bytes of the plaintext.")
    sha256: str = Field(description="sha256 of the plaintext (chain of custody).")
    alert_id: str | None
    incident_id: str | None
    camera_id: str | None
    created_by: str
    key_id: str = Field(description="The master key wrapping its data key.")
    locked: bool = Field(description="Locked evidence is kept past retention and not deleted.")
    locked_by: str | None
    locked_at: datetime | None
    content_url: str = Field(description="GET it for the decrypted, verified content.")
    tampered: bool = Field(
        default=False,
        description="The stored row contradicts itself (edited in the database): its fields "
        "are what it claims, not to be trusted, and its content is refused (409).",
    )
    integrity_error: str | None = Field(
        default=None, description="What is wrong with a tampered row."
    )

    @classmethod
    def of(cls, item: EvidenceItem) -> Self:
        """The public view of ``item`` (no key material)."""
        return cls(
            id=item.id,
            kind=item.kind,
            content_type=item.content_type,
            created_at=item.created_at,
            size=item.size,
            sha256=item.sha256,
            alert_id=item.alert_id,
            incident_id=item.incident_id,
            camera_id=item.camera_id,
            created_by=item.created_by,
            key_id=item.kid,
            locked=item.locked,
            locked_by=item.locked_by,
            locked_at=item.locked_at,
            content_url=f"/api/v1/evidence/{item.id}/content",
        )

    @classmethod
    def of_entry(cls, entry: EvidenceEntry) -> Self:
        """The public view of a listed row; a tampered one flagged, with what it claims."""
        if isinstance(entry, EvidenceItem):
            return cls.of(entry)
        return cls._of_tampered(entry)

    @classmethod
    def _of_tampered(cls, row: TamperedEvidence) -> Self:
        flags = {"tampered": True, "integrity_error": row.reason}
        if row.claimed is not None:
            return cls.of(row.claimed).model_copy(update=flags)
        # The body is unreadable: only the row's columns are known.
        return cls(
            id=row.id,
            kind=row.kind,
            content_type="application/octet-stream",
            created_at=row.created_at or datetime.fromtimestamp(0, UTC),
            size=0,
            sha256="",
            alert_id=row.alert_id,
            incident_id=row.incident_id,
            camera_id=row.cameras[0] if row.cameras else None,
            created_by="",
            key_id="",
            locked=row.locked,
            locked_by=None,
            locked_at=None,
            content_url=f"/api/v1/evidence/{row.id}/content",
            tampered=True,
            integrity_error=row.reason,
        )


class EvidenceGapPublic(BaseModel):
    """An alert whose evidence could not be captured, and why."""

    alert_id: str
    camera_id: str
    reason: str = Field(
        description="shed (the capture queue was full and it had the lowest severity), "
        "no_frames (no buffered video covered the moment) or failed (capture or storage "
        "failed, e.g. a full disk)."
    )
    detail: str
    at: datetime
    severity: str

    @classmethod
    def of(cls, gap: EvidenceGap) -> Self:
        """The public view of ``gap``."""
        return cls(
            alert_id=gap.alert_id,
            camera_id=gap.camera_id,
            reason=gap.reason,
            detail=gap.detail,
            at=gap.at,
            severity=gap.severity,
        )


class EvidenceList(BaseModel):
    """A page of evidence, oldest first."""

    items: list[EvidencePublic]
    total: int
    limit: int
    offset: int
    gaps: list[EvidenceGapPublic] = Field(
        default_factory=list,
        description="With alert_id: the alert's recorded evidence gap, if it has one.",
    )

    @classmethod
    def of_page(
        cls,
        page: Page[EvidenceEntry],
        limit: int,
        offset: int,
        *,
        gaps: Sequence[EvidenceGap] = (),
    ) -> Self:
        """The public view of a page of listed rows (and of the listed alert's gaps)."""
        return cls(
            items=[EvidencePublic.of_entry(entry) for entry in page.items],
            total=page.total,
            limit=limit,
            offset=offset,
            gaps=[EvidenceGapPublic.of(gap) for gap in gaps],
        )


class EvidenceGapList(BaseModel):
    """A page of evidence gaps, newest first."""

    items: list[EvidenceGapPublic]
    total: int
    limit: int
    offset: int


class EvidenceExport(StrictModel):
    """Items to export as one signed bundle."""

    ids: Annotated[list[EvidenceId], Field(min_length=1, max_length=1000)]


class PublicKey(BaseModel):
    """The installation's bundle-signing key, for checking bundles offline."""

    algorithm: str = "Ed25519"
    public_key_hex: str
    fingerprint: str

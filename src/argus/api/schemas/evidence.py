"""Bodies of the evidence API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Self

from pydantic import BaseModel, Field

from argus.api.schemas.common import StrictModel
from argus.domain.evidence import EvidenceItem

__all__ = ["EvidenceExport", "EvidenceList", "EvidencePublic", "PublicKey"]

EvidenceId = Annotated[str, Field(min_length=1, max_length=64)]


class EvidencePublic(BaseModel):
    """Metadata of one evidence object (its content is at ``content_url``)."""

    id: str
    kind: str = Field(description="snapshot, clip, frame or document.")
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


class EvidenceList(BaseModel):
    """A page of evidence, oldest first."""

    items: list[EvidencePublic]
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

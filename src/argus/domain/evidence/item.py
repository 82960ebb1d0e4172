"""Evidence items: the metadata of one encrypted object, and what its HMAC covers."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Literal, Self, get_args

from argus.domain.checks import aware_utc, text
from argus.domain.codec import choice, hex_bytes, iso_z, iso_z_or_none, parse_time
from argus.domain.errors import ValidationError
from argus.domain.evidence.checks import (
    check_blob_key,
    check_bytes,
    check_count,
    check_kid,
    check_sha256_hex,
)

__all__ = ["EVIDENCE_KINDS", "SIGNED_FIELDS", "EvidenceItem", "EvidenceKind", "signed_metadata"]

EvidenceKind = Literal["snapshot", "clip", "frame", "document", "before", "after"]
"""``before``/``after``: the view before and after a camera was tampered with or lost (edge)."""
EVIDENCE_KINDS: tuple[EvidenceKind, ...] = get_args(EvidenceKind)

SIGNED_FIELDS: tuple[str, ...] = (
    "id",
    "kind",
    "content_type",
    "created_at",
    "size",
    "sha256",
    "storage_key",
    "alert_id",
    "incident_id",
    "camera_id",
    "created_by",
    "kid",
    "wrapped_key",
    "nonce",
)
"""The ``to_dict`` fields the HMAC covers (see the module docstring for what is left out)."""

_METADATA_LABEL = b"argus evidence metadata v1\n"
_CONTENT_TYPE = re.compile(r"[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*")
_HMAC_SIZE = 32


@dataclass(frozen=True, slots=True)
class EvidenceItem:
    """One stored evidence object: what it is, where it lies, and its envelope.

    Attributes:
        id: Stable id (a ULID).
        kind: ``snapshot``, ``clip``, ``frame`` or ``document``.
        content_type: The plaintext's media type, e.g. ``image/jpeg``.
        created_at: When it was stored (UTC).
        size: Plaintext length in bytes.
        sha256: Hex sha256 of the plaintext (chain of custody).
        storage_key: The ciphertext's key in the blob store.
        kid: Id of the master key that wraps the data key.
        wrapped_key: The data key, wrapped under master key ``kid``.
        nonce: The AES-GCM nonce of the ciphertext.
        hmac: HMAC-SHA256 over the ciphertext and ``signed_metadata`` (32
            bytes; empty only while the item is being sealed).
        alert_id: The alert it documents, if one.
        incident_id: The incident it belongs to, if one.
        camera_id: The camera it came from, if one.
        created_by: Who stored it (``system``, ``user:<id>``).
        locked: Locked evidence is exempt from retention and deletion.
        locked_by: Who locked it (set exactly when ``locked``).
        locked_at: When it was locked (set exactly when ``locked``).
        version: Bumped on every change (optimistic concurrency).
    """

    id: str
    kind: EvidenceKind
    content_type: str
    created_at: datetime
    size: int
    sha256: str
    storage_key: str
    kid: str
    wrapped_key: bytes
    nonce: bytes
    hmac: bytes = b""
    alert_id: str | None = None
    incident_id: str | None = None
    camera_id: str | None = None
    created_by: str = "system"
    locked: bool = False
    locked_by: str | None = None
    locked_at: datetime | None = None
    version: int = 1

    def __post_init__(self) -> None:
        text(self.id, "id", 64)
        choice(self.kind, EVIDENCE_KINDS, "evidence kind")
        if not isinstance(self.content_type, str) or not _CONTENT_TYPE.fullmatch(self.content_type):
            raise ValidationError(f"content_type {self.content_type!r} is not a media type")
        text(self.content_type, "content_type", 200)
        object.__setattr__(self, "created_at", aware_utc(self.created_at, "created_at"))
        check_count(self.size, "size")
        check_sha256_hex(self.sha256, "sha256")
        check_blob_key(self.storage_key)
        check_kid(self.kid)
        check_bytes(self.wrapped_key, "wrapped_key", range(1, 1025))
        check_bytes(self.nonce, "nonce", range(1, 65))
        if not isinstance(self.hmac, bytes) or len(self.hmac) not in (0, _HMAC_SIZE):
            raise ValidationError(f"hmac must be {_HMAC_SIZE} bytes")
        for key in ("alert_id", "incident_id", "camera_id"):
            if getattr(self, key) is not None:
                text(getattr(self, key), key, 200)
        text(self.created_by, "created_by", 200)
        if not isinstance(self.locked, bool):
            raise ValidationError("locked must be a boolean")
        if self.locked != (self.locked_by is not None) or self.locked != (
            self.locked_at is not None
        ):
            raise ValidationError("locked_by and locked_at are set exactly when locked")
        if self.locked_by is not None:
            text(self.locked_by, "locked_by", 200)
        if self.locked_at is not None:
            object.__setattr__(self, "locked_at", aware_utc(self.locked_at, "locked_at"))
        if isinstance(self.version, bool) or not isinstance(self.version, int) or self.version < 1:
            raise ValidationError("version must be an integer >= 1")

    @property
    def target(self) -> str:
        """The audit target naming this item: ``evidence:<id>``."""
        return f"evidence:{self.id}"

    def with_lock(self, actor: str, at: datetime) -> Self:
        """A locked copy (``version`` bumped)."""
        return replace(self, locked=True, locked_by=actor, locked_at=at, version=self.version + 1)

    def without_lock(self) -> Self:
        """An unlocked copy (``version`` bumped)."""
        return replace(self, locked=False, locked_by=None, locked_at=None, version=self.version + 1)

    def rewrapped(self, kid: str, wrapped_key: bytes) -> Self:
        """A copy whose data key is wrapped under ``kid``, unsigned until its new ``hmac``."""
        return replace(self, kid=kid, wrapped_key=wrapped_key, hmac=b"", version=self.version + 1)

    def to_dict(self) -> dict[str, Any]:
        """The JSON-ready form (the stored body); bytes are hex."""
        return {
            "id": self.id,
            "kind": self.kind,
            "content_type": self.content_type,
            "created_at": iso_z(self.created_at),
            "size": self.size,
            "sha256": self.sha256,
            "storage_key": self.storage_key,
            "kid": self.kid,
            "wrapped_key": self.wrapped_key.hex(),
            "nonce": self.nonce.hex(),
            "hmac": self.hmac.hex(),
            "alert_id": self.alert_id,
            "incident_id": self.incident_id,
            "camera_id": self.camera_id,
            "created_by": self.created_by,
            "locked": self.locked,
            "locked_by": self.locked_by,
            "locked_at": iso_z_or_none(self.locked_at),
            "version": self.version,
        }

    def public_dict(self) -> dict[str, Any]:
        """What an export bundle tells about the item: ``to_dict`` without the envelope."""
        data = self.to_dict()
        for key in ("storage_key", "wrapped_key", "nonce", "hmac"):
            del data[key]
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Parse ``to_dict``'s output.

        Raises:
            ValidationError: A field is missing or invalid.
        """
        try:
            locked_at = data["locked_at"]
            return cls(
                id=data["id"],
                kind=choice(data["kind"], EVIDENCE_KINDS, "evidence kind"),
                content_type=data["content_type"],
                created_at=parse_time(data["created_at"], "created_at"),
                size=data["size"],
                sha256=data["sha256"],
                storage_key=data["storage_key"],
                kid=data["kid"],
                wrapped_key=hex_bytes(data["wrapped_key"], "wrapped_key"),
                nonce=hex_bytes(data["nonce"], "nonce"),
                hmac=hex_bytes(data["hmac"], "hmac"),
                alert_id=data["alert_id"],
                incident_id=data["incident_id"],
                camera_id=data["camera_id"],
                created_by=data["created_by"],
                locked=data["locked"],
                locked_by=data["locked_by"],
                locked_at=None if locked_at is None else parse_time(locked_at, "locked_at"),
                version=data["version"],
            )
        except (KeyError, TypeError) as exc:
            raise ValidationError(f"not a stored evidence item: {exc!r}") from exc


def signed_metadata(item: EvidenceItem) -> bytes:
    """The canonical bytes of ``item``'s ``SIGNED_FIELDS`` that its HMAC covers.

    Sorted-key, compact, ASCII JSON behind a version label, so the same item
    gives the same bytes on every machine and Python version.
    """
    data = item.to_dict()
    covered = {name: data[name] for name in SIGNED_FIELDS}
    return _METADATA_LABEL + json.dumps(
        covered, sort_keys=True, separators=(",", ":"), ensure_ascii=True
    ).encode("ascii")

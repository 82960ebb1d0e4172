"""Evidence captured and sealed on an edge node (the body of an ``evidence`` outbox item).

The node seals each snapshot, clip or before/after frame with AES-256-GCM
under its evidence key (``argus.adapters.crypto.seal``); the associated data
binds the blob to its identity (``EdgeEvidence.aad()``). Importable from
``argus.domain.edge`` too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar, Literal, get_args

from argus.domain.checks import aware_utc, text
from argus.domain.codec import choice, iso_z, parse_time, require_keys
from argus.domain.edge_values import check_node_id
from argus.domain.errors import ValidationError
from argus.domain.event_ids import check_event_id

__all__ = ["EVIDENCE_KINDS", "MAX_EVIDENCE_EVENTS", "EdgeEvidence", "EvidenceKind", "SealedBlob"]

EvidenceKind = Literal["snapshot", "clip", "before", "after"]
EVIDENCE_KINDS: tuple[EvidenceKind, ...] = get_args(EvidenceKind)
MAX_EVIDENCE_EVENTS = 100
"""Most event ids one evidence object may cover."""

_BASE64 = re.compile(r"^[A-Za-z0-9+/]*={0,2}$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_CIPHERTEXT_MAX = 24 * 1024 * 1024


def _base64(value: object, where: str, max_len: int) -> str:
    if not isinstance(value, str) or len(value) > max_len or len(value) % 4:
        raise ValidationError(f"{where} must be base64 of at most {max_len} characters")
    if _BASE64.fullmatch(value) is None:
        raise ValidationError(f"{where} must be base64")
    return value


@dataclass(frozen=True, slots=True)
class SealedBlob:
    """Evidence sealed on the node: AES-256-GCM under the node's evidence key.

    Attributes:
        nonce: Base64 of the 12-byte nonce.
        ciphertext: Base64 of the ciphertext followed by its tag.
        sha256: Hex SHA-256 of the plaintext (lower case).
    """

    nonce: str
    ciphertext: str
    sha256: str

    _KEYS: ClassVar[frozenset[str]] = frozenset({"nonce", "ciphertext", "sha256"})

    def __post_init__(self) -> None:
        if len(_base64(self.nonce, "blob.nonce", 16)) != 16:
            raise ValidationError("blob.nonce must be base64 of 12 bytes")
        _base64(self.ciphertext, "blob.ciphertext", _CIPHERTEXT_MAX)
        if not isinstance(self.sha256, str) or _SHA256.fullmatch(self.sha256) is None:
            raise ValidationError("blob.sha256 must be 64 lower-case hex digits")

    def to_dict(self) -> dict[str, object]:
        """Return the JSON-ready form."""
        return {"nonce": self.nonce, "ciphertext": self.ciphertext, "sha256": self.sha256}

    @classmethod
    def from_dict(cls, data: object) -> SealedBlob:
        """Parse the form ``to_dict`` makes (exact keys).

        Raises:
            ValidationError: Anything else.
        """
        d = require_keys(data, cls._KEYS, "blob")
        return cls(
            nonce=_base64(d["nonce"], "blob.nonce", 16),
            ciphertext=_base64(d["ciphertext"], "blob.ciphertext", _CIPHERTEXT_MAX),
            sha256=text(d["sha256"], "blob.sha256", 64),
        )


@dataclass(frozen=True, slots=True)
class EdgeEvidence:
    """A snapshot, clip or before/after frame captured on a node (an ``evidence`` item).

    Attributes:
        evidence_id: A ULID made on the node (the idempotency key).
        node_id: The node.
        camera_id: The camera it shows.
        event_ids: The events it covers (alerts of these events get it).
        kind: ``snapshot``/``clip``, or ``before``/``after`` (tamper and offline frames).
        content_type: MIME type of the plaintext (``image/jpeg``, ``video/mp4``).
        captured_at: When it was captured (node clock, UTC).
        blob: The sealed bytes; associated data is ``aad()``.
    """

    evidence_id: str
    node_id: str
    camera_id: str
    event_ids: tuple[str, ...]
    kind: EvidenceKind
    content_type: str
    captured_at: datetime
    blob: SealedBlob

    _KEYS: ClassVar[frozenset[str]] = frozenset(
        {
            "evidence_id",
            "node_id",
            "camera_id",
            "event_ids",
            "kind",
            "content_type",
            "captured_at",
            "blob",
        }
    )

    def __post_init__(self) -> None:
        check_event_id(self.evidence_id)
        check_node_id(self.node_id)
        text(self.camera_id, "camera_id", 64)
        if (
            not isinstance(self.event_ids, tuple | list)
            or len(self.event_ids) > MAX_EVIDENCE_EVENTS
        ):
            raise ValidationError(f"event_ids must be a list of at most {MAX_EVIDENCE_EVENTS}")
        object.__setattr__(self, "event_ids", tuple(check_event_id(e) for e in self.event_ids))
        choice(self.kind, EVIDENCE_KINDS, "evidence kind")
        text(self.content_type, "content_type", 100)
        object.__setattr__(self, "captured_at", aware_utc(self.captured_at, "captured_at"))
        if not isinstance(self.blob, SealedBlob):
            raise ValidationError("blob must be a SealedBlob")

    def aad(self) -> bytes:
        """The associated data of the seal: ``evidence_id|node_id|camera_id|kind``."""
        return f"{self.evidence_id}|{self.node_id}|{self.camera_id}|{self.kind}".encode()

    def to_dict(self) -> dict[str, object]:
        """Return the JSON-ready form; ``captured_at`` is ISO 8601 with ``Z``."""
        return {
            "evidence_id": self.evidence_id,
            "node_id": self.node_id,
            "camera_id": self.camera_id,
            "event_ids": list(self.event_ids),
            "kind": self.kind,
            "content_type": self.content_type,
            "captured_at": iso_z(self.captured_at),
            "blob": self.blob.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: object) -> EdgeEvidence:
        """Parse the form ``to_dict`` makes (exact keys).

        Raises:
            ValidationError: Anything else.
        """
        d = require_keys(data, cls._KEYS, "evidence")
        event_ids = d["event_ids"]
        if not isinstance(event_ids, list | tuple):
            raise ValidationError("event_ids must be a list")
        return cls(
            evidence_id=check_event_id(d["evidence_id"]),
            node_id=check_node_id(d["node_id"]),
            camera_id=text(d["camera_id"], "camera_id", 64),
            event_ids=tuple(check_event_id(e) for e in event_ids),
            kind=choice(d["kind"], EVIDENCE_KINDS, "evidence kind"),
            content_type=text(d["content_type"], "content_type", 100),
            captured_at=parse_time(d["captured_at"], "captured_at"),
            blob=SealedBlob.from_dict(d["blob"]),
        )

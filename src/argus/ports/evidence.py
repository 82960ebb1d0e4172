"""Evidence ports: the blob store, the metadata repository, the keyring and the bundle signer.

Blob keys follow ``check_blob_key`` on every store: ``/``-separated parts,
none empty or starting with a dot, no backslash or control characters. A key
that breaks these rules (``../x``, ``/etc/passwd``, ``a\\b``) is refused with
``ValidationError`` before any I/O, so no key reaches outside the store.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from argus.domain.evidence import EvidenceItem
from argus.domain.evidence_status import EvidenceEntry, EvidenceGap
from argus.ports.paging import Page

__all__ = [
    "ALL_EVIDENCE",
    "BlobStore",
    "BundleSigner",
    "EvidenceFilter",
    "EvidenceKeyring",
    "EvidenceRepository",
    "SealedEvidence",
]


@dataclass(frozen=True, slots=True)
class EvidenceFilter:
    """Which evidence a list holds: every field given must match (``None``: any).

    Attributes:
        alert_id: Evidence of this alert.
        incident_id: Evidence attached to this incident.
        camera_id: Evidence of this camera.
        created_before: Evidence created before this moment (aware, UTC).
        locked: Only locked (``True``) or only unlocked (``False``) evidence.
    """

    alert_id: str | None = None
    incident_id: str | None = None
    camera_id: str | None = None
    created_before: datetime | None = None
    locked: bool | None = None

    def matches(self, item: EvidenceItem) -> bool:
        """Whether ``item`` passes every given field (``created_before`` must be aware)."""
        return (
            (self.alert_id is None or item.alert_id == self.alert_id)
            and (self.incident_id is None or item.incident_id == self.incident_id)
            and (self.camera_id is None or item.camera_id == self.camera_id)
            and (self.created_before is None or item.created_at < self.created_before)
            and (self.locked is None or item.locked == self.locked)
        )


ALL_EVIDENCE = EvidenceFilter()
"""The filter every item passes."""


class BlobStore(Protocol):
    """Opaque objects by key: the local filesystem or S3-compatible object storage.

    Every method validates its key first (``ValidationError``); a store that
    fails raises ``StorageError``; a method called after ``close`` raises
    ``StorageError``.
    """

    async def put(self, key: str, data: bytes) -> None:
        """Store ``data`` under ``key``, replacing what was there; atomic (all or nothing)."""
        ...

    async def get(self, key: str) -> bytes:
        """The bytes stored under ``key`` (``NotFoundError`` when there are none)."""
        ...

    async def delete(self, key: str) -> None:
        """Remove ``key``; removing a missing key is a no-op."""
        ...

    async def exists(self, key: str) -> bool:
        """Whether an object is stored under ``key``."""
        ...

    async def keys(self, prefix: str = "") -> list[str]:
        """Every stored key that starts with ``prefix`` (a plain string prefix), sorted."""
        ...

    async def close(self) -> None:
        """Release connections and files. Idempotent."""
        ...


class EvidenceRepository(Protocol):
    """Evidence metadata. Each method is one transaction.

    Lists (``list``, ``browse``: one query, two readings of its rows) are
    ordered by ``(created_at, id)``, oldest first, filtered by an
    ``EvidenceFilter`` and paginated by ``limit`` (1 to ``MAX_PAGE``) and
    ``offset``. Updates are optimistic: an item is stored only over the
    version before it (``item.version - 1``).
    """

    async def add(self, item: EvidenceItem) -> None:
        """Store a new item (``ConflictError`` when its id is taken)."""
        ...

    async def get(self, evidence_id: str) -> EvidenceItem:
        """The item with this id.

        Raises:
            NotFoundError: No item has the id.
            IntegrityError: The stored row contradicts itself (edited in place).
        """
        ...

    async def list(
        self, where: EvidenceFilter = ALL_EVIDENCE, *, limit: int = 100, offset: int = 0
    ) -> Page[EvidenceItem]:
        """Items matching ``where``.

        Raises:
            IntegrityError: A row on the page contradicts itself (``browse`` reports it).
        """
        ...

    async def browse(
        self, where: EvidenceFilter = ALL_EVIDENCE, *, limit: int = 100, offset: int = 0
    ) -> Page[EvidenceEntry]:
        """Like ``list``, but a row that contradicts itself is a ``TamperedEvidence`` in place.

        ``where`` applies to the rows' columns, as ``list``'s does.
        """
        ...

    async def record_gap(self, gap: EvidenceGap) -> None:
        """Store ``gap``, replacing an earlier gap of the same alert."""
        ...

    async def gaps(
        self,
        *,
        alert_id: str | None = None,
        camera_id: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> Page[EvidenceGap]:
        """Recorded gaps matching every given filter, newest first."""
        ...

    async def update(self, item: EvidenceItem) -> None:
        """Replace the stored item at ``item.version - 1`` with ``item``.

        Raises:
            NotFoundError: No item has the id.
            ConflictError: The stored version moved on meanwhile.
        """
        ...

    async def delete(self, evidence_id: str) -> None:
        """Delete an unlocked item.

        Raises:
            NotFoundError: No item has the id.
            ConflictError: The item is locked (locked evidence is never deleted).
        """
        ...


@dataclass(frozen=True, slots=True)
class SealedEvidence:
    """Plaintext encrypted under a fresh data key, the key wrapped under a master key.

    Attributes:
        kid: The master key that wraps the data key (the keyring's current one).
        wrapped_key: The wrapped data key.
        nonce: The nonce of ``ciphertext``.
        ciphertext: The encrypted plaintext (with its authentication tag).
    """

    kid: str
    wrapped_key: bytes
    nonce: bytes
    ciphertext: bytes


class EvidenceKeyring(Protocol):
    """Master keys by id, and the envelope cryptography built on them.

    A wrapped data key that does not unwrap (unknown ``kid``, altered
    ``wrapped_key``, id or kid) and a ciphertext that does not decrypt raise
    ``IntegrityError``: the evidence cannot be verified, so it is never served.
    """

    @property
    def current_kid(self) -> str:
        """The master key new data keys are wrapped under."""
        ...

    @property
    def kids(self) -> tuple[str, ...]:
        """Every master key id held, the current one last."""
        ...

    def seal(self, evidence_id: str, plaintext: bytes) -> SealedEvidence:
        """Encrypt ``plaintext`` for ``evidence_id`` under a new data key."""
        ...

    def mac(self, item: EvidenceItem, ciphertext: bytes) -> bytes:
        """HMAC-SHA256 over ``ciphertext`` and ``signed_metadata(item)``, keyed by its data key."""
        ...

    def open(self, item: EvidenceItem, ciphertext: bytes) -> bytes:
        """Decrypt ``ciphertext`` (verify ``mac`` first: this checks only the AEAD tag)."""
        ...

    def rewrap(self, item: EvidenceItem) -> tuple[str, bytes]:
        """``item``'s data key wrapped under the current master key: ``(kid, wrapped_key)``."""
        ...


class BundleSigner(Protocol):
    """The installation's Ed25519 key that signs export bundles."""

    @property
    def public_key(self) -> bytes:
        """The raw 32-byte public key."""
        ...

    @property
    def fingerprint(self) -> str:
        """``key_fingerprint(public_key)``."""
        ...

    def sign(self, data: bytes) -> bytes:
        """The 64-byte Ed25519 signature of ``data``."""
        ...

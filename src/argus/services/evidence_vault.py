"""``EvidenceVault``: the integrity core every evidence use case goes through.

It holds the repository, the blob store, the keyring and the audit log, and
does the few things the use cases share: sealing plaintext, fetching an item
with its verified plaintext, retrying a read-modify-write that lost an
optimistic-version race, checking an actor's camera scope, and appending the
audit record (target ``evidence:<id>``).

A fetch checks, in this order, before any plaintext leaves: the metadata row
is consistent (the repository), the object exists, the data key unwraps, the
HMAC over ciphertext and metadata matches, the ciphertext decrypts, and the
plaintext's size and sha256 match the recorded ones; any failure is an
``IntegrityError``.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from argus.domain.actor import Actor
from argus.domain.audit import AuditOutcome
from argus.domain.errors import ConflictError, IntegrityError, NotFoundError
from argus.domain.evidence import EvidenceItem
from argus.ports.audit import AuditLog
from argus.ports.evidence import BlobStore, EvidenceKeyring, EvidenceRepository, SealedEvidence
from argus.services.writes import record as record_action

__all__ = ["ATTEMPTS", "EvidenceVault", "Fetched", "sha256_hex"]

ATTEMPTS = 3
"""Tries of a read-modify-write that lost an optimistic-version race."""


def sha256_hex(data: bytes) -> str:
    """The hex sha256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True, slots=True)
class Fetched:
    """An item, its stored ciphertext and its verified plaintext."""

    item: EvidenceItem
    ciphertext: bytes
    plaintext: bytes


class EvidenceVault:
    """Sealing, verified fetching, optimistic changes and auditing of evidence.

    Args:
        repository: The metadata store.
        blobs: Where the ciphertext goes.
        keyring: Master keys and the envelope cryptography.
        audit: Every store, read, change and failure is appended here.
        clock: The current UTC time.
    """

    def __init__(
        self,
        repository: EvidenceRepository,
        blobs: BlobStore,
        keyring: EvidenceKeyring,
        audit: AuditLog,
        clock: Callable[[], datetime],
    ) -> None:
        self.repository = repository
        self.blobs = blobs
        self.keyring = keyring
        self.audit = audit
        self.clock = clock

    async def record(
        self,
        action: str,
        actor: Actor,
        evidence_id: str,
        outcome: AuditOutcome = "success",
        **details: Any,
    ) -> None:
        """Append ``action`` on ``evidence:<evidence_id>`` by ``actor`` (and its address)."""
        await record_action(
            self.audit,
            actor,
            action,
            f"evidence:{evidence_id}",
            outcome=outcome,
            at=self.clock(),
            **details,
        )

    async def visible(self, evidence_id: str, actor: Actor) -> None:
        """Refuse, before anything is audited, what a caller on the API may not see.

        A principal's request names an item that must exist, read back
        consistent and lie in its camera scope; otherwise ``NotFoundError``
        (or the row's ``IntegrityError``) is raised unaudited, so probing ids
        leaves no trace in the audit trail. Argus itself and CLI commands
        (no principal) skip this: their failed reads are audited.
        """
        if actor.principal is None:
            return
        item = await self.repository.get(evidence_id)
        if not actor.principal.sees_camera(item.camera_id):
            raise NotFoundError(f"no evidence {evidence_id}")

    async def seal(self, evidence_id: str, data: bytes) -> tuple[SealedEvidence, str]:
        """``data`` encrypted for ``evidence_id``, and its sha256 (off the event loop)."""
        # Hashing and encrypting a clip of many megabytes would stall the event loop.
        return await asyncio.to_thread(self._seal, evidence_id, data)

    def _seal(self, evidence_id: str, data: bytes) -> tuple[SealedEvidence, str]:
        return self.keyring.seal(evidence_id, data), sha256_hex(data)

    def _unseal(self, item: EvidenceItem, ciphertext: bytes) -> bytes:
        """Verify the HMAC, then decrypt and check size and sha256 (``IntegrityError``)."""
        if not hmac.compare_digest(self.keyring.mac(item, ciphertext), item.hmac):
            raise IntegrityError(
                f"evidence {item.id}: the HMAC over its stored object and metadata does not "
                "match (the object or its metadata was altered, or objects were swapped)"
            )
        plaintext = self.keyring.open(item, ciphertext)
        if len(plaintext) != item.size or sha256_hex(plaintext) != item.sha256:
            raise IntegrityError(f"evidence {item.id}: the plaintext's sha256 does not match")
        return plaintext

    async def fetch(self, evidence_id: str) -> Fetched:
        """The item, its ciphertext and its verified plaintext.

        Raises:
            NotFoundError: No evidence has the id.
            IntegrityError: The object or its metadata was altered, swapped or lost.
        """
        item = await self.repository.get(evidence_id)
        try:
            ciphertext = await self.blobs.get(item.storage_key)
        except NotFoundError:
            raise IntegrityError(
                f"evidence {item.id}: its object {item.storage_key!r} is missing from storage"
            ) from None
        plaintext = await asyncio.to_thread(self._unseal, item, ciphertext)
        return Fetched(item, ciphertext, plaintext)

    async def audited_fetch(self, action: str, evidence_id: str, actor: Actor) -> Fetched:
        """``fetch``, with a failed integrity check or an unknown id audited under ``action``."""
        try:
            return await self.fetch(evidence_id)
        except (IntegrityError, NotFoundError) as exc:
            await self.record(action, actor, evidence_id, "failure", reason=str(exc))
            raise

    async def change(
        self, evidence_id: str, change: Callable[[EvidenceItem], EvidenceItem | None]
    ) -> EvidenceItem:
        """Read, ``change`` (``None``: nothing to do) and write back, retrying lost races."""
        for attempt in range(ATTEMPTS):
            item = await self.repository.get(evidence_id)
            changed = change(item)
            if changed is None:
                return item
            try:
                await self.repository.update(changed)
            except ConflictError:
                if attempt == ATTEMPTS - 1:
                    raise
                continue
            return changed
        raise AssertionError("unreachable")  # pragma: no cover

    async def resign(
        self, evidence_id: str, change: Callable[[EvidenceItem], EvidenceItem | None]
    ) -> tuple[EvidenceItem, EvidenceItem | None]:
        """Verify the item, ``change`` signed metadata, sign it again and write it back.

        ``change`` returns the new metadata (its ``hmac`` is replaced) or ``None`` when
        there is nothing to do; lost version races are retried. A tampered item is never
        re-signed: ``fetch`` refuses it first.

        Returns:
            The item as it was, and as written (``None`` when nothing changed).

        Raises:
            NotFoundError: No evidence has the id.
            IntegrityError: The item failed its check.
            ConflictError: The item kept changing meanwhile.
        """
        for attempt in range(ATTEMPTS):
            fetched = await self.fetch(evidence_id)
            draft = change(fetched.item)
            if draft is None:
                return fetched.item, None
            signed = replace(draft, hmac=self.keyring.mac(draft, fetched.ciphertext))
            try:
                await self.repository.update(signed)
            except ConflictError:
                if attempt == ATTEMPTS - 1:
                    raise
                continue
            return fetched.item, signed
        raise AssertionError("unreachable")  # pragma: no cover

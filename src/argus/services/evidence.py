"""Evidence as a use case: store, read, lock, delete, purge, re-wrap and export, all audited.

``EvidenceService.store`` seals the bytes under a fresh data key (see
``argus.domain.evidence`` for the envelope and what the HMAC covers), puts the
ciphertext in the blob store and the metadata in the repository. Every read
verifies the item first (``EvidenceVault.fetch``): any failure is appended to
the audit trail as ``evidence.read`` with outcome ``failure`` and its reason,
and raised as ``IntegrityError``: tampered evidence is reported, never served.

Reads and writes take the ``Actor`` they act for (the audit trail names it
and its address). An actor with a principal (a caller on the API) sees only
the evidence of its cameras: anything else is ``NotFoundError``, raised
before anything is audited. A row that contradicts itself
is listed in place as tampered, to callers who see every camera it names.

Locked evidence is exempt from retention (``purge_expired``) and refused by
``delete`` (``ConflictError``); see ``evidence_upkeep`` for retention and key
rotation, ``evidence_bundle`` for export bundles and ``evidence_bundle_check``
for ``verify_bundle``, which checks one offline with nothing but the bundle.

Audit actions: ``evidence.store``, ``evidence.upload``, ``evidence.read``,
``evidence.verify``, ``evidence.lock``, ``evidence.unlock``,
``evidence.delete``, ``evidence.purge``, ``evidence.rewrap``,
``evidence.export``, ``evidence.attach`` (``evidence_links``); the target
is always ``evidence:<id>``. ``evidence.gap`` (outcome ``failure``, target
``alert:<id>``) records an alert whose evidence could not be captured.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from datetime import datetime

from argus.domain.actor import SYSTEM_ACTOR, Actor
from argus.domain.alerts import Incident
from argus.domain.audit import AuditEntry, AuditRecord
from argus.domain.cameras import new_id, utc_now
from argus.domain.errors import (
    ConflictError,
    PermissionDeniedError,
    StorageError,
)
from argus.domain.evidence import EvidenceItem, EvidenceKind
from argus.domain.evidence_status import EvidenceEntry, EvidenceGap
from argus.ports.audit import AuditLog
from argus.ports.evidence import (
    ALL_EVIDENCE,
    BlobStore,
    BundleSigner,
    EvidenceFilter,
    EvidenceKeyring,
    EvidenceRepository,
)
from argus.ports.paging import Page
from argus.services import evidence_links, evidence_listing, evidence_upkeep
from argus.services.evidence_bundle import MAX_EXPORT, export_bundle
from argus.services.evidence_bundle_check import verify_bundle
from argus.services.evidence_vault import EvidenceVault

__all__ = ["MAX_EXPORT", "EvidenceService", "verify_bundle"]


class EvidenceService:
    """Encrypted, tamper-evident evidence over a repository, a blob store and a keyring.

    Args:
        repository: The metadata store.
        blobs: Where the ciphertext goes.
        keyring: Master keys and the envelope cryptography.
        audit: Every store, read, change and failure is appended here.
        signer: Signs export bundles.
        clock: The current UTC time.
        make_id: New evidence ids (ULIDs).

    Attributes:
        on_stored: Called with each new item of an alert (``IncidentEvidence.on_stored``
            attaches it to the incident the alert's confirmation opened); returns it as stored.
    """

    def __init__(
        self,
        repository: EvidenceRepository,
        blobs: BlobStore,
        keyring: EvidenceKeyring,
        audit: AuditLog,
        signer: BundleSigner,
        *,
        clock: Callable[[], datetime] = utc_now,
        make_id: Callable[[], str] = new_id,
    ) -> None:
        self._vault = EvidenceVault(repository, blobs, keyring, audit, clock)
        self._repository = repository
        self._signer = signer
        self._clock = clock
        self._new_id = make_id
        self.on_stored: Callable[[EvidenceItem], Awaitable[EvidenceItem]] | None = None

    @property
    def public_key(self) -> bytes:
        """The public key export bundles are signed with."""
        return self._signer.public_key

    @property
    def current_kid(self) -> str:
        """The master key new evidence is wrapped under."""
        return self._vault.keyring.current_kid

    async def close(self) -> None:
        """Close the blob store (the repository and audit log belong to their database)."""
        await self._vault.blobs.close()

    # --- storing and reading -------------------------------------------------------------------

    async def store(
        self,
        data: bytes,
        kind: EvidenceKind,
        content_type: str,
        *,
        actor: Actor = SYSTEM_ACTOR,
        alert_id: str | None = None,
        incident_id: str | None = None,
        camera_id: str | None = None,
    ) -> EvidenceItem:
        """Encrypt and store ``data``; audited as ``evidence.store`` (without an address).

        Raises:
            ValidationError: A bad kind, content type or id.
            StorageError: The blob store or the repository failed (nothing is left behind
                in the repository; a stored object is removed again when it can be).
        """
        vault, evidence_id, now = self._vault, self._new_id(), self._clock()
        sealed, digest = await vault.seal(evidence_id, data)
        draft = EvidenceItem(
            id=evidence_id,
            kind=kind,
            content_type=content_type,
            created_at=now,
            size=len(data),
            sha256=digest,
            storage_key=f"{now:%Y/%m/%d}/{evidence_id}",
            kid=sealed.kid,
            wrapped_key=sealed.wrapped_key,
            nonce=sealed.nonce,
            alert_id=alert_id,
            incident_id=incident_id,
            camera_id=camera_id,
            created_by=actor.audit_name,
        )
        item = replace(draft, hmac=vault.keyring.mac(draft, sealed.ciphertext))
        await vault.blobs.put(item.storage_key, sealed.ciphertext)
        try:
            await self._repository.add(item)
        except BaseException:
            # The repository's error is the one to report; an orphaned object is harmless
            # (ciphertext no row points to) when removing it fails too.
            with contextlib.suppress(StorageError):
                await vault.blobs.delete(item.storage_key)
            raise
        # The store is recorded as the item's creation; a request's address goes on the
        # row of the request itself (``evidence.upload``).
        await vault.record(
            "evidence.store",
            replace(actor, ip=None),
            item.id,
            kind=kind,
            sha256=item.sha256,
            size=item.size,
        )
        if alert_id is not None and incident_id is None and self.on_stored is not None:
            item = await self.on_stored(item)
        return item

    async def upload(
        self,
        incident: Incident,
        data: bytes,
        kind: EvidenceKind,
        content_type: str,
        *,
        filename: str,
        actor: Actor,
    ) -> EvidenceItem:
        """Store a file as evidence of ``incident``; audited as ``evidence.upload`` too.

        ``filename`` is only recorded (in the audit trail); the item is named by its id.
        """
        item = await self.store(
            data,
            kind,
            content_type,
            actor=actor,
            incident_id=incident.id,
            camera_id=incident.camera_id,
        )
        await self._vault.record(
            "evidence.upload",
            actor,
            item.id,
            incident=incident.id,
            filename=filename,
            size=item.size,
        )
        return item

    async def read(self, evidence_id: str, *, actor: Actor) -> tuple[EvidenceItem, bytes]:
        """The verified, decrypted evidence; audited as ``evidence.read`` either way.

        Raises:
            NotFoundError: No evidence has the id (or the actor may not see it).
            IntegrityError: The object or its metadata was altered, swapped or lost.
        """
        await self._vault.visible(evidence_id, actor)
        fetched = await self._vault.audited_fetch("evidence.read", evidence_id, actor)
        item = fetched.item
        await self._vault.record(
            "evidence.read", actor, item.id, sha256=item.sha256, size=item.size
        )
        return item, fetched.plaintext

    async def verify(self, evidence_id: str, *, actor: Actor = SYSTEM_ACTOR) -> EvidenceItem:
        """Check one item's integrity without returning its data (audited as ``evidence.verify``).

        Raises:
            NotFoundError: No evidence has the id (or the actor may not see it).
            IntegrityError: The object or its metadata was altered, swapped or lost.
        """
        await self._vault.visible(evidence_id, actor)
        item = (await self._vault.audited_fetch("evidence.verify", evidence_id, actor)).item
        await self._vault.record("evidence.verify", actor, item.id, sha256=item.sha256)
        return item

    async def get(self, evidence_id: str, *, actor: Actor = SYSTEM_ACTOR) -> EvidenceItem:
        """One item's metadata (not verified; ``read`` or ``verify`` check it)."""
        await self._vault.visible(evidence_id, actor)
        return await self._repository.get(evidence_id)

    async def list(
        self, where: EvidenceFilter = ALL_EVIDENCE, *, limit: int = 100, offset: int = 0
    ) -> Page[EvidenceItem]:
        """Items' metadata, oldest first (``IntegrityError`` on a row that contradicts itself)."""
        return await self._repository.list(where, limit=limit, offset=offset)

    async def browse(
        self,
        where: EvidenceFilter = ALL_EVIDENCE,
        *,
        actor: Actor = SYSTEM_ACTOR,
        limit: int = 100,
        offset: int = 0,
    ) -> Page[EvidenceEntry]:
        """What ``actor`` sees of ``list``, with a row that contradicts itself reported in place."""
        return await evidence_listing.browse(
            self._repository, where, actor, limit=limit, offset=offset
        )

    async def of_incident(
        self, incident: Incident, *, actor: Actor, limit: int = 100, offset: int = 0
    ) -> Page[EvidenceEntry]:
        """What ``actor`` sees of the evidence attached to ``incident`` and of its alerts."""
        return await evidence_listing.of_incident(
            self._repository, incident, actor, limit=limit, offset=offset
        )

    async def record_gap(self, gap: EvidenceGap) -> None:
        """Record that an alert's evidence could not be captured; audited as ``system``.

        Raises:
            StorageError: The gap could not be stored either.
        """
        await self._repository.record_gap(gap)
        await self._vault.audit.append(
            AuditEntry(
                action="evidence.gap",
                actor=SYSTEM_ACTOR.audit_name,
                at=self._clock(),
                target=f"alert:{gap.alert_id}",
                outcome="failure",
                details={"reason": gap.reason, "detail": gap.detail, "camera_id": gap.camera_id},
            )
        )

    async def gaps(
        self,
        *,
        alert_id: str | None = None,
        camera_id: str | None = None,
        actor: Actor = SYSTEM_ACTOR,
        limit: int = 100,
        offset: int = 0,
    ) -> Page[EvidenceGap]:
        """What ``actor`` sees of the recorded evidence gaps, newest first."""
        return await evidence_listing.gaps(
            self._repository, alert_id, camera_id, actor, limit=limit, offset=offset
        )

    async def attach(
        self, evidence_id: str, incident_id: str, *, actor: Actor = SYSTEM_ACTOR
    ) -> EvidenceItem:
        """Attach the item to ``incident_id``, verified and signed again (``evidence_links``)."""
        return await evidence_links.attach(self._vault, evidence_id, incident_id, actor)

    async def attach_alert(
        self, alert_id: str, incident_id: str, *, actor: Actor = SYSTEM_ACTOR
    ) -> tuple[tuple[EvidenceItem, ...], tuple[str, ...]]:
        """Attach every item of ``alert_id``: those attached, and the ids that failed a check."""
        return await evidence_links.attach_alert(self._vault, alert_id, incident_id, actor)

    # --- lock, delete, retention ---------------------------------------------------------------

    async def lock(self, evidence_id: str, *, actor: Actor) -> EvidenceItem:
        """Lock the item against retention and deletion (idempotent; audited)."""
        await self._vault.visible(evidence_id, actor)
        now, name = self._clock(), actor.audit_name
        item = await self._vault.change(
            evidence_id, lambda item: None if item.locked else item.with_lock(name, now)
        )
        await self._vault.record("evidence.lock", actor, evidence_id)
        return item

    async def unlock(self, evidence_id: str, *, actor: Actor) -> EvidenceItem:
        """Release the lock (idempotent; audited)."""
        await self._vault.visible(evidence_id, actor)
        item = await self._vault.change(
            evidence_id, lambda item: item.without_lock() if item.locked else None
        )
        await self._vault.record("evidence.unlock", actor, evidence_id)
        return item

    async def delete(self, evidence_id: str, *, actor: Actor) -> None:
        """Delete the item and its object (a principal must be an admin); audited.

        Raises:
            PermissionDeniedError: The actor's principal is not an admin.
            NotFoundError: No evidence has the id (or the actor may not see it).
            ConflictError: The item is locked (audited as ``denied``).
        """
        if actor.principal is not None and actor.principal.role != "admin":
            raise PermissionDeniedError(f"{actor.audit_name} may not delete evidence (admins only)")
        await self._vault.visible(evidence_id, actor)
        item = await self._repository.get(evidence_id)
        try:
            if item.locked:
                raise ConflictError(f"evidence {evidence_id} is locked; unlock it first")
            await self._repository.delete(evidence_id)
        except ConflictError as exc:
            await self._vault.record(
                "evidence.delete", actor, evidence_id, "denied", reason=str(exc)
            )
            raise
        await self._vault.blobs.delete(item.storage_key)
        await self._vault.record("evidence.delete", actor, evidence_id, sha256=item.sha256)

    async def purge_expired(self, retention_days: float) -> int:
        """Delete unlocked evidence older than ``retention_days`` (``evidence_upkeep``)."""
        return await evidence_upkeep.purge_expired(self._vault, retention_days)

    async def rewrap(self, *, actor: Actor = SYSTEM_ACTOR) -> int:
        """Re-wrap every data key onto the current master key (``evidence_upkeep``)."""
        return await evidence_upkeep.rewrap(self._vault, actor)

    # --- export --------------------------------------------------------------------------------

    async def export(
        self,
        ids: Sequence[str],
        *,
        actor: Actor,
        audit_records: Sequence[AuditRecord] | None = None,
    ) -> bytes:
        """A signed zip bundle of the verified, decrypted items, their metadata and audit trail.

        Args:
            ids: The items, in bundle order (duplicates are dropped).
            actor: Who exports (recorded in the manifest and the audit trail).
            audit_records: The audit excerpt to include; ``None`` takes every
                record on the items, their alerts and their incidents.

        Raises:
            ValidationError: No ids, or more than ``MAX_EXPORT``.
            NotFoundError: An id is unknown (or the actor may not see it).
            IntegrityError: An item failed its check; nothing is exported.
        """
        return await export_bundle(
            self._vault,
            self._signer,
            ids,
            actor=actor,
            audit_records=audit_records,
            created_at=self._clock(),
        )

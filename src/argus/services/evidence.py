"""Evidence as a use case: store, read, lock, delete, purge, re-wrap and export, all audited.

``EvidenceService.store`` seals the bytes under a fresh data key (see
``argus.domain.evidence`` for the envelope and what the HMAC covers), puts the
ciphertext in the blob store and the metadata in the repository. Every read
checks, in this order, before any plaintext leaves the service: the metadata
row is consistent, the object exists, the data key unwraps, the HMAC over
ciphertext and metadata matches, the ciphertext decrypts, and the plaintext's
size and sha256 match the recorded ones. Any failure is appended to the audit
trail as ``evidence.read`` with outcome ``failure`` and its reason, and raised
as ``IntegrityError``: tampered evidence is reported, never served.

Locked evidence is exempt from retention (``purge_expired``) and refused by
``delete`` (``ConflictError``); the repository enforces the lock in the delete
itself. ``rewrap`` moves every data key onto the keyring's current master key
without touching ciphertext, after which older master keys can be removed.

``export`` writes a signed zip bundle (``manifest.json``, the decrypted files,
``audit.json``, ``manifest.sig``); ``verify_bundle`` checks one offline with
nothing but the bundle (and optionally the expected public key).

Audit actions: ``evidence.store``, ``evidence.read``, ``evidence.verify``,
``evidence.lock``, ``evidence.unlock``, ``evidence.delete``,
``evidence.purge``, ``evidence.rewrap``, ``evidence.export``; the target is
always ``evidence:<id>``. ``evidence.gap`` (outcome ``failure``, target
``alert:<id>``) records an alert whose evidence could not be captured.
"""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import hashlib
import hmac
import io
import json
import math
import zipfile
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from argus.domain.audit import AuditEntry, AuditOutcome, AuditRecord
from argus.domain.cameras import new_id, utc_now
from argus.domain.errors import (
    ConflictError,
    IntegrityError,
    NotFoundError,
    StorageError,
    ValidationError,
)
from argus.domain.evidence import (
    BUNDLE_AUDIT_FILE,
    BUNDLE_MANIFEST_FILE,
    BUNDLE_SIGNATURE_FILE,
    BundleCheck,
    BundleFile,
    BundleItem,
    BundleManifest,
    BundleReport,
    EvidenceItem,
    EvidenceKind,
    bundle_signing_payload,
    key_fingerprint,
)
from argus.domain.evidence_status import EvidenceEntry, EvidenceGap
from argus.ports.audit import AuditLog
from argus.ports.evidence import (
    BlobStore,
    BundleSigner,
    EvidenceKeyring,
    EvidenceRepository,
    SealedEvidence,
)
from argus.ports.repositories import MAX_PAGE, Page
from argus.services.paging import all_pages

__all__ = ["MAX_EXPORT", "EvidenceService", "verify_bundle"]

MAX_EXPORT = 1000
"""Most items one bundle may hold."""

_ATTEMPTS = 3
"""Tries of a read-modify-write that lost an optimistic-version race."""

_EXTENSIONS: Mapping[str, str] = {
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/webp": ".webp",
    "video/mp4": ".mp4",
    "video/x-matroska": ".mkv",
    "video/webm": ".webm",
    "application/json": ".json",
    "application/pdf": ".pdf",
    "text/plain": ".txt",
}


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _record_dict(record: AuditRecord) -> dict[str, Any]:
    entry = record.entry
    return {
        "seq": record.seq,
        "at": entry.at.isoformat(),
        "actor": entry.actor,
        "action": entry.action,
        "target": entry.target,
        "outcome": entry.outcome,
        "ip": entry.ip,
        "details": dict(entry.details),
        "prev_hash": record.prev_hash,
        "hash": record.hash,
    }


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
        self._repository = repository
        self._blobs = blobs
        self._keyring = keyring
        self._audit = audit
        self._signer = signer
        self._clock = clock
        self._new_id = make_id

    @property
    def public_key(self) -> bytes:
        """The public key export bundles are signed with."""
        return self._signer.public_key

    @property
    def current_kid(self) -> str:
        """The master key new evidence is wrapped under."""
        return self._keyring.current_kid

    async def close(self) -> None:
        """Close the blob store (the repository and audit log belong to their database)."""
        await self._blobs.close()

    async def _record(
        self,
        action: str,
        actor: str,
        evidence_id: str,
        outcome: AuditOutcome = "success",
        ip: str | None = None,
        **details: Any,
    ) -> None:
        await self._audit.append(
            AuditEntry(
                action=action,
                actor=actor,
                at=self._clock(),
                target=f"evidence:{evidence_id}",
                outcome=outcome,
                details=details,
                ip=ip,
            )
        )

    # --- storing and reading -------------------------------------------------------------------

    async def store(
        self,
        data: bytes,
        kind: EvidenceKind,
        content_type: str,
        *,
        actor: str,
        alert_id: str | None = None,
        incident_id: str | None = None,
        camera_id: str | None = None,
    ) -> EvidenceItem:
        """Encrypt and store ``data``; the item is audited as ``evidence.store``.

        Raises:
            ValidationError: A bad kind, content type or id.
            StorageError: The blob store or the repository failed (nothing is left behind
                in the repository; a stored object is removed again when it can be).
        """
        evidence_id, now = self._new_id(), self._clock()
        # Hashing and encrypting a clip of many megabytes would stall the event loop.
        sealed, digest = await asyncio.to_thread(self._seal, evidence_id, data)
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
            created_by=actor,
        )
        item = replace(draft, hmac=self._keyring.mac(draft, sealed.ciphertext))
        await self._blobs.put(item.storage_key, sealed.ciphertext)
        try:
            await self._repository.add(item)
        except BaseException:
            # The repository's error is the one to report; an orphaned object is harmless
            # (ciphertext no row points to) when removing it fails too.
            with contextlib.suppress(StorageError):
                await self._blobs.delete(item.storage_key)
            raise
        await self._record(
            "evidence.store", actor, item.id, kind=kind, sha256=item.sha256, size=item.size
        )
        return item

    def _seal(self, evidence_id: str, data: bytes) -> tuple[SealedEvidence, str]:
        return self._keyring.seal(evidence_id, data), _sha256(data)

    def _unseal(self, item: EvidenceItem, ciphertext: bytes) -> bytes:
        """Verify the HMAC, then decrypt and check size and sha256 (``IntegrityError``)."""
        if not hmac.compare_digest(self._keyring.mac(item, ciphertext), item.hmac):
            raise IntegrityError(
                f"evidence {item.id}: the HMAC over its stored object and metadata does not "
                "match (the object or its metadata was altered, or objects were swapped)"
            )
        plaintext = self._keyring.open(item, ciphertext)
        if len(plaintext) != item.size or _sha256(plaintext) != item.sha256:
            raise IntegrityError(f"evidence {item.id}: the plaintext's sha256 does not match")
        return plaintext

    async def _fetch(self, evidence_id: str) -> tuple[EvidenceItem, bytes, bytes]:
        """The item, its ciphertext and its verified plaintext."""
        item = await self._repository.get(evidence_id)
        try:
            ciphertext = await self._blobs.get(item.storage_key)
        except NotFoundError:
            raise IntegrityError(
                f"evidence {item.id}: its object {item.storage_key!r} is missing from storage"
            ) from None
        return item, ciphertext, await asyncio.to_thread(self._unseal, item, ciphertext)

    async def _audited_fetch(
        self, action: str, evidence_id: str, actor: str, ip: str | None
    ) -> tuple[EvidenceItem, bytes, bytes]:
        """``_fetch``, with a failed integrity check or an unknown id audited under ``action``."""
        try:
            return await self._fetch(evidence_id)
        except (IntegrityError, NotFoundError) as exc:
            await self._record(action, actor, evidence_id, "failure", ip, reason=str(exc))
            raise

    async def read(
        self, evidence_id: str, *, actor: str, ip: str | None = None
    ) -> tuple[EvidenceItem, bytes]:
        """The verified, decrypted evidence; audited as ``evidence.read`` either way.

        Raises:
            NotFoundError: No evidence has the id.
            IntegrityError: The object or its metadata was altered, swapped or lost.
        """
        item, _, plaintext = await self._audited_fetch("evidence.read", evidence_id, actor, ip)
        await self._record(
            "evidence.read", actor, item.id, ip=ip, sha256=item.sha256, size=item.size
        )
        return item, plaintext

    async def verify(
        self, evidence_id: str, *, actor: str = "system", ip: str | None = None
    ) -> EvidenceItem:
        """Check one item's integrity without returning its data (audited as ``evidence.verify``).

        Raises:
            NotFoundError: No evidence has the id.
            IntegrityError: The object or its metadata was altered, swapped or lost.
        """
        item, _, _ = await self._audited_fetch("evidence.verify", evidence_id, actor, ip)
        await self._record("evidence.verify", actor, item.id, ip=ip, sha256=item.sha256)
        return item

    async def get(self, evidence_id: str) -> EvidenceItem:
        """One item's metadata (not verified; ``read`` or ``verify`` check it)."""
        return await self._repository.get(evidence_id)

    async def list(
        self,
        *,
        alert_id: str | None = None,
        incident_id: str | None = None,
        camera_id: str | None = None,
        locked: bool | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> Page[EvidenceItem]:
        """Items' metadata, oldest first."""
        return await self._repository.list(
            alert_id=alert_id,
            incident_id=incident_id,
            camera_id=camera_id,
            locked=locked,
            limit=limit,
            offset=offset,
        )

    async def browse(
        self,
        *,
        alert_id: str | None = None,
        incident_id: str | None = None,
        camera_id: str | None = None,
        locked: bool | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> Page[EvidenceEntry]:
        """Like ``list``, with a row that contradicts itself reported in place as tampered."""
        return await self._repository.browse(
            alert_id=alert_id,
            incident_id=incident_id,
            camera_id=camera_id,
            locked=locked,
            limit=limit,
            offset=offset,
        )

    async def record_gap(self, gap: EvidenceGap) -> None:
        """Record that an alert's evidence could not be captured; audited as ``system``.

        Raises:
            StorageError: The gap could not be stored either.
        """
        await self._repository.record_gap(gap)
        await self._audit.append(
            AuditEntry(
                action="evidence.gap",
                actor="system",
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
        limit: int = 100,
        offset: int = 0,
    ) -> Page[EvidenceGap]:
        """Recorded evidence gaps, newest first."""
        return await self._repository.gaps(
            alert_id=alert_id, camera_id=camera_id, limit=limit, offset=offset
        )

    # --- lock, delete, retention ---------------------------------------------------------------

    async def _change(
        self, evidence_id: str, change: Callable[[EvidenceItem], EvidenceItem | None]
    ) -> EvidenceItem:
        """Read, ``change`` (``None``: nothing to do) and write back, retrying lost races."""
        for attempt in range(_ATTEMPTS):
            item = await self._repository.get(evidence_id)
            changed = change(item)
            if changed is None:
                return item
            try:
                await self._repository.update(changed)
            except ConflictError:
                if attempt == _ATTEMPTS - 1:
                    raise
                continue
            return changed
        raise AssertionError("unreachable")  # pragma: no cover

    async def lock(self, evidence_id: str, *, actor: str, ip: str | None = None) -> EvidenceItem:
        """Lock the item against retention and deletion (idempotent; audited)."""
        now = self._clock()
        item = await self._change(
            evidence_id, lambda item: None if item.locked else item.with_lock(actor, now)
        )
        await self._record("evidence.lock", actor, evidence_id, ip=ip)
        return item

    async def unlock(self, evidence_id: str, *, actor: str, ip: str | None = None) -> EvidenceItem:
        """Release the lock (idempotent; audited)."""
        item = await self._change(
            evidence_id, lambda item: item.without_lock() if item.locked else None
        )
        await self._record("evidence.unlock", actor, evidence_id, ip=ip)
        return item

    async def delete(self, evidence_id: str, *, actor: str, ip: str | None = None) -> None:
        """Delete the item and its object; audited.

        Raises:
            NotFoundError: No evidence has the id.
            ConflictError: The item is locked (audited as ``denied``).
        """
        item = await self._repository.get(evidence_id)
        try:
            if item.locked:
                raise ConflictError(f"evidence {evidence_id} is locked; unlock it first")
            await self._repository.delete(evidence_id)
        except ConflictError as exc:
            await self._record("evidence.delete", actor, evidence_id, "denied", ip, reason=str(exc))
            raise
        await self._blobs.delete(item.storage_key)
        await self._record("evidence.delete", actor, evidence_id, ip=ip, sha256=item.sha256)

    async def purge_expired(self, retention_days: float) -> int:
        """Delete unlocked evidence older than ``retention_days``; each audited as ``system``.

        Returns:
            How many items were deleted.

        Raises:
            ValidationError: ``retention_days`` is not in (0, 36500].
        """
        if not (math.isfinite(retention_days) and 0 < retention_days <= 36_500):
            raise ValidationError(f"retention_days must be in (0, 36500], got {retention_days}")
        cutoff = self._clock() - timedelta(days=retention_days)
        expired = await all_pages(
            lambda offset: self._repository.list(
                created_before=cutoff, locked=False, limit=MAX_PAGE, offset=offset
            )
        )
        purged = 0
        for item in expired:
            try:
                await self._repository.delete(item.id)
            except (ConflictError, NotFoundError):
                continue  # locked or deleted meanwhile
            await self._blobs.delete(item.storage_key)
            await self._record(
                "evidence.purge",
                "system",
                item.id,
                retention_days=retention_days,
                sha256=item.sha256,
            )
            purged += 1
        return purged

    # --- key rotation --------------------------------------------------------------------------

    async def rewrap(self, *, actor: str) -> int:
        """Re-wrap every data key not under the current master key; ciphertext is untouched.

        Each item is verified first (a tampered item is never re-signed), its
        data key wrapped under the current key, and its metadata, whose ``kid``
        and ``wrapped_key`` changed, signed again with the same DEK-derived HMAC
        key. Each item is audited as ``evidence.rewrap``.

        Returns:
            How many items were re-wrapped.

        Raises:
            IntegrityError: Some items failed their check (after all others were
                re-wrapped); they keep their old key, and the message names them.
        """
        current = self._keyring.current_kid
        items = await all_pages(lambda offset: self._repository.list(limit=MAX_PAGE, offset=offset))
        done, failed = 0, []
        for item in items:
            if item.kid == current:
                continue
            try:
                done += await self._rewrap_one(item.id, actor)
            except IntegrityError as exc:
                failed.append(item.id)
                await self._record("evidence.rewrap", actor, item.id, "failure", reason=str(exc))
        if failed:
            raise IntegrityError(
                f"re-wrapped {done} evidence item(s); {len(failed)} failed their integrity check "
                f"and keep their old key: {', '.join(failed[:20])}"
            )
        return done

    async def _rewrap_one(self, evidence_id: str, actor: str) -> int:
        for attempt in range(_ATTEMPTS):
            item, ciphertext, _ = await self._fetch(evidence_id)
            if item.kid == self._keyring.current_kid:
                return 0
            draft = item.rewrapped(*self._keyring.rewrap(item))
            signed = replace(draft, hmac=self._keyring.mac(draft, ciphertext))
            try:
                await self._repository.update(signed)
            except ConflictError:
                if attempt == _ATTEMPTS - 1:
                    raise
                continue
            await self._record("evidence.rewrap", actor, item.id, old_kid=item.kid, kid=signed.kid)
            return 1
        raise AssertionError("unreachable")  # pragma: no cover

    # --- export --------------------------------------------------------------------------------

    async def _audit_excerpt(self, items: Iterable[EvidenceItem]) -> builtins.list[AuditRecord]:
        """The audit records on the items, their alerts and their incidents, by ``seq``."""
        targets: set[str] = set()
        for item in items:
            targets.add(item.target)
            if item.alert_id is not None:
                targets.add(f"alert:{item.alert_id}")
            if item.incident_id is not None:
                targets.add(f"incident:{item.incident_id}")
        found: dict[int, AuditRecord] = {}
        for target in sorted(targets):
            after = 0
            while True:
                page = await self._audit.records(after_seq=after, limit=1000, target=target)
                if not page:
                    break
                found.update((record.seq, record) for record in page)
                after = page[-1].seq
        return [found[seq] for seq in sorted(found)]

    async def export(
        self,
        ids: Sequence[str],
        *,
        actor: str,
        audit_records: Sequence[AuditRecord] | None = None,
        ip: str | None = None,
    ) -> bytes:
        """A signed zip bundle of the verified, decrypted items, their metadata and audit trail.

        Args:
            ids: The items, in bundle order (duplicates are dropped).
            actor: Who exports (recorded in the manifest and the audit trail).
            audit_records: The audit excerpt to include; ``None`` takes every
                record on the items, their alerts and their incidents.
            ip: The client address, for the audit trail.

        Raises:
            ValidationError: No ids, or more than ``MAX_EXPORT``.
            NotFoundError: An id is unknown.
            IntegrityError: An item failed its check; nothing is exported.
        """
        wanted = list(dict.fromkeys(ids))
        if not 1 <= len(wanted) <= MAX_EXPORT:
            raise ValidationError(f"export 1 to {MAX_EXPORT} evidence items, not {len(wanted)}")
        loaded = [
            await self._audited_fetch("evidence.export", evidence_id, actor, ip)
            for evidence_id in wanted
        ]
        records = audit_records
        if records is None:
            records = await self._audit_excerpt(item for item, _, _ in loaded)
        audit_json = (
            json.dumps({"records": [_record_dict(r) for r in records]}, indent=2, sort_keys=True)
            + "\n"
        ).encode()
        files: dict[str, bytes] = {}
        entries = []
        for item, _, plaintext in loaded:
            name = f"evidence/{item.id}{_EXTENSIONS.get(item.content_type, '.bin')}"
            files[name] = plaintext
            file = BundleFile(name, item.sha256, item.size)
            entries.append(BundleItem(file, item.public_dict()))
        manifest = BundleManifest(
            created_at=self._clock(),
            exporter=actor,
            public_key=self._signer.public_key,
            items=tuple(entries),
            audit=BundleFile(BUNDLE_AUDIT_FILE, _sha256(audit_json), len(audit_json)),
        )
        manifest_json = manifest.to_json()
        signature = self._signer.sign(bundle_signing_payload(manifest_json))
        members = {
            BUNDLE_MANIFEST_FILE: manifest_json,
            BUNDLE_SIGNATURE_FILE: signature.hex().encode() + b"\n",
            BUNDLE_AUDIT_FILE: audit_json,
        }
        bundle, digest = await asyncio.to_thread(_zip, members, files)
        for item, _, _ in loaded:
            await self._record(
                "evidence.export", actor, item.id, ip=ip, bundle_sha256=digest, items=len(loaded)
            )
        return bundle


def _zip(members: Mapping[str, bytes], files: Mapping[str, bytes]) -> tuple[bytes, str]:
    """The bundle (JSON members compressed, evidence files stored as they are) and its sha256."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
        for name, data in files.items():
            # Snapshots and clips are compressed already; storing them keeps export cheap.
            archive.writestr(name, data, compress_type=zipfile.ZIP_STORED)
    bundle = buffer.getvalue()
    return bundle, _sha256(bundle)


# --- offline verification -----------------------------------------------------------------------


_MAX_MANIFEST = 64 * 1024 * 1024
"""Largest ``manifest.json`` or ``manifest.sig`` read (guards against a zip bomb)."""


def _read_member(
    archive: zipfile.ZipFile, name: str, *, size: int | None = None, most: int = _MAX_MANIFEST
) -> bytes:
    """One member's bytes (``KeyError`` when missing; ``ValueError`` when unreadable, not of
    ``size`` bytes, or larger than ``most``)."""
    info = archive.getinfo(name)
    if size is not None and info.file_size != size:
        raise ValueError(f"holds {info.file_size} bytes, the manifest says {size}")
    if size is None and info.file_size > most:
        raise ValueError(f"{name} is {info.file_size} bytes, more than {most}")
    try:
        return archive.read(info)
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError, NotImplementedError) as exc:
        raise ValueError(f"unreadable ({exc})") from exc


def _check_signature(manifest: BundleManifest, raw: bytes, signature_text: bytes) -> BundleCheck:
    try:
        signature = bytes.fromhex(signature_text.decode("ascii").strip())
        Ed25519PublicKey.from_public_bytes(manifest.public_key).verify(
            signature, bundle_signing_payload(raw)
        )
    except (InvalidSignature, ValueError, UnicodeDecodeError):
        return BundleCheck("signature", False, "manifest.sig does not verify under the key")
    return BundleCheck("signature", True, f"Ed25519, key {key_fingerprint(manifest.public_key)}")


def _check_files(archive: zipfile.ZipFile, manifest: BundleManifest) -> list[BundleCheck]:
    checks: list[BundleCheck] = []
    for file in manifest.files:
        name = f"file {file.name}"
        try:
            data = _read_member(archive, file.name, size=file.size)
        except KeyError:
            checks.append(BundleCheck(name, False, "missing from the bundle"))
            continue
        except ValueError as exc:
            checks.append(BundleCheck(name, False, str(exc)))
            continue
        ok = _sha256(data) == file.sha256
        checks.append(BundleCheck(name, ok, "sha256 matches" if ok else "sha256 differs"))
    for item in manifest.items:
        evidence_id = item.evidence.get("id", "?")
        ok = (item.evidence.get("sha256"), item.evidence.get("size")) == (
            item.file.sha256,
            item.file.size,
        )
        detail = "plaintext sha256 recorded at capture matches" if ok else "sha256 differs"
        checks.append(BundleCheck(f"evidence {evidence_id}", ok, detail))
    listed = {file.name for file in manifest.files} | {BUNDLE_MANIFEST_FILE, BUNDLE_SIGNATURE_FILE}
    names = archive.namelist()
    extra = sorted(set(names) - listed)
    duplicates = len(names) != len(set(names))
    checks.append(
        BundleCheck(
            "contents",
            not extra and not duplicates,
            f"unlisted files: {', '.join(extra)}"
            if extra
            else ("duplicate entries" if duplicates else "no unlisted files"),
        )
    )
    return checks


def verify_bundle(data: bytes, public_key: bytes | None = None) -> BundleReport:
    """Check an export bundle offline: signature, every file's hash, every item's sha256.

    Args:
        data: The zip bundle.
        public_key: The installation key the bundle must be signed with; ``None``
            accepts the key in the manifest (the signature then proves only that
            the bundle is unchanged since whoever holds that key signed it).

    Returns:
        Every check made; ``report.ok`` when all passed.
    """
    checks: list[BundleCheck] = []
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError) as exc:
        return BundleReport((BundleCheck("zip", False, f"not a zip file ({exc})"),))
    with archive:
        try:
            raw = _read_member(archive, BUNDLE_MANIFEST_FILE)
            signature = _read_member(archive, BUNDLE_SIGNATURE_FILE)
        except (KeyError, ValueError) as exc:
            return BundleReport((BundleCheck("manifest", False, f"missing or unreadable: {exc}"),))
        try:
            manifest = BundleManifest.from_json(raw)
        except ValidationError as exc:
            return BundleReport((BundleCheck("manifest", False, str(exc)),))
        fingerprint = key_fingerprint(manifest.public_key)
        checks.append(
            BundleCheck(
                "manifest",
                True,
                f"{len(manifest.items)} item(s) exported by {manifest.exporter} "
                f"at {manifest.created_at.isoformat()}",
            )
        )
        if public_key is not None:
            pinned = hmac.compare_digest(public_key, manifest.public_key)
            detail = (
                f"signed with the expected key {fingerprint}"
                if pinned
                else f"signed with key {fingerprint}, expected {key_fingerprint(public_key)}"
            )
            checks.append(BundleCheck("public key", pinned, detail))
        checks.append(_check_signature(manifest, raw, signature))
        checks += _check_files(archive, manifest)
    return BundleReport(tuple(checks), fingerprint, len(manifest.items))

"""Export bundles: a signed zip of verified evidence, its metadata and its audit trail.

A bundle holds ``manifest.json`` (every item's public metadata and file hash,
the audit excerpt's hash, the exporter and the public key), ``manifest.sig``
(Ed25519 over the manifest), ``audit.json`` and the decrypted files under
``evidence/``. ``evidence_bundle_check.verify_bundle`` checks one offline.
"""

from __future__ import annotations

import asyncio
import io
import json
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime

from argus.domain.actor import Actor
from argus.domain.audit import AuditRecord
from argus.domain.errors import ValidationError
from argus.domain.evidence import (
    BUNDLE_AUDIT_FILE,
    BUNDLE_MANIFEST_FILE,
    BUNDLE_SIGNATURE_FILE,
    BundleFile,
    BundleItem,
    BundleManifest,
    EvidenceItem,
    bundle_signing_payload,
)
from argus.ports.audit import AuditLog
from argus.ports.evidence import BundleSigner
from argus.services.evidence_vault import EvidenceVault, Fetched, sha256_hex

__all__ = ["MAX_EXPORT", "audit_excerpt", "export_bundle", "pack_bundle"]

MAX_EXPORT = 1000
"""Most items one bundle may hold."""

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


async def audit_excerpt(audit: AuditLog, items: Iterable[EvidenceItem]) -> list[AuditRecord]:
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
            page = await audit.records(after_seq=after, limit=1000, target=target)
            if not page:
                break
            found.update((record.seq, record) for record in page)
            after = page[-1].seq
    return [found[seq] for seq in sorted(found)]


def pack_bundle(
    loaded: Sequence[Fetched],
    records: Sequence[AuditRecord],
    *,
    exporter: str,
    signer: BundleSigner,
    created_at: datetime,
) -> tuple[bytes, str]:
    """The signed bundle of ``loaded`` with ``records`` as its audit excerpt, and its sha256.

    CPU-bound (hashing and zipping every file): run it off the event loop.
    """
    audit_json = (
        json.dumps({"records": [r.to_dict() for r in records]}, indent=2, sort_keys=True) + "\n"
    ).encode()
    files: dict[str, bytes] = {}
    entries = []
    for fetched in loaded:
        item = fetched.item
        name = f"evidence/{item.id}{_EXTENSIONS.get(item.content_type, '.bin')}"
        files[name] = fetched.plaintext
        entries.append(BundleItem(BundleFile(name, item.sha256, item.size), item.public_dict()))
    manifest = BundleManifest(
        created_at=created_at,
        exporter=exporter,
        public_key=signer.public_key,
        items=tuple(entries),
        audit=BundleFile(BUNDLE_AUDIT_FILE, sha256_hex(audit_json), len(audit_json)),
    )
    manifest_json = manifest.to_json()
    signature = signer.sign(bundle_signing_payload(manifest_json))
    members = {
        BUNDLE_MANIFEST_FILE: manifest_json,
        BUNDLE_SIGNATURE_FILE: signature.hex().encode() + b"\n",
        BUNDLE_AUDIT_FILE: audit_json,
    }
    return _zip(members, files)


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
    return bundle, sha256_hex(bundle)


async def export_bundle(
    vault: EvidenceVault,
    signer: BundleSigner,
    ids: Sequence[str],
    *,
    actor: Actor,
    audit_records: Sequence[AuditRecord] | None,
    created_at: datetime,
) -> bytes:
    """``EvidenceService.export``: verify and load the items, pack and sign, audit each item."""
    wanted = list(dict.fromkeys(ids))
    if not 1 <= len(wanted) <= MAX_EXPORT:
        raise ValidationError(f"export 1 to {MAX_EXPORT} evidence items, not {len(wanted)}")
    for evidence_id in wanted:
        await vault.visible(evidence_id, actor)
    loaded = [
        await vault.audited_fetch("evidence.export", evidence_id, actor) for evidence_id in wanted
    ]
    records = audit_records
    if records is None:
        records = await audit_excerpt(vault.audit, (fetched.item for fetched in loaded))
    bundle, digest = await asyncio.to_thread(
        pack_bundle,
        loaded,
        records,
        exporter=actor.audit_name,
        signer=signer,
        created_at=created_at,
    )
    for fetched in loaded:
        await vault.record(
            "evidence.export", actor, fetched.item.id, bundle_sha256=digest, items=len(loaded)
        )
    return bundle

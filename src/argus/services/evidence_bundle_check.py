"""Offline verification of an export bundle: nothing but the bundle and, optionally, a key.

``verify_bundle`` checks the manifest's Ed25519 signature (under the key in
the manifest, or the one expected), every file's size and sha256, every item's
recorded plaintext hash, and that the zip holds nothing unlisted. It never
raises on a bad bundle: every finding is a ``BundleCheck`` in the report.
"""

from __future__ import annotations

import hmac
import io
import zipfile
import zlib

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from argus.domain.errors import ValidationError
from argus.domain.evidence import (
    BUNDLE_MANIFEST_FILE,
    BUNDLE_SIGNATURE_FILE,
    BundleCheck,
    BundleManifest,
    BundleReport,
    bundle_signing_payload,
    key_fingerprint,
)
from argus.services.evidence_vault import sha256_hex

__all__ = ["verify_bundle"]


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
        ok = sha256_hex(data) == file.sha256
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

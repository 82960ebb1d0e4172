"""Evidence: encrypted, tamper-evident snapshots and clips, and the signed export bundle.

An ``EvidenceItem`` is the metadata of one stored object; the object itself is
ciphertext in a blob store. Each object is sealed under its own data key (an
envelope): the plaintext is encrypted with AES-256-GCM under a random data key
(DEK), the DEK is wrapped under a master key named by ``kid``, and an
HMAC-SHA256 keyed from the DEK covers the ciphertext and ``signed_metadata``.
The sha256 of the plaintext is kept for chain of custody.

What the HMAC covers, exactly (``SIGNED_FIELDS``): the id, kind, content
type, creation time, size, plaintext sha256, storage key, the alert, incident
and camera it belongs to, who stored it, the master key id, the wrapped key
and the nonce. Everything that says *what* the evidence is and *where* it came
from is covered, so a row edited in the database or two objects swapped in
storage fail verification. Not covered: the HMAC itself, the lock (``locked``,
``locked_by``, ``locked_at``) and ``version``, which change over the item's
life without touching the evidence. Re-wrapping under a new master key
changes ``kid`` and ``wrapped_key``, so it re-signs the metadata with the same
DEK-derived key after verifying the old signature.

An export bundle is a zip: ``manifest.json`` (``BundleManifest``), the
decrypted files, ``audit.json`` and ``manifest.sig``, an Ed25519 signature
over ``bundle_signing_payload(manifest.json)``. The manifest lists the sha256
of every other file, so the signature covers them all.
"""

from argus.domain.evidence.bundle import (
    BUNDLE_AUDIT_FILE,
    BUNDLE_FORMAT,
    BUNDLE_MANIFEST_FILE,
    BUNDLE_SIGNATURE_FILE,
    BundleCheck,
    BundleFile,
    BundleItem,
    BundleManifest,
    BundleReport,
    bundle_signing_payload,
)
from argus.domain.evidence.checks import (
    check_blob_key,
    check_blob_prefix,
    check_kid,
    key_fingerprint,
)
from argus.domain.evidence.item import (
    EVIDENCE_KINDS,
    SIGNED_FIELDS,
    EvidenceItem,
    EvidenceKind,
    signed_metadata,
)

__all__ = [
    "BUNDLE_AUDIT_FILE",
    "BUNDLE_FORMAT",
    "BUNDLE_MANIFEST_FILE",
    "BUNDLE_SIGNATURE_FILE",
    "EVIDENCE_KINDS",
    "SIGNED_FIELDS",
    "BundleCheck",
    "BundleFile",
    "BundleItem",
    "BundleManifest",
    "BundleReport",
    "EvidenceItem",
    "EvidenceKind",
    "bundle_signing_payload",
    "check_blob_key",
    "check_blob_prefix",
    "check_kid",
    "key_fingerprint",
    "signed_metadata",
]

"""The signed export bundle: its manifest, its files, and the report of its verification.

An export bundle is a zip: ``manifest.json`` (``BundleManifest``), the
decrypted files, ``audit.json`` and ``manifest.sig``, an Ed25519 signature
over ``bundle_signing_payload(manifest.json)``. The manifest lists the sha256
of every other file, so the signature covers them all.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Self

from argus.domain.checks import aware_utc, text
from argus.domain.codec import hex_bytes, iso_z, parse_time
from argus.domain.errors import ValidationError
from argus.domain.evidence.checks import (
    check_blob_key,
    check_bytes,
    check_count,
    check_sha256_hex,
    key_fingerprint,
)

__all__ = [
    "BUNDLE_AUDIT_FILE",
    "BUNDLE_FORMAT",
    "BUNDLE_MANIFEST_FILE",
    "BUNDLE_SIGNATURE_FILE",
    "BundleCheck",
    "BundleFile",
    "BundleItem",
    "BundleManifest",
    "BundleReport",
    "bundle_signing_payload",
]

_SIGNING_LABEL = b"argus evidence bundle v1\n"

BUNDLE_FORMAT = "argus-evidence-bundle/1"
BUNDLE_MANIFEST_FILE = "manifest.json"
BUNDLE_SIGNATURE_FILE = "manifest.sig"
BUNDLE_AUDIT_FILE = "audit.json"


def bundle_signing_payload(manifest: bytes) -> bytes:
    """What ``manifest.sig`` signs: a label and the exact bytes of ``manifest.json``."""
    return _SIGNING_LABEL + manifest


@dataclass(frozen=True, slots=True)
class BundleFile:
    """One file of a bundle, by name, sha256 and size.

    Attributes:
        name: Path inside the zip.
        sha256: Hex sha256 of its bytes.
        size: Its length in bytes.
    """

    name: str
    sha256: str
    size: int

    def __post_init__(self) -> None:
        check_blob_key(self.name)
        check_sha256_hex(self.sha256, "sha256")
        check_count(self.size, "size")

    def to_dict(self) -> dict[str, Any]:
        """The JSON-ready form."""
        return {"file": self.name, "sha256": self.sha256, "size": self.size}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Parse ``to_dict``'s output (``KeyError``/``TypeError`` when malformed)."""
        return cls(name=data["file"], sha256=data["sha256"], size=data["size"])


@dataclass(frozen=True, slots=True)
class BundleItem:
    """One evidence item of a bundle: its decrypted file and its metadata.

    Attributes:
        file: The decrypted file.
        evidence: The item's ``public_dict``; its ``sha256`` and ``size`` must
            match the file's.
    """

    file: BundleFile
    evidence: Mapping[str, Any]

    def to_dict(self) -> dict[str, Any]:
        """The JSON-ready form."""
        return {**self.file.to_dict(), "evidence": dict(self.evidence)}


@dataclass(frozen=True, slots=True)
class BundleManifest:
    """The signed table of contents of an export bundle.

    Attributes:
        created_at: When the bundle was made (UTC).
        exporter: Who exported it.
        public_key: The installation's Ed25519 public key (32 raw bytes).
        items: The evidence files.
        audit: The audit excerpt file.
        format: ``BUNDLE_FORMAT``.
    """

    created_at: datetime
    exporter: str
    public_key: bytes
    items: tuple[BundleItem, ...]
    audit: BundleFile
    format: str = BUNDLE_FORMAT

    def __post_init__(self) -> None:
        object.__setattr__(self, "created_at", aware_utc(self.created_at, "created_at"))
        text(self.exporter, "exporter", 200)
        check_bytes(self.public_key, "public_key", range(32, 33))
        if self.format != BUNDLE_FORMAT:
            raise ValidationError(f"unknown bundle format {self.format!r}")
        names = [item.file.name for item in self.items] + [self.audit.name]
        reserved = {BUNDLE_MANIFEST_FILE, BUNDLE_SIGNATURE_FILE}
        if len(set(names)) != len(names) or reserved & set(names):
            raise ValidationError("bundle file names must be unique and not reserved")

    @property
    def files(self) -> tuple[BundleFile, ...]:
        """Every file the manifest lists (evidence, then the audit excerpt)."""
        return (*(item.file for item in self.items), self.audit)

    def to_json(self) -> bytes:
        """The bytes of ``manifest.json`` (indented, sorted keys, UTF-8)."""
        data = {
            "format": self.format,
            "created_at": iso_z(self.created_at),
            "exporter": self.exporter,
            "public_key": self.public_key.hex(),
            "key_fingerprint": key_fingerprint(self.public_key),
            "items": [item.to_dict() for item in self.items],
            "audit": self.audit.to_dict(),
        }
        return json.dumps(data, indent=2, sort_keys=True).encode() + b"\n"

    @classmethod
    def from_json(cls, raw: bytes) -> Self:
        """Parse ``manifest.json``.

        Raises:
            ValidationError: Not JSON, or not a manifest of a known format.
        """
        try:
            data = json.loads(raw)
            items = tuple(
                BundleItem(BundleFile.from_dict(entry), dict(entry["evidence"]))
                for entry in data["items"]
            )
            return cls(
                format=data["format"],
                created_at=parse_time(data["created_at"], "created_at"),
                exporter=data["exporter"],
                public_key=hex_bytes(data["public_key"], "public_key"),
                items=items,
                audit=BundleFile.from_dict(data["audit"]),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            if isinstance(exc, ValidationError):
                raise
            raise ValidationError(f"not an evidence bundle manifest: {exc!r}") from exc


@dataclass(frozen=True, slots=True)
class BundleCheck:
    """One check of a bundle's verification.

    Attributes:
        name: What was checked, e.g. ``signature`` or ``file evidence/01H....jpg``.
        ok: Whether it passed.
        detail: Why it failed, or what it found.
    """

    name: str
    ok: bool
    detail: str = ""


@dataclass(frozen=True, slots=True)
class BundleReport:
    """The outcome of verifying an export bundle.

    Attributes:
        checks: Every check, in the order made.
        fingerprint: The fingerprint of the key that signed the manifest, if readable.
        items: How many evidence items the manifest lists.
    """

    checks: tuple[BundleCheck, ...]
    fingerprint: str | None = None
    items: int = 0

    @property
    def ok(self) -> bool:
        """Whether every check passed (and there was at least one)."""
        return bool(self.checks) and all(check.ok for check in self.checks)

    @property
    def failures(self) -> tuple[BundleCheck, ...]:
        """The checks that failed."""
        return tuple(check for check in self.checks if not check.ok)

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

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Literal, Self, get_args

from argus.domain.checks import aware_utc, text
from argus.domain.errors import ValidationError

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

EvidenceKind = Literal["snapshot", "clip", "frame", "document"]
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
_SIGNING_LABEL = b"argus evidence bundle v1\n"
_KID = re.compile(r"[A-Za-z0-9_.-]{1,64}")
_SHA256 = re.compile(r"[0-9a-f]{64}")
_CONTENT_TYPE = re.compile(r"[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*")
_MAX_KEY = 1024
_HMAC_SIZE = 32

BUNDLE_FORMAT = "argus-evidence-bundle/1"
BUNDLE_MANIFEST_FILE = "manifest.json"
BUNDLE_SIGNATURE_FILE = "manifest.sig"
BUNDLE_AUDIT_FILE = "audit.json"


def check_kid(kid: object) -> str:
    """A master key id: 1-64 letters, digits, ``_``, ``.`` or ``-``."""
    if not isinstance(kid, str) or not _KID.fullmatch(kid):
        raise ValidationError(f"a key id must be 1-64 of [A-Za-z0-9_.-], got {kid!r}")
    return kid


def check_blob_prefix(prefix: object) -> str:
    """A key prefix for listing: a key's start (may be empty), with the key's character rules."""
    if not isinstance(prefix, str) or len(prefix) > _MAX_KEY:
        raise ValidationError(f"a blob key prefix must be a string of at most {_MAX_KEY} chars")
    if prefix.startswith("/") or any(c == "\\" or ord(c) < 0x20 for c in prefix):
        raise ValidationError(
            f"blob key prefix {prefix!r} starts with '/' or holds a backslash or control character"
        )
    if any(part.startswith(".") for part in prefix.split("/")):
        raise ValidationError(f"blob key prefix {prefix!r} has a part starting with '.'")
    return prefix


def check_blob_key(key: object) -> str:
    """A blob key: ``/``-separated parts, none empty or starting with a dot.

    That rules out ``..`` and ``.`` (path traversal), a leading ``/``
    (absolute paths) and hidden names; backslashes, NUL and other control
    characters are refused too, so a key means the same on every store.

    Raises:
        ValidationError: The key breaks one of these rules.
    """
    check_blob_prefix(key)
    assert isinstance(key, str)
    if not key or any(not part or part.startswith(".") for part in key.split("/")):
        raise ValidationError(
            f"blob key {key!r} is empty or has an empty part or one starting with '.'"
        )
    return key


def key_fingerprint(public_key: bytes) -> str:
    """A short fingerprint of a public key: the first 16 bytes of its sha256, hex in pairs."""
    digest = hashlib.sha256(public_key).hexdigest()[:32]
    return ":".join(digest[i : i + 4] for i in range(0, 32, 4))


def _sha256_hex(value: object, where: str) -> str:
    if not isinstance(value, str) or not _SHA256.fullmatch(value):
        raise ValidationError(f"{where} must be 64 lowercase hex digits")
    return value


def _bytes(value: object, where: str, sizes: range) -> bytes:
    if not isinstance(value, bytes) or len(value) not in sizes:
        raise ValidationError(f"{where} must be bytes of length in [{sizes.start}, {sizes.stop})")
    return value


def _optional_id(value: object, where: str) -> str | None:
    return None if value is None else text(value, where, 200)


def _count(value: object, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValidationError(f"{where} must be an integer >= 0, got {value!r}")
    return value


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="microseconds").replace("+00:00", "Z")


def _time(value: object, where: str) -> datetime:
    if not isinstance(value, str):
        raise ValidationError(f"{where} must be an ISO 8601 time, got {value!r}")
    try:
        return aware_utc(datetime.fromisoformat(value), where)
    except ValueError as exc:
        raise ValidationError(f"{where} must be an ISO 8601 time, got {value!r}") from exc


def _hex(value: object, where: str) -> bytes:
    if not isinstance(value, str):
        raise ValidationError(f"{where} must be a hex string")
    try:
        return bytes.fromhex(value)
    except ValueError as exc:
        raise ValidationError(f"{where} must be a hex string") from exc


def _kind(value: object) -> EvidenceKind:
    for kind in EVIDENCE_KINDS:
        if value == kind:
            return kind
    raise ValidationError(f"unknown evidence kind {value!r}; expected one of {EVIDENCE_KINDS}")


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
        _kind(self.kind)
        if not isinstance(self.content_type, str) or not _CONTENT_TYPE.fullmatch(self.content_type):
            raise ValidationError(f"content_type {self.content_type!r} is not a media type")
        text(self.content_type, "content_type", 200)
        object.__setattr__(self, "created_at", aware_utc(self.created_at, "created_at"))
        _count(self.size, "size")
        _sha256_hex(self.sha256, "sha256")
        check_blob_key(self.storage_key)
        check_kid(self.kid)
        _bytes(self.wrapped_key, "wrapped_key", range(1, 1025))
        _bytes(self.nonce, "nonce", range(1, 65))
        if not isinstance(self.hmac, bytes) or len(self.hmac) not in (0, _HMAC_SIZE):
            raise ValidationError(f"hmac must be {_HMAC_SIZE} bytes")
        for key in ("alert_id", "incident_id", "camera_id"):
            _optional_id(getattr(self, key), key)
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
            "created_at": _iso(self.created_at),
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
            "locked_at": None if self.locked_at is None else _iso(self.locked_at),
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
                kind=_kind(data["kind"]),
                content_type=data["content_type"],
                created_at=_time(data["created_at"], "created_at"),
                size=data["size"],
                sha256=data["sha256"],
                storage_key=data["storage_key"],
                kid=data["kid"],
                wrapped_key=_hex(data["wrapped_key"], "wrapped_key"),
                nonce=_hex(data["nonce"], "nonce"),
                hmac=_hex(data["hmac"], "hmac"),
                alert_id=data["alert_id"],
                incident_id=data["incident_id"],
                camera_id=data["camera_id"],
                created_by=data["created_by"],
                locked=data["locked"],
                locked_by=data["locked_by"],
                locked_at=None if locked_at is None else _time(locked_at, "locked_at"),
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


# --- the export bundle ------------------------------------------------------------------------


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
        _sha256_hex(self.sha256, "sha256")
        _count(self.size, "size")

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
        _bytes(self.public_key, "public_key", range(32, 33))
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
            "created_at": _iso(self.created_at),
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
                created_at=_time(data["created_at"], "created_at"),
                exporter=data["exporter"],
                public_key=_hex(data["public_key"], "public_key"),
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

"""Value checks of evidence: master key ids, blob keys, digests, sizes and key fingerprints."""

from __future__ import annotations

import hashlib
import re

from argus.domain.errors import ValidationError

__all__ = [
    "check_blob_key",
    "check_blob_prefix",
    "check_bytes",
    "check_count",
    "check_kid",
    "check_sha256_hex",
    "key_fingerprint",
]

_KID = re.compile(r"[A-Za-z0-9_.-]{1,64}")
_SHA256 = re.compile(r"[0-9a-f]{64}")
_MAX_KEY = 1024


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


def check_sha256_hex(value: object, where: str) -> str:
    """A sha256 digest as 64 lowercase hex digits."""
    if not isinstance(value, str) or not _SHA256.fullmatch(value):
        raise ValidationError(f"{where} must be 64 lowercase hex digits")
    return value


def check_bytes(value: object, where: str, sizes: range) -> bytes:
    """Bytes whose length is in ``sizes``."""
    if not isinstance(value, bytes) or len(value) not in sizes:
        raise ValidationError(f"{where} must be bytes of length in [{sizes.start}, {sizes.stop})")
    return value


def check_count(value: object, where: str) -> int:
    """An integer >= 0 (not a bool)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValidationError(f"{where} must be an integer >= 0, got {value!r}")
    return value

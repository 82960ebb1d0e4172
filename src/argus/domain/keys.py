"""``derive_key``: one 32-byte key per purpose, derived from one secret.

Argus keys tokens, MFA secrets, recovery codes, camera credentials, evidence
MACs and signatures, and the audit chain from one installation secret (or,
for evidence MACs, from a data key). Each purpose has its own label, so no two
purposes share a key. The derivation is HKDF-SHA256 (RFC 5869) without salt,
written out with the standard library: a 32-byte output is one block of
HKDF-Expand, so it is byte-identical to ``cryptography``'s ``HKDF`` with
``length=32, salt=None``, which made the keys already stored.
"""

from __future__ import annotations

import hashlib
import hmac

__all__ = ["KEY_SIZE", "derive_key"]

KEY_SIZE = 32
"""Bytes of a derived key (one SHA-256 output)."""

_ZERO_SALT = bytes(hashlib.sha256().digest_size)


def derive_key(secret: bytes, label: str) -> bytes:
    """The 32-byte key for the purpose ``label``, derived from ``secret`` (HKDF-SHA256).

    Args:
        secret: The input key material (the installation secret, or a data key).
        label: The purpose, e.g. ``argus access tokens v1`` (HKDF's ``info``).

    Returns:
        ``HKDF-Expand(HKDF-Extract(zero salt, secret), label, 32)``.
    """
    prk = hmac.digest(_ZERO_SALT, secret, "sha256")
    return hmac.digest(prk, label.encode() + b"\x01", "sha256")

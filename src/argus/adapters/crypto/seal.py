"""Evidence sealed on an edge node: AES-256-GCM under the node's evidence key.

A node seals each snapshot or clip before it enters the outbox, so the
evidence sits encrypted on the node's disk and travels encrypted inside the
sync batch, whatever the transport does. The control plane opens it with the
same key (made at the node's first registration, ``RegistrationReply.
evidence_key``) and then stores it in its own evidence vault under its own
keys.

The associated data binds the ciphertext to its identity
(``evidence_aad``: evidence id, node, camera, kind), so a blob moved onto
another evidence record, node or camera does not open. The SHA-256 of the
plaintext travels beside it and is checked after decryption: a second,
independent check the server also records in the vault.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from argus.domain.edge import SealedBlob
from argus.domain.errors import IntegrityError

__all__ = ["KEY_SIZE", "NONCE_SIZE", "evidence_aad", "open_sealed", "seal"]

KEY_SIZE = 32
"""Bytes of an evidence key (AES-256)."""

NONCE_SIZE = 12
"""Bytes of a GCM nonce (random per seal)."""


def _aead(key: bytes) -> AESGCM:
    if len(key) != KEY_SIZE:
        raise IntegrityError(f"an evidence key must be {KEY_SIZE} bytes, not {len(key)}")
    return AESGCM(key)


def evidence_aad(evidence_id: str, node_id: str, camera_id: str, kind: str) -> bytes:
    """The associated data of one edge evidence object: ``id|node|camera|kind``."""
    return f"{evidence_id}|{node_id}|{camera_id}|{kind}".encode()


def seal(key: bytes, data: bytes, aad: bytes) -> SealedBlob:
    """Encrypt ``data`` under ``key`` with a fresh random nonce, bound to ``aad``.

    Args:
        key: The node's 32-byte evidence key.
        data: The plaintext (a JPEG, an MP4 clip).
        aad: Associated data, normally ``evidence_aad(...)``.

    Returns:
        The nonce, ciphertext (with its tag) and plaintext SHA-256.

    Raises:
        IntegrityError: The key is not 32 bytes.
    """
    nonce = secrets.token_bytes(NONCE_SIZE)
    ciphertext = _aead(key).encrypt(nonce, data, aad)
    return SealedBlob(
        nonce=base64.b64encode(nonce).decode("ascii"),
        ciphertext=base64.b64encode(ciphertext).decode("ascii"),
        sha256=hashlib.sha256(data).hexdigest(),
    )


def open_sealed(key: bytes, blob: SealedBlob, aad: bytes) -> bytes:
    """The plaintext ``seal`` made, after checking its tag and its SHA-256.

    Args:
        key: The node's 32-byte evidence key.
        blob: What ``seal`` returned (as received).
        aad: The same associated data ``seal`` was given.

    Raises:
        IntegrityError: Wrong key or size, malformed base64, a nonce of the
            wrong size, a tag that does not verify (ciphertext or associated
            data altered), or a plaintext whose SHA-256 differs.
    """
    try:
        nonce = base64.b64decode(blob.nonce, validate=True)
        ciphertext = base64.b64decode(blob.ciphertext, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise IntegrityError("sealed evidence is not valid base64") from exc
    if len(nonce) != NONCE_SIZE:
        raise IntegrityError(f"sealed evidence has a {len(nonce)}-byte nonce, not {NONCE_SIZE}")
    try:
        data = _aead(key).decrypt(nonce, ciphertext, aad)
    except (InvalidTag, ValueError) as exc:
        raise IntegrityError(
            "sealed evidence does not decrypt: another key, or the ciphertext or its "
            "identity (evidence id, node, camera, kind) was altered"
        ) from exc
    if not hmac.compare_digest(hashlib.sha256(data).hexdigest(), blob.sha256.lower()):
        raise IntegrityError("sealed evidence decrypts, but its SHA-256 does not match")
    return data

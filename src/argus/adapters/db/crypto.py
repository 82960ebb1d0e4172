"""Encryption of camera credentials at rest (AES-256-GCM), and the secret key file.

The stored blob is ``version (1 byte) | nonce (12 bytes) | ciphertext+tag``.
The camera id is bound in as associated data, so a blob copied onto another
camera's row does not decrypt. The AES key is derived from the installation's
secret key with HKDF (SHA-256, a purpose label), so the same secret can key
other things (tokens, evidence) without reusing a key.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from argus.domain.cameras import Credentials
from argus.domain.errors import ConfigError, StorageError
from argus.domain.keys import derive_key

__all__ = [
    "FACE_THUMBNAILS_LABEL",
    "CredentialCipher",
    "RowCipher",
    "load_or_create_secret_key",
    "resolve_secret_key",
]

_VERSION = b"\x01"
CREDENTIALS_KEY_LABEL = "argus camera credentials v1"
FACE_THUMBNAILS_LABEL = "argus face thumbnails v1"
"""Face thumbnails are pictures of a face: sealed at rest (the descriptors are not)."""
"""The ``derive_key`` label of the camera-credentials key."""
_NONCE = 12
_MIN_SECRET = 16


class RowCipher:
    """AES-256-GCM under a key derived from the installation secret for one purpose.

    Each blob is ``version | nonce | ciphertext+tag`` and bound to one row (its id
    is the associated data), so a blob copied onto another row does not decrypt.

    Args:
        secret: The installation's secret key (at least 16 bytes; 32 random
            bytes recommended).
        label: The ``derive_key`` label of the purpose (one key per purpose).

    Raises:
        ConfigError: The secret is too short.
    """

    def __init__(self, secret: bytes, label: str) -> None:
        if len(secret) < _MIN_SECRET:
            raise ConfigError(f"the secret key must be at least {_MIN_SECRET} bytes")
        self._aead = AESGCM(derive_key(secret, label))

    def seal(self, plaintext: bytes, row: str) -> bytes:
        """Encrypt ``plaintext`` bound to ``row``."""
        nonce = secrets.token_bytes(_NONCE)
        return _VERSION + nonce + self._aead.encrypt(nonce, plaintext, row.encode())

    def open(self, blob: bytes, row: str, what: str) -> bytes:
        """Decrypt what ``seal`` made for the same ``row``.

        Raises:
            StorageError: Wrong secret, another row's blob, or a tampered one
                (named as ``what``).
        """
        if len(blob) < 1 + _NONCE + 16 or blob[:1] != _VERSION:
            raise StorageError(f"{what}: unknown format")
        try:
            return self._aead.decrypt(blob[1 : 1 + _NONCE], blob[1 + _NONCE :], row.encode())
        except InvalidTag as exc:
            raise StorageError(f"{what}: does not decrypt (was the secret key changed?)") from exc


class CredentialCipher:
    """Encrypts and decrypts camera ``Credentials`` (a ``RowCipher`` per camera id).

    Args:
        secret: The installation's secret key (at least 16 bytes; 32 random
            bytes recommended).

    Raises:
        ConfigError: The secret is too short.
    """

    def __init__(self, secret: bytes) -> None:
        self._rows = RowCipher(secret, CREDENTIALS_KEY_LABEL)

    def encrypt(self, credentials: Credentials, *, context: str) -> bytes:
        """Encrypt ``credentials`` bound to ``context`` (the camera id)."""
        plaintext = json.dumps(
            {"u": credentials.username, "p": credentials.password}, separators=(",", ":")
        ).encode()
        return self._rows.seal(plaintext, context)

    def decrypt(self, blob: bytes, *, context: str) -> Credentials:
        """Decrypt what ``encrypt`` made for the same ``context``.

        Raises:
            StorageError: Wrong key, wrong context, or a tampered blob.
        """
        what = f"stored credentials of {context}"
        try:
            raw = json.loads(self._rows.open(blob, context, what))
            return Credentials(username=raw["u"], password=raw["p"])
        except (ValueError, KeyError, TypeError) as exc:
            raise StorageError(f"{what}: unreadable") from exc


def load_or_create_secret_key(path: Path) -> bytes:
    """Read the secret key file, creating it (32 random bytes, mode 0600) on first use.

    The file holds the key as hex. Creation is exclusive, so two processes
    starting together agree on one key.

    Raises:
        ConfigError: The file exists but does not hold a valid key.
    """
    try:
        return _read_key(path)
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process won the race
        return _read_key(path)
    with os.fdopen(fd, "w", encoding="ascii") as file:
        file.write(secrets.token_hex(32) + "\n")
    return _read_key(path)


def _read_key(path: Path) -> bytes:
    text = path.read_text(encoding="ascii").strip()
    try:
        key = bytes.fromhex(text)
    except ValueError as exc:
        raise ConfigError(f"{path} does not hold a hex secret key") from exc
    if len(key) < _MIN_SECRET:
        raise ConfigError(f"{path} holds a secret key shorter than {_MIN_SECRET} bytes")
    return key


def resolve_secret_key(configured: str | None, data_dir: Path) -> bytes:
    """The secret key from settings, or the generated one under ``data_dir``.

    Args:
        configured: ``Settings.secret_key`` (its secret value), if set.
        data_dir: Where ``secret.key`` is kept when nothing is configured.

    Raises:
        ConfigError: The configured key is shorter than 16 bytes, or the key
            file is invalid.
    """
    if configured is not None:
        key = configured.encode()
        if len(key) < _MIN_SECRET:
            raise ConfigError(f"the secret key must be at least {_MIN_SECRET} bytes")
        return key
    return load_or_create_secret_key(data_dir / "secret.key")

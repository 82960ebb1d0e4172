"""A small file an edge node keeps sealed: AES-256-GCM under a key derived from its API key.

The node caches its registration (which holds its evidence key) and its
configuration (which holds its cameras' credentials) so that it starts and
keeps analysing while the control plane is unreachable. Both are sealed
with a key derived from the node's API key (HKDF-SHA256, label
``argus edge cache v1``) and bound to their purpose and node id (the GCM
associated data), so a copied disk without the key reveals nothing and a
cache moved to another node or purpose does not open.

Writes are atomic: a temporary file in the same directory, flushed to disk,
then renamed over the old one (and the directory synced), so a crash leaves
the old or the new content, never half of one. A file that does not open
(another API key, damaged) reads as absent, with a warning: the node then
waits for the control plane as on its first start.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from argus.domain.keys import derive_key

__all__ = ["CACHE_KEY_LABEL", "SealedFile"]

log = logging.getLogger(__name__)

CACHE_KEY_LABEL = "argus edge cache v1"
"""HKDF label of the caches' key, derived from the node's API key."""

_MAGIC = b"AEC1"
_NONCE = 12


class SealedFile:
    """One sealed file: ``load`` the plaintext or ``None``, ``save`` it atomically.

    Args:
        path: The file (its directory is created, for this account only).
        api_key: The node's API key.
        purpose: What the file holds (``config``, ``registration``), bound into the seal.
        node_id: The node it belongs to, bound into the seal.
    """

    def __init__(self, path: Path, api_key: str, *, purpose: str, node_id: str) -> None:
        self.path = path
        self._aead = AESGCM(derive_key(api_key.encode(), CACHE_KEY_LABEL))
        self._aad = f"{purpose}|{node_id}".encode()

    def load(self) -> bytes | None:
        """The saved plaintext, or ``None`` when there is none or it does not open."""
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError:
            log.warning("cannot read the cache %s", self.path, exc_info=True)
            return None
        if len(raw) < len(_MAGIC) + _NONCE + 16 or not raw.startswith(_MAGIC):
            log.warning("the cache %s is not a sealed cache; ignored", self.path)
            return None
        nonce = raw[len(_MAGIC) : len(_MAGIC) + _NONCE]
        try:
            return self._aead.decrypt(nonce, raw[len(_MAGIC) + _NONCE :], self._aad)
        except InvalidTag:
            log.warning(
                "the cache %s does not open (another API key, another node, or damaged); "
                "ignored until the control plane sends a new one",
                self.path,
            )
            return None

    def save(self, data: bytes) -> None:
        """Seal ``data`` and replace the file with it atomically (durable on return).

        Raises:
            OSError: The file could not be written.
        """
        nonce = secrets.token_bytes(_NONCE)
        sealed = _MAGIC + nonce + self._aead.encrypt(nonce, data, self._aad)
        directory = self.path.parent
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        temporary = directory / f".{self.path.name}.{secrets.token_hex(4)}.tmp"
        try:
            descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(sealed)
                handle.flush()
                os.fsync(handle.fileno())
            temporary.replace(self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                temporary.unlink()
            raise
        with contextlib.suppress(OSError):  # not every platform syncs a directory
            handle_dir = os.open(directory, os.O_RDONLY)
            try:
                os.fsync(handle_dir)
            finally:
                os.close(handle_dir)

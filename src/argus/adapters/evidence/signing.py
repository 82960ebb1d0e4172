"""The installation's Ed25519 bundle-signing key, derived from its secret.

The private key is never stored: its 32-byte seed is derived from the
installation secret with HKDF-SHA256 (info ``argus evidence signing v1``), so
every server of one installation signs with the same key, and the public key
(with its fingerprint) can be printed and handed to whoever checks bundles.
"""

from __future__ import annotations

from typing import Self

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from argus.domain.errors import ConfigError
from argus.domain.evidence import key_fingerprint
from argus.domain.keys import derive_key

__all__ = ["Ed25519Signer"]

_INFO = b"argus evidence signing v1"
_MIN_SECRET = 16


class Ed25519Signer:
    """Signs export bundles (see ``BundleSigner``).

    Args:
        private_key: The signing key.
    """

    def __init__(self, private_key: Ed25519PrivateKey) -> None:
        self._private = private_key
        self._public = private_key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )

    @classmethod
    def from_secret(cls, secret: bytes) -> Self:
        """The signer derived from the installation secret (deterministic).

        Raises:
            ConfigError: The secret is shorter than 16 bytes.
        """
        if len(secret) < _MIN_SECRET:
            raise ConfigError(f"the secret key must be at least {_MIN_SECRET} bytes")
        seed = derive_key(secret, _INFO.decode())
        return cls(Ed25519PrivateKey.from_private_bytes(seed))

    @property
    def public_key(self) -> bytes:
        """The raw 32-byte public key."""
        return self._public

    @property
    def fingerprint(self) -> str:
        """``key_fingerprint(public_key)``."""
        return key_fingerprint(self._public)

    def sign(self, data: bytes) -> bytes:
        """The 64-byte Ed25519 signature of ``data``."""
        return self._private.sign(data)

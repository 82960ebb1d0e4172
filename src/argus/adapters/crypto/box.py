"""``AesGcmBox``: AES-256-GCM for small secrets at rest (``SecretBox``).

The sealed text is base64 of ``nonce (12 bytes) | ciphertext+tag``; the
context (the user id) is bound in as associated data, so a secret copied onto
another user's row does not open.
"""

from __future__ import annotations

import base64
import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from argus.domain.errors import ConfigError

__all__ = ["AesGcmBox"]

_NONCE = 12


class AesGcmBox:
    """Seals TOTP secrets under a key derived from the installation secret.

    Args:
        key: The 32-byte AES key.
    """

    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)

    def seal(self, plaintext: str, context: str) -> str:
        """``plaintext`` encrypted for ``context``, as base64."""
        nonce = secrets.token_bytes(_NONCE)
        blob = nonce + self._aead.encrypt(nonce, plaintext.encode(), context.encode())
        return base64.b64encode(blob).decode()

    def open(self, sealed: str, context: str) -> str:
        """What ``seal`` made for ``context``.

        Raises:
            ConfigError: It does not decrypt: another secret key, or tampered.
        """
        try:
            blob = base64.b64decode(sealed, validate=True)
            return self._aead.decrypt(blob[:_NONCE], blob[_NONCE:], context.encode()).decode()
        except (InvalidTag, ValueError) as exc:
            raise ConfigError(
                "a stored MFA secret does not decrypt: was the secret key changed?"
            ) from exc

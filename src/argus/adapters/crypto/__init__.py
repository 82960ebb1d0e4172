"""The auth services' cryptography: argon2, PyJWT, pyotp with segno, AES-GCM.

``auth_crypto(secret)`` is what the composition root and the tests call: it
derives each key from the installation secret and bundles the adapters.
"""

from __future__ import annotations

from argus.adapters.crypto.box import AesGcmBox
from argus.adapters.crypto.passwords import Argon2Hasher
from argus.adapters.crypto.tokens import JwtCodec
from argus.adapters.crypto.totp import PyOtpTotp
from argus.domain.keys import derive_key
from argus.ports.crypto import AuthCrypto

__all__ = [
    "MFA_KEY_LABEL",
    "RECOVERY_KEY_LABEL",
    "TOKEN_KEY_LABEL",
    "AesGcmBox",
    "Argon2Hasher",
    "JwtCodec",
    "PyOtpTotp",
    "auth_crypto",
]

TOKEN_KEY_LABEL = "argus access tokens v1"  # noqa: S105 - a purpose label, not a secret
"""The ``derive_key`` label of the access-token signing key."""

MFA_KEY_LABEL = "argus mfa secrets v1"
"""The ``derive_key`` label of the key that seals TOTP secrets."""

RECOVERY_KEY_LABEL = "argus recovery codes v1"
"""The ``derive_key`` label of the recovery-code HMAC key."""


def auth_crypto(secret: bytes) -> AuthCrypto:
    """The auth services' cryptography keyed from the installation secret ``secret``."""
    return AuthCrypto(
        passwords=Argon2Hasher(),
        tokens=JwtCodec(derive_key(secret, TOKEN_KEY_LABEL)),
        totp=PyOtpTotp(),
        box=AesGcmBox(derive_key(secret, MFA_KEY_LABEL)),
        recovery_key=derive_key(secret, RECOVERY_KEY_LABEL),
    )

"""The passphrase envelope of a subject export: a zip sealed with AES-256-GCM under scrypt.

A subject export (``PrivacyService.export_subject``) holds biometric
descriptors and frames of a person, so it leaves the server only encrypted,
under a passphrase the requester chooses and the server never stores. The
sealed form is::

    b"ARGUSPX1" | salt (16 bytes) | nonce (12 bytes) | AES-256-GCM(zip) with its 16-byte tag

The key is ``scrypt(passphrase (UTF-8), salt, n=2**15, r=8, p=1, length=32)``;
the magic and the salt are the associated data, so neither can be swapped.
Anyone with the passphrase opens it with ``open_bundle`` or any AES-GCM and
scrypt implementation (the README shows a few lines of Python).
"""

from __future__ import annotations

import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from argus.domain.errors import ValidationError

__all__ = ["BUNDLE_MAGIC", "MIN_PASSPHRASE", "open_bundle", "seal_bundle"]

BUNDLE_MAGIC = b"ARGUSPX1"
"""The first bytes of a sealed export (format version 1)."""
MIN_PASSPHRASE = 12
"""The shortest passphrase an export takes, in characters."""

_SALT = 16
_NONCE = 12
_SCRYPT_N = 2**15
_SCRYPT_R = 8
_SCRYPT_P = 1


def _key(passphrase: str, salt: bytes) -> bytes:
    kdf = Scrypt(salt=salt, length=32, n=_SCRYPT_N, r=_SCRYPT_R, p=_SCRYPT_P)
    return kdf.derive(passphrase.encode("utf-8"))


def _check_passphrase(passphrase: str) -> None:
    if len(passphrase) < MIN_PASSPHRASE:
        raise ValidationError(f"the passphrase must have at least {MIN_PASSPHRASE} characters")


def seal_bundle(plaintext: bytes, passphrase: str) -> bytes:
    """``plaintext`` sealed under ``passphrase`` (see the module docstring).

    Raises:
        ValidationError: The passphrase is shorter than ``MIN_PASSPHRASE``.
    """
    _check_passphrase(passphrase)
    salt = secrets.token_bytes(_SALT)
    nonce = secrets.token_bytes(_NONCE)
    sealed = AESGCM(_key(passphrase, salt)).encrypt(nonce, plaintext, BUNDLE_MAGIC + salt)
    return BUNDLE_MAGIC + salt + nonce + sealed


def open_bundle(sealed: bytes, passphrase: str) -> bytes:
    """The plaintext ``seal_bundle`` sealed.

    Raises:
        ValidationError: Not a sealed export, a wrong passphrase, or altered bytes.
    """
    head = len(BUNDLE_MAGIC)
    if not sealed.startswith(BUNDLE_MAGIC) or len(sealed) < head + _SALT + _NONCE + 16:
        raise ValidationError("not an Argus subject export (ARGUSPX1)")
    salt = sealed[head : head + _SALT]
    nonce = sealed[head + _SALT : head + _SALT + _NONCE]
    try:
        return AESGCM(_key(passphrase, salt)).decrypt(
            nonce, sealed[head + _SALT + _NONCE :], BUNDLE_MAGIC + salt
        )
    except InvalidTag as exc:
        raise ValidationError("the export does not open: wrong passphrase or altered") from exc

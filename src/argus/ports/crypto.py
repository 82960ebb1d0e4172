"""The cryptography the auth services use: password hashing, tokens, TOTP, a secret box.

Each is a small port, so the services hold no library and tests may hand in
fakes. ``AuthCrypto`` bundles the four with the recovery-code key; the
composition root builds it from the installation secret
(``argus.adapters.crypto.auth_crypto``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

__all__ = [
    "TOTP_DIGITS",
    "TOTP_STEP_S",
    "AuthCrypto",
    "PasswordHasher",
    "SecretBox",
    "TokenCodec",
    "Totp",
]

TOTP_STEP_S = 30
"""Seconds of one TOTP time step (RFC 6238's default, what authenticator apps use)."""

TOTP_DIGITS = 6
"""Digits of a TOTP code."""


class PasswordHasher(Protocol):
    """A slow, salted password hash (argon2id)."""

    def hash(self, password: str) -> str:
        """The encoded hash of ``password`` (salt and parameters included)."""
        ...

    def verify(self, stored: str, password: str) -> bool:
        """Whether ``password`` matches ``stored``; ``False`` for a malformed ``stored`` too."""
        ...


class TokenCodec(Protocol):
    """Signs and checks the claims of access tokens (a JWT under a derived key)."""

    def encode(self, claims: Mapping[str, Any]) -> str:
        """The signed token holding ``claims``."""
        ...

    def decode(
        self, token: str, *, audience: str, issuer: str, required: Sequence[str]
    ) -> dict[str, Any]:
        """The claims of a token signed here, for ``audience`` from ``issuer``.

        Times (``exp``, ``nbf``, ``iat``) are not checked: the caller checks
        them on its own clock.

        Raises:
            AuthenticationError: Bad signature or algorithm, wrong audience or
                issuer, a required claim missing, or not a token at all.
        """
        ...


class Totp(Protocol):
    """RFC 6238 one-time codes (``TOTP_STEP_S`` steps, ``TOTP_DIGITS`` digits, SHA-1)."""

    def new_secret(self) -> str:
        """A random base32 secret."""
        ...

    def code(self, secret: str, step: int) -> str:
        """The code of ``secret`` for time step ``step`` (Unix time // ``TOTP_STEP_S``)."""
        ...

    def enrolment(self, secret: str, username: str, issuer: str) -> tuple[str, bytes]:
        """The ``otpauth://`` URI of ``secret`` and its QR code as PNG."""
        ...


class SecretBox(Protocol):
    """Authenticated encryption of small secrets at rest, bound to a context."""

    def seal(self, plaintext: str, context: str) -> str:
        """``plaintext`` encrypted and bound to ``context`` (e.g. the user id), as text."""
        ...

    def open(self, sealed: str, context: str) -> str:
        """What ``seal`` sealed for the same ``context``.

        Raises:
            ConfigError: It does not decrypt (another secret key, or tampered).
        """
        ...


@dataclass(frozen=True, slots=True)
class AuthCrypto:
    """The auth services' cryptography, keyed from one installation secret.

    Attributes:
        passwords: Password hashing.
        tokens: Access-token signing.
        totp: TOTP codes and enrolment.
        box: Encryption of TOTP secrets at rest.
        recovery_key: The HMAC key of stored recovery-code hashes.
    """

    passwords: PasswordHasher
    tokens: TokenCodec
    totp: Totp
    box: SecretBox
    recovery_key: bytes

"""Password checks: strength, one-time passwords, verification that hides unknown names."""

from __future__ import annotations

import secrets

from argus.domain.errors import ValidationError
from argus.domain.identity import User
from argus.ports.crypto import PasswordHasher

__all__ = [
    "MAX_PASSWORD",
    "MIN_PASSWORD",
    "Passwords",
    "check_password_strength",
    "one_time_password",
]

MIN_PASSWORD = 12
MAX_PASSWORD = 256


def one_time_password() -> str:
    """A random password (20 URL-safe characters) that must be changed at first sign-in."""
    return secrets.token_urlsafe(15)


def check_password_strength(password: str, username: str) -> None:
    """Refuse passwords that are short, overlong, or the username.

    Raises:
        ValidationError: The password is too weak.
    """
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise ValidationError(f"a password must have {MIN_PASSWORD} to {MAX_PASSWORD} characters")
    if password.strip().lower() == username.lower() or len(set(password)) < 4:
        raise ValidationError("this password is too easy to guess")


class Passwords:
    """Hashes and checks passwords; a check for no user still costs one hash.

    Args:
        hasher: The password hash (argon2id).
    """

    def __init__(self, hasher: PasswordHasher) -> None:
        self._hasher = hasher
        self._dummy = hasher.hash(secrets.token_urlsafe(16))

    def hash(self, password: str) -> str:
        """The stored form of ``password``."""
        return self._hasher.hash(password)

    def matches(self, user: User, password: str) -> bool:
        """Whether ``password`` is ``user``'s."""
        return self._hasher.verify(user.password_hash, password)

    def burn(self, password: str) -> None:
        """Spend one check on nobody's hash, so an unknown name takes as long as a known one."""
        self._hasher.verify(self._dummy, password)

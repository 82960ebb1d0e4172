"""``Argon2Hasher``: password hashes with argon2id (``PasswordHasher``)."""

from __future__ import annotations

import logging

import argon2

__all__ = ["Argon2Hasher"]

log = logging.getLogger(__name__)


class Argon2Hasher:
    """argon2id at OWASP's minimum (19 MiB, two passes, one lane)."""

    def __init__(self) -> None:
        self._hasher = argon2.PasswordHasher(
            time_cost=2, memory_cost=19_456, parallelism=1, type=argon2.Type.ID
        )

    def hash(self, password: str) -> str:
        """The encoded argon2id hash of ``password``."""
        return self._hasher.hash(password)

    def verify(self, stored: str, password: str) -> bool:
        """Whether ``password`` matches ``stored`` (a malformed hash is logged, never raised)."""
        try:
            return bool(self._hasher.verify(stored, password))
        except argon2.exceptions.VerificationError:
            return False
        except argon2.exceptions.InvalidHashError:
            log.error("a stored password hash is not an argon2 hash")
            return False

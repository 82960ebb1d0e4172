"""Stores of users, refresh tokens, API keys and installation settings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from argus.domain.identity import ApiKey, User
from argus.ports.paging import Page

__all__ = [
    "ApiKeyRepository",
    "RefreshToken",
    "RefreshTokenRepository",
    "SettingsStore",
    "UserRepository",
]


@dataclass(frozen=True, slots=True)
class RefreshToken:
    """One refresh token of a sign-in session (only its hash is stored).

    Every use rotates it: the token is marked used and a new one of the same
    family is issued. A used token presented again means it was stolen, and
    the whole family is revoked.

    Attributes:
        id: Token id (the first part of the token).
        family_id: The sign-in session it belongs to.
        user_id: Whose it is.
        token_hash: SHA-256 of the secret part.
        created_at: When it was issued.
        expires_at: When it stops working.
        used_at: When it was exchanged for a new one.
        revoked_at: When its family was revoked (sign-out, reuse, admin).
    """

    id: str
    family_id: str
    user_id: str
    token_hash: str
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None = None
    revoked_at: datetime | None = None


class UserRepository(Protocol):
    """Users, unique by id and by username."""

    async def add(self, user: User) -> None:
        """Store a new user.

        Raises:
            ConflictError: The id or the username is taken.
        """
        ...

    async def get(self, user_id: str) -> User:
        """The user with ``user_id``.

        Raises:
            NotFoundError: There is none.
        """
        ...

    async def find(self, username: str) -> User | None:
        """The user named ``username``, if any (exact match)."""
        ...

    async def list(self, *, limit: int = 100, offset: int = 0) -> Page[User]:
        """Users by username."""
        ...

    async def update(self, user: User) -> None:
        """Replace the stored user whose version is ``user.version - 1``.

        Raises:
            NotFoundError: No such user.
            ConflictError: It changed meanwhile, or the new username is taken.
        """
        ...

    async def delete(self, user_id: str) -> None:
        """Remove a user.

        Raises:
            NotFoundError: No such user.
        """
        ...

    async def count(self) -> int:
        """How many users there are."""
        ...


class RefreshTokenRepository(Protocol):
    """Refresh tokens and the revocation set of sign-in sessions (a token family is a session).

    ``use`` is atomic so one token rotates once.
    """

    async def add(self, token: RefreshToken) -> None:
        """Store a newly issued token."""
        ...

    async def get(self, token_id: str) -> RefreshToken | None:
        """The token with ``token_id``, if any."""
        ...

    async def use(self, token_id: str, at: datetime) -> bool:
        """Mark the token used at ``at``; False when it already was (or is revoked)."""
        ...

    async def revoke_family(self, family_id: str, at: datetime) -> int:
        """Revoke a sign-in session: every token of the family, and the session itself.

        The family id joins the revocation set (``session_revoked``) even when
        it has no refresh token (a restricted sign-in), and stays there.

        Returns:
            How many tokens were still live.
        """
        ...

    async def session_revoked(self, session_id: str) -> bool:
        """Whether the session ``session_id`` was revoked (one indexed lookup)."""
        ...

    async def revoke_user(self, user_id: str, at: datetime) -> int:
        """Revoke every token of a user."""
        ...


class ApiKeyRepository(Protocol):
    """API keys."""

    async def add(self, key: ApiKey) -> None:
        """Store a new key.

        Raises:
            ConflictError: The id is taken.
        """
        ...

    async def get(self, key_id: str) -> ApiKey:
        """The key with ``key_id``.

        Raises:
            NotFoundError: There is none.
        """
        ...

    async def list(self, *, limit: int = 100, offset: int = 0) -> Page[ApiKey]:
        """Keys, newest first."""
        ...

    async def revoke(self, key_id: str, at: datetime) -> ApiKey:
        """Mark a key revoked (idempotent) and return it.

        Raises:
            NotFoundError: There is none.
        """
        ...


class SettingsStore(Protocol):
    """Small installation-wide JSON values by key (the security policy)."""

    async def get(self, key: str) -> dict[str, Any] | None:
        """The value stored under ``key``, if any."""
        ...

    async def put(self, key: str, value: dict[str, Any], at: datetime) -> None:
        """Store ``value`` under ``key`` (replacing)."""
        ...

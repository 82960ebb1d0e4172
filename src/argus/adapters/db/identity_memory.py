"""In-memory stores of users, refresh tokens, API keys and settings (the SQL stores' reference)."""

from __future__ import annotations

import builtins
import copy
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any

from argus.domain.errors import ConflictError, NotFoundError
from argus.domain.identity import ApiKey, User
from argus.ports.identity import RefreshToken
from argus.ports.paging import Page, check_page

__all__ = [
    "MemoryApiKeyRepository",
    "MemoryRefreshTokenRepository",
    "MemorySettingsStore",
    "MemoryUserRepository",
]


def _no_check() -> None:
    return None


class MemoryUserRepository:
    """Users in a dict (see ``UserRepository``)."""

    def __init__(self, check: Callable[[], None] = _no_check) -> None:
        self._check = check
        self._users: dict[str, User] = {}

    def tables(self) -> tuple[dict[str, User], ...]:
        """The containers of its state (a unit of work restores them on rollback)."""
        return (self._users,)

    def _taken(self, user: User) -> bool:
        return any(u.username == user.username and u.id != user.id for u in self._users.values())

    async def add(self, user: User) -> None:
        self._check()
        if user.id in self._users or self._taken(user):
            raise ConflictError(f"user {user.username!r} already exists")
        self._users[user.id] = user

    async def get(self, user_id: str) -> User:
        self._check()
        try:
            return self._users[user_id]
        except KeyError:
            raise NotFoundError(f"no user {user_id}") from None

    async def find(self, username: str) -> User | None:
        self._check()
        return next((u for u in self._users.values() if u.username == username), None)

    async def list(self, *, limit: int = 100, offset: int = 0) -> Page[User]:
        self._check()
        check_page(limit, offset)
        ordered = sorted(self._users.values(), key=lambda u: u.username)
        return Page(tuple(ordered[offset : offset + limit]), len(ordered))

    async def update(self, user: User) -> None:
        stored = await self.get(user.id)
        if stored.version != user.version - 1:
            raise ConflictError(
                f"user {user.id} is at version {stored.version}, not {user.version - 1}: "
                "it changed meanwhile"
            )
        if self._taken(user):
            raise ConflictError(f"username {user.username!r} is taken")
        self._users[user.id] = user

    async def delete(self, user_id: str) -> None:
        await self.get(user_id)
        del self._users[user_id]

    async def count(self) -> int:
        self._check()
        return len(self._users)


class MemoryRefreshTokenRepository:
    """Refresh tokens in a dict (see ``RefreshTokenRepository``)."""

    def __init__(self, check: Callable[[], None] = _no_check) -> None:
        self._check = check
        self._tokens: dict[str, RefreshToken] = {}
        self._revoked_sessions: set[str] = set()

    def tables(self) -> tuple[dict[str, RefreshToken] | set[str], ...]:
        """The containers of its state (a unit of work restores them on rollback)."""
        return (self._tokens, self._revoked_sessions)

    async def add(self, token: RefreshToken) -> None:
        self._check()
        if token.id in self._tokens:
            raise ConflictError(f"refresh token {token.id} already exists")
        self._tokens[token.id] = token

    async def get(self, token_id: str) -> RefreshToken | None:
        self._check()
        return self._tokens.get(token_id)

    async def use(self, token_id: str, at: datetime) -> bool:
        self._check()
        token = self._tokens.get(token_id)
        if token is None or token.used_at is not None or token.revoked_at is not None:
            return False
        self._tokens[token_id] = replace(token, used_at=at)
        return True

    def _revoke(self, matches: Callable[[RefreshToken], bool], at: datetime) -> int:
        self._check()
        live = [t for t in self._tokens.values() if matches(t) and t.revoked_at is None]
        for token in live:
            self._tokens[token.id] = replace(token, revoked_at=at)
        return len(live)

    async def revoke_family(self, family_id: str, at: datetime) -> int:
        self._check()
        self._revoked_sessions.add(family_id)
        return self._revoke(lambda t: t.family_id == family_id, at)

    async def session_revoked(self, session_id: str) -> bool:
        self._check()
        return session_id in self._revoked_sessions

    async def revoke_user(self, user_id: str, at: datetime) -> int:
        return self._revoke(lambda t: t.user_id == user_id, at)


class MemoryApiKeyRepository:
    """API keys in a dict (see ``ApiKeyRepository``)."""

    def __init__(self, check: Callable[[], None] = _no_check) -> None:
        self._check = check
        self._keys: dict[str, ApiKey] = {}

    def tables(self) -> tuple[dict[str, ApiKey], ...]:
        """The containers of its state (a unit of work restores them on rollback)."""
        return (self._keys,)

    async def add(self, key: ApiKey) -> None:
        self._check()
        if key.id in self._keys:
            raise ConflictError(f"API key {key.id} already exists")
        self._keys[key.id] = key

    async def get(self, key_id: str) -> ApiKey:
        self._check()
        try:
            return self._keys[key_id]
        except KeyError:
            raise NotFoundError(f"no API key {key_id}") from None

    async def list(self, *, limit: int = 100, offset: int = 0) -> Page[ApiKey]:
        self._check()
        check_page(limit, offset)
        ordered: builtins.list[ApiKey] = sorted(self._keys.values(), key=lambda k: k.id)
        ordered.sort(key=lambda k: k.created_at, reverse=True)
        return Page(tuple(ordered[offset : offset + limit]), len(ordered))

    async def revoke(self, key_id: str, at: datetime) -> ApiKey:
        key = await self.get(key_id)
        if key.revoked_at is None:
            key = replace(key, revoked_at=at)
            self._keys[key_id] = key
        return key


class MemorySettingsStore:
    """Settings in a dict (see ``SettingsStore``)."""

    def __init__(self, check: Callable[[], None] = _no_check) -> None:
        self._check = check
        self._values: dict[str, dict[str, Any]] = {}

    def tables(self) -> tuple[dict[str, dict[str, Any]], ...]:
        """The containers of its state (a unit of work restores them on rollback)."""
        return (self._values,)

    async def get(self, key: str) -> dict[str, Any] | None:
        self._check()
        value = self._values.get(key)
        return None if value is None else copy.deepcopy(value)

    async def put(self, key: str, value: dict[str, Any], at: datetime) -> None:
        self._check()
        del at  # nothing reads when a value changed; the SQL store keeps it for operators
        self._values[key] = copy.deepcopy(value)

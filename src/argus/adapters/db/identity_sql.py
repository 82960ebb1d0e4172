"""SQL stores of users, refresh tokens, API keys and installation settings.

Each store runs on a ``Bind``: the engine (one transaction per call) or the
connection of a unit of work (every call joins its transaction).
"""

from __future__ import annotations

import builtins
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from argus.adapters.db._sqlcore import Bind, count_rows, delete_by_id, insert_for, transaction
from argus.adapters.db.alerts_sql import _parse, _update_version
from argus.adapters.db.tables import (
    api_keys,
    refresh_tokens,
    revoked_sessions,
    system_settings,
    users,
)
from argus.domain.errors import NotFoundError
from argus.domain.identity import ApiKey, User
from argus.ports.identity import RefreshToken
from argus.ports.paging import Page, check_page

__all__ = [
    "SqlApiKeyRepository",
    "SqlRefreshTokenRepository",
    "SqlSettingsStore",
    "SqlUserRepository",
]


def _user_row(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "username": user.username,
        "role": user.role,
        "created_at": user.created_at,
        "updated_at": user.updated_at,
        "version": user.version,
        "body": user.to_dict(),
    }


class SqlUserRepository:
    """Users in the ``users`` table (see ``UserRepository``)."""

    def __init__(self, engine: Bind) -> None:
        self._engine = engine

    async def add(self, user: User) -> None:
        async with transaction(self._engine, f"adding user {user.username!r}") as connection:
            await connection.execute(sa.insert(users).values(_user_row(user)))

    async def get(self, user_id: str) -> User:
        async with transaction(self._engine, "reading a user") as connection:
            body = await connection.scalar(sa.select(users.c.body).where(users.c.id == user_id))
        if body is None:
            raise NotFoundError(f"no user {user_id}")
        return _parse("user", User.from_dict, body)

    async def find(self, username: str) -> User | None:
        async with transaction(self._engine, "finding a user") as connection:
            body = await connection.scalar(
                sa.select(users.c.body).where(users.c.username == username)
            )
        return None if body is None else _parse("user", User.from_dict, body)

    async def list(self, *, limit: int = 100, offset: int = 0) -> Page[User]:
        check_page(limit, offset)
        query = sa.select(users.c.body).order_by(users.c.username).limit(limit).offset(offset)
        async with transaction(self._engine, "listing users") as connection:
            total = await count_rows(connection, users)
            bodies = (await connection.scalars(query)).all()
        return Page(tuple(_parse("user", User.from_dict, b) for b in bodies), total)

    async def update(self, user: User) -> None:
        async with transaction(self._engine, f"updating user {user.id}") as connection:
            await _update_version(connection, users, "user", _user_row(user))

    async def delete(self, user_id: str) -> None:
        await delete_by_id(self._engine, users, "user", user_id)

    async def count(self) -> int:
        async with transaction(self._engine, "counting users") as connection:
            return await count_rows(connection, users)


def _token(row: sa.Row[Any]) -> RefreshToken:
    return RefreshToken(
        id=row.id,
        family_id=row.family_id,
        user_id=row.user_id,
        token_hash=row.token_hash,
        created_at=row.created_at,
        expires_at=row.expires_at,
        used_at=row.used_at,
        revoked_at=row.revoked_at,
    )


class SqlRefreshTokenRepository:
    """Refresh tokens in ``refresh_tokens`` (see ``RefreshTokenRepository``)."""

    def __init__(self, engine: Bind) -> None:
        self._engine = engine

    async def add(self, token: RefreshToken) -> None:
        values = {
            "id": token.id,
            "family_id": token.family_id,
            "user_id": token.user_id,
            "token_hash": token.token_hash,
            "created_at": token.created_at,
            "expires_at": token.expires_at,
            "used_at": token.used_at,
            "revoked_at": token.revoked_at,
        }
        async with transaction(self._engine, "storing a refresh token") as connection:
            await connection.execute(sa.insert(refresh_tokens).values(values))

    async def get(self, token_id: str) -> RefreshToken | None:
        query = sa.select(refresh_tokens).where(refresh_tokens.c.id == token_id)
        async with transaction(self._engine, "reading a refresh token") as connection:
            row = (await connection.execute(query)).first()
        return None if row is None else _token(row)

    async def use(self, token_id: str, at: datetime) -> bool:
        # One conditional UPDATE: of two servers racing on one token, one wins.
        statement = (
            sa.update(refresh_tokens)
            .where(
                refresh_tokens.c.id == token_id,
                refresh_tokens.c.used_at.is_(None),
                refresh_tokens.c.revoked_at.is_(None),
            )
            .values(used_at=at)
        )
        async with transaction(self._engine, "using a refresh token") as connection:
            result = await connection.execute(statement)
        return bool(result.rowcount == 1)

    async def _revoke(self, condition: Any, at: datetime) -> int:
        statement = (
            sa.update(refresh_tokens)
            .where(condition, refresh_tokens.c.revoked_at.is_(None))
            .values(revoked_at=at)
        )
        async with transaction(self._engine, "revoking refresh tokens") as connection:
            result = await connection.execute(statement)
        return int(result.rowcount)

    async def revoke_family(self, family_id: str, at: datetime) -> int:
        # The tokens and the session's entry in the revocation set change together.
        insert = insert_for(self._engine)(revoked_sessions)
        record = insert.values(session_id=family_id, revoked_at=at).on_conflict_do_nothing()
        statement = (
            sa.update(refresh_tokens)
            .where(refresh_tokens.c.family_id == family_id, refresh_tokens.c.revoked_at.is_(None))
            .values(revoked_at=at)
        )
        async with transaction(self._engine, "revoking a session") as connection:
            await connection.execute(record)
            result = await connection.execute(statement)
        return int(result.rowcount)

    async def session_revoked(self, session_id: str) -> bool:
        query = sa.select(revoked_sessions.c.session_id).where(
            revoked_sessions.c.session_id == session_id
        )
        async with transaction(self._engine, "checking a session") as connection:
            found = await connection.scalar(query)
        return found is not None

    async def revoke_user(self, user_id: str, at: datetime) -> int:
        return await self._revoke(refresh_tokens.c.user_id == user_id, at)


class SqlApiKeyRepository:
    """API keys in ``api_keys`` (see ``ApiKeyRepository``)."""

    def __init__(self, engine: Bind) -> None:
        self._engine = engine

    async def add(self, key: ApiKey) -> None:
        values = {
            "id": key.id,
            "name": key.name,
            "key_hash": key.key_hash,
            "created_at": key.created_at,
            "revoked_at": key.revoked_at,
            "body": key.to_dict(),
        }
        async with transaction(self._engine, f"adding API key {key.id}") as connection:
            await connection.execute(sa.insert(api_keys).values(values))

    async def get(self, key_id: str) -> ApiKey:
        async with transaction(self._engine, "reading an API key") as connection:
            body = await connection.scalar(
                sa.select(api_keys.c.body).where(api_keys.c.id == key_id)
            )
        if body is None:
            raise NotFoundError(f"no API key {key_id}")
        return _parse("API key", ApiKey.from_dict, body)

    async def list(self, *, limit: int = 100, offset: int = 0) -> Page[ApiKey]:
        check_page(limit, offset)
        query = (
            sa.select(api_keys.c.body)
            .order_by(api_keys.c.created_at.desc(), api_keys.c.id)
            .limit(limit)
            .offset(offset)
        )
        async with transaction(self._engine, "listing API keys") as connection:
            total = await count_rows(connection, api_keys)
            bodies: builtins.list[Any] = list((await connection.scalars(query)).all())
        return Page(tuple(_parse("API key", ApiKey.from_dict, b) for b in bodies), total)

    async def revoke(self, key_id: str, at: datetime) -> ApiKey:
        async with transaction(self._engine, f"revoking API key {key_id}") as connection:
            body = await connection.scalar(
                sa.select(api_keys.c.body).where(api_keys.c.id == key_id)
            )
            if body is None:
                raise NotFoundError(f"no API key {key_id}")
            key = _parse("API key", ApiKey.from_dict, body)
            if key.revoked_at is not None:
                return key
            key = ApiKey.from_dict({**key.to_dict(), "revoked_at": at.isoformat()})
            await connection.execute(
                sa.update(api_keys)
                .where(api_keys.c.id == key_id)
                .values(revoked_at=at, body=key.to_dict())
            )
        return key


class SqlSettingsStore:
    """JSON values in ``system_settings`` (see ``SettingsStore``)."""

    def __init__(self, engine: Bind) -> None:
        self._engine = engine
        self._insert = insert_for(engine)

    async def get(self, key: str) -> dict[str, Any] | None:
        async with transaction(self._engine, f"reading setting {key}") as connection:
            value = await connection.scalar(
                sa.select(system_settings.c.value).where(system_settings.c.key == key)
            )
        return None if value is None else dict(value)

    async def put(self, key: str, value: dict[str, Any], at: datetime) -> None:
        statement = self._insert(system_settings).values(key=key, value=value, updated_at=at)
        statement = statement.on_conflict_do_update(
            index_elements=[system_settings.c.key],
            set_={"value": statement.excluded.value, "updated_at": statement.excluded.updated_at},
        )
        async with transaction(self._engine, f"storing setting {key}") as connection:
            await connection.execute(statement)

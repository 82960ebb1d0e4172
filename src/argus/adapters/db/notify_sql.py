"""Notification channels, routes and the outbox in SQL (see ``argus.ports.notify``).

Channel secrets (SMTP and MQTT passwords, webhook keys) are stored only as
AES-256-GCM ciphertext under a key derived from the installation secret
(``ChannelSecretCipher``), bound to the channel id, as camera credentials are;
the JSON body of a channel row never holds them.

The outbox lives in ``notify_outbox_sql``; ``SqlNotifyStore`` assembles the three.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from argus.adapters.db._sqlcore import Bind, count_rows, delete_by_id, transaction
from argus.adapters.db.crypto import RowCipher
from argus.adapters.db.notify_outbox_sql import SqlNotificationOutbox
from argus.adapters.db.tables_notify import notify_channels, notify_routes
from argus.domain.errors import ConflictError, NotFoundError, StorageError
from argus.domain.notify import Channel, Route
from argus.ports.paging import Page, check_page

__all__ = [
    "CHANNEL_SECRETS_LABEL",
    "ChannelSecretCipher",
    "SqlChannelRepository",
    "SqlNotificationOutbox",
    "SqlNotifyStore",
    "SqlRouteRepository",
]

CHANNEL_SECRETS_LABEL = "argus notify channel secrets v1"
"""The ``derive_key`` label of the key that encrypts channel secrets at rest."""

Row = sa.Row[Any]


class ChannelSecretCipher:
    """Encrypts channels' secrets at rest (a ``RowCipher`` per channel id).

    Args:
        secret: The installation's secret key (at least 16 bytes).

    Raises:
        ConfigError: The secret is too short.
    """

    def __init__(self, secret: bytes) -> None:
        self._rows = RowCipher(secret, CHANNEL_SECRETS_LABEL)

    def encrypt(self, values: Mapping[str, str], *, channel_id: str) -> bytes:
        """Encrypt the secret fields ``values`` bound to ``channel_id``."""
        plaintext = json.dumps(dict(values), separators=(",", ":")).encode()
        return self._rows.seal(plaintext, channel_id)

    def decrypt(self, blob: bytes, *, channel_id: str) -> dict[str, str]:
        """Decrypt what ``encrypt`` made for the same channel.

        Raises:
            StorageError: Wrong secret, another channel's row, or a tampered blob.
        """
        what = f"the stored secrets of channel {channel_id}"
        try:
            values = json.loads(self._rows.open(blob, channel_id, what))
        except ValueError as exc:
            raise StorageError(f"{what}: unreadable") from exc
        if not isinstance(values, dict):
            raise StorageError(f"{what}: unreadable")
        return {str(key): str(value) for key, value in values.items()}


def _unreadable(kind: str, exc: Exception) -> StorageError:
    return StorageError(f"a stored {kind} is unreadable: {exc}")


async def _update_version(
    connection: Any, table: sa.Table, kind: str, values: dict[str, Any]
) -> None:
    """Write ``values`` over the stored row at version ``values["version"] - 1``."""
    entity_id, version = values.pop("id"), values["version"]
    result = await connection.execute(
        sa.update(table)
        .where(table.c.id == entity_id, table.c.version == version - 1)
        .values(values)
    )
    if result.rowcount == 0:
        stored = await connection.scalar(sa.select(table.c.version).where(table.c.id == entity_id))
        if stored is None:
            raise NotFoundError(f"no {kind} {entity_id}")
        raise ConflictError(
            f"{kind} {entity_id} is at version {stored}, not {version - 1}: it changed meanwhile"
        )


class SqlChannelRepository:
    """Channels in ``notify_channels``, secrets encrypted (see ``ChannelRepository``)."""

    def __init__(self, engine: Bind, cipher: ChannelSecretCipher) -> None:
        self._engine = engine
        self._cipher = cipher

    def _row(self, channel: Channel) -> dict[str, Any]:
        hidden = channel.secrets_of()
        return {
            "id": channel.id,
            "name": channel.name,
            "kind": channel.kind,
            "enabled": channel.enabled,
            "created_at": channel.created_at,
            "updated_at": channel.updated_at,
            "version": channel.version,
            "body": channel.without_secrets().to_dict(),
            "secrets": self._cipher.encrypt(hidden, channel_id=channel.id) if hidden else None,
        }

    def _channel(self, row: Row) -> Channel:
        try:
            channel = Channel.from_dict(row.body)
        except (ValueError, KeyError, TypeError) as exc:
            raise _unreadable("channel", exc) from exc
        if row.secrets is None:
            return channel
        return channel.with_secrets(self._cipher.decrypt(row.secrets, channel_id=row.id))

    async def add(self, channel: Channel) -> None:
        async with transaction(self._engine, f"adding channel {channel.id}") as connection:
            await connection.execute(sa.insert(notify_channels).values(self._row(channel)))

    async def get(self, channel_id: str) -> Channel:
        query = sa.select(notify_channels).where(notify_channels.c.id == channel_id)
        async with transaction(self._engine, "reading a channel") as connection:
            row = (await connection.execute(query)).first()
        if row is None:
            raise NotFoundError(f"no channel {channel_id}")
        return self._channel(row)

    async def list(self, *, limit: int = 100, offset: int = 0) -> Page[Channel]:
        check_page(limit, offset)
        query = (
            sa.select(notify_channels)
            .order_by(notify_channels.c.created_at, notify_channels.c.id)
            .limit(limit)
            .offset(offset)
        )
        async with transaction(self._engine, "listing channels") as connection:
            total = await count_rows(connection, notify_channels)
            rows = (await connection.execute(query)).all()
        return Page(tuple(self._channel(row) for row in rows), total)

    async def update(self, channel: Channel) -> None:
        async with transaction(self._engine, f"updating channel {channel.id}") as connection:
            await _update_version(connection, notify_channels, "channel", self._row(channel))

    async def delete(self, channel_id: str) -> None:
        await delete_by_id(self._engine, notify_channels, "channel", channel_id)


def _route_row(route: Route) -> dict[str, Any]:
    return {
        "id": route.id,
        "name": route.name,
        "enabled": route.enabled,
        "created_at": route.created_at,
        "updated_at": route.updated_at,
        "version": route.version,
        "body": route.to_dict(),
    }


def _route(row: Row) -> Route:
    try:
        return Route.from_dict(row.body)
    except (ValueError, KeyError, TypeError) as exc:
        raise _unreadable("route", exc) from exc


class SqlRouteRepository:
    """Routes in ``notify_routes`` (see ``RouteRepository``)."""

    def __init__(self, engine: Bind) -> None:
        self._engine = engine

    async def add(self, route: Route) -> None:
        async with transaction(self._engine, f"adding route {route.id}") as connection:
            await connection.execute(sa.insert(notify_routes).values(_route_row(route)))

    async def get(self, route_id: str) -> Route:
        query = sa.select(notify_routes).where(notify_routes.c.id == route_id)
        async with transaction(self._engine, "reading a route") as connection:
            row = (await connection.execute(query)).first()
        if row is None:
            raise NotFoundError(f"no route {route_id}")
        return _route(row)

    async def list(self, *, limit: int = 100, offset: int = 0) -> Page[Route]:
        check_page(limit, offset)
        query = (
            sa.select(notify_routes)
            .order_by(notify_routes.c.created_at, notify_routes.c.id)
            .limit(limit)
            .offset(offset)
        )
        async with transaction(self._engine, "listing routes") as connection:
            total = await count_rows(connection, notify_routes)
            rows = (await connection.execute(query)).all()
        return Page(tuple(_route(row) for row in rows), total)

    async def update(self, route: Route) -> None:
        async with transaction(self._engine, f"updating route {route.id}") as connection:
            await _update_version(connection, notify_routes, "route", _route_row(route))

    async def delete(self, route_id: str) -> None:
        await delete_by_id(self._engine, notify_routes, "route", route_id)


class SqlNotifyStore:
    """The notification side of the SQL store (see ``NotifyStore``).

    Args:
        engine: The engine, or a unit of work's connection.
        cipher: Encrypts channel secrets.
    """

    def __init__(self, engine: Bind, cipher: ChannelSecretCipher) -> None:
        self._channels = SqlChannelRepository(engine, cipher)
        self._routes = SqlRouteRepository(engine)
        self._outbox = SqlNotificationOutbox(engine)

    @property
    def channels(self) -> SqlChannelRepository:
        """Stored channels."""
        return self._channels

    @property
    def routes(self) -> SqlRouteRepository:
        """Stored routes."""
        return self._routes

    @property
    def outbox(self) -> SqlNotificationOutbox:
        """The durable outbox."""
        return self._outbox

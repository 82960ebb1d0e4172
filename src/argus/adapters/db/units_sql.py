"""The SQL unit of work: repositories bound to one connection and its transaction.

``open_unit`` begins a transaction on a connection of the engine, hands out
``SqlUnitOfWork`` (the repositories of ``argus.ports.unit_of_work`` built on
that connection) and commits when the block ends, or rolls back when it
raises. On SQLite the unit takes the database's write lock first: a
transaction that read before it wrote could not upgrade once another writer
committed (``SQLITE_BUSY_SNAPSHOT``), whereas one that holds the lock from the
start makes other writers wait (``busy_timeout``) until it ends.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from argus.adapters.db._sqlcore import transaction
from argus.adapters.db.alerts_sql import (
    SqlAlertRepository,
    SqlIncidentRepository,
    SqlRuleRepository,
)
from argus.adapters.db.audit_sql import SqlAuditLog
from argus.adapters.db.crypto import CredentialCipher, RowCipher
from argus.adapters.db.groups_sql import SqlAlertGroupRepository, SqlSuppressionRepository
from argus.adapters.db.identity_sql import (
    SqlApiKeyRepository,
    SqlRefreshTokenRepository,
    SqlSettingsStore,
    SqlUserRepository,
)
from argus.adapters.db.notify_sql import ChannelSecretCipher, SqlNotifyStore
from argus.adapters.db.scene_sql import SqlCameraRepository, SqlLineRepository, SqlZoneRepository
from argus.adapters.db.tables import cameras
from argus.adapters.db.workstations_sql import SqlSubjectRepository, SqlVerifyClientRepository

__all__ = ["SqlUnitOfWork", "open_unit"]


class SqlUnitOfWork:
    """The repositories of one transaction (see ``UnitOfWork``).

    Args:
        connection: The unit's connection, inside its transaction.
        cipher: Encrypts camera credentials.
        audit_key: The audit chain's key.
    """

    def __init__(
        self,
        connection: AsyncConnection,
        cipher: CredentialCipher,
        audit_key: bytes,
        *,
        notify_cipher: ChannelSecretCipher,
        face_cipher: RowCipher,
    ) -> None:
        self.notify = SqlNotifyStore(connection, notify_cipher)
        self.cameras = SqlCameraRepository(connection, cipher)
        self.lines = SqlLineRepository(connection)
        self.zones = SqlZoneRepository(connection)
        self.rules = SqlRuleRepository(connection)
        self.alerts = SqlAlertRepository(connection)
        self.incidents = SqlIncidentRepository(connection)
        self.alert_groups = SqlAlertGroupRepository(connection)
        self.suppressions = SqlSuppressionRepository(connection)
        self.audit = SqlAuditLog(connection, audit_key)
        self.face_subjects = SqlSubjectRepository(connection, face_cipher)
        self.verify_clients = SqlVerifyClientRepository(connection)
        self.users = SqlUserRepository(connection)
        self.refresh_tokens = SqlRefreshTokenRepository(connection)
        self.api_keys = SqlApiKeyRepository(connection)
        self.settings = SqlSettingsStore(connection)


@asynccontextmanager
async def open_unit(
    engine: AsyncEngine,
    cipher: CredentialCipher,
    audit_key: bytes,
    *,
    notify_cipher: ChannelSecretCipher,
    face_cipher: RowCipher,
) -> AsyncIterator[SqlUnitOfWork]:
    """A unit of work on ``engine``: committed when the block ends, rolled back if it raises.

    Raises:
        StorageError: The database failed to begin or commit the unit.
        ConflictError: A constraint failed when the unit committed.
    """
    async with transaction(engine, "a unit of work") as connection:
        if connection.dialect.name == "sqlite":
            await connection.execute(sa.update(cameras).where(sa.false()).values(id=cameras.c.id))
        yield SqlUnitOfWork(
            connection, cipher, audit_key, notify_cipher=notify_cipher, face_cipher=face_cipher
        )

"""The audit log for ``argus audit``, over the configured database."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from argus.bootstrap.adapters import installation_secret, open_database
from argus.config import Settings
from argus.ports.audit import AuditLog

__all__ = ["open_audit_log"]


async def open_audit_log(settings: Settings) -> tuple[AuditLog, Callable[[], Awaitable[None]]]:
    """Open the database named by the settings and its audit log.

    The chain key is ``chain_key`` of the installation secret
    (``ARGUS_SECRET_KEY``, else ``data_dir/secret.key``): the key the server's
    log must use too, or every record reads as edited.

    Returns:
        The log and a function that closes the database.

    Raises:
        ConfigError: Bad database URL or secret key.
        StorageError: The database is unreachable or a migration failed.
    """
    from argus.adapters.db.audit_sql import SqlAuditLog
    from argus.domain.audit import chain_key

    secret = installation_secret(settings)
    database = await open_database(settings, secret)
    return SqlAuditLog(database.engine, chain_key(secret)), database.close

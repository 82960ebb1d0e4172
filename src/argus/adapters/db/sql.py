"""SQLAlchemy 2 (async, Core) repositories for SQLite (aiosqlite) and PostgreSQL (asyncpg).

``SqlDatabase.open(url, secret_key=...)`` makes the engine, applies the
packaged migrations and returns the repositories. Each repository call is
one transaction; ``unit_of_work()`` groups several (``units_sql``). Database
errors are translated at this boundary: a unique or foreign-key violation
becomes ``ConflictError``, anything else ``StorageError``.

The repositories live in modules of their own: cameras, lines and zones in
``scene_sql``, events in ``events_sql``, the alerting side in ``alerts_sql``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any, Self

import sqlalchemy as sa
import sqlalchemy.exc
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from argus.adapters.db import migrate
from argus.adapters.db._sqlcore import storage_failure
from argus.adapters.db._sqlcore import transaction as _transaction
from argus.adapters.db.alerts_sql import (
    SqlAlertRepository,
    SqlIncidentRepository,
    SqlRuleRepository,
)
from argus.adapters.db.audit_sql import SqlAuditLog
from argus.adapters.db.crypto import FACE_THUMBNAILS_LABEL, CredentialCipher, RowCipher
from argus.adapters.db.events_sql import SqlEventRepository
from argus.adapters.db.evidence_sql import SqlEvidenceRepository
from argus.adapters.db.examples_sql import SqlHardExampleStore
from argus.adapters.db.groups_sql import SqlAlertGroupRepository, SqlSuppressionRepository
from argus.adapters.db.identity_sql import (
    SqlApiKeyRepository,
    SqlRefreshTokenRepository,
    SqlSettingsStore,
    SqlUserRepository,
)
from argus.adapters.db.models_sql import SqlModelRegistryStore
from argus.adapters.db.nodes_sql import EvidenceKeyCipher, SqlNodeRepository
from argus.adapters.db.notify_sql import ChannelSecretCipher, SqlNotifyStore
from argus.adapters.db.privacy_sql import SqlErasureStore
from argus.adapters.db.recounts_sql import SqlRecountJobStore
from argus.adapters.db.retention_sql import SqlRetentionStore
from argus.adapters.db.scene_sql import SqlCameraRepository, SqlLineRepository, SqlZoneRepository
from argus.adapters.db.trials_sql import SqlTrialStore
from argus.adapters.db.units_sql import SqlUnitOfWork, open_unit
from argus.adapters.db.workstations_sql import (
    SqlCapacityStore,
    SqlDecisionRepository,
    SqlSubjectRepository,
    SqlVerifyClientRepository,
)
from argus.domain.audit import chain_key
from argus.domain.errors import (
    ConfigError,
    StorageError,
)

__all__ = [
    "SqlCameraRepository",
    "SqlDatabase",
    "SqlEventRepository",
    "SqlLineRepository",
    "SqlZoneRepository",
    "async_url",
]


def _private_file(path: Path) -> None:
    """Create the SQLite file (and missing parents) readable by its owner only.

    SQLite gives its ``-wal`` and ``-shm`` files the database file's mode, so
    the whole database stays private. An existing file is narrowed to 0600.
    """
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
        if path.stat().st_mode & 0o077:
            path.chmod(0o600)
    except OSError as exc:
        raise StorageError(f"cannot create the database file {path}: {exc.strerror}") from exc


def async_url(url: str) -> URL:
    """Map a plain database URL onto its async driver.

    ``sqlite:///path`` becomes ``sqlite+aiosqlite:///path`` and
    ``postgresql://`` (or ``postgres://``) becomes ``postgresql+asyncpg://``.

    Raises:
        ConfigError: The URL is malformed or names an unsupported database.
    """
    try:
        parsed = make_url(url.replace("postgres://", "postgresql://", 1))
    except sqlalchemy.exc.ArgumentError as exc:
        raise ConfigError(f"invalid database URL {url!r}") from exc
    backend = parsed.get_backend_name()
    drivers = {"sqlite": "aiosqlite", "postgresql": "asyncpg"}
    if backend not in drivers:
        raise ConfigError(f"unsupported database {backend!r}: use sqlite or postgresql")
    return parsed.set(drivername=f"{backend}+{drivers[backend]}")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """Per-connection SQLite settings: enforce foreign keys, WAL, wait on locks."""
    cursor = dbapi_connection.cursor()
    for pragma in (
        "PRAGMA foreign_keys = ON",
        "PRAGMA journal_mode = WAL",
        "PRAGMA synchronous = NORMAL",
        "PRAGMA busy_timeout = 10000",
    ):
        cursor.execute(pragma)
    cursor.close()


class SqlDatabase:
    """The SQL store (see ``Database``); build it with ``await SqlDatabase.open(...)``."""

    def __init__(  # noqa: PLR0917 - built by ``open`` only
        self,
        engine: AsyncEngine,
        cipher: CredentialCipher,
        audit_key: bytes,
        node_cipher: EvidenceKeyCipher,
        notify_cipher: ChannelSecretCipher,
        face_cipher: RowCipher,
    ) -> None:
        self.engine = engine
        self._face_cipher = face_cipher
        self._notify_cipher = notify_cipher
        self._notify = SqlNotifyStore(engine, notify_cipher)
        self._cipher = cipher
        self._audit_key = audit_key
        self._audit = SqlAuditLog(engine, audit_key)
        self._evidence = SqlEvidenceRepository(engine)
        self._cameras = SqlCameraRepository(engine, cipher)
        self._lines = SqlLineRepository(engine)
        self._zones = SqlZoneRepository(engine)
        self._events = SqlEventRepository(engine)
        self._rules = SqlRuleRepository(engine)
        self._alerts = SqlAlertRepository(engine)
        self._incidents = SqlIncidentRepository(engine)
        self._alert_groups = SqlAlertGroupRepository(engine)
        self._suppressions = SqlSuppressionRepository(engine)
        self._users = SqlUserRepository(engine)
        self._refresh_tokens = SqlRefreshTokenRepository(engine)
        self._api_keys = SqlApiKeyRepository(engine)
        self._settings = SqlSettingsStore(engine)
        self._face_subjects = SqlSubjectRepository(engine, face_cipher)
        self._verify_clients = SqlVerifyClientRepository(engine)
        self._verify_decisions = SqlDecisionRepository(engine)
        self._capacity = SqlCapacityStore(engine)
        self._nodes = SqlNodeRepository(engine, node_cipher)
        self._privacy = SqlErasureStore(engine)
        self._retention = SqlRetentionStore(engine)
        self._recounts = SqlRecountJobStore(engine)
        self._hard_examples = SqlHardExampleStore(engine)
        self._model_registry = SqlModelRegistryStore(engine)
        self._model_trials = SqlTrialStore(engine)
        self._closed = False

    @classmethod
    async def open(
        cls,
        url: str,
        *,
        secret_key: bytes,
        schema: str | None = None,
        run_migrations: bool = True,
        engine_options: Mapping[str, Any] | None = None,
    ) -> Self:
        """Connect, migrate to the newest schema, and return the store.

        Args:
            url: ``sqlite:///path``, ``postgresql://user:pass@host/db`` (async
                drivers are picked automatically).
            secret_key: The installation secret; camera credentials and edge
                nodes' evidence keys are encrypted under keys derived from it.
            schema: PostgreSQL schema for Argus's tables (created if missing);
                ``None`` for the default (``public``). Not for SQLite.
            run_migrations: Upgrade the schema to the newest revision.
            engine_options: Extra ``create_async_engine`` options (pool sizes, echo).

        Raises:
            ConfigError: Bad URL, schema on SQLite, or a bad secret key.
            StorageError: The database is unreachable or a migration failed.
        """
        parsed = async_url(url)
        cipher = CredentialCipher(secret_key)
        options: dict[str, Any] = {"pool_pre_ping": True, **(engine_options or {})}
        if parsed.get_backend_name() == "sqlite":
            if schema is not None:
                raise ConfigError("schema is only supported on PostgreSQL")
            if parsed.database and parsed.database != ":memory:":
                _private_file(Path(parsed.database))
        elif schema is not None:
            if not schema.isidentifier():
                raise ConfigError(f"invalid schema name {schema!r}")
            options["connect_args"] = {"server_settings": {"search_path": schema}}
        engine = create_async_engine(parsed, **options)
        if parsed.get_backend_name() == "sqlite":
            sa.event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        database = cls(
            engine,
            cipher,
            chain_key(secret_key),
            EvidenceKeyCipher(secret_key),
            ChannelSecretCipher(secret_key),
            RowCipher(secret_key, FACE_THUMBNAILS_LABEL),
        )
        try:
            if schema is not None:
                async with _transaction(engine, f"creating schema {schema}") as connection:
                    await connection.execute(sa.text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
            if run_migrations:
                await database.migrate()
        except BaseException:
            await engine.dispose()
            raise
        return database

    async def migrate(self) -> None:
        """Upgrade the schema to the newest revision (a no-op when current)."""
        try:
            await migrate.upgrade(self.engine)
        except (sqlalchemy.exc.SQLAlchemyError, OSError) as exc:
            raise storage_failure("migrating the database", exc) from exc

    @property
    def cameras(self) -> SqlCameraRepository:
        """Cameras."""
        return self._cameras

    @property
    def lines(self) -> SqlLineRepository:
        """Lines."""
        return self._lines

    @property
    def zones(self) -> SqlZoneRepository:
        """Zones."""
        return self._zones

    @property
    def events(self) -> SqlEventRepository:
        """Events."""
        return self._events

    @property
    def rules(self) -> SqlRuleRepository:
        """Alert rules."""
        return self._rules

    @property
    def alerts(self) -> SqlAlertRepository:
        """Alerts."""
        return self._alerts

    @property
    def incidents(self) -> SqlIncidentRepository:
        """Incidents."""
        return self._incidents

    @property
    def alert_groups(self) -> SqlAlertGroupRepository:
        """Alert groups."""
        return self._alert_groups

    @property
    def suppressions(self) -> SqlSuppressionRepository:
        """Snoozes and maintenance windows."""
        return self._suppressions

    @property
    def audit(self) -> SqlAuditLog:
        """The audit trail (hash-chained under a key derived from the secret)."""
        return self._audit

    @property
    def evidence(self) -> SqlEvidenceRepository:
        """Evidence metadata (the encrypted objects live in a blob store)."""
        return self._evidence

    @property
    def users(self) -> SqlUserRepository:
        """Users."""
        return self._users

    @property
    def refresh_tokens(self) -> SqlRefreshTokenRepository:
        """Refresh tokens."""
        return self._refresh_tokens

    @property
    def api_keys(self) -> SqlApiKeyRepository:
        """API keys."""
        return self._api_keys

    @property
    def settings(self) -> SqlSettingsStore:
        """Installation-wide settings."""
        return self._settings

    @property
    def face_subjects(self) -> SqlSubjectRepository:
        """Face subjects and their descriptors."""
        return self._face_subjects

    @property
    def verify_clients(self) -> SqlVerifyClientRepository:
        """Workstation clients."""
        return self._verify_clients

    @property
    def verify_decisions(self) -> SqlDecisionRepository:
        """The workstation decision history."""
        return self._verify_decisions

    @property
    def capacity(self) -> SqlCapacityStore:
        """The capacity document (one row, compare-and-set on its version)."""
        return self._capacity

    @property
    def nodes(self) -> SqlNodeRepository:
        """Edge nodes (their evidence keys encrypted under a key derived from the secret)."""
        return self._nodes

    @property
    def privacy(self) -> SqlErasureStore:
        """Deletions of events and decisions for privacy requests."""
        return self._privacy

    @property
    def retention(self) -> SqlRetentionStore:
        """Batched deletes of data past its retention."""
        return self._retention

    @property
    def recounts(self) -> SqlRecountJobStore:
        """Re-count jobs."""
        return self._recounts

    @property
    def hard_examples(self) -> SqlHardExampleStore:
        """The hard-example labelling queue."""
        return self._hard_examples

    @property
    def model_registry(self) -> SqlModelRegistryStore:
        """Model pack versions and per-camera assignments."""
        return self._model_registry

    @property
    def model_trials(self) -> SqlTrialStore:
        """Shadow plans, shadow reports and evaluations."""
        return self._model_trials

    def unit_of_work(self) -> AbstractAsyncContextManager[SqlUnitOfWork]:
        """Repositories bound to one transaction (see ``argus.ports.unit_of_work``)."""
        return open_unit(
            self.engine,
            self._cipher,
            self._audit_key,
            notify_cipher=self._notify_cipher,
            face_cipher=self._face_cipher,
        )

    @property
    def notify(self) -> SqlNotifyStore:
        """Notification channels (secrets encrypted), routes and the durable outbox."""
        return self._notify

    async def ping(self) -> None:
        """Run ``SELECT 1`` (``StorageError`` if the database does not answer)."""
        async with _transaction(self.engine, "pinging the database") as connection:
            await connection.execute(sa.text("SELECT 1"))

    async def close(self) -> None:
        """Dispose of the connection pool. Idempotent."""
        if not self._closed:
            self._closed = True
            await self.engine.dispose()

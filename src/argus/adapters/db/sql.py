"""SQLAlchemy 2 (async, Core) repositories for SQLite (aiosqlite) and PostgreSQL (asyncpg).

``SqlDatabase.open(url, secret_key=...)`` makes the engine, applies the
packaged migrations and returns the four repositories. Each repository call is
one transaction. Database errors are translated at this boundary: a unique or
foreign-key violation becomes ``ConflictError``, anything else ``StorageError``.

Camera credentials are stored only as AES-GCM ciphertext (``crypto``). Events
are inserted with ``INSERT ... ON CONFLICT DO NOTHING RETURNING event_id``,
executed over chunks of rows (SQLAlchemy's multi-row "insertmanyvalues"), so a
batch costs a few round trips and replays are no-ops.
"""

from __future__ import annotations

import builtins
import os
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any, Generic, Self, TypeVar

import sqlalchemy as sa
import sqlalchemy.exc
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from argus.adapters.db import migrate
from argus.adapters.db._common import (
    batch_result,
    decode_cursor,
    encode_cursor,
    event_class_name,
    event_track_id,
    only_types,
    unique_batch,
)
from argus.adapters.db._sqlcore import count_rows as _count
from argus.adapters.db._sqlcore import delete_by_id, storage_failure
from argus.adapters.db._sqlcore import transaction as _transaction
from argus.adapters.db.alerts_sql import (
    SqlAlertRepository,
    SqlIncidentRepository,
    SqlRuleRepository,
)
from argus.adapters.db.audit_sql import SqlAuditLog
from argus.adapters.db.crypto import CredentialCipher
from argus.adapters.db.evidence_sql import SqlEvidenceRepository
from argus.adapters.db.identity_sql import (
    SqlApiKeyRepository,
    SqlRefreshTokenRepository,
    SqlSettingsStore,
    SqlUserRepository,
)
from argus.adapters.db.rollups_sql import SqlCountRollups
from argus.adapters.db.tables import cameras, events, lines, zones
from argus.adapters.db.workstations_sql import (
    SqlCapacityStore,
    SqlDecisionRepository,
    SqlSubjectRepository,
    SqlVerifyClientRepository,
)
from argus.domain.audit import chain_key
from argus.domain.cameras import Camera, Line, Zone, utc_now
from argus.domain.errors import (
    ConfigError,
    ConflictError,
    NotFoundError,
    StorageError,
    ValidationError,
)
from argus.domain.event_stats import (
    DWELL_TYPE,
    HEATMAP_TYPE,
    CountBucket,
    DetectionStats,
    DetectionTally,
    DwellStats,
    DwellTally,
    HeatmapGrid,
    HeatmapTally,
    Interval,
)
from argus.domain.events import Envelope, EventSource
from argus.ports.repositories import EventFilter, InsertResult, Page, check_page

__all__ = [
    "SqlCameraRepository",
    "SqlDatabase",
    "SqlEventRepository",
    "SqlLineRepository",
    "SqlZoneRepository",
    "async_url",
]

E = TypeVar("E", Line, Zone)
Row = sa.Row[Any]

_CHUNK = 500
"""Events per execute call; SQLAlchemy splits it into multi-row INSERTs within driver limits."""
_SCAN_BATCH = 1000
"""Rows fetched at a time when statistics stream over events."""


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


class SqlCameraRepository:
    """Cameras in the ``cameras`` table (see ``CameraRepository``)."""

    def __init__(self, engine: AsyncEngine, cipher: CredentialCipher) -> None:
        self._engine = engine
        self._cipher = cipher

    def _row(self, camera: Camera) -> dict[str, Any]:
        secret = camera.credentials
        return {
            "id": camera.id,
            "name": camera.name,
            "location": camera.location,
            "stream_url": camera.stream_url,
            "credentials": None
            if secret is None
            else self._cipher.encrypt(secret, context=camera.id),
            "enabled": camera.enabled,
            "detect_fps": camera.detect_fps,
            "model": camera.model,
            "created_at": camera.created_at,
            "updated_at": camera.updated_at,
        }

    def _camera(self, row: Row) -> Camera:
        blob = row.credentials
        return Camera(
            id=row.id,
            name=row.name,
            stream_url=row.stream_url,
            location=row.location,
            credentials=None if blob is None else self._cipher.decrypt(blob, context=row.id),
            enabled=row.enabled,
            detect_fps=row.detect_fps,
            model=row.model,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )

    async def add(self, camera: Camera) -> None:
        async with _transaction(self._engine, f"adding camera {camera.id}") as connection:
            await connection.execute(sa.insert(cameras).values(self._row(camera)))

    async def get(self, camera_id: str) -> Camera:
        async with _transaction(self._engine, "reading a camera") as connection:
            row = (
                await connection.execute(sa.select(cameras).where(cameras.c.id == camera_id))
            ).first()
        if row is None:
            raise NotFoundError(f"no camera {camera_id}")
        return self._camera(row)

    async def list(
        self, *, limit: int = 50, offset: int = 0, enabled: bool | None = None
    ) -> Page[Camera]:
        check_page(limit, offset)
        where = [] if enabled is None else [cameras.c.enabled.is_(enabled)]
        query = (
            sa.select(cameras)
            .where(*where)
            .order_by(cameras.c.created_at, cameras.c.id)
            .limit(limit)
            .offset(offset)
        )
        async with _transaction(self._engine, "listing cameras") as connection:
            total = await _count(connection, cameras, *where)
            rows = (await connection.execute(query)).all()
        return Page(tuple(self._camera(row) for row in rows), total)

    async def update(self, camera: Camera) -> None:
        values = self._row(camera)
        del values["id"]
        async with _transaction(self._engine, f"updating camera {camera.id}") as connection:
            result = await connection.execute(
                sa.update(cameras).where(cameras.c.id == camera.id).values(values)
            )
        if result.rowcount == 0:
            raise NotFoundError(f"no camera {camera.id}")

    async def delete(self, camera_id: str) -> None:
        await delete_by_id(self._engine, cameras, "camera", camera_id)


def _line_row(line: Line) -> dict[str, Any]:
    return {
        "geometry": {"start": list(line.start), "end": list(line.end)},
        "settings": {
            "in_label": line.in_label,
            "out_label": line.out_label,
            "expected_direction": line.expected_direction,
            "anchors": list(line.anchors),
            "min_crossing_frames": line.min_crossing_frames,
            "classes": None if line.classes is None else list(line.classes),
        },
    }


def _line(row: Row) -> Line:
    geometry, settings = row.geometry, row.settings
    return Line(
        id=row.id,
        camera_id=row.camera_id,
        name=row.name,
        start=tuple(geometry["start"]),
        end=tuple(geometry["end"]),
        in_label=settings["in_label"],
        out_label=settings["out_label"],
        expected_direction=settings["expected_direction"],
        anchors=tuple(settings["anchors"]),
        min_crossing_frames=settings["min_crossing_frames"],
        classes=None if settings["classes"] is None else tuple(settings["classes"]),
    )


def _zone_row(zone: Zone) -> dict[str, Any]:
    return {
        "geometry": {"polygon": [list(point) for point in zone.polygon]},
        "settings": {
            "anchors": list(zone.anchors),
            "loiter_seconds": zone.loiter_seconds,
            "crowd_threshold": zone.crowd_threshold,
            "crowd_clear_seconds": zone.crowd_clear_seconds,
            "min_frames": zone.min_frames,
            "classes": None if zone.classes is None else list(zone.classes),
            "criticality": zone.criticality,
        },
    }


def _zone(row: Row) -> Zone:
    geometry, settings = row.geometry, row.settings
    return Zone(
        id=row.id,
        camera_id=row.camera_id,
        name=row.name,
        polygon=tuple(tuple(point) for point in geometry["polygon"]),
        anchors=tuple(settings["anchors"]),
        loiter_seconds=settings["loiter_seconds"],
        crowd_threshold=settings["crowd_threshold"],
        crowd_clear_seconds=settings["crowd_clear_seconds"],
        min_frames=settings["min_frames"],
        classes=None if settings["classes"] is None else tuple(settings["classes"]),
        criticality=settings["criticality"],
    )


class _PerCameraSql(Generic[E]):
    """Lines or zones: same table shape (id, camera, name, geometry, settings)."""

    kind = "entity"

    def __init__(
        self,
        engine: AsyncEngine,
        table: sa.Table,
        to_row: Callable[[E], dict[str, Any]],
        from_row: Callable[[Row], E],
    ) -> None:
        self._engine = engine
        self._table = table
        self._to_row: Callable[[E], dict[str, Any]] = to_row
        self._from_row: Callable[[Row], E] = from_row

    async def add(self, entity: E) -> None:
        what = f"adding {self.kind} {entity.name!r} to camera {entity.camera_id}"
        async with _transaction(self._engine, what) as connection:
            if not await connection.scalar(
                sa.select(sa.literal(1)).where(cameras.c.id == entity.camera_id)
            ):
                raise NotFoundError(f"no camera {entity.camera_id}")
            values = {"id": entity.id, "camera_id": entity.camera_id, "name": entity.name}
            await connection.execute(sa.insert(self._table).values(values | self._to_row(entity)))

    async def get(self, entity_id: str) -> E:
        table = self._table
        async with _transaction(self._engine, f"reading a {self.kind}") as connection:
            row = (
                await connection.execute(sa.select(table).where(table.c.id == entity_id))
            ).first()
        if row is None:
            raise NotFoundError(f"no {self.kind} {entity_id}")
        return self._from_row(row)

    async def list(self, camera_id: str, *, limit: int = 100, offset: int = 0) -> Page[E]:
        check_page(limit, offset)
        table = self._table
        where = table.c.camera_id == camera_id
        query = (
            sa.select(table)
            .where(where)
            .order_by(table.c.name, table.c.id)
            .limit(limit)
            .offset(offset)
        )
        async with _transaction(self._engine, f"listing {self.kind}s") as connection:
            total = await _count(connection, table, where)
            rows = (await connection.execute(query)).all()
        return Page(tuple(self._from_row(row) for row in rows), total)

    async def update(self, entity: E) -> None:
        table = self._table
        async with _transaction(self._engine, f"updating {self.kind} {entity.id}") as connection:
            camera_id = await connection.scalar(
                sa.select(table.c.camera_id).where(table.c.id == entity.id)
            )
            if camera_id is None:
                raise NotFoundError(f"no {self.kind} {entity.id}")
            if camera_id != entity.camera_id:
                raise ConflictError(f"a {self.kind} cannot move to another camera")
            await connection.execute(
                sa.update(table)
                .where(table.c.id == entity.id)
                .values({"name": entity.name} | self._to_row(entity))
            )

    async def delete(self, entity_id: str) -> None:
        await delete_by_id(self._engine, self._table, self.kind, entity_id)


class SqlLineRepository(_PerCameraSql[Line]):
    """Lines in the ``lines`` table (see ``LineRepository``)."""

    kind = "line"

    def __init__(self, engine: AsyncEngine) -> None:
        super().__init__(engine, lines, _line_row, _line)


class SqlZoneRepository(_PerCameraSql[Zone]):
    """Zones in the ``zones`` table (see ``ZoneRepository``)."""

    kind = "zone"

    def __init__(self, engine: AsyncEngine) -> None:
        super().__init__(engine, zones, _zone_row, _zone)


def _event_row(envelope: Envelope, received: Any) -> dict[str, Any]:
    source = envelope.source
    for name, value, limit in (
        ("type", envelope.type, 100),
        ("source.camera_id", source.camera_id, 200),
        ("source.edge_node_id", source.edge_node_id, 200),
    ):
        if len(value) > limit:
            raise ValidationError(f"event {envelope.event_id}: {name} exceeds {limit} characters")
    class_name = event_class_name(envelope)
    track_id = event_track_id(envelope)
    return {
        "event_id": envelope.event_id,
        "type": envelope.type,
        "timestamp": envelope.timestamp,
        "camera_id": source.camera_id,
        "edge_node_id": source.edge_node_id,
        "class_name": class_name if class_name is not None and len(class_name) <= 200 else None,
        "track_id": track_id if track_id is not None and abs(track_id) < 2**63 else None,
        "payload": dict(envelope.payload),
        "received_at": received,
    }


def _envelope(row: Row) -> Envelope:
    return Envelope(
        event_id=row.event_id,
        type=row.type,
        timestamp=row.timestamp,
        source=EventSource(edge_node_id=row.edge_node_id, camera_id=row.camera_id),
        payload=row.payload,
    )


def _event_conditions(where: EventFilter) -> builtins.list[Any]:
    conditions: builtins.list[Any] = []
    if where.camera_id is not None:
        conditions.append(events.c.camera_id == where.camera_id)
    if where.camera_ids is not None:
        conditions.append(events.c.camera_id.in_(where.camera_ids))
    if where.edge_node_id is not None:
        conditions.append(events.c.edge_node_id == where.edge_node_id)
    if where.types is not None:
        conditions.append(events.c.type.in_(where.types))
    if where.class_name is not None:
        conditions.append(events.c.class_name == where.class_name)
    if where.since is not None:
        conditions.append(events.c.timestamp >= where.since)
    if where.until is not None:
        conditions.append(events.c.timestamp < where.until)
    return conditions


class SqlEventRepository:
    """Events in the ``events`` table (see ``EventRepository``)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._insert: Callable[[sa.Table], Any] = (
            postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert
        )
        self.rollups = SqlCountRollups(engine)

    async def add(self, envelope: Envelope) -> bool:
        return bool((await self.add_many([envelope])).inserted)

    async def add_many(self, envelopes: Sequence[Envelope]) -> InsertResult:
        first, _repeated = unique_batch(envelopes)
        received = utc_now()
        rows = [_event_row(envelope, received) for envelope in first]
        stored: set[str] = set()
        if not rows:
            return batch_result(envelopes, stored)
        # One cached statement executed over many rows: SQLAlchemy's "insertmanyvalues"
        # batches it into multi-row INSERTs and still returns the inserted ids.
        statement = (
            self._insert(events)
            .on_conflict_do_nothing(index_elements=[events.c.event_id])
            .returning(events.c.event_id)
        )
        async with _transaction(self._engine, f"storing {len(rows)} events") as connection:
            for start in range(0, len(rows), _CHUNK):
                result = await connection.execute(statement, rows[start : start + _CHUNK])
                stored.update(result.scalars())
            # Same transaction: the counts of exactly the events stored now (never a replay).
            await self.rollups.record(connection, [e for e in first if e.event_id in stored])
        return batch_result(envelopes, stored)

    async def exists(self, event_id: str) -> bool:
        async with _transaction(self._engine, "checking an event") as connection:
            found = await connection.scalar(
                sa.select(sa.literal(1)).where(events.c.event_id == event_id)
            )
        return found is not None

    async def get(self, event_id: str) -> Envelope:
        async with _transaction(self._engine, "reading an event") as connection:
            row = (
                await connection.execute(sa.select(events).where(events.c.event_id == event_id))
            ).first()
        if row is None:
            raise NotFoundError(f"no event {event_id}")
        return _envelope(row)

    async def query(
        self, where: EventFilter | None = None, *, limit: int = 100, cursor: str | None = None
    ) -> Page[Envelope]:
        check_page(limit)
        conditions = _event_conditions(where or EventFilter())
        page_conditions = list(conditions)
        if cursor:
            stamp, event_id = decode_cursor(cursor)
            page_conditions.append(
                sa.or_(
                    events.c.timestamp < stamp,
                    sa.and_(events.c.timestamp == stamp, events.c.event_id < event_id),
                )
            )
        query = (
            sa.select(events)
            .where(*page_conditions)
            .order_by(events.c.timestamp.desc(), events.c.event_id.desc())
            .limit(limit + 1)
        )
        async with _transaction(self._engine, "querying events") as connection:
            total = await _count(connection, events, *conditions)
            rows = (await connection.execute(query)).all()
        items = tuple(_envelope(row) for row in rows[:limit])
        next_cursor = (
            encode_cursor(items[-1].timestamp, items[-1].event_id) if len(rows) > limit else None
        )
        return Page(items, total, next_cursor)

    async def _scan(
        self,
        what: str,
        where: EventFilter | None,
        consume: Callable[[datetime, str, str, Mapping[str, Any]], None],
        *,
        newest_first: bool = False,
    ) -> None:
        """Stream the matching events' time, camera, type and payload into ``consume``.

        Rows arrive in batches from a server-side cursor (PostgreSQL) or the
        driver's incremental fetch (SQLite), so memory stays bounded by the batch.
        """
        if where is None:
            return
        query = sa.select(
            events.c.timestamp, events.c.camera_id, events.c.type, events.c.payload
        ).where(*_event_conditions(where))
        if newest_first:
            query = query.order_by(events.c.timestamp.desc(), events.c.event_id.desc())
        async with _transaction(self._engine, what) as connection:
            result = await connection.stream(query.execution_options(yield_per=_SCAN_BATCH))
            async for row in result:
                payload = row.payload if isinstance(row.payload, Mapping) else {}
                consume(row.timestamp, row.camera_id, row.type, payload)

    async def counts(
        self, where: EventFilter, *, interval: Interval = "hour", tz: tzinfo = UTC
    ) -> tuple[CountBucket, ...]:
        # From the rollups (adapters/db/rollups_sql.py): the cost follows the buckets, not events.
        return await self.rollups.counts(where, interval=interval, tz=tz)

    async def dwell(self, where: EventFilter, *, zone: str | None = None) -> tuple[DwellStats, ...]:
        tally = DwellTally(zone)
        await self._scan(
            "summarising dwell times",
            only_types(where, (DWELL_TYPE,)),
            lambda _, camera_id, type, payload: tally.add(camera_id, type, payload),
        )
        return tally.result()

    async def detections(self, where: EventFilter) -> tuple[DetectionStats, ...]:
        tally = DetectionTally()
        await self._scan(
            "summarising detections",
            where,
            lambda _, camera_id, type, payload: tally.add(camera_id, type, payload),
        )
        return tally.result()

    async def heatmap(self, camera_id: str, since: datetime, until: datetime) -> HeatmapGrid | None:
        where = EventFilter(camera_id=camera_id, types=(HEATMAP_TYPE,), since=since, until=until)
        tally = HeatmapTally()
        await self._scan(
            "summing heatmaps",
            where,
            lambda _, __, ___, payload: tally.add(payload),
            newest_first=True,
        )
        return tally.result()


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

    def __init__(self, engine: AsyncEngine, cipher: CredentialCipher, audit_key: bytes) -> None:
        self.engine = engine
        self._audit = SqlAuditLog(engine, audit_key)
        self._evidence = SqlEvidenceRepository(engine)
        self._cameras = SqlCameraRepository(engine, cipher)
        self._lines = SqlLineRepository(engine)
        self._zones = SqlZoneRepository(engine)
        self._events = SqlEventRepository(engine)
        self._rules = SqlRuleRepository(engine)
        self._alerts = SqlAlertRepository(engine)
        self._incidents = SqlIncidentRepository(engine)
        self._users = SqlUserRepository(engine)
        self._refresh_tokens = SqlRefreshTokenRepository(engine)
        self._api_keys = SqlApiKeyRepository(engine)
        self._settings = SqlSettingsStore(engine)
        self._face_subjects = SqlSubjectRepository(engine)
        self._verify_clients = SqlVerifyClientRepository(engine)
        self._verify_decisions = SqlDecisionRepository(engine)
        self._capacity = SqlCapacityStore(engine)
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
            secret_key: The installation secret; camera credentials are
                encrypted under a key derived from it.
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
        database = cls(engine, cipher, chain_key(secret_key))
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

    async def ping(self) -> None:
        """Run ``SELECT 1`` (``StorageError`` if the database does not answer)."""
        async with _transaction(self.engine, "pinging the database") as connection:
            await connection.execute(sa.text("SELECT 1"))

    async def close(self) -> None:
        """Dispose of the connection pool. Idempotent."""
        if not self._closed:
            self._closed = True
            await self.engine.dispose()

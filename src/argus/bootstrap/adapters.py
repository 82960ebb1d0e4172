"""Opening the adapters the control plane runs on: store, bus, pipelines, blobs, capacity.

``open_adapters`` opens the three every process of the control plane shares
(the database, the event bus, the camera pipelines) as one ``Adapters``;
tests hand ``bootstrap.app.build_app`` another opener that returns fakes.
The evidence blob store and the workstation capacity store are opened from
the settings next to them (``open_evidence_blobs``, ``open_capacity_store``).
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from argus.config import Settings
from argus.domain.errors import BusError, ConfigError
from argus.ports.bus import EventBus
from argus.ports.evidence import BlobStore
from argus.ports.pipelines import PipelineSupervisor
from argus.ports.repositories import Database
from argus.ports.workstations import CapacityStore

if TYPE_CHECKING:
    from argus.adapters.db.sql import SqlDatabase

__all__ = [
    "EVENTS_SUBJECT",
    "Adapters",
    "AdaptersOpener",
    "PipelinesFactory",
    "installation_secret",
    "open_adapters",
    "open_bus",
    "open_capacity_store",
    "open_database",
    "open_evidence_blobs",
]

log = logging.getLogger(__name__)

EVENTS_SUBJECT = "events"
"""Bus subject on which pipelines publish event envelopes and the event store consumes them."""


@dataclass(frozen=True, slots=True)
class Adapters:
    """The open adapters the control plane runs on; ``close()`` releases them.

    Attributes:
        database: The store (SQLite by default).
        bus: The event bus (in-process by default).
        pipelines: The camera pipelines.
        events_subject: Subject the event store consumes.
        node_id: This server's id in the envelopes it publishes (alert changes).
        secret: The installation secret (keys of tokens, MFA secrets, evidence
            signatures are derived from it); random when not given (tests).
    """

    database: Database
    bus: EventBus
    pipelines: PipelineSupervisor
    events_subject: str = EVENTS_SUBJECT
    node_id: str = "argus"
    secret: bytes = field(default_factory=lambda: secrets.token_bytes(32))

    async def close(self) -> None:
        """Stop pipelines, then close the bus and the database (each even if one fails)."""
        try:
            await self.pipelines.close()
        finally:
            try:
                await self.bus.close()
            finally:
                await self.database.close()


AdaptersOpener = Callable[[Settings], Awaitable[Adapters]]
"""Opens the adapters a control plane runs on (``open_adapters`` with the edge worker by
default; tests return fakes)."""

PipelinesFactory = Callable[[Settings, EventBus], PipelineSupervisor]
"""Builds the pipeline supervisor that publishes to the given bus."""


def installation_secret(settings: Settings) -> bytes:
    """The installation secret: ``ARGUS_SECRET_KEY``, else ``data_dir/secret.key`` (created).

    Raises:
        ConfigError: The configured key or the key file is invalid.
    """
    from argus.adapters.db.crypto import resolve_secret_key

    configured = settings.secret_key.get_secret_value() if settings.secret_key else None
    return resolve_secret_key(configured, settings.data_dir)


async def open_database(settings: Settings, secret: bytes) -> SqlDatabase:
    """The SQL database of ``settings.resolved_database_url``, migrated to the latest schema.

    Raises:
        ConfigError: Bad database URL.
        StorageError: The database is unreachable or a migration failed.
    """
    from argus.adapters.db.sql import SqlDatabase

    return await SqlDatabase.open(settings.resolved_database_url, secret_key=secret)


async def open_bus(settings: Settings) -> EventBus:
    """Open the event bus named by ``settings.bus_url``.

    Brokers are namespaced by ``settings.bus_prefix``: on NATS the stream is
    the prefix in upper case and captures ``prefix.>``; on Redis the stream
    keys are ``prefix:subject``.

    Raises:
        ConfigError: Unknown bus URL scheme.
        BusError: The broker is unreachable (or JetStream is off).
    """
    bus = settings.bus
    if bus.kind == "nats":
        from argus.adapters.bus.nats import NatsEventBus

        return await NatsEventBus.connect(
            bus.url,
            stream=settings.bus_prefix.upper(),
            prefix=settings.bus_prefix,
            ack_wait=settings.bus_ack_wait_s,
        )
    if bus.kind == "redis":
        from argus.adapters.bus.redis_streams import RedisStreamsEventBus

        return await RedisStreamsEventBus.connect(
            bus.url, prefix=settings.bus_prefix, ack_wait=settings.bus_ack_wait_s
        )
    from argus.adapters.bus.memory import MemoryEventBus

    # The journal keeps what the consumers have not stored across a crash (issue 15).
    journal = settings.data_dir / "bus.db"
    try:
        return MemoryEventBus(ack_wait=settings.bus_ack_wait_s, journal=journal)
    except BusError:
        # Another server owns this data directory's journal: run, but say what is lost.
        log.warning(
            "the bus journal %s is not usable; events not yet stored are kept in memory "
            "only and lost if this process dies",
            journal,
            exc_info=True,
        )
        return MemoryEventBus(ack_wait=settings.bus_ack_wait_s)


async def open_adapters(
    settings: Settings, *, pipelines: PipelinesFactory | None = None
) -> Adapters:
    """Open the store and the bus named by the settings, and the pipelines.

    Args:
        settings: The settings (database and bus URLs, secret key, data directory).
        pipelines: Builds the pipeline supervisor; ``None`` uses the in-memory
            one, which runs no video.

    Raises:
        ConfigError: Bad database or bus URL, or secret key.
        StorageError: The database is unreachable or a migration failed.
        BusError: The broker is unreachable.
    """
    from argus.adapters.pipelines_memory import MemoryPipelines

    secret = installation_secret(settings)
    database = await open_database(settings, secret)
    try:
        bus = await open_bus(settings)
    except BaseException:
        await database.close()
        raise
    try:
        supervisor = pipelines(settings, bus) if pipelines is not None else MemoryPipelines()
    except BaseException:
        try:
            await bus.close()
        finally:
            await database.close()
        raise
    return Adapters(
        database=database, bus=bus, pipelines=supervisor, node_id=settings.node_id, secret=secret
    )


async def open_evidence_blobs(settings: Settings, *, create_bucket: bool = True) -> BlobStore:
    """The blob store named by ``settings.evidence_url``.

    ``None``: ``data_dir/evidence``; a path or ``file:///path``: that directory;
    ``s3://bucket/prefix``: the bucket on ``settings.s3_endpoint_url`` (AWS when
    unset), created when missing if ``create_bucket``.

    Raises:
        ConfigError: An unknown URL scheme or an S3 URL without a bucket.
        StorageError: The S3 endpoint is unreachable or refuses the credentials.
    """
    from urllib.parse import urlparse

    from argus.adapters.evidence.fs import FileBlobStore

    url = settings.evidence_url
    if url is None:
        return FileBlobStore(settings.data_dir / "evidence")
    parsed = urlparse(url)
    if parsed.scheme == "s3":
        from argus.adapters.evidence.s3 import S3BlobStore

        if not parsed.netloc:
            raise ConfigError(f"evidence URL {url!r} names no bucket (s3://bucket/prefix)")
        return await S3BlobStore.open(
            parsed.netloc,
            parsed.path.lstrip("/"),
            endpoint_url=settings.s3_endpoint_url,
            create_bucket=create_bucket,
        )
    if parsed.scheme == "file":
        return FileBlobStore(Path(parsed.path))
    if "://" in url:
        raise ConfigError(f"evidence URL {url!r}: use a path, file:///path or s3://bucket/prefix")
    return FileBlobStore(Path(url))


async def open_capacity_store(settings: Settings, database: Database) -> CapacityStore:
    """The shared capacity state: Redis when ``workstation_redis_url`` is set, else the
    database's ``capacity_state`` row. ``close()`` it after use.

    Raises:
        StorageError: Redis is unreachable.
    """
    if settings.workstation_redis_url is None:
        return database.capacity
    from argus.adapters.capacity_redis import RedisCapacityStore

    return await RedisCapacityStore.connect(
        settings.workstation_redis_url, prefix=settings.bus_prefix
    )

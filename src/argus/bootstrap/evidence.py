"""Evidence: the service over its blob store, keys and signer; the CLI's admin access."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from argus.bootstrap.adapters import installation_secret, open_database, open_evidence_blobs
from argus.bootstrap.policies import evidence_keyring, evidence_signer
from argus.config import Settings
from argus.domain.errors import ConfigError
from argus.ports.audit import AuditLog
from argus.ports.evidence import EvidenceRepository
from argus.services.evidence import EvidenceService

__all__ = ["open_evidence_admin", "open_evidence_service", "rotate_evidence_key"]


async def open_evidence_service(
    settings: Settings,
    repository: EvidenceRepository,
    audit: AuditLog,
    *,
    secret: bytes | None = None,
) -> EvidenceService:
    """The evidence service: blobs from ``evidence_url``, keys, signer; ``close()`` it after.

    Args:
        settings: Evidence URL, S3 endpoint, master keys, data directory, secret.
        repository: The metadata store (``database.evidence``).
        audit: The audit log every evidence action is appended to.
        secret: The installation secret (``Adapters.secret``); resolved from
            the settings when ``None``.

    Raises:
        ConfigError: Bad evidence URL, master keys or secret.
        StorageError: The object store is unreachable.
    """
    keyring = evidence_keyring(settings)
    signer = evidence_signer(settings, secret)
    blobs = await open_evidence_blobs(settings)
    return EvidenceService(repository, blobs, keyring, audit, signer)


async def open_evidence_admin(
    settings: Settings,
) -> tuple[EvidenceService, Callable[[], Awaitable[None]]]:
    """The evidence service over the configured database and its audit log (for the CLI).

    Returns:
        The service and a function that closes it and the database.

    Raises:
        ConfigError: Bad database URL, evidence URL, keys or secret.
        StorageError: The database or the object store is unreachable.
    """
    from argus.adapters.db.audit_sql import SqlAuditLog
    from argus.adapters.db.evidence_sql import SqlEvidenceRepository
    from argus.domain.audit import chain_key

    secret = installation_secret(settings)
    database = await open_database(settings, secret)
    try:
        audit = SqlAuditLog(database.engine, chain_key(secret))
        repository = SqlEvidenceRepository(database.engine)
        service = await open_evidence_service(settings, repository, audit, secret=secret)
    except BaseException:
        await database.close()
        raise

    async def close() -> None:
        try:
            await service.close()
        finally:
            await database.close()

    return service, close


def rotate_evidence_key(settings: Settings) -> str:
    """Add a new current master key to ``data_dir/evidence-keys.json``; return its id.

    Raises:
        ConfigError: Keys come from ``ARGUS_EVIDENCE_MASTER_KEYS`` (add one there
            instead), or the key file is invalid.
    """
    from argus.adapters.evidence.crypto import rotate_key_file

    if settings.evidence_master_keys is not None:
        raise ConfigError(
            "evidence keys come from ARGUS_EVIDENCE_MASTER_KEYS: append a new 'kid:base64' "
            "key there (the last is current), restart, then run 'argus evidence rewrap'"
        )
    return rotate_key_file(settings.data_dir)

"""Dataset export (issue 21, part C): the exporter over the store and the examples' frames.

In the control plane the frames come from the hard-example service
(``frames_of``); the CLI (``argus dataset export``) opens the database and the
evidence vault itself and reads each frame's sealed evidence item directly
(``open_dataset_admin``), as that service does.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from argus.bootstrap.adapters import installation_secret, open_database
from argus.bootstrap.evidence import open_evidence_service
from argus.bootstrap.models import image_decoder
from argus.config import Settings
from argus.domain.actor import Actor
from argus.domain.cameras import utc_now
from argus.domain.hard_examples import HardExample
from argus.ports.repositories import Database
from argus.services.dataset_export import DatasetExporter, FrameReader
from argus.services.evidence import EvidenceService
from argus.services.hard_examples import HardExampleService

__all__ = [
    "EXPORT_MAX_PIXELS",
    "build_dataset_exporter",
    "evidence_frames",
    "frames_of",
    "open_dataset_admin",
]

EXPORT_MAX_PIXELS = 8192 * 8192
"""Largest frame an export decodes to hash it (cameras up to 8K)."""


def build_dataset_exporter(
    settings: Settings, database: Database, frames: FrameReader
) -> DatasetExporter:
    """The exporter: examples from ``database``, frames from ``frames``, limits from settings."""
    return DatasetExporter(
        database,
        frames,
        image_decoder(EXPORT_MAX_PIXELS),
        utc_now,
        max_examples=settings.dataset_max_examples,
        licence=settings.dataset_licence,
    )


def frames_of(examples: HardExampleService) -> FrameReader:
    """Frames read through the hard-example service (its scope check, ``evidence.read``)."""

    async def frame(actor: Actor, example: HardExample) -> bytes:
        return await examples.frame(example.id, actor=actor)

    return frame


def evidence_frames(evidence: EvidenceService) -> FrameReader:
    """Frames read straight from the evidence vault (verified, decrypted, audited)."""

    async def frame(actor: Actor, example: HardExample) -> bytes:
        return (await evidence.read(example.frame_evidence_id, actor=actor))[1]

    return frame


async def open_dataset_admin(
    settings: Settings,
) -> tuple[DatasetExporter, Callable[[], Awaitable[None]]]:
    """The exporter over the configured database and evidence vault (for the CLI).

    Returns:
        The exporter and a function that closes the vault and the database.

    Raises:
        ConfigError: Bad database URL, evidence URL, keys or secret.
        StorageError: The database or the object store is unreachable.
    """
    secret = installation_secret(settings)
    database = await open_database(settings, secret)
    try:
        evidence = await open_evidence_service(
            settings, database.evidence, database.audit, secret=secret
        )
    except BaseException:
        await database.close()
        raise

    async def close() -> None:
        try:
            await evidence.close()
        finally:
            await database.close()

    return build_dataset_exporter(settings, database, evidence_frames(evidence)), close

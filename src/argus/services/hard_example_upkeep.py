"""Removing hard examples with their frames: batches for erasures and retention, one by one.

The store deletes the rows (``HardExampleStore.purge`` returns what it
deleted); each example's sealed frame is then deleted through the evidence
service (audited as ``evidence.delete``), and the removal is audited under
the caller's action (``example.erase``, ``example.expire``,
``example.withdraw``). A frame already gone (erased or aged out with the other
evidence) is fine; a locked one stays, and the log says why.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from argus.domain.actor import Actor
from argus.domain.errors import ArgusError, NotFoundError
from argus.domain.hard_examples import HardExample
from argus.ports.hard_examples import ExampleFilter
from argus.ports.repositories import Database
from argus.services.evidence import EvidenceService
from argus.services.writes import record

__all__ = ["BATCH", "delete_frame", "drop_frame", "purge", "remove"]

log = logging.getLogger(__name__)

BATCH = 500
"""Examples deleted per transaction."""


async def purge(
    db: Database,
    evidence: EvidenceService,
    actor: Actor,
    where: ExampleFilter,
    *,
    action: str,
    clock: Callable[[], datetime],
) -> int:
    """Remove every example ``where`` selects, with its frame; how many."""
    removed = 0
    while True:
        gone = await db.hard_examples.purge(where, limit=BATCH)
        for example in gone:
            await drop_frame(evidence, example, actor)
            await _audit(db, actor, action, example, clock)
        removed += len(gone)
        if len(gone) < BATCH:
            return removed


async def remove(
    db: Database,
    evidence: EvidenceService,
    example: HardExample,
    actor: Actor,
    *,
    action: str,
    clock: Callable[[], datetime],
) -> None:
    """Remove one example with its frame (nothing when it is gone already)."""
    try:
        await db.hard_examples.delete(example.id)
    except NotFoundError:
        return
    await drop_frame(evidence, example, actor)
    await _audit(db, actor, action, example, clock)


async def drop_frame(evidence: EvidenceService, example: HardExample, actor: Actor) -> bool:
    """Delete the example's frame (see ``delete_frame``)."""
    return await delete_frame(evidence, example.frame_evidence_id, actor, example.id)


async def delete_frame(
    evidence: EvidenceService, evidence_id: str, actor: Actor, example_id: str = ""
) -> bool:
    """Unlock and delete an example's frame; whether it was deleted (never raises for a gone one).

    The frame is locked while its example lives (evidence retention leaves it
    alone); the lock is the example's, so removing the example releases it.
    A frame someone else re-locked meanwhile stays, and the log says why.
    """
    try:
        await evidence.unlock(evidence_id, actor=actor)
        await evidence.delete(evidence_id, actor=actor)
    except NotFoundError:
        return False  # already erased with the other evidence
    except ArgusError as exc:
        log.warning(
            "frame %s of example %s stays (%s; for %s)",
            evidence_id,
            example_id or "?",
            exc,
            actor.audit_name,
        )
        return False
    return True


async def _audit(
    db: Database, actor: Actor, action: str, example: HardExample, clock: Callable[[], datetime]
) -> None:
    await record(
        db.audit,
        actor,
        action,
        f"example:{example.id}",
        at=clock(),
        camera_id=example.camera_id,
        frame=example.frame_evidence_id,
    )

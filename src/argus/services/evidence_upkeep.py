"""Evidence upkeep: retention (``purge_expired``) and master-key rotation (``rewrap``).

Locked evidence is exempt from retention; the repository enforces the lock in
the delete itself. ``rewrap`` moves every data key onto the keyring's current
master key without touching ciphertext, after which older master keys can be
removed.
"""

from __future__ import annotations

import math
from datetime import timedelta

from argus.domain.actor import SYSTEM_ACTOR, Actor
from argus.domain.errors import ConflictError, IntegrityError, NotFoundError, ValidationError
from argus.domain.evidence import EvidenceItem
from argus.ports.evidence import ALL_EVIDENCE, EvidenceFilter
from argus.ports.paging import MAX_PAGE, all_pages
from argus.services.evidence_vault import EvidenceVault

__all__ = ["purge_expired", "rewrap"]


async def purge_expired(vault: EvidenceVault, retention_days: float) -> int:
    """Delete unlocked evidence older than ``retention_days``; each audited as ``system``.

    Returns:
        How many items were deleted.

    Raises:
        ValidationError: ``retention_days`` is not in (0, 36500].
    """
    if not (math.isfinite(retention_days) and 0 < retention_days <= 36_500):
        raise ValidationError(f"retention_days must be in (0, 36500], got {retention_days}")
    expiring = EvidenceFilter(
        created_before=vault.clock() - timedelta(days=retention_days), locked=False
    )
    expired = await all_pages(
        lambda offset: vault.repository.list(expiring, limit=MAX_PAGE, offset=offset)
    )
    purged = 0
    for item in expired:
        try:
            await vault.repository.delete(item.id)
        except (ConflictError, NotFoundError):
            continue  # locked or deleted meanwhile
        await vault.blobs.delete(item.storage_key)
        await vault.record(
            "evidence.purge",
            SYSTEM_ACTOR,
            item.id,
            retention_days=retention_days,
            sha256=item.sha256,
        )
        purged += 1
    return purged


async def rewrap(vault: EvidenceVault, actor: Actor) -> int:
    """Re-wrap every data key not under the current master key; ciphertext is untouched.

    Each item is verified first (a tampered item is never re-signed), its data
    key wrapped under the current key, and its metadata, whose ``kid`` and
    ``wrapped_key`` changed, signed again with the same DEK-derived HMAC key.
    Each item is audited as ``evidence.rewrap``.

    Returns:
        How many items were re-wrapped.

    Raises:
        IntegrityError: Some items failed their check (after all others were
            re-wrapped); they keep their old key, and the message names them.
    """
    current = vault.keyring.current_kid
    items = await all_pages(
        lambda offset: vault.repository.list(ALL_EVIDENCE, limit=MAX_PAGE, offset=offset)
    )
    done, failed = 0, []
    for item in items:
        if item.kid == current:
            continue
        try:
            done += await _rewrap_one(vault, item.id, actor)
        except IntegrityError as exc:
            failed.append(item.id)
            await vault.record("evidence.rewrap", actor, item.id, "failure", reason=str(exc))
    if failed:
        raise IntegrityError(
            f"re-wrapped {done} evidence item(s); {len(failed)} failed their integrity check "
            f"and keep their old key: {', '.join(failed[:20])}"
        )
    return done


async def _rewrap_one(vault: EvidenceVault, evidence_id: str, actor: Actor) -> int:
    def rewrapped(item: EvidenceItem) -> EvidenceItem | None:
        if item.kid == vault.keyring.current_kid:
            return None
        return item.rewrapped(*vault.keyring.rewrap(item))

    item, signed = await vault.resign(evidence_id, rewrapped)
    if signed is None:
        return 0
    await vault.record("evidence.rewrap", actor, item.id, old_kid=item.kid, kid=signed.kid)
    return 1

"""Attaching stored evidence to an incident: the row's ``incident_id``, signed again.

``incident_id`` is one of the fields the item's HMAC covers, so attaching an
item is a verified re-signing, as a key re-wrap is (``evidence_upkeep``): the
item is fetched and checked first (a tampered item is never re-signed), its
``incident_id`` set, and its metadata signed again with the same DEK-derived
key. Each attachment is audited as ``evidence.attach`` (target
``evidence:<id>``, the incident in its details); attaching an item already
attached to that incident changes nothing and records nothing.
"""

from __future__ import annotations

from dataclasses import replace

from argus.domain.actor import Actor
from argus.domain.errors import IntegrityError
from argus.domain.evidence import EvidenceItem
from argus.ports.evidence import EvidenceFilter
from argus.ports.paging import MAX_PAGE, all_pages
from argus.services.evidence_vault import EvidenceVault

__all__ = ["attach", "attach_alert"]


async def attach(
    vault: EvidenceVault, evidence_id: str, incident_id: str, actor: Actor
) -> EvidenceItem:
    """Attach one item to ``incident_id`` (idempotent; retries a lost version race).

    Raises:
        NotFoundError: No evidence has the id.
        IntegrityError: The item failed its check (audited; it is left as it was).
        ConflictError: The item kept changing meanwhile.
    """

    def attached(item: EvidenceItem) -> EvidenceItem | None:
        if item.incident_id == incident_id:
            return None
        return replace(item, incident_id=incident_id, hmac=b"", version=item.version + 1)

    try:
        item, signed = await vault.resign(evidence_id, attached)
    except IntegrityError as exc:
        await vault.record("evidence.attach", actor, evidence_id, "failure", reason=str(exc))
        raise
    if signed is None:
        return item
    await vault.record(
        "evidence.attach", actor, item.id, incident=incident_id, previous=item.incident_id
    )
    return signed


async def attach_alert(
    vault: EvidenceVault, alert_id: str, incident_id: str, actor: Actor
) -> tuple[tuple[EvidenceItem, ...], tuple[str, ...]]:
    """Attach every item of ``alert_id`` to ``incident_id``.

    Returns:
        The attached items (oldest first), and the ids of items that failed their
        integrity check (audited, left as they were; the others are attached).
    """
    where = EvidenceFilter(alert_id=alert_id)
    items = await all_pages(
        lambda offset: vault.repository.browse(where, limit=MAX_PAGE, offset=offset)
    )
    attached: list[EvidenceItem] = []
    failed: list[str] = []
    for entry in items:
        try:
            attached.append(await attach(vault, entry.id, incident_id, actor))
        except IntegrityError:
            failed.append(entry.id)
    return tuple(attached), tuple(failed)

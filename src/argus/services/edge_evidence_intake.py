"""``EdgeEvidenceIntake``: evidence sealed on an edge node, opened, stored and linked to alerts.

An ``evidence`` item of a sync batch carries a snapshot, a clip or a tamper
frame (before/after) sealed on the node under the node's evidence key. The
intake opens the seal (an injected ``open_sealed``: services never import the
crypto adapter), which checks the tag, the identity bound into the associated
data and the plaintext's SHA-256, and stores the plaintext in the evidence
vault (encrypted and signed again under the server's keys, audited
``evidence.store`` by ``system``). Node kinds are vault kinds (``snapshot``,
``clip``, ``before``, ``after``), so the dashboard tells the two frames apart.

Links (``database.nodes.link_evidence``) tie the stored item to every event it
covers, and to the node's evidence id itself, which makes a replayed item a
``duplicate``: the marker is written last, so an item stored but not yet
marked is stored once more on replay (an extra copy, never a loss).

An alert gets the evidence of its event whichever arrives first, and only an
alert of the item's own camera (a node naming another camera's event ids
attaches nothing to that camera's alerts):

* evidence that arrives after the alert is stored with that alert's id (one
  copy per further alert of the same event);
* an alert raised after its evidence arrived gets it from ``attach``, which
  the alert worker calls for every alert it raises: the linked item is read
  from the vault and stored again with the alert's id (the vault signs an
  item's alert id, so it is never rewritten in place).

Either way ``alert.evidence`` is announced on the alert subject, as the
capture of local cameras does, so dashboards update. Both sides write before
they read the other's write (the intake links, then reads the alerts again), so
at least one of them sees the other; when both do, the second finds the
alert's copy (same SHA-256 and kind) and stores none, or, racing, one more copy.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import datetime

from argus.domain.actor import SYSTEM_ACTOR
from argus.domain.alerts import Alert
from argus.domain.cameras import utc_now
from argus.domain.edge import EdgeEvidence, EdgeNode, SealedBlob
from argus.domain.errors import ArgusError, IntegrityError, NotFoundError
from argus.domain.events import Envelope, EventSource, new_event_id
from argus.domain.evidence import EvidenceItem, EvidenceKind
from argus.ports.bus import EventBus
from argus.ports.evidence import EvidenceFilter
from argus.ports.paging import MAX_PAGE, all_pages
from argus.ports.repositories import Database
from argus.services.alerts import ALERTS_SUBJECT
from argus.services.evidence import EvidenceService
from argus.services.evidence_capture import EVIDENCE_EVENT

__all__ = ["EdgeEvidenceIntake", "OpenSealed", "alerts_of_events"]

log = logging.getLogger(__name__)

OpenSealed = Callable[[bytes, SealedBlob, bytes], bytes]
"""Opens a sealed blob: ``(key, blob, associated data) -> plaintext`` (raises IntegrityError)."""


async def alerts_of_events(database: Database, event_ids: Iterable[str]) -> list[Alert]:
    """The stored alerts raised for any of ``event_ids`` (by any existing rule)."""
    ids = list(dict.fromkeys(event_ids))
    if not ids:
        return []
    rules = await all_pages(lambda skip: database.rules.list(limit=MAX_PAGE, offset=skip))
    found: list[Alert] = []
    for event_id in ids:
        for rule in rules:
            alert = await database.alerts.find(rule.id, event_id)
            if alert is not None:
                found.append(alert)
    return found


class EdgeEvidenceIntake:
    """Opens, stores and links evidence from edge nodes (see the module docstring).

    Args:
        database: The store (links, alerts, rules).
        evidence: The evidence vault.
        bus: ``alert.evidence`` goes out on its alert subject.
        open_sealed: Opens a node's sealed blob.
        node_id: This server's id on the envelopes it publishes.
        clock: The current UTC time.
    """

    def __init__(
        self,
        database: Database,
        evidence: EvidenceService,
        bus: EventBus,
        *,
        open_sealed: OpenSealed,
        node_id: str = "argus",
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._db = database
        self._evidence = evidence
        self._bus = bus
        self._open = open_sealed
        self._node_id = node_id
        self._clock = clock
        self.attached = 0
        """Alerts that received edge evidence."""

    async def accept(
        self, node: EdgeNode, item: EdgeEvidence, cameras: frozenset[str]
    ) -> tuple[bool, str | None]:
        """Store one evidence item of ``node``; ``(stored, reason)``.

        Returns:
            ``(True, None)`` when stored now, ``(False, None)`` for a duplicate,
            ``(False, reason)`` when it is refused (the node quarantines it).

        Raises:
            StorageError: The vault or the store failed (the node sends it again).
        """
        if item.node_id != node.node_id:
            return False, f"evidence of node {item.node_id} sent by node {node.node_id}"
        if item.camera_id not in cameras:
            return False, f"camera {item.camera_id} is not assigned to node {node.node_id}"
        if await self._db.nodes.evidence_for(item.evidence_id):
            return False, None
        try:
            data = self._open(node.evidence_key, item.blob, item.aad())
        except IntegrityError as exc:
            return False, f"sealed evidence does not open: {exc}"
        kind: EvidenceKind = item.kind  # the vault knows the edge kinds (before/after) too
        alerts = await self._alerts_of(item)
        first = await self._store(data, item, kind, alerts[0].id if alerts else None)
        for event_id in item.event_ids:
            await self._db.nodes.link_evidence(event_id, first.id, item.kind)
        # Read again after linking: an alert raised meanwhile may have read the links
        # before they were written (``attach`` then found nothing); one of both sees it.
        for alert in await self._alerts_of(item):
            if alert.id == first.alert_id:
                copy = first
            elif await self._holds(alert, first):
                continue  # ``attach`` gave it this item already
            else:
                copy = await self._store(data, item, kind, alert.id)
            self.attached += 1
            await self._announce(alert, {item.kind: copy.id})
        # The marker last: an item stored but not marked is stored again on replay.
        await self._db.nodes.link_evidence(item.evidence_id, first.id, item.kind)
        return True, None

    async def _alerts_of(self, item: EdgeEvidence) -> list[Alert]:
        """The alerts of the item's events on its own camera (never another camera's)."""
        found = await alerts_of_events(self._db, item.event_ids)
        return [a for a in found if a.camera_id == item.camera_id]

    async def _holds(self, alert: Alert, item: EvidenceItem) -> bool:
        """True when ``alert`` has a copy of ``item`` (same SHA-256 and kind)."""
        have = await all_pages(
            lambda skip: self._evidence.list(
                EvidenceFilter(alert_id=alert.id), limit=MAX_PAGE, offset=skip
            )
        )
        return any((e.sha256, e.kind) == (item.sha256, item.kind) for e in have)

    async def _store(
        self, data: bytes, item: EdgeEvidence, kind: EvidenceKind, alert_id: str | None
    ) -> EvidenceItem:
        return await self._evidence.store(
            data, kind, item.content_type, alert_id=alert_id, camera_id=item.camera_id
        )

    async def attach(self, alert: Alert) -> int:
        """Give a newly raised alert the edge evidence already received for its event.

        Never raises: a failure is logged (the alert stands without the evidence).

        Returns:
            How many evidence items were attached.
        """
        try:
            return await self._attach(alert)
        except ArgusError:
            log.exception("attaching edge evidence to alert %s failed", alert.id)
            return 0

    async def _attach(self, alert: Alert) -> int:
        links = await self._db.nodes.evidence_for(alert.event_id)
        if not links:
            return 0
        have = await all_pages(
            lambda skip: self._evidence.list(
                EvidenceFilter(alert_id=alert.id), limit=MAX_PAGE, offset=skip
            )
        )
        held = {(e.sha256, e.kind) for e in have}
        body: dict[str, str] = {}
        for evidence_id, node_kind in links:
            try:
                source = await self._evidence.get(evidence_id)
            except NotFoundError:
                continue  # purged by retention
            if source.alert_id == alert.id or (source.sha256, source.kind) in held:
                continue
            if source.camera_id != alert.camera_id:
                continue  # a node named an event of another camera: not its evidence
            _, data = await self._evidence.read(evidence_id, actor=SYSTEM_ACTOR)
            copy = await self._evidence.store(
                data,
                source.kind,
                source.content_type,
                alert_id=alert.id,
                camera_id=source.camera_id,
            )
            held.add((copy.sha256, copy.kind))
            body[node_kind] = copy.id
        if body:
            self.attached += 1
            await self._announce(alert, body)
        return len(body)

    async def _announce(self, alert: Alert, evidence: dict[str, str]) -> None:
        envelope = Envelope(
            event_id=new_event_id(),
            type=EVIDENCE_EVENT,
            timestamp=self._clock(),
            source=EventSource(self._node_id, alert.camera_id),
            payload={"id": alert.id, "camera_id": alert.camera_id, "evidence": evidence},
        )
        try:
            await self._bus.publish(ALERTS_SUBJECT, envelope)
        except ArgusError:
            log.exception("could not announce the edge evidence of alert %s", alert.id)

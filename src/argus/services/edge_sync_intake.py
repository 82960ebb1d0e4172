"""``EdgeSyncIntake``: a node's sync batch, stored item by item, exactly once.

``POST /api/v1/edge/sync`` hands a batch of outbox items (oldest first) to
``sync``; the reply holds one result per item, in order: ``stored`` (new),
``duplicate`` (known already: acknowledged too) or ``rejected`` with a reason
(the node quarantines it). One bad item never fails the batch; a storage
failure does (the node keeps the batch and sends it again, harmlessly).

* **Events** must come from this node (``source.edge_node_id``) and name a
  camera assigned to it and in its key's camera scope (or ``node:<node_id>``);
  the types the control plane derives from health (catalogue origin ``health``:
  ``node.online``, ``camera.online``...) are refused, so a node cannot raise or
  clear those alerts but through its reports. An event of a camera the control
  plane does not know (or knows, but not as this node's) is rejected with a
  reason that says which; so is an unknown type (``custom.*`` aside), a
  payload over ``ARGUS_EVENT_PAYLOAD_MAX_BYTES`` or one that breaks its type's
  schema (``check_event``). They are stored in one
  transaction (``add_many``, idempotent on ``event_id``) and then published on
  the event subject, duplicates too, as ``EventIntake`` does: alerting and live
  clients see them like the embedded worker's events. While the node's clock is
  off by more than ``max_clock_skew_s`` (its latest report measured it), an
  event's timestamp is corrected by that offset and the node's own time is kept
  in the payload as ``node_time`` (with ``clock_offset_s``); the id, which
  encodes the node's time, is kept.
* **Health** reports go to the node's time series (idempotent on the report
  id); a new report that is not older than the node's latest one is compared
  with it (``derive_events``) and the condition changes are stored and
  published as events with deterministic ids. A report from a node the watch
  marked offline also emits ``node.online`` (at the server's time: the node is
  back now, whatever time its buffered report states), once: the offline flag is
  cleared by compare-and-set, so of two servers only one emits it.
* **Evidence** goes to ``EdgeEvidenceIntake``.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime, timedelta

from argus.domain.actor import Actor
from argus.domain.cameras import utc_now
from argus.domain.codec import iso_z
from argus.domain.edge import (
    EdgeNode,
    ItemResult,
    ItemStatus,
    NodeHealth,
    OutboxItem,
    SyncBatch,
    SyncReply,
)
from argus.domain.errors import ArgusError, NotFoundError, ValidationError
from argus.domain.event_types import EVENT_TYPES, check_event
from argus.domain.events import Envelope, EventSource
from argus.domain.node_events import (
    DerivedEvent,
    HealthLimits,
    derive_events,
    derived_envelope,
    derived_event_id,
    node_camera_id,
)
from argus.domain.payload_schema import DEFAULT_PAYLOAD_MAX_BYTES
from argus.ports.bus import EventBus
from argus.ports.paging import MAX_PAGE, all_pages
from argus.ports.repositories import Database
from argus.services.edge_evidence_intake import EdgeEvidenceIntake
from argus.services.edge_registry import EdgeRegistry
from argus.services.intake import publish_stored

__all__ = ["EdgeSyncIntake", "publish_stored", "state_event"]

log = logging.getLogger(__name__)


def state_event(
    node_id: str, kind: str, at: datetime, *parts: str, payload: Mapping[str, object] | None = None
) -> Envelope:
    """A node-level event (``node.offline``...) with a deterministic id from ``parts``."""
    return Envelope(
        event_id=derived_event_id(at, node_id, kind, *parts),
        type=kind,
        timestamp=at,
        source=EventSource(node_id, node_camera_id(node_id)),
        payload={"node_id": node_id, **(payload or {})},
    )


class EdgeSyncIntake:
    """Stores the items of edge nodes' sync batches (see the module docstring).

    Args:
        database: The store.
        bus: The event bus.
        subject: The subject events are published on.
        registry: Checks that the caller's key owns the node.
        evidence: Stores the evidence items.
        limits: Thresholds that turn health into events.
        clock: The current UTC time.
        on_report: Called with the node as each new health report left it (metrics).
        payload_max_bytes: The largest payload of one event (compact JSON bytes).
    """

    def __init__(
        self,
        database: Database,
        bus: EventBus,
        subject: str,
        registry: EdgeRegistry,
        evidence: EdgeEvidenceIntake,
        *,
        limits: HealthLimits,
        clock: Callable[[], datetime] = utc_now,
        on_report: Callable[[EdgeNode], None] | None = None,
        payload_max_bytes: int = DEFAULT_PAYLOAD_MAX_BYTES,
    ) -> None:
        self._db = database
        self._bus = bus
        self._subject = subject
        self._registry = registry
        self._evidence = evidence
        self._limits = limits
        self._clock = clock
        self._on_report = on_report
        self._max_bytes = payload_max_bytes

    async def sync(self, actor: Actor, batch: SyncBatch) -> SyncReply:
        """Store a batch; one result per item, in order.

        Raises:
            NotFoundError: The node never registered.
            PermissionDeniedError: The node is bound to another key.
            StorageError: The store failed (nothing is acknowledged; send it again).
        """
        node = await self._registry.node_of(actor, batch.node_id)
        cameras = await self._cameras_of(node.node_id, actor)
        results: dict[int, ItemResult] = {}
        events: list[tuple[int, Envelope]] = []
        for index, item in enumerate(batch.items):
            if item.kind != "event":
                continue
            try:
                envelope = await self._checked_event(node, item, cameras)
            except ValidationError as exc:
                results[index] = ItemResult(item.id, "rejected", _reason(exc))
                continue
            events.append((index, envelope))
        if events:
            stored = await publish_stored(
                self._db.events, self._bus, self._subject, [e for _, e in events]
            )
            fresh = set(stored.inserted)
            for index, envelope in events:
                status: ItemStatus = "stored" if envelope.event_id in fresh else "duplicate"
                fresh.discard(envelope.event_id)  # a repeat within the batch is a duplicate
                results[index] = ItemResult(envelope.event_id, status)
        for index, item in enumerate(batch.items):
            if item.kind == "health":
                results[index], node = await self._health(node, item, cameras)
            elif item.kind == "evidence":
                results[index] = await self._evidence_item(node, item, frozenset(cameras))
        return SyncReply(
            results=tuple(results[i] for i in range(len(batch.items))),
            server_time=self._clock(),
        )

    async def _cameras_of(self, node_id: str, actor: Actor) -> dict[str, float]:
        """The node's cameras in the key's scope (and its ``node:`` id) with their analysis rate."""
        cameras = await all_pages(
            lambda skip: self._db.cameras.list(limit=MAX_PAGE, offset=skip, edge_node_id=node_id)
        )
        who = actor.principal
        seen = [c for c in cameras if who is None or who.sees_camera(c.id)]
        return {node_camera_id(node_id): 0.0} | {c.id: c.detect_fps for c in seen}

    async def _checked_event(
        self, node: EdgeNode, item: OutboxItem, cameras: Mapping[str, float]
    ) -> Envelope:
        envelope = item.envelope()
        known = EVENT_TYPES.get(envelope.type)
        if known is not None and known.origin == "health":
            raise ValidationError(f"{envelope.type} events are derived by the control plane")
        if envelope.source.edge_node_id != node.node_id:
            raise ValidationError(
                f"source.edge_node_id {envelope.source.edge_node_id!r} is not node {node.node_id}"
            )
        camera_id = envelope.source.camera_id
        if camera_id not in cameras:
            if not await self._known_camera(camera_id):
                raise ValidationError(
                    f"unknown camera {camera_id!r}: the control plane has no such camera; "
                    f"create it and assign it to node {node.node_id}"
                )
            raise ValidationError(f"camera {camera_id} is not assigned to node {node.node_id}")
        check_event(envelope.type, envelope.payload, max_bytes=self._max_bytes)
        return self._corrected(node, envelope)

    async def _known_camera(self, camera_id: str) -> bool:
        try:
            await self._db.cameras.get(camera_id)
        except NotFoundError:
            return False
        return True

    def _corrected(self, node: EdgeNode, envelope: Envelope) -> Envelope:
        """The event with its time corrected while the node's clock is skewed."""
        offset = self._skew(node)
        if offset is None:
            return envelope
        payload = {
            **envelope.payload,
            "node_time": iso_z(envelope.timestamp),
            "clock_offset_s": offset,
        }
        try:
            moved = envelope.timestamp + timedelta(seconds=offset)
        except OverflowError as exc:
            raise ValidationError(
                f"a clock offset of {offset} s moves the event out of range"
            ) from exc
        return replace(envelope, timestamp=moved, payload=payload)

    def _skew(self, node: EdgeNode) -> float | None:
        report = node.last_report
        offset = None if report is None else report.clock_offset_s
        if offset is None or abs(offset) <= self._limits.max_clock_skew_s:
            return None
        return offset

    async def _health(
        self, node: EdgeNode, item: OutboxItem, cameras: Mapping[str, float]
    ) -> tuple[ItemResult, EdgeNode]:
        previous = node.last_report
        changes: list[Envelope] = []
        try:
            report = item.health()
            if report.node_id != node.node_id:
                raise ValidationError(f"a report of node {report.node_id}, not {node.node_id}")
            if previous is None or previous.at <= report.at:
                derived = derive_events(previous, report, self._limits, cameras)
                changes = [self._derived(node, report, event) for event in derived]
        except ValidationError as exc:
            return ItemResult(item.id, "rejected", _reason(exc)), node
        now = self._clock()
        if previous is None or previous.at <= report.at:
            # Stored before the report: their ids are deterministic, so a retry after a
            # failure stores them once, and a replayed report derives nothing new.
            if changes:
                await publish_stored(self._db.events, self._bus, self._subject, changes)
            latest = report
        else:
            latest = previous  # an older report, sent late: history only
        if node.offline:
            await self._back_online(node, report, now)
        fresh = await self._db.nodes.record_report(report, now)
        node = replace(node, last_report=latest, last_seen_at=now, offline=False)
        if fresh and self._on_report is not None:
            self._on_report(node)
        return ItemResult(item.id, "stored" if fresh else "duplicate"), node

    async def _back_online(self, node: EdgeNode, report: NodeHealth, now: datetime) -> None:
        """``node.online``, by the one server whose compare-and-set clears the offline flag."""
        if not await self._db.nodes.set_offline(node.node_id, False):
            return
        online = state_event(node.node_id, "node.online", now, report.report_id)
        try:
            await publish_stored(self._db.events, self._bus, self._subject, [online])
        except BaseException:
            # Offline again, so that the retry of this batch announces the return.
            with contextlib.suppress(ArgusError):
                await self._db.nodes.set_offline(node.node_id, True)
            raise

    def _derived(self, node: EdgeNode, report: NodeHealth, event: DerivedEvent) -> Envelope:
        return self._corrected(node, derived_envelope(report, event))

    async def _evidence_item(
        self, node: EdgeNode, item: OutboxItem, cameras: frozenset[str]
    ) -> ItemResult:
        try:
            evidence = item.evidence()
        except ValidationError as exc:
            return ItemResult(item.id, "rejected", _reason(exc))
        stored, reason = await self._evidence.accept(node, evidence, cameras)
        if reason is not None:
            return ItemResult(item.id, "rejected", reason[:1000])
        return ItemResult(item.id, "stored" if stored else "duplicate")


def _reason(exc: ValidationError) -> str:
    return (str(exc) or type(exc).__name__)[:1000]

"""What an edge node sends: sealed evidence, outbox items, sync batches and the reply.

Every event, health report and evidence object a node makes becomes an
``OutboxItem`` (its id is the event id, report id or evidence id, all ULIDs,
so the control plane stores each exactly once). A ``SyncBatch`` carries at
most ``MAX_BATCH_ITEMS`` of them; the ``SyncReply`` holds one ``ItemResult``
per item, in order. An item's body is checked only when it is decoded
(``envelope()`` / ``health()`` / ``evidence()``), so one bad body rejects one
item, never the batch. All names here are importable from ``argus.domain.edge``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar, Literal, get_args

from argus.domain.checks import aware_utc, text
from argus.domain.codec import choice, iso_z, object_list, parse_time, require_keys
from argus.domain.edge_evidence import EdgeEvidence
from argus.domain.edge_values import check_node_id, json_object
from argus.domain.errors import ValidationError
from argus.domain.event_ids import check_event_id
from argus.domain.events import Envelope
from argus.domain.node_health import NodeHealth

__all__ = [
    "ITEM_KINDS",
    "ITEM_STATUSES",
    "MAX_BATCH_ITEMS",
    "ItemKind",
    "ItemResult",
    "ItemStatus",
    "OutboxItem",
    "SyncBatch",
    "SyncReply",
]

ItemKind = Literal["event", "health", "evidence"]
ItemStatus = Literal["stored", "duplicate", "rejected"]
ITEM_KINDS: tuple[ItemKind, ...] = get_args(ItemKind)
ITEM_STATUSES: tuple[ItemStatus, ...] = get_args(ItemStatus)
MAX_BATCH_ITEMS = 500
"""Most items one sync batch may carry."""

_ID_KEY: Mapping[str, str] = {"event": "event_id", "health": "report_id", "evidence": "evidence_id"}


@dataclass(frozen=True, slots=True)
class OutboxItem:
    """One item of the outbox and of a sync batch.

    Attributes:
        id: The event id, report id or evidence id (a ULID) of the body.
        kind: What the body is.
        body: ``Envelope.to_dict()``, ``NodeHealth.to_dict()`` or
            ``EdgeEvidence.to_dict()`` (a JSON object; decoded on demand).
    """

    id: str
    kind: ItemKind
    body: Mapping[str, object]

    _KEYS: ClassVar[frozenset[str]] = frozenset({"id", "kind", "body"})

    def __post_init__(self) -> None:
        check_event_id(self.id)
        choice(self.kind, ITEM_KINDS, "item kind")
        object.__setattr__(self, "body", json_object(self.body, "body"))

    @classmethod
    def of_event(cls, envelope: Envelope) -> OutboxItem:
        """The item carrying ``envelope``."""
        return cls(id=envelope.event_id, kind="event", body=envelope.to_dict())

    @classmethod
    def of_health(cls, report: NodeHealth) -> OutboxItem:
        """The item carrying ``report``."""
        return cls(id=report.report_id, kind="health", body=report.to_dict())

    @classmethod
    def of_evidence(cls, evidence: EdgeEvidence) -> OutboxItem:
        """The item carrying ``evidence``."""
        return cls(id=evidence.evidence_id, kind="evidence", body=evidence.to_dict())

    def _check_id(self, kind: ItemKind) -> None:
        if self.kind != kind:
            raise ValidationError(f"item {self.id} is a {self.kind} item, not {kind}")
        if self.body.get(_ID_KEY[kind]) != self.id:
            raise ValidationError(f"item id {self.id} differs from its body's {_ID_KEY[kind]}")

    def envelope(self) -> Envelope:
        """The body of an ``event`` item.

        Raises:
            ValidationError: Another kind, a malformed body, or a body of another id.
        """
        self._check_id("event")
        return Envelope.from_dict(self.body)

    def health(self) -> NodeHealth:
        """The body of a ``health`` item.

        Raises:
            ValidationError: Another kind, a malformed body, or a body of another id.
        """
        self._check_id("health")
        return NodeHealth.from_dict(self.body)

    def evidence(self) -> EdgeEvidence:
        """The body of an ``evidence`` item.

        Raises:
            ValidationError: Another kind, a malformed body, or a body of another id.
        """
        self._check_id("evidence")
        return EdgeEvidence.from_dict(self.body)

    def to_dict(self) -> dict[str, object]:
        """Return the JSON-ready form."""
        return {"id": self.id, "kind": self.kind, "body": dict(self.body)}

    @classmethod
    def from_dict(cls, data: object) -> OutboxItem:
        """Parse the form ``to_dict`` makes (the body is checked only as JSON).

        Raises:
            ValidationError: Not exactly ``id``, ``kind`` and an object ``body``.
        """
        d = require_keys(data, cls._KEYS, "item")
        return cls(
            id=check_event_id(d["id"]),
            kind=choice(d["kind"], ITEM_KINDS, "item kind"),
            body=json_object(d["body"], "body"),
        )


@dataclass(frozen=True, slots=True)
class SyncBatch:
    """``POST /api/v1/edge/sync`` body: the oldest items of a node's outbox.

    Attributes:
        node_id: The sending node.
        sent_at: When it was sent (node clock, UTC).
        items: At most ``MAX_BATCH_ITEMS`` items, oldest first.
    """

    node_id: str
    sent_at: datetime
    items: tuple[OutboxItem, ...]

    _KEYS: ClassVar[frozenset[str]] = frozenset({"node_id", "sent_at", "items"})

    def __post_init__(self) -> None:
        check_node_id(self.node_id)
        object.__setattr__(self, "sent_at", aware_utc(self.sent_at, "sent_at"))
        if not isinstance(self.items, tuple | list) or len(self.items) > MAX_BATCH_ITEMS:
            raise ValidationError(f"items must be a list of at most {MAX_BATCH_ITEMS}")
        if not all(isinstance(item, OutboxItem) for item in self.items):
            raise ValidationError("items must hold OutboxItem values")
        object.__setattr__(self, "items", tuple(self.items))

    def to_dict(self) -> dict[str, object]:
        """Return the JSON-ready form."""
        return {
            "node_id": self.node_id,
            "sent_at": iso_z(self.sent_at),
            "items": [item.to_dict() for item in self.items],
        }

    @classmethod
    def from_dict(cls, data: object) -> SyncBatch:
        """Parse the form ``to_dict`` makes (exact keys).

        Raises:
            ValidationError: Anything else, or more than ``MAX_BATCH_ITEMS`` items.
        """
        d = require_keys(data, cls._KEYS, "batch")
        items = object_list(d["items"], "items")
        if len(items) > MAX_BATCH_ITEMS:
            raise ValidationError(f"items must be a list of at most {MAX_BATCH_ITEMS}")
        return cls(
            node_id=check_node_id(d["node_id"]),
            sent_at=parse_time(d["sent_at"], "sent_at"),
            items=tuple(OutboxItem.from_dict(item) for item in items),
        )


@dataclass(frozen=True, slots=True)
class ItemResult:
    """What the control plane did with one item.

    Attributes:
        id: The item's id.
        status: ``stored`` (new), ``duplicate`` (known: also acknowledged) or
            ``rejected`` (never accepted; the node quarantines it).
        reason: Why it was rejected.
    """

    id: str
    status: ItemStatus
    reason: str | None = None

    _KEYS: ClassVar[frozenset[str]] = frozenset({"id", "status", "reason"})

    def __post_init__(self) -> None:
        text(self.id, "id", 64)
        choice(self.status, ITEM_STATUSES, "item status")
        if self.reason is not None:
            text(self.reason, "reason", 1000)

    def to_dict(self) -> dict[str, object]:
        """Return the JSON-ready form."""
        return {"id": self.id, "status": self.status, "reason": self.reason}

    @classmethod
    def from_dict(cls, data: object) -> ItemResult:
        """Parse the form ``to_dict`` makes (exact keys).

        Raises:
            ValidationError: Anything else.
        """
        d = require_keys(data, cls._KEYS, "result")
        reason = d["reason"]
        return cls(
            id=text(d["id"], "id", 64),
            status=choice(d["status"], ITEM_STATUSES, "item status"),
            reason=None if reason is None else text(reason, "reason", 1000),
        )


@dataclass(frozen=True, slots=True)
class SyncReply:
    """``POST /api/v1/edge/sync`` reply.

    Attributes:
        results: One per item of the batch, in the same order.
        server_time: The control plane's clock when it replied (UTC).
    """

    results: tuple[ItemResult, ...]
    server_time: datetime

    _KEYS: ClassVar[frozenset[str]] = frozenset({"results", "server_time"})

    def __post_init__(self) -> None:
        if not isinstance(self.results, tuple | list) or len(self.results) > MAX_BATCH_ITEMS:
            raise ValidationError(f"results must be a list of at most {MAX_BATCH_ITEMS}")
        if not all(isinstance(r, ItemResult) for r in self.results):
            raise ValidationError("results must hold ItemResult values")
        object.__setattr__(self, "results", tuple(self.results))
        object.__setattr__(self, "server_time", aware_utc(self.server_time, "server_time"))

    def to_dict(self) -> dict[str, object]:
        """Return the JSON-ready form."""
        return {
            "results": [r.to_dict() for r in self.results],
            "server_time": iso_z(self.server_time),
        }

    @classmethod
    def from_dict(cls, data: object) -> SyncReply:
        """Parse the form ``to_dict`` makes (exact keys).

        Raises:
            ValidationError: Anything else.
        """
        d = require_keys(data, cls._KEYS, "reply")
        return cls(
            results=tuple(ItemResult.from_dict(r) for r in object_list(d["results"], "results")),
            server_time=parse_time(d["server_time"], "server_time"),
        )

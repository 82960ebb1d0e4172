"""The edge node's durable outbox port: everything a node produces waits here until acknowledged.

Events, health reports and sealed evidence are appended by whichever thread
made them (the video threads, the health reporter) and leave only when the
control plane has acknowledged them (``remove``) or refused them for good
(``quarantine``). Items are sent oldest first (``peek`` in ``seq`` order).

Guarantees every implementation keeps (``tests/integration/
test_edge_outbox_contract.py``):

* ``append`` is atomic for its items and, for a persistent implementation,
  durable when it returns; appending an id that is already pending is a no-op,
  so a producer that retries after a crash cannot duplicate an item.
* ``peek`` returns pending items oldest first, at most ``max_items`` and at
  most ``max_bytes`` of item size, but always at least the oldest item (one
  item larger than ``max_bytes`` must still be sent, or it would block the
  outbox forever).
* The outbox is bounded by ``max_bytes`` of item size. When an append goes
  over it, items are dropped by the overflow policy (``OVERFLOW_ORDER``):
  the oldest ``health`` reports first, then the oldest evidence clips, then
  other evidence, then the oldest events; every drop is counted per item kind
  (``OutboxStats.dropped``, kept across restarts) and logged as a warning.
  A disk that fills up before the bound triggers the same policy.
* ``quarantine`` moves an item aside (kept for inspection, never resent) and
  counts it.
* Every method is thread-safe.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, runtime_checkable

from argus.domain.edge import OutboxItem

__all__ = [
    "OVERFLOW_ORDER",
    "EdgeOutbox",
    "OutboxStats",
    "Quarantined",
    "StoredItem",
    "overflow_rank",
]

OVERFLOW_ORDER = ("health", "evidence clip", "evidence", "event")
"""Which items the overflow policy drops first (oldest first within each class)."""


def overflow_rank(item: OutboxItem) -> int:
    """The item's place in ``OVERFLOW_ORDER`` (lower is dropped first)."""
    if item.kind == "health":
        return 0
    if item.kind == "evidence":
        return 1 if item.body.get("kind") == "clip" else 2
    return 3


@dataclass(frozen=True, slots=True)
class StoredItem:
    """One pending item of the outbox.

    Attributes:
        seq: Its position (increasing, never reused).
        item: What it holds.
        size: Its size in bytes (compact JSON of the body), what the bounds count.
        created_at: When it was appended (the ``at`` of ``append``).
    """

    seq: int
    item: OutboxItem
    size: int
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Quarantined:
    """An item the server refused, kept aside for inspection.

    Attributes:
        id: The item's id.
        kind: Its kind.
        reason: Why the server refused it.
    """

    id: str
    kind: str
    reason: str


@dataclass(frozen=True, slots=True)
class OutboxStats:
    """How full the outbox is, and what it has lost.

    Attributes:
        items: Items pending.
        bytes: Their total size.
        oldest_age_s: Seconds the oldest pending item has waited (``None`` when empty).
        dropped: Items dropped by the overflow policy per item kind (cumulative,
            kept across restarts).
        quarantined: Items refused by the server and moved aside (cumulative).
    """

    items: int
    bytes: int
    oldest_age_s: float | None
    dropped: Mapping[str, int] = field(default_factory=dict)
    quarantined: int = 0


@runtime_checkable
class EdgeOutbox(Protocol):
    """A bounded, durable FIFO of outbox items (see the module docstring)."""

    def append(self, items: Sequence[OutboxItem], *, at: datetime) -> None:
        """Add ``items`` (ids already pending are skipped); durable on return.

        Raises:
            StorageError: The store could not write (disk error, closed).
        """
        ...

    def peek(self, max_items: int, max_bytes: int) -> list[StoredItem]:
        """The oldest pending items, within the limits (always at least one if any)."""
        ...

    def remove(self, seqs: Sequence[int]) -> None:
        """Forget acknowledged items (unknown seqs are ignored)."""
        ...

    def quarantine(self, seq: int, reason: str) -> None:
        """Move a refused item aside with ``reason`` (unknown seqs are ignored)."""
        ...

    def quarantined(self, limit: int = 100) -> list[Quarantined]:
        """The newest quarantined items (at most ``limit``), newest first."""
        ...

    def stats(self, now: datetime) -> OutboxStats:
        """Depth, size, age of the oldest item at ``now``, drops and quarantines."""
        ...

    def close(self) -> None:
        """Release the store; further calls raise ``StorageError``."""
        ...

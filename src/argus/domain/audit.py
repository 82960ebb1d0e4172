"""The audit trail's records: what happened, who did it, and the hash chain linking them.

An ``AuditEntry`` is what a caller reports; the log turns it into an
``AuditRecord`` by giving it the next sequence number and chaining it to the
record before (``prev_hash``). The chain arithmetic and its verification live
here, free of I/O; stores only keep records in order.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

__all__ = ["GENESIS_HASH", "AuditEntry", "AuditOutcome", "AuditRecord"]

AuditOutcome = Literal["success", "failure", "denied"]
"""``success``: done; ``failure``: attempted and failed (bad password); ``denied``: not allowed."""

GENESIS_HASH = "0" * 64
"""The ``prev_hash`` of the first record."""


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One security-relevant action, as reported by the code that performed it.

    Attributes:
        action: Dotted name, e.g. ``auth.login``, ``alert.acknowledge``, ``evidence.read``.
        actor: Who: ``user:<id>``, ``apikey:<id>``, ``system``, or a username tried at login.
        at: When (timezone-aware UTC).
        target: What it acted on, e.g. ``alert:<id>``, ``camera:<id>`` (may be empty).
        outcome: ``success``, ``failure`` or ``denied``.
        details: JSON-serialisable extra facts (never secrets).
        ip: The client address, when the action came over the network.
    """

    action: str
    actor: str
    at: datetime
    target: str = ""
    outcome: AuditOutcome = "success"
    details: Mapping[str, Any] = field(default_factory=dict)
    ip: str | None = None


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """An ``AuditEntry`` as stored: numbered and chained.

    Attributes:
        seq: 1, 2, 3, ... with no gaps.
        entry: What was reported.
        prev_hash: ``hash`` of record ``seq - 1`` (``GENESIS_HASH`` for the first).
        hash: The chain hash over ``prev_hash`` and this record's fields.
    """

    seq: int
    entry: AuditEntry
    prev_hash: str
    hash: str

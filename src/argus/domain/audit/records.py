"""Audit records: what a caller reports (``AuditEntry``), what the log stores (``AuditRecord``).

``check_entry`` validates and normalises an entry before it is appended, so a
record read back equals the one ``append`` returned; ``AuditRecord.to_dict``
is the one serialised form of a record (the CLI's ``--json``, the evidence
export's ``audit.json``; ``fields`` feeds the API and the SQL store).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal, get_args

from argus.domain.checks import aware_utc, text
from argus.domain.errors import ValidationError

__all__ = [
    "MAX_ACTION",
    "MAX_ACTOR",
    "MAX_IP",
    "MAX_TARGET",
    "AuditEntry",
    "AuditOutcome",
    "AuditRecord",
    "canonical_value",
    "check_entry",
]

AuditOutcome = Literal["success", "failure", "denied"]
"""``success``: done; ``failure``: attempted and failed (bad password); ``denied``: not allowed."""

MAX_ACTION, MAX_ACTOR, MAX_TARGET, MAX_IP = 64, 200, 300, 64
"""Longest ``action``, ``actor``, ``target`` and ``ip`` (the store's column widths)."""


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One security-relevant action, as reported by the code that performed it.

    Construction does not validate, so that a store can hand back whatever it
    holds (a tampered row included) for verification; ``check_entry`` validates
    and normalises an entry before it is appended.

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

    def fields(self) -> dict[str, Any]:
        """The record flat, field by field: ``seq``, the entry's fields, ``prev_hash``, ``hash``.

        ``at`` stays a datetime and ``details`` becomes a dict; the key order
        is the order every serialised form keeps.
        """
        entry = self.entry
        return {
            "seq": self.seq,
            "at": entry.at,
            "actor": entry.actor,
            "action": entry.action,
            "target": entry.target,
            "outcome": entry.outcome,
            "ip": entry.ip,
            "details": dict(entry.details),
            "prev_hash": self.prev_hash,
            "hash": self.hash,
        }

    def to_dict(self) -> dict[str, Any]:
        """The JSON-ready form: ``fields`` with ``at`` as ISO 8601 (its own offset)."""
        return {**self.fields(), "at": self.entry.at.isoformat()}


def canonical_value(value: Any) -> Any:
    """``value`` with integral floats as the integers their shortest text spells.

    PostgreSQL's ``jsonb`` keeps numbers as decimals: ``1e300`` comes back as
    ``10**300`` and ``-0.0`` as ``0``, so both forms must hash the same.
    """
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(Decimal(repr(value)))
    if isinstance(value, Mapping):
        return {key: canonical_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [canonical_value(item) for item in value]
    return value


def _no_nul(value: Any, where: str) -> None:
    """Refuse NUL characters, which PostgreSQL cannot store in text or ``jsonb``."""
    if isinstance(value, str):
        if "\x00" in value:
            raise ValidationError(f"{where} must not contain NUL characters")
    elif isinstance(value, Mapping):
        for key, item in value.items():
            _no_nul(key, where)
            _no_nul(item, where)
    elif isinstance(value, list):
        for item in value:
            _no_nul(item, where)


def check_entry(entry: AuditEntry) -> AuditEntry:
    """Validate ``entry`` for the log and return it normalised as every store gives it back.

    ``at`` becomes UTC and ``details`` plain JSON (a dict of str keys, lists for
    tuples, integral floats as integers, as ``jsonb`` gives them back), so a
    record read back equals the one ``append`` returned.

    Raises:
        ValidationError: A field is empty, too long, holds a NUL character, the
            outcome is unknown, ``at`` is naive, or ``details`` is not a JSON object.
    """
    text(entry.action, "audit action", MAX_ACTION)
    text(entry.actor, "audit actor", MAX_ACTOR)
    text(entry.target, "audit target", MAX_TARGET, empty=True)
    if entry.ip is not None:
        text(entry.ip, "audit ip", MAX_IP)
    if entry.outcome not in get_args(AuditOutcome):
        raise ValidationError(f"unknown audit outcome {entry.outcome!r}")
    at = aware_utc(entry.at, "audit at")
    if not isinstance(entry.details, Mapping):
        raise ValidationError("audit details must be a JSON object")
    try:
        details = canonical_value(json.loads(json.dumps(entry.details, allow_nan=False)))
    except (TypeError, ValueError) as exc:
        raise ValidationError(f"audit details are not plain JSON: {exc}") from exc
    for name in ("action", "actor", "target", "ip"):
        _no_nul(getattr(entry, name), f"audit {name}")
    _no_nul(details, "audit details")
    return replace(entry, at=at, details=details)

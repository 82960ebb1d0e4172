"""The audit hash chain: the chain key, each record's hash, and the next record.

Each record's ``hash`` is an HMAC-SHA256, under a key derived from the
installation secret (``chain_key``), of the previous record's hash and a
canonical JSON of the record's ``seq`` and fields (``chain_hash``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime

from argus.domain.audit.records import AuditEntry, AuditRecord, canonical_value, check_entry
from argus.domain.errors import ValidationError
from argus.domain.keys import derive_key

__all__ = [
    "CHAIN_KEY_INFO",
    "GENESIS_HASH",
    "chain_hash",
    "chain_key",
    "next_record",
    "parse_head",
]

GENESIS_HASH = "0" * 64
"""The ``prev_hash`` of the first record."""

CHAIN_KEY_INFO = b"argus audit chain v1"
"""The HKDF purpose label of the chain key (see ``chain_key``)."""

_MIN_SECRET = 16
_HASH_HEX = frozenset("0123456789abcdef")


def chain_key(secret: bytes) -> bytes:
    """The 32-byte chain key derived from the installation secret.

    HKDF-SHA256 (RFC 5869) without salt and with the info ``CHAIN_KEY_INFO``,
    so the same secret can key other things without reusing a key.

    Raises:
        ValidationError: The secret is shorter than 16 bytes.
    """
    if len(secret) < _MIN_SECRET:
        raise ValidationError(f"the secret must be at least {_MIN_SECRET} bytes")
    return derive_key(secret, CHAIN_KEY_INFO.decode())


def _timestamp(at: datetime) -> str:
    """ISO 8601 UTC with microseconds (the precision every store keeps)."""
    if at.tzinfo is None or at.utcoffset() is None:
        # Only a tampered or hand-made record gets here; hash it as the UTC it claims to be.
        at = at.replace(tzinfo=UTC)
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def _canonical_json(seq: int, entry: AuditEntry) -> bytes:
    body = {
        "seq": seq,
        "action": entry.action,
        "actor": entry.actor,
        "at": _timestamp(entry.at),
        "target": entry.target,
        "outcome": entry.outcome,
        "ip": entry.ip,
        "details": canonical_value(entry.details),
    }
    try:
        encoded = json.dumps(body, sort_keys=True, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ValidationError(f"audit details are not plain JSON: {exc}") from exc
    return encoded.encode("ascii")


def chain_hash(key: bytes, prev_hash: str, seq: int, entry: AuditEntry) -> str:
    """The hash of record ``seq`` chained to ``prev_hash``: HMAC-SHA256 as 64 hex digits.

    The message is ``prev_hash``, a newline, and a canonical JSON (sorted keys,
    no spaces, ASCII) of ``seq`` and every field of ``entry``, ``at`` as ISO
    8601 UTC with microseconds; integral floats are written as integers. It
    is stable under every store's round trip: JSON key order, ``jsonb``
    number formats and time zones do not change it.

    Raises:
        ValidationError: ``entry.details`` is not plain JSON.
    """
    message = prev_hash.encode("utf-8", "surrogatepass") + b"\n" + _canonical_json(seq, entry)
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def next_record(key: bytes, head: tuple[int, str] | None, entry: AuditEntry) -> AuditRecord:
    """The record that appends ``entry`` after ``head`` (``None``: an empty log).

    Args:
        key: The chain key.
        head: ``(seq, hash)`` of the last stored record.
        entry: What to record; validated and normalised with ``check_entry``.

    Raises:
        ValidationError: The entry is invalid.
    """
    seq, prev_hash = head if head is not None else (0, GENESIS_HASH)
    checked = check_entry(entry)
    return AuditRecord(
        seq=seq + 1,
        entry=checked,
        prev_hash=prev_hash,
        hash=chain_hash(key, prev_hash, seq + 1, checked),
    )


def parse_head(value: str) -> tuple[int, str]:
    """Parse an anchor written as ``SEQ:HASH`` (what ``ChainReport.head`` prints).

    Raises:
        ValidationError: Not a non-negative number, a colon and 64 hex digits.
    """
    seq_text, _, hash_text = value.strip().partition(":")
    head_hash = hash_text.strip().lower()
    if not seq_text.strip().isdigit() or len(head_hash) != 64 or not set(head_hash) <= _HASH_HEX:
        raise ValidationError(f"expected SEQ:HASH (a number and 64 hex digits), got {value!r}")
    return int(seq_text), head_hash

"""The audit trail's records: what happened, who did it, and the hash chain linking them.

An ``AuditEntry`` is what a caller reports; the log turns it into an
``AuditRecord`` by giving it the next sequence number and chaining it to the
record before (``prev_hash``). The chain arithmetic and its verification live
here, free of I/O; stores only keep records in order.

Each record's ``hash`` is an HMAC-SHA256, under a key derived from the
installation secret (``chain_key``), of the previous record's hash and a
canonical JSON of the record's ``seq`` and fields (``chain_hash``). Without the
key nobody can forge a record that verifies, so ``verify_chain`` tells an
edited record (its hash no longer matches its content) from a deleted one (a
gap in ``seq``), a reordered one (a record that verifies only at another
position) and a truncated log (fewer records than an externally kept head).
Removing records from the end of the log is invisible without such a head.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
from collections.abc import AsyncIterable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Literal, get_args

from argus.domain.checks import aware_utc, text
from argus.domain.errors import ValidationError

__all__ = [
    "CHAIN_KEY_INFO",
    "GENESIS_HASH",
    "AuditEntry",
    "AuditOutcome",
    "AuditRecord",
    "ChainProblem",
    "ChainReport",
    "ChainVerifier",
    "ProblemKind",
    "chain_hash",
    "chain_key",
    "check_entry",
    "next_record",
    "parse_head",
    "verify_chain",
    "verify_stream",
]

AuditOutcome = Literal["success", "failure", "denied"]
"""``success``: done; ``failure``: attempted and failed (bad password); ``denied``: not allowed."""

GENESIS_HASH = "0" * 64
"""The ``prev_hash`` of the first record."""

CHAIN_KEY_INFO = b"argus audit chain v1"
"""The HKDF purpose label of the chain key (see ``chain_key``)."""

MAX_ACTION, MAX_ACTOR, MAX_TARGET, MAX_IP = 64, 200, 300, 64
"""Longest ``action``, ``actor``, ``target`` and ``ip`` (the store's column widths)."""

_MIN_SECRET = 16
_HASH_HEX = frozenset("0123456789abcdef")


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


# --- the chain arithmetic ------------------------------------------------------------------------


def chain_key(secret: bytes) -> bytes:
    """The 32-byte chain key derived from the installation secret.

    HKDF-SHA256 (RFC 5869) without salt and with the info ``CHAIN_KEY_INFO``,
    so the same secret can key other things without reusing a key.

    Raises:
        ValidationError: The secret is shorter than 16 bytes.
    """
    if len(secret) < _MIN_SECRET:
        raise ValidationError(f"the secret must be at least {_MIN_SECRET} bytes")
    # HKDF-Extract with the default (all-zero) salt, then one block of HKDF-Expand.
    prk = hmac.digest(bytes(hashlib.sha256().digest_size), secret, "sha256")
    return hmac.digest(prk, CHAIN_KEY_INFO + b"\x01", "sha256")


def _canonical_value(value: Any) -> Any:
    """``value`` with integral floats as the integers their shortest text spells.

    PostgreSQL's ``jsonb`` keeps numbers as decimals: ``1e300`` comes back as
    ``10**300`` and ``-0.0`` as ``0``, so both forms must hash the same.
    """
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(Decimal(repr(value)))
    if isinstance(value, Mapping):
        return {key: _canonical_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_canonical_value(item) for item in value]
    return value


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
        "details": _canonical_value(entry.details),
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
        details = _canonical_value(json.loads(json.dumps(entry.details, allow_nan=False)))
    except (TypeError, ValueError) as exc:
        raise ValidationError(f"audit details are not plain JSON: {exc}") from exc
    for name in ("action", "actor", "target", "ip"):
        _no_nul(getattr(entry, name), f"audit {name}")
    _no_nul(details, "audit details")
    return replace(entry, at=at, details=details)


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


# --- verification --------------------------------------------------------------------------------

ProblemKind = Literal["edited", "deleted", "reordered", "truncated"]
"""``edited``: a record's hash does not match its content; ``deleted``: records are missing
inside the log; ``reordered``: a record sits at another position than the one it was written
at; ``truncated``: the log ends before (or differs at) the expected head."""

_KIND_ORDER: dict[str, int] = {kind: i for i, kind in enumerate(get_args(ProblemKind))}


@dataclass(frozen=True, slots=True)
class ChainProblem:
    """One thing wrong with the chain.

    Attributes:
        seq: The record it concerns (for a run of missing records, the first).
        kind: What is wrong.
        detail: A sentence for people.
    """

    seq: int
    kind: ProblemKind
    detail: str

    def __str__(self) -> str:
        return f"record {self.seq}: {self.kind}: {self.detail}"


@dataclass(frozen=True, slots=True)
class ChainReport:
    """The outcome of verifying a chain.

    Attributes:
        records: How many records were checked.
        head: ``(seq, hash)`` of the last record, ``(0, GENESIS_HASH)`` for an
            empty log; keep it elsewhere to detect a later truncation.
        problems: Everything found, by ``seq``.
    """

    records: int
    head: tuple[int, str]
    problems: tuple[ChainProblem, ...]

    @property
    def ok(self) -> bool:
        """True when nothing is wrong."""
        return not self.problems


@dataclass(slots=True)
class _Seen:
    """The previous record of the stream, for the link check of the next."""

    seq: int
    stored: str
    computed: str
    troubled: bool


class ChainVerifier:
    """Checks records one at a time (``feed``), in ``seq`` order, then reports (``finish``).

    Memory stays bounded: to recognise a moved record the verifier remembers
    the hashes of the last ``window`` records and keeps at most ``window``
    records waiting for a neighbour; a record moved further than that is
    reported as ``edited`` (still caught, only classified coarser).

    Args:
        key: The chain key.
        expected_head: ``(seq, hash)`` recorded earlier (``ChainReport.head``);
            a log that ends before it, or holds another record at its ``seq``,
            is ``truncated``.
        window: How many recent hashes are kept.

    Raises:
        ValidationError: ``expected_head`` is malformed or ``window`` is below 1.
    """

    def __init__(
        self,
        key: bytes,
        *,
        expected_head: tuple[int, str] | None = None,
        window: int = 100_000,
    ) -> None:
        if expected_head is not None:
            expected_head = parse_head(f"{expected_head[0]}:{expected_head[1]}")
            if expected_head[0] == 0 and expected_head[1] != GENESIS_HASH:
                raise ValidationError("the head of an empty log is 0:" + GENESIS_HASH)
        if window < 1:
            raise ValidationError(f"window must be at least 1, got {window}")
        self._key = key
        self._expected_head = expected_head
        self._window = window
        self._records = 0
        self._next_seq = 1
        self._last: _Seen | None = None
        self._head = (0, GENESIS_HASH)
        # Recent verified records: by their hash, and by the hash they chain to.
        self._positions: dict[str, int] = {}
        self._followers: dict[str, int] = {}
        # Records that fail at their seq and whose neighbours have not come yet, by stream
        # index; found again through their predecessor's hash or their own.
        self._waiting: dict[int, AuditRecord] = {}
        self._wait_after: dict[str, list[int]] = {}
        self._wait_before: dict[str, list[int]] = {}
        self._gaps: list[tuple[int, int]] = []
        self._moved: set[int] = set()
        self._problems: list[ChainProblem] = []
        self._finished = False

    def feed(self, record: AuditRecord) -> None:
        """Check one more record (the next in ``seq`` order, as the store reads them)."""
        if self._finished:
            raise ValidationError("the verifier has already reported")
        self._records += 1
        seq, last = record.seq, self._last
        in_order = seq >= self._next_seq
        gap_before = seq > self._next_seq
        if gap_before:
            self._gaps.append((self._next_seq, seq - 1))
        if in_order:
            self._next_seq = seq + 1
            self._head = (seq, record.hash)
        else:
            after = f"record {last.seq}" if last is not None else "the start"
            self._fill_gap(seq)
            self._report(seq, "reordered", f"comes after {after} in the log")
        computed = chain_hash(self._key, record.prev_hash, seq, record.entry)
        intact = hmac.compare_digest(computed, record.hash)
        original = seq if intact else self._relocate(record)
        if intact and in_order and not gap_before:
            self._check_link(record, last)
        if original is not None:
            self._remember(record, original)
        if (
            intact
            and self._expected_head is not None
            and seq == self._expected_head[0]
            and not hmac.compare_digest(record.hash, self._expected_head[1])
        ):
            self._report(
                seq,
                "truncated",
                f"its hash {record.hash[:16]}... is not the expected head's "
                f"{self._expected_head[1][:16]}...: the log was cut and written again",
            )
        troubled = not intact or not in_order
        self._last = _Seen(seq, record.hash, computed, troubled)

    def finish(self) -> ChainReport:
        """Report on everything fed; records still unexplained are ``edited``."""
        if not self._finished:
            self._finished = True
            for record in self._waiting.values():
                self._edited(record)
            self._waiting.clear()
            for seq in sorted(self._moved):
                self._fill_gap(seq)
            for first, last in self._gaps:
                self._report_gap(first, last)
            self._check_tail()
        problems = sorted(self._problems, key=lambda p: (p.seq, _KIND_ORDER[p.kind]))
        return ChainReport(self._records, self._head, tuple(problems))

    def _report(self, seq: int, kind: ProblemKind, detail: str) -> None:
        self._problems.append(ChainProblem(seq, kind, detail))

    def _edited(self, record: AuditRecord) -> None:
        self._report(record.seq, "edited", "its hash does not match its content")

    def _report_gap(self, first: int, last: int) -> None:
        before = f"jumps from record {first - 1}" if first > 1 else "starts"
        if first == last:
            self._report(first, "deleted", f"the log {before} to record {last + 1}")
        else:
            self._report(
                first,
                "deleted",
                f"records {first} to {last} are missing: the log {before} to record {last + 1}",
            )

    def _check_tail(self) -> None:
        if self._expected_head is None:
            return
        head_seq = self._expected_head[0]
        last_seq = self._next_seq - 1
        if head_seq > last_seq:
            missing = (
                f"record {head_seq} is missing"
                if head_seq == last_seq + 1
                else f"records {last_seq + 1} to {head_seq} are missing"
            )
            self._report(
                last_seq + 1,
                "truncated",
                f"{missing}: the log ends at record {last_seq}, the expected head is {head_seq}",
            )

    def _fill_gap(self, seq: int) -> None:
        """Take ``seq`` out of the gaps: its record came late, or turned up moved."""
        for index, (first, last) in enumerate(self._gaps):
            if first <= seq <= last:
                parts = [(a, b) for a, b in ((first, seq - 1), (seq + 1, last)) if a <= b]
                self._gaps[index : index + 1] = parts
                return

    def _relocate(self, record: AuditRecord) -> int | None:
        """The ``seq`` a record that fails at its own position was written at, if known.

        Its ``prev_hash`` names the record it followed when written, and the
        record written after it names its hash: either neighbour, once seen,
        gives the position to try. Until one comes the record waits.
        """
        candidates: list[int] = []
        if record.prev_hash == GENESIS_HASH:
            candidates.append(1)
        elif (before := self._positions.get(record.prev_hash)) is not None:
            candidates.append(before + 1)
        if (after := self._followers.get(record.hash)) is not None:
            candidates.append(after - 1)
        if candidates:
            return self._place(record, candidates)
        index = self._records
        self._waiting[index] = record
        self._wait_after.setdefault(record.prev_hash, []).append(index)
        self._wait_before.setdefault(record.hash, []).append(index)
        if len(self._waiting) > self._window:
            self._edited(self._waiting.pop(next(iter(self._waiting))))
        return None

    def _place(self, record: AuditRecord, candidates: list[int]) -> int | None:
        """Report a record as moved from the first candidate it verifies at, else as edited."""
        for original in candidates:
            if original != record.seq and hmac.compare_digest(
                chain_hash(self._key, record.prev_hash, original, record.entry), record.hash
            ):
                self._report(
                    record.seq, "reordered", f"holds record {original}, moved here from its place"
                )
                self._moved.add(original)  # moved, not deleted
                return original
        self._edited(record)
        return None

    def _check_link(self, record: AuditRecord, last: _Seen | None) -> None:
        """An intact record in place must link to the record before it (or to genesis)."""
        if last is None:
            if record.prev_hash != GENESIS_HASH:
                self._report(record.seq, "deleted", "the first record does not start the chain")
            return
        if record.prev_hash in (last.stored, last.computed) or last.troubled:
            # A troubled predecessor is already reported and explains the broken link.
            return
        linked = self._positions.get(record.prev_hash)
        if linked is not None:
            self._report(
                record.seq, "reordered", f"links to record {linked}, not to {record.seq - 1}"
            )
        else:
            self._report(record.seq, "deleted", "links to a record that is no longer in the log")

    def _remember(self, record: AuditRecord, original: int) -> None:
        """Index a verified record; place the records that waited for it as a neighbour."""
        for table, value in ((self._positions, record.hash), (self._followers, record.prev_hash)):
            table[value] = original
            if len(table) > self._window:
                del table[next(iter(table))]
        found = [(i, original + 1) for i in self._wait_after.pop(record.hash, [])]
        found += [(i, original - 1) for i in self._wait_before.pop(record.prev_hash, [])]
        for position, candidate in found:
            waiting = self._waiting.pop(position, None)
            if waiting is not None and (placed := self._place(waiting, [candidate])) is not None:
                self._remember(waiting, placed)


def verify_chain(
    records: Iterable[AuditRecord],
    key: bytes,
    *,
    expected_head: tuple[int, str] | None = None,
    window: int = 100_000,
) -> ChainReport:
    """Verify a chain read in ``seq`` order, finding and classifying every problem.

    One pass, bounded memory (see ``ChainVerifier``, which also serves
    asynchronous streams). A record whose content was changed is ``edited``; a
    run of missing ``seq`` numbers is ``deleted`` (named by its first); a record
    that verifies only at another position, or arrives out of ``seq`` order, is
    ``reordered``; with ``expected_head``, a log that ends before it is
    ``truncated``.

    Args:
        records: The records, in the order the store keeps them.
        key: The chain key (``chain_key``).
        expected_head: ``(seq, hash)`` recorded earlier, to detect truncation.
        window: Recent hashes kept to recognise moved records.

    Raises:
        ValidationError: ``expected_head`` is malformed.
    """
    verifier = ChainVerifier(key, expected_head=expected_head, window=window)
    for record in records:
        verifier.feed(record)
    return verifier.finish()


async def verify_stream(
    records: AsyncIterable[AuditRecord],
    key: bytes,
    *,
    expected_head: tuple[int, str] | None = None,
) -> ChainReport:
    """``verify_chain`` over an asynchronous stream, such as ``AuditLog.all_records()``.

    Raises:
        ValidationError: ``expected_head`` is malformed.
    """
    verifier = ChainVerifier(key, expected_head=expected_head)
    async for record in records:
        verifier.feed(record)
    return verifier.finish()

"""Verifying the audit chain: every edited, deleted, reordered record and a truncated log.

``ChainVerifier`` checks records one at a time in bounded memory;
``verify_chain`` and ``verify_stream`` run it over a sequence or an
asynchronous stream. A chain whose oldest records were pruned starts at a signed
``AuditCheckpoint`` (``argus.domain.audit.checkpoint``) instead of the genesis; a
checkpoint whose signature fails is ``forged`` and verification starts at the genesis.
"""

from __future__ import annotations

import hmac
from collections.abc import AsyncIterable, Iterable
from dataclasses import dataclass
from typing import Literal, get_args

from argus.domain.audit.chain import GENESIS_HASH, chain_hash, parse_head
from argus.domain.audit.checkpoint import AuditCheckpoint
from argus.domain.audit.records import AuditRecord
from argus.domain.errors import ValidationError

__all__ = [
    "ChainProblem",
    "ChainReport",
    "ChainVerifier",
    "ProblemKind",
    "verify_chain",
    "verify_stream",
]

ProblemKind = Literal["edited", "deleted", "reordered", "truncated", "forged"]
"""``edited``: a record's hash does not match its content; ``deleted``: records are missing
inside the log; ``reordered``: a record sits at another position than the one it was written
at; ``truncated``: the log ends before (or differs at) the expected head; ``forged``: the
checkpoint of a pruned prefix is not signed with the chain key."""

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
        start: ``(seq, hash)`` the checked records start after: the genuine
            checkpoint of a pruned prefix, else ``(0, GENESIS_HASH)``.
    """

    records: int
    head: tuple[int, str]
    problems: tuple[ChainProblem, ...]
    start: tuple[int, str] = (0, GENESIS_HASH)

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
        checkpoint: The latest checkpoint of a pruned prefix, if the log has one.

    Raises:
        ValidationError: ``expected_head`` is malformed or ``window`` is below 1.
    """

    def __init__(
        self,
        key: bytes,
        *,
        expected_head: tuple[int, str] | None = None,
        window: int = 100_000,
        checkpoint: AuditCheckpoint | None = None,
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
        self._problems: list[ChainProblem] = []
        self._start = (0, GENESIS_HASH)
        if checkpoint is not None:
            if checkpoint.verify(key):
                self._start = checkpoint.head
            else:
                self._report(
                    checkpoint.seq,
                    "forged",
                    "the checkpoint of the pruned records is not signed with the chain key",
                )
        self._next_seq = self._start[0] + 1
        self._last: _Seen | None = None
        self._head = self._start
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
        return ChainReport(self._records, self._head, tuple(problems), self._start)

    def _report(self, seq: int, kind: ProblemKind, detail: str) -> None:
        self._problems.append(ChainProblem(seq, kind, detail))

    def _edited(self, record: AuditRecord) -> None:
        self._report(record.seq, "edited", "its hash does not match its content")

    def _report_gap(self, first: int, last: int) -> None:
        before = f"jumps from record {first - 1}" if first > self._start[0] + 1 else "starts"
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
        if record.prev_hash == self._start[1]:
            candidates.append(self._start[0] + 1)
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
            if record.prev_hash != self._start[1]:
                start = "start the chain" if self._start[0] == 0 else "follow the checkpoint"
                self._report(record.seq, "deleted", f"the first record does not {start}")
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
    checkpoint: AuditCheckpoint | None = None,
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
        checkpoint: The latest checkpoint of a pruned prefix, if any.

    Raises:
        ValidationError: ``expected_head`` is malformed.
    """
    verifier = ChainVerifier(key, expected_head=expected_head, window=window, checkpoint=checkpoint)
    for record in records:
        verifier.feed(record)
    return verifier.finish()


async def verify_stream(
    records: AsyncIterable[AuditRecord],
    key: bytes,
    *,
    expected_head: tuple[int, str] | None = None,
    checkpoint: AuditCheckpoint | None = None,
) -> ChainReport:
    """``verify_chain`` over an asynchronous stream, such as ``AuditLog.all_records()``.

    Raises:
        ValidationError: ``expected_head`` is malformed.
    """
    verifier = ChainVerifier(key, expected_head=expected_head, checkpoint=checkpoint)
    async for record in records:
        verifier.feed(record)
    return verifier.finish()

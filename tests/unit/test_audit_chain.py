"""The audit chain's arithmetic: key derivation, hashing, entry checks and verification."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from argus.domain.audit import (
    GENESIS_HASH,
    AuditEntry,
    AuditRecord,
    ChainProblem,
    ChainVerifier,
    chain_hash,
    chain_key,
    check_entry,
    next_record,
    parse_head,
    verify_chain,
)
from argus.domain.errors import ValidationError

KEY = chain_key(b"unit-test-secret-0123456789")
T0 = datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)

Records = list[AuditRecord]


def _entry(n: int = 0, **changes: Any) -> AuditEntry:
    entry = AuditEntry(
        action="alert.acknowledge",
        actor=f"user:op{n}",
        at=T0 + timedelta(seconds=n),
        target=f"alert:{n}",
        details={"note": f"n{n}", "score": 0.75, "tags": ["a", "b"]},
        ip="10.0.0.7",
    )
    return replace(entry, **changes)


def _chain(count: int, key: bytes = KEY) -> Records:
    records: Records = []
    for n in range(count):
        head = (records[-1].seq, records[-1].hash) if records else None
        records.append(next_record(key, head, _entry(n)))
    return records


def _kinds(records: Records, **options: Any) -> list[tuple[int, str]]:
    return [(p.seq, p.kind) for p in verify_chain(records, KEY, **options).problems]


# --- the key and the hash ------------------------------------------------------------------------


def test_chain_key_is_rfc5869_hkdf_sha256() -> None:
    secret = b"installation-secret-0123456789abcdef"
    expected = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"argus audit chain v1"
    ).derive(secret)
    assert chain_key(secret) == expected
    assert chain_key(secret) != chain_key(secret + b"x")


def test_chain_key_refuses_a_short_secret() -> None:
    with pytest.raises(ValidationError, match="16 bytes"):
        chain_key(b"short")


def test_chain_hash_is_hex_and_deterministic() -> None:
    entry = _entry()
    first = chain_hash(KEY, GENESIS_HASH, 1, entry)
    assert len(first) == 64
    assert set(first) <= set("0123456789abcdef")
    assert chain_hash(KEY, GENESIS_HASH, 1, entry) == first
    assert chain_hash(chain_key(b"another-secret-0123456789"), GENESIS_HASH, 1, entry) != first


@pytest.mark.parametrize(
    ("same", "changes"),
    [
        ("details key order", {"details": {"tags": ["a", "b"], "score": 0.75, "note": "n0"}}),
        ("another time zone", {"at": T0.astimezone(timezone(timedelta(hours=2)))}),
        ("a tuple for a list", {"details": {"note": "n0", "score": 0.75, "tags": ("a", "b")}}),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_chain_hash_ignores_what_a_store_round_trip_changes(
    same: str, changes: dict[str, Any]
) -> None:
    assert chain_hash(KEY, GENESIS_HASH, 1, replace(_entry(), **changes)) == chain_hash(
        KEY, GENESIS_HASH, 1, _entry()
    ), same


@pytest.mark.parametrize(
    ("stored", "loaded"),
    [(1e16, 10**16), (1e300, 10**300), (-0.0, 0), (2.0, 2), (1.5e-10, 1.5e-10)],
    ids=["big-float-as-int", "huge-float-as-int", "negative-zero", "integral-float", "small-float"],
)
def test_chain_hash_survives_jsonb_number_formats(stored: float, loaded: float | int) -> None:
    # PostgreSQL's jsonb keeps numbers as decimals: 1e300 comes back as 10**300 exactly.
    before = chain_hash(KEY, GENESIS_HASH, 1, _entry(details={"x": [stored]}))
    after = chain_hash(KEY, GENESIS_HASH, 1, _entry(details={"x": [loaded]}))
    assert before == after


CHANGES: list[tuple[str, Callable[[AuditEntry], AuditEntry]]] = [
    ("action", lambda e: replace(e, action="alert.dismiss")),
    ("actor", lambda e: replace(e, actor="user:mallory")),
    ("at-one-microsecond", lambda e: replace(e, at=e.at + timedelta(microseconds=1))),
    ("target", lambda e: replace(e, target="alert:other")),
    ("outcome", lambda e: replace(e, outcome="denied")),
    ("details-value", lambda e: replace(e, details={**e.details, "score": 0.5})),
    ("details-extra-key", lambda e: replace(e, details={**e.details, "x": None})),
    ("ip", lambda e: replace(e, ip=None)),
]


@pytest.mark.parametrize("change", [c for _, c in CHANGES], ids=[name for name, _ in CHANGES])
def test_chain_hash_covers_every_field(change: Callable[[AuditEntry], AuditEntry]) -> None:
    assert chain_hash(KEY, GENESIS_HASH, 1, change(_entry())) != chain_hash(
        KEY, GENESIS_HASH, 1, _entry()
    )


def test_chain_hash_covers_seq_and_prev_hash() -> None:
    base = chain_hash(KEY, GENESIS_HASH, 1, _entry())
    assert chain_hash(KEY, GENESIS_HASH, 2, _entry()) != base
    assert chain_hash(KEY, "1" * 64, 1, _entry()) != base


# --- entries -------------------------------------------------------------------------------------


def test_check_entry_normalises_to_what_stores_give_back() -> None:
    entry = _entry(
        at=T0.astimezone(timezone(timedelta(hours=-5))),
        details={"pair": (1, 2), "nested": {"k": (True, None, 1e300, 0.5)}},
    )
    checked = check_entry(entry)
    assert checked.at == T0
    assert checked.at.tzinfo is UTC
    assert checked.details == {"pair": [1, 2], "nested": {"k": [True, None, 10**300, 0.5]}}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"action": ""}, "audit action"),
        ({"action": "a" * 65}, "audit action"),
        ({"actor": ""}, "audit actor"),
        ({"target": "t" * 301}, "audit target"),
        ({"ip": ""}, "audit ip"),
        ({"outcome": "maybe"}, "outcome"),
        ({"at": datetime(2026, 3, 1, 12, 0)}, "timezone-aware"),
        ({"details": ["not", "an", "object"]}, "JSON object"),
        ({"details": {"x": math.nan}}, "plain JSON"),
        ({"details": {"x": object()}}, "plain JSON"),
        ({"actor": "user:\x00"}, "NUL"),
        ({"details": {"x": ["ok", "bad\x00"]}}, "NUL"),
    ],
    ids=[
        "empty-action",
        "long-action",
        "empty-actor",
        "long-target",
        "empty-ip",
        "unknown-outcome",
        "naive-time",
        "details-list",
        "details-nan",
        "details-object",
        "nul-in-actor",
        "nul-in-details",
    ],
)
def test_check_entry_refuses(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        check_entry(_entry(**changes))


def test_next_record_numbers_and_chains() -> None:
    first = next_record(KEY, None, _entry(0))
    second = next_record(KEY, (first.seq, first.hash), _entry(1))
    assert (first.seq, first.prev_hash) == (1, GENESIS_HASH)
    assert (second.seq, second.prev_hash) == (2, first.hash)
    assert second.hash == chain_hash(KEY, first.hash, 2, second.entry)


@pytest.mark.parametrize(
    ("text", "head"),
    [("12:" + "ab" * 32, (12, "ab" * 32)), (" 0:" + "0" * 64 + " ", (0, GENESIS_HASH))],
    ids=["plain", "padded-genesis"],
)
def test_parse_head(text: str, head: tuple[int, str]) -> None:
    assert parse_head(text) == head
    assert parse_head(text.upper()) == head


@pytest.mark.parametrize(
    "text",
    ["", "12", "12:abc", "-1:" + "0" * 64, "x:" + "0" * 64, "3:" + "g" * 64],
    ids=["empty", "no-hash", "short-hash", "negative", "not-a-number", "not-hex"],
)
def test_parse_head_refuses(text: str) -> None:
    with pytest.raises(ValidationError, match="SEQ:HASH"):
        parse_head(text)


# --- verification --------------------------------------------------------------------------------


def test_an_intact_chain_verifies() -> None:
    records = _chain(10)
    report = verify_chain(records, KEY, expected_head=(10, records[-1].hash))
    assert report.ok
    assert report.records == 10
    assert report.head == (10, records[-1].hash)
    assert report.problems == ()


def test_an_empty_chain_verifies_with_the_genesis_head() -> None:
    report = verify_chain([], KEY, expected_head=(0, GENESIS_HASH))
    assert report.ok
    assert (report.records, report.head) == (0, (0, GENESIS_HASH))


def test_a_chain_under_another_key_is_edited_everywhere() -> None:
    records = _chain(3, key=chain_key(b"a-different-secret-0123456789"))
    assert _kinds(records) == [(1, "edited"), (2, "edited"), (3, "edited")]


def _edit(records: Records, seq: int, **changes: Any) -> Records:
    return [replace(r, entry=replace(r.entry, **changes)) if r.seq == seq else r for r in records]


def _swap_seqs(records: Records, a: int, b: int) -> Records:
    swapped = [replace(r, seq={a: b, b: a}.get(r.seq, r.seq)) for r in records]
    return sorted(swapped, key=lambda r: r.seq)


TAMPERS: list[tuple[str, Callable[[Records], Records], list[tuple[int, str]]]] = [
    ("edit-actor", lambda rs: _edit(rs, 4, actor="user:mallory"), [(4, "edited")]),
    ("edit-details", lambda rs: _edit(rs, 1, details={"note": "x"}), [(1, "edited")]),
    ("edit-last", lambda rs: _edit(rs, 8, outcome="failure"), [(8, "edited")]),
    (
        "edit-hash-column",
        lambda rs: [replace(r, hash="f" * 64) if r.seq == 5 else r for r in rs],
        [(5, "edited")],
    ),
    (
        "edit-prev-hash-column",
        lambda rs: [replace(r, prev_hash="e" * 64) if r.seq == 5 else r for r in rs],
        [(5, "edited")],
    ),
    ("delete-middle", lambda rs: [r for r in rs if r.seq != 4], [(4, "deleted")]),
    ("delete-first", lambda rs: rs[1:], [(1, "deleted")]),
    ("delete-run", lambda rs: [r for r in rs if not 3 <= r.seq <= 6], [(3, "deleted")]),
    ("swap-seqs", lambda rs: _swap_seqs(rs, 3, 6), [(3, "reordered"), (6, "reordered")]),
    ("swap-neighbours", lambda rs: _swap_seqs(rs, 4, 5), [(4, "reordered"), (5, "reordered")]),
    ("swap-first-and-last", lambda rs: _swap_seqs(rs, 1, 8), [(1, "reordered"), (8, "reordered")]),
    (
        "delete-and-swap",
        lambda rs: _swap_seqs([r for r in rs if r.seq != 2], 3, 5),
        [(2, "deleted"), (3, "reordered"), (5, "reordered")],
    ),
    (
        "swap-next-to-a-deleted-record",
        lambda rs: _swap_seqs([r for r in rs if r.seq != 4], 3, 5),
        [(3, "reordered"), (4, "deleted"), (5, "reordered")],
    ),
    (
        "move-to-the-end",
        lambda rs: [*(r for r in rs if r.seq != 2), replace(rs[1], seq=9)],
        [(9, "reordered")],
    ),
    (
        "move-to-the-front",
        lambda rs: [replace(rs[4], seq=0), *(r for r in rs if r.seq != 5)],
        [(0, "reordered"), (0, "reordered")],
    ),
    ("out-of-seq-order", lambda rs: [*rs[:3], rs[4], rs[3], *rs[5:]], [(4, "reordered")]),
    (
        "edit-and-delete",
        lambda rs: [r for r in _edit(rs, 2, ip="6.6.6.6") if r.seq != 6],
        [(2, "edited"), (6, "deleted")],
    ),
]


@pytest.mark.parametrize(
    ("tamper", "expected"),
    [(t, e) for _, t, e in TAMPERS],
    ids=[name for name, _, _ in TAMPERS],
)
def test_verify_names_each_tampered_record(
    tamper: Callable[[Records], Records], expected: list[tuple[int, str]]
) -> None:
    assert _kinds(tamper(_chain(8))) == expected


def test_delete_run_is_one_problem_naming_the_range() -> None:
    records = [r for r in _chain(8) if not 3 <= r.seq <= 6]
    (problem,) = verify_chain(records, KEY).problems
    assert str(problem) == (
        "record 3: deleted: records 3 to 6 are missing: the log jumps from record 2 to record 7"
    )


def test_truncation_is_invisible_without_an_expected_head() -> None:
    assert verify_chain(_chain(8)[:-2], KEY).ok


@pytest.mark.parametrize(
    ("keep", "expected"),
    [(7, [(8, "truncated")]), (5, [(6, "truncated")]), (0, [(1, "truncated")])],
    ids=["last-record", "three-records", "everything"],
)
def test_truncation_against_the_expected_head(keep: int, expected: list[tuple[int, str]]) -> None:
    records = _chain(8)
    assert _kinds(records[:keep], expected_head=(8, records[-1].hash)) == expected


def test_a_rewritten_tail_differs_from_the_expected_head() -> None:
    records = _chain(8)
    rewritten = records[:5]
    for n in range(3):
        rewritten.append(next_record(KEY, (rewritten[-1].seq, rewritten[-1].hash), _entry(50 + n)))
    assert verify_chain(rewritten, KEY).ok
    assert _kinds(rewritten, expected_head=(8, records[-1].hash)) == [(8, "truncated")]


def test_an_expected_head_inside_the_log_must_match() -> None:
    records = _chain(8)
    assert verify_chain(records, KEY, expected_head=(5, records[4].hash)).ok
    assert _kinds(records, expected_head=(5, records[3].hash)) == [(5, "truncated")]


def test_a_record_moved_beyond_the_window_is_edited() -> None:
    swapped = _swap_seqs(_chain(12), 2, 11)
    assert _kinds(swapped) == [(2, "reordered"), (11, "reordered")]
    # Record 2, now at 11, follows record 1, whose hash left the 3-record window long ago;
    # record 11, now at 2, waits for record 10, which comes later, and is still recognised.
    assert _kinds(swapped, window=3) == [(2, "reordered"), (11, "edited")]


@pytest.mark.parametrize(
    "head",
    [(-1, GENESIS_HASH), (3, "abc"), (0, "1" * 64)],
    ids=["negative", "short-hash", "empty-log-with-a-hash"],
)
def test_a_malformed_expected_head_is_refused(head: tuple[int, str]) -> None:
    with pytest.raises(ValidationError):
        verify_chain([], KEY, expected_head=head)


def test_the_verifier_streams_and_reports_once() -> None:
    records = _chain(5)
    verifier = ChainVerifier(KEY)
    for record in records:
        verifier.feed(record)
    report = verifier.finish()
    assert report == verifier.finish()
    assert report.head == (5, records[-1].hash)
    with pytest.raises(ValidationError, match="already reported"):
        verifier.feed(records[0])


def test_problem_text() -> None:
    problem = ChainProblem(4, "edited", "its hash does not match its content")
    assert str(problem) == "record 4: edited: its hash does not match its content"

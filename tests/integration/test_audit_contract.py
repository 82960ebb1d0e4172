"""The audit log's contract on every store, and tampering caught by ``verify_chain``.

The same cases run against the in-memory log, SQLite (a temporary file) and
PostgreSQL (a fresh schema per test), through the ``store`` fixture of the
repository contract (``test_repositories_contract``). Tampering is done with
plain SQL on the stored rows, as someone with database access would; those
cases have no in-memory counterpart.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import UTC, timedelta, timezone
from typing import Any

import pytest
import sqlalchemy as sa

from argus.adapters.db.audit_memory import MemoryAuditLog
from argus.adapters.db.audit_sql import SqlAuditLog
from argus.adapters.db.sql import SqlDatabase
from argus.domain.audit import (
    GENESIS_HASH,
    AuditEntry,
    AuditRecord,
    ChainReport,
    ChainVerifier,
    chain_key,
)
from argus.domain.errors import ValidationError
from argus.ports.audit import AuditFilter, AuditLog
from tests.integration import test_repositories_contract as contract
from tests.integration.test_repositories_contract import SECRET, T0, Store

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

# The parametrised store (memory, SQLite, PostgreSQL), shared as is.
store = contract.store

KEY = chain_key(SECRET)
IST = timezone(timedelta(hours=5, minutes=30))


@dataclass
class Audit:
    """The log under test on one store, and raw access to its rows on SQL stores."""

    store: Store
    log: AuditLog

    @property
    def sql(self) -> SqlDatabase:
        return self.store.sql  # skips the test on the in-memory store

    async def execute(self, *statements: str) -> None:
        """Run raw SQL in one transaction, as someone tampering with the database would."""
        async with self.sql.engine.begin() as connection:
            for statement in statements:
                await connection.execute(sa.text(statement))

    async def verify(self, expected_head: tuple[int, str] | None = None) -> ChainReport:
        """Stream every record through the verifier, in small pages."""
        verifier = ChainVerifier(KEY, expected_head=expected_head)
        async for record in self.log.all_records(batch=3):
            verifier.feed(record)
        return verifier.finish()


@pytest.fixture
async def audit(store: Store) -> Audit:
    if isinstance(store.db, SqlDatabase):
        return Audit(store, SqlAuditLog(store.db.engine, KEY))
    return Audit(store, MemoryAuditLog(KEY))


def _entry(n: int = 0, **changes: Any) -> AuditEntry:
    entry = AuditEntry(
        action="alert.acknowledge",
        actor=f"user:op{n % 3}",
        at=T0 + timedelta(seconds=n, microseconds=123457),
        target=f"alert:{n}",
        details={"n": n, "note": "käse ✓", "score": 0.1 + n, "nested": {"b": [1, None, True]}},
        ip="192.0.2.10",
    )
    return replace(entry, **changes)


async def _fill(log: AuditLog, count: int) -> list[AuditRecord]:
    return [await log.append(_entry(n)) for n in range(count)]


def _kinds(report: ChainReport) -> list[tuple[int, str]]:
    return [(p.seq, p.kind) for p in report.problems]


# --- appending and reading -----------------------------------------------------------------------


async def test_an_empty_log(audit: Audit) -> None:
    assert await audit.log.count() == 0
    assert await audit.log.head() == (0, GENESIS_HASH)
    assert await audit.log.records() == []
    page = await audit.log.list()
    assert (page.items, page.total) == ((), 0)
    report = await audit.verify(expected_head=(0, GENESIS_HASH))
    assert report.ok
    assert (report.records, report.head) == (0, (0, GENESIS_HASH))


async def test_append_numbers_and_chains_records(audit: Audit) -> None:
    first, second, third = await _fill(audit.log, 3)
    assert [first.seq, second.seq, third.seq] == [1, 2, 3]
    assert first.prev_hash == GENESIS_HASH
    assert (second.prev_hash, third.prev_hash) == (first.hash, second.hash)
    assert await audit.log.count() == 3
    assert await audit.log.head() == (3, third.hash)
    assert await audit.log.records() == [first, second, third]


async def test_records_come_back_exactly_as_appended(audit: Audit) -> None:
    entries = [
        _entry(0),
        _entry(1, at=(T0 + timedelta(microseconds=1)).astimezone(IST), ip=None),
        _entry(2, target="", outcome="denied", details={}),
        # jsonb keeps numbers as decimals and reorders keys; the hash must not notice.
        _entry(
            3,
            details={"z": 1e16, "h": 1e300, "a": -0.0, "m": 2.5e-10, "t": (1, "x"), "i": 2**70},
        ),
        _entry(4, actor="ü" * 200, action="a" * 64, target="t" * 300, ip="2001:db8::1"),
    ]
    appended = [await audit.log.append(entry) for entry in entries]
    assert appended[1].entry.at == T0 + timedelta(microseconds=1)
    assert appended[1].entry.at.tzinfo is UTC
    assert appended[3].entry.details["t"] == [1, "x"]
    assert await audit.log.records() == appended
    assert (await audit.verify(expected_head=(5, appended[-1].hash))).ok


async def test_invalid_entries_are_refused_and_nothing_is_stored(audit: Audit) -> None:
    for bad in (
        _entry(action=""),
        _entry(actor="x" * 201),
        _entry(details={"x": float("inf")}),
        _entry(actor="nul\x00"),
    ):
        with pytest.raises(ValidationError):
            await audit.log.append(bad)
    assert await audit.log.count() == 0


@pytest.mark.parametrize(
    ("after_seq", "limit"),
    [(-1, 10), (0, 0), (0, 1001)],
    ids=["negative-after", "zero-limit", "limit-too-big"],
)
async def test_records_refuses_bad_arguments(audit: Audit, after_seq: int, limit: int) -> None:
    with pytest.raises(ValidationError):
        await audit.log.records(after_seq=after_seq, limit=limit)


async def test_list_refuses_bad_paging(audit: Audit) -> None:
    with pytest.raises(ValidationError):
        await audit.log.list(limit=1001)
    with pytest.raises(ValidationError):
        await audit.log.list(offset=-1)


async def test_records_page_by_seq(audit: Audit) -> None:
    records = await _fill(audit.log, 7)
    assert await audit.log.records(after_seq=2, limit=3) == records[2:5]
    assert await audit.log.records(after_seq=7) == []
    streamed = [record async for record in audit.log.all_records(batch=2)]
    assert streamed == records


async def test_list_is_newest_first_with_offset_and_total(audit: Audit) -> None:
    records = await _fill(audit.log, 7)
    page = await audit.log.list(limit=3, offset=1)
    assert page.items == tuple(reversed(records[3:6]))
    assert page.total == 7


def _filters() -> list[tuple[str, AuditFilter, list[int]]]:
    return [
        ("actor", AuditFilter(actor="user:op1"), [2, 5, 8]),
        ("action-prefix", AuditFilter(action="auth."), [1, 3, 7]),
        ("action-full-name", AuditFilter(action="auth.login"), [1, 7]),
        ("action-like-wildcards-are-literal", AuditFilter(action="auth_"), []),
        ("action-percent-is-literal", AuditFilter(action="%"), []),
        ("target", AuditFilter(target="alert:4"), [5]),
        ("outcome", AuditFilter(outcome="failure"), [3, 7]),
        (
            "since-until",
            AuditFilter(since=T0 + timedelta(seconds=2), until=T0 + timedelta(seconds=5)),
            [3, 4, 5],
        ),
        ("combined", AuditFilter(action="auth.", outcome="failure", actor="user:op0"), [7]),
    ]


@pytest.mark.parametrize(
    ("where", "seqs"),
    [(where, seqs) for _, where, seqs in _filters()],
    ids=[name for name, _, _ in _filters()],
)
async def test_filters(audit: Audit, where: AuditFilter, seqs: list[int]) -> None:
    actions = {0: "auth.login", 2: "auth.logout", 6: "auth.login", 7: "authz.grant"}
    for n in range(9):
        outcome = "failure" if n in (2, 6) else "success"
        await audit.log.append(
            _entry(n, action=actions.get(n, "alert.acknowledge"), outcome=outcome)
        )
    assert [r.seq for r in await audit.log.records(where=where)] == seqs
    assert await audit.log.count(where) == len(seqs)
    page = await audit.log.list(where=where, limit=2)
    assert [r.seq for r in page.items] == sorted(seqs, reverse=True)[:2]
    assert page.total == len(seqs)


async def test_records_by_target(audit: Audit) -> None:
    await _fill(audit.log, 4)
    await audit.log.append(_entry(9, target="alert:2"))
    assert [r.seq for r in await audit.log.records(target="alert:2")] == [3, 5]
    narrowed = await audit.log.records(target="alert:2", where=AuditFilter(actor="user:op0"))
    assert [r.seq for r in narrowed] == [5]


def test_a_filter_refuses_naive_times() -> None:
    with pytest.raises(ValidationError, match="timezone-aware"):
        AuditFilter(since=T0.replace(tzinfo=None))


# --- concurrency ---------------------------------------------------------------------------------


async def test_concurrent_appends_form_one_gap_free_chain(audit: Audit) -> None:
    appended = await asyncio.gather(*(audit.log.append(_entry(n)) for n in range(50)))
    assert sorted(r.seq for r in appended) == list(range(1, 51))
    report = await audit.verify()
    assert report.ok, report.problems
    assert report.records == 50


@pytest.fixture
async def second_log(audit: Audit) -> AsyncIterator[AuditLog]:
    """The same store's log through another engine, as another process would open it."""
    other = await audit.store.reopen() if isinstance(audit.store.db, SqlDatabase) else None
    if other is None:
        pytest.skip("an in-memory log is not shared between processes")
    try:
        yield SqlAuditLog(other.engine, KEY)
    finally:
        await other.close()


async def test_appends_through_two_engines_form_one_chain(
    audit: Audit, second_log: AuditLog
) -> None:
    logs = (audit.log, second_log)
    appended = await asyncio.gather(*(logs[n % 2].append(_entry(n)) for n in range(60)))
    assert sorted(r.seq for r in appended) == list(range(1, 61))
    assert await second_log.records(limit=1000) == sorted(appended, key=lambda r: r.seq)
    report = await audit.verify()
    assert report.ok, report.problems


# --- tampering with the rows ---------------------------------------------------------------------

TAMPERING: list[tuple[str, list[str], list[tuple[int, str]]]] = [
    (
        "update-actor",
        ["UPDATE audit_log SET actor = 'user:mallory' WHERE seq = 4"],
        [(4, "edited")],
    ),
    ("update-outcome", ["UPDATE audit_log SET outcome = 'hacked' WHERE seq = 1"], [(1, "edited")]),
    ("update-ip-to-null", ["UPDATE audit_log SET ip = NULL WHERE seq = 8"], [(8, "edited")]),
    (
        "update-details",
        ['UPDATE audit_log SET details = \'{"n": 5, "note": "forged"}\' WHERE seq = 6'],
        [(6, "edited")],
    ),
    ("delete-middle", ["DELETE FROM audit_log WHERE seq = 5"], [(5, "deleted")]),
    ("delete-first", ["DELETE FROM audit_log WHERE seq = 1"], [(1, "deleted")]),
    ("delete-run", ["DELETE FROM audit_log WHERE seq BETWEEN 3 AND 5"], [(3, "deleted")]),
    (
        "swap-seqs",
        [
            "UPDATE audit_log SET seq = -1 WHERE seq = 3",
            "UPDATE audit_log SET seq = 3 WHERE seq = 6",
            "UPDATE audit_log SET seq = 6 WHERE seq = -1",
        ],
        [(3, "reordered"), (6, "reordered")],
    ),
]


@pytest.mark.parametrize(
    ("statements", "expected"),
    [(statements, expected) for _, statements, expected in TAMPERING],
    ids=[name for name, _, _ in TAMPERING],
)
async def test_verify_names_the_tampered_record(
    audit: Audit, statements: list[str], expected: list[tuple[int, str]]
) -> None:
    await _fill(audit.log, 8)
    assert (await audit.verify()).ok
    await audit.execute(*statements)
    assert _kinds(await audit.verify()) == expected
    assert _kinds(await audit.log.verify()) == expected


async def test_a_deleted_last_record_is_caught_by_the_expected_head(audit: Audit) -> None:
    head = (await _fill(audit.log, 8))[-1]
    await audit.execute("DELETE FROM audit_log WHERE seq = 8")
    assert (await audit.verify()).ok  # without an anchor the shorter log looks whole
    report = await audit.log.verify(expected_head=(head.seq, head.hash))
    assert _kinds(report) == [(8, "truncated")]
    assert str(report.problems[0]) == (
        "record 8: truncated: record 8 is missing: the log ends at record 7, the expected head is 8"
    )


async def test_a_cut_and_rewritten_tail_is_caught_by_the_expected_head(audit: Audit) -> None:
    head = (await _fill(audit.log, 8))[-1]
    await audit.execute("DELETE FROM audit_log WHERE seq >= 6")
    for n in range(3):
        await audit.log.append(_entry(100 + n))
    assert (await audit.verify()).ok
    assert _kinds(await audit.verify(expected_head=(head.seq, head.hash))) == [(8, "truncated")]

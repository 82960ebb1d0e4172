"""One contract for every ``EdgeOutbox``: in memory and SQLite (WAL) on disk.

The SQLite cases also reopen the file (everything survives a restart) and
SIGKILL a writer process mid-stream: every item whose ``append`` had
returned is there afterwards.
"""

from __future__ import annotations

import logging
import os
import selectors
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from argus.adapters.edge._codec import encode_body
from argus.adapters.edge.outbox_memory import MemoryOutbox
from argus.adapters.edge.outbox_sqlite import SqliteOutbox
from argus.domain.edge import ItemKind, OutboxItem
from argus.domain.errors import StorageError
from argus.domain.event_ids import new_event_id
from argus.ports.edge_outbox import EdgeOutbox, Quarantined

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
SIZE = 160
"""Bytes of every item ``_item`` makes (their bodies are padded to the same size)."""
KILL_WAIT = 60.0
"""Seconds the SIGKILL test waits for its writer (generous for a loaded machine)."""

Opener = Callable[..., EdgeOutbox]


def _item(tag: str, kind: ItemKind = "event", evidence: str = "") -> OutboxItem:
    body: dict[str, object] = {"tag": tag, "kind": evidence or kind, "pad": ""}
    body["pad"] = "x" * (SIZE - len(encode_body(OutboxItem(new_event_id(T0), kind, body))))
    return OutboxItem(id=new_event_id(T0), kind=kind, body=body)


def _tags(outbox: EdgeOutbox) -> list[str]:
    return [str(s.item.body["tag"]) for s in outbox.peek(10_000, 1 << 40)]


@pytest.fixture(params=["memory", "sqlite"])
def opener(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Opener]:
    opened: list[EdgeOutbox] = []

    def open_outbox(max_bytes: int = 1 << 30) -> EdgeOutbox:
        outbox: EdgeOutbox
        if request.param == "memory":
            outbox = MemoryOutbox(max_bytes=max_bytes)
        else:
            outbox = SqliteOutbox(tmp_path / "outbox.db", max_bytes=max_bytes)
        opened.append(outbox)
        return outbox

    yield open_outbox
    for outbox in opened:
        outbox.close()


def test_items_come_out_oldest_first_with_increasing_seqs(opener: Opener) -> None:
    outbox = opener()
    outbox.append([_item("a"), _item("b", "health")], at=T0)
    outbox.append([_item("c", "evidence", "clip")], at=T0 + timedelta(seconds=1))
    stored = outbox.peek(10, 1 << 20)
    assert [s.item.body["tag"] for s in stored] == ["a", "b", "c"]
    assert [s.item.kind for s in stored] == ["event", "health", "evidence"]
    assert [s.seq for s in stored] == sorted(s.seq for s in stored)
    assert all(s.size == SIZE for s in stored)
    assert stored[2].created_at == T0 + timedelta(seconds=1)
    assert isinstance(outbox, EdgeOutbox)


def test_peek_is_limited_by_items_and_bytes_but_returns_at_least_one(opener: Opener) -> None:
    outbox = opener()
    outbox.append([_item(t) for t in "abcde"], at=T0)
    assert [s.item.body["tag"] for s in outbox.peek(2, 1 << 20)] == ["a", "b"]
    assert [s.item.body["tag"] for s in outbox.peek(10, 3 * SIZE)] == ["a", "b", "c"]
    assert [s.item.body["tag"] for s in outbox.peek(10, 3 * SIZE - 1)] == ["a", "b"]
    assert [s.item.body["tag"] for s in outbox.peek(10, 1)] == ["a"]
    assert outbox.peek(10, 1 << 20) == outbox.peek(10, 1 << 20)  # peek removes nothing


def test_remove_forgets_acknowledged_items_only(opener: Opener) -> None:
    outbox = opener()
    outbox.append([_item(t) for t in "abcd"], at=T0)
    seqs = [s.seq for s in outbox.peek(10, 1 << 20)]
    outbox.remove([seqs[0], seqs[2], 999_999])
    assert _tags(outbox) == ["b", "d"]
    stats = outbox.stats(T0)
    assert (stats.items, stats.bytes) == (2, 2 * SIZE)
    outbox.remove([])


def test_appending_a_pending_id_again_is_harmless(opener: Opener) -> None:
    outbox = opener()
    item = _item("a")
    outbox.append([item, item], at=T0)
    outbox.append([item, _item("b")], at=T0)
    assert _tags(outbox) == ["a", "b"]
    assert outbox.stats(T0).items == 2


def test_quarantine_moves_an_item_aside_and_counts_it(opener: Opener) -> None:
    outbox = opener()
    outbox.append([_item(t) for t in "abc"], at=T0)
    first = outbox.peek(1, 1 << 20)[0]
    outbox.quarantine(first.seq, "camera cam-9 is not assigned to this node")
    outbox.quarantine(first.seq, "again")  # already moved: ignored
    outbox.quarantine(999_999, "unknown")
    assert _tags(outbox) == ["b", "c"]
    stats = outbox.stats(T0)
    assert (stats.items, stats.bytes, stats.quarantined) == (2, 2 * SIZE, 1)
    assert outbox.quarantined() == [
        Quarantined(first.item.id, "event", "camera cam-9 is not assigned to this node")
    ]


def test_overflow_drops_health_then_clips_then_evidence_then_events(
    opener: Opener, caplog: pytest.LogCaptureFixture
) -> None:
    outbox = opener(max_bytes=8 * SIZE)
    outbox.append(
        [
            _item("e1"),
            _item("h1", "health"),
            _item("s1", "evidence", "snapshot"),
            _item("c1", "evidence", "clip"),
            _item("e2"),
            _item("h2", "health"),
            _item("c2", "evidence", "clip"),
            _item("e3"),
        ],
        at=T0,
    )
    assert outbox.stats(T0).dropped == {}
    with caplog.at_level(logging.WARNING):
        outbox.append([_item("e4")], at=T0)
        assert _tags(outbox) == ["e1", "s1", "c1", "e2", "h2", "c2", "e3", "e4"]
        outbox.append([_item("e5"), _item("e6")], at=T0)
        assert _tags(outbox) == ["e1", "s1", "e2", "c2", "e3", "e4", "e5", "e6"]
        outbox.append([_item("e7"), _item("e8"), _item("h3", "health")], at=T0)
    assert _tags(outbox) == ["e1", "e2", "e3", "e4", "e5", "e6", "e7", "e8"]
    outbox.append([_item("e9")], at=T0)
    assert _tags(outbox) == ["e2", "e3", "e4", "e5", "e6", "e7", "e8", "e9"]
    stats = outbox.stats(T0)
    assert stats.dropped == {"health": 3, "evidence": 3, "event": 1}
    assert (stats.items, stats.bytes) == (8, 8 * SIZE)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings
    assert all("overflow policy" in w for w in warnings)


def test_an_append_far_over_the_bound_keeps_the_newest_events(opener: Opener) -> None:
    outbox = opener(max_bytes=3 * SIZE)
    outbox.append([_item(f"e{n}") for n in range(10)], at=T0)
    assert _tags(outbox) == ["e7", "e8", "e9"]
    assert outbox.stats(T0).dropped == {"event": 7}


def test_stats_age_of_the_oldest_item_uses_the_given_now(opener: Opener) -> None:
    outbox = opener()
    assert outbox.stats(T0).oldest_age_s is None
    outbox.append([_item("a")], at=T0)
    outbox.append([_item("b")], at=T0 + timedelta(seconds=5))
    assert outbox.stats(T0 + timedelta(seconds=10)).oldest_age_s == pytest.approx(10.0)
    outbox.remove([outbox.peek(1, 1 << 20)[0].seq])
    assert outbox.stats(T0 + timedelta(seconds=10)).oldest_age_s == pytest.approx(5.0)
    assert outbox.stats(T0).oldest_age_s == 0.0  # a clock set back never gives a negative age


def test_concurrent_appends_from_many_threads_lose_nothing(opener: Opener) -> None:
    outbox = opener()

    def produce(thread: int) -> None:
        for n in range(50):
            outbox.append([_item(f"t{thread}-{n}")], at=T0)

    threads = [threading.Thread(target=produce, args=(t,)) for t in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stored = outbox.peek(1000, 1 << 30)
    assert len(stored) == 200
    assert len({s.seq for s in stored}) == 200
    for t in range(4):  # each producer's items stay in its order
        mine = [s.item.body["tag"] for s in stored if str(s.item.body["tag"]).startswith(f"t{t}-")]
        assert mine == [f"t{t}-{n}" for n in range(50)]


def test_a_closed_outbox_refuses_calls(opener: Opener) -> None:
    outbox = opener()
    outbox.close()
    with pytest.raises(StorageError):
        outbox.append([_item("a")], at=T0)
    with pytest.raises(StorageError):
        outbox.peek(1, 1)


# -- SQLite only: durability -------------------------------------------------------------------


def test_reopening_the_file_keeps_items_counts_and_seqs(tmp_path: Path) -> None:
    path = tmp_path / "node" / "outbox.db"
    outbox = SqliteOutbox(path, max_bytes=3 * SIZE)
    outbox.append([_item("h", "health"), _item("a"), _item("b"), _item("c")], at=T0)
    outbox.quarantine(outbox.peek(1, 1 << 20)[0].seq, "bad")
    newest = outbox.peek(10, 1 << 20)[-1].seq
    outbox.remove([newest])
    before = outbox.peek(10, 1 << 20)
    outbox.close()

    again = SqliteOutbox(path, max_bytes=3 * SIZE)
    try:
        assert again.peek(10, 1 << 20) == before
        stats = again.stats(T0 + timedelta(seconds=2))
        assert (stats.items, stats.bytes, stats.quarantined) == (1, SIZE, 1)
        assert stats.dropped == {"health": 1}
        assert stats.oldest_age_s == pytest.approx(2.0)
        again.append([_item("d")], at=T0)
        assert again.peek(10, 1 << 20)[-1].seq > newest  # a seq is never reused
    finally:
        again.close()


def test_a_full_disk_before_the_bound_follows_the_overflow_policy(tmp_path: Path) -> None:
    outbox = SqliteOutbox(tmp_path / "outbox.db")
    try:
        outbox.append([_item(f"h{n}", "health") for n in range(2000)], at=T0)
        outbox.append([_item(f"e{n}") for n in range(2000)], at=T0)
        # The file may not grow any more: to SQLite, exactly a full disk (SQLITE_FULL).
        conn = outbox._conn
        assert conn is not None
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        conn.execute(f"PRAGMA max_page_count = {pages}")
        for n in range(40):
            outbox.append([_item(f"x{n}")], at=T0)
        stats = outbox.stats(T0)
        assert stats.dropped.get("health", 0) > 0
        assert "event" not in stats.dropped  # health reports went first
        tags = _tags(outbox)
        assert tags[-40:] == [f"x{n}" for n in range(40)]
        assert stats.items == len(tags)
    finally:
        outbox.close()


_WRITER = """
import sys
from datetime import UTC, datetime
from pathlib import Path
from argus.adapters.edge.outbox_sqlite import SqliteOutbox
from argus.domain.edge import OutboxItem
from argus.domain.event_ids import new_event_id

outbox = SqliteOutbox(Path(sys.argv[1]), synchronous=sys.argv[2])
at = datetime(2026, 3, 1, tzinfo=UTC)
n = 0
while True:
    item = OutboxItem(id=new_event_id(at), kind="event", body={"n": n, "pad": "x" * 300})
    outbox.append([item], at=at)
    print(item.id, flush=True)
    n += 1
"""


def _read_lines(process: subprocess.Popen[str], wanted: int, deadline: float) -> list[str]:
    assert process.stdout is not None
    lines: list[str] = []
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        while len(lines) < wanted:
            if time.monotonic() > deadline:
                raise AssertionError(f"the writer acknowledged only {len(lines)} appends")
            if selector.select(timeout=1.0):
                line = process.stdout.readline()
                if not line:
                    raise AssertionError(f"the writer exited with {process.poll()}")
                lines.append(line.strip())
    return lines


@pytest.mark.parametrize("synchronous", ["FULL", "NORMAL"])
def test_a_sigkilled_writer_loses_nothing_it_acknowledged(tmp_path: Path, synchronous: str) -> None:
    path = tmp_path / "outbox.db"
    with subprocess.Popen(
        [sys.executable, "-c", _WRITER, str(path), synchronous],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as process:
        try:
            acknowledged = _read_lines(process, 300, time.monotonic() + KILL_WAIT)
            os.kill(process.pid, signal.SIGKILL)
            process.wait(timeout=KILL_WAIT)
            assert process.stdout is not None
            assert process.stderr is not None
            # Read through the file objects: lines may already sit in their buffers.
            rest, errors = process.stdout.read(), process.stderr.read()
        finally:
            if process.poll() is None:
                process.kill()
    assert process.returncode == -signal.SIGKILL, errors
    # Every id printed was printed after its append returned, so every one must be there.
    acknowledged += [line for line in rest.splitlines() if line.strip()]
    outbox = SqliteOutbox(path)
    try:
        stored = [s.item.id for s in outbox.peek(1_000_000, 1 << 40)]
    finally:
        outbox.close()
    assert stored[: len(acknowledged)] == acknowledged
    assert len(stored) - len(acknowledged) <= 1  # at most the append in flight at the kill

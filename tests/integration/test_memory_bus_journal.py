"""The in-process bus's journal keeps unacknowledged messages across a restart and a crash.

Issue 15, finding 3: with the default ``memory://`` bus, events the consumers
had not stored when the server stopped were gone. With a journal, a bus
opened on the same file delivers them again, after a clean close and after
the process was killed with SIGKILL (a real child process, really killed).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from argus.adapters.bus.memory import MemoryEventBus
from argus.domain.errors import BusError
from argus.domain.events import Envelope, EventSource

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 60.0
"""Seconds the child may take to start and publish on a loaded machine."""


def _envelope(n: int) -> Envelope:
    return Envelope(
        event_id=f"01JRN{n:021d}",
        type="test.ping",
        timestamp=datetime(2026, 3, 1, 12, 0, n % 60, tzinfo=UTC),
        source=EventSource("edge-1", "cam-a"),
        payload={"n": n},
    )


async def _drain(bus: MemoryEventBus, count: int, *, until: str | None = None) -> list[str]:
    """The ids of the next ``count`` deliveries of durable consumer ``store``, acknowledged.

    With ``until``, deliveries are read until that id instead.
    """
    ids: list[str] = []
    async with await bus.subscribe("events", durable="store") as subscription:
        async for delivery in subscription:
            ids.append(delivery.envelope.event_id)
            await delivery.ack()
            if ids[-1] == until or (until is None and len(ids) == count):
                break
    return ids


async def test_a_reopened_bus_delivers_what_was_not_acknowledged(tmp_path: Path) -> None:
    journal = tmp_path / "bus.db"
    first = MemoryEventBus(journal=journal)
    sent = [_envelope(n) for n in range(5)]
    async with await first.subscribe("events", durable="store") as subscription:
        for envelope in sent:
            await first.publish("events", envelope)
        for _ in range(2):
            await (await anext(subscription)).ack()
        await anext(subscription)  # read, never acknowledged (its store was down)
    await first.close()
    assert journal.stat().st_mode & 0o777 == 0o600

    second = MemoryEventBus(journal=journal)
    try:
        assert await _drain(second, 3) == [e.event_id for e in sent[2:]]
        later = _envelope(5)
        await second.publish("events", later)
        assert await _drain(second, 1) == [later.event_id]
    finally:
        await second.close()


async def test_one_process_owns_a_journal(tmp_path: Path) -> None:
    owner = MemoryEventBus(journal=tmp_path / "bus.db")
    try:
        with pytest.raises(BusError, match="in use"):
            MemoryEventBus(journal=tmp_path / "bus.db")
    finally:
        await owner.close()
    await MemoryEventBus(journal=tmp_path / "bus.db").close()  # free again once closed


_CHILD = """
import asyncio, sys
from pathlib import Path
from argus.adapters.bus.memory import MemoryEventBus
from tests.integration.test_memory_bus_journal import _envelope

async def main() -> None:
    bus = MemoryEventBus(journal=Path(sys.argv[1]))
    subscription = await bus.subscribe("events", durable="store")
    for n in range(int(sys.argv[2])):
        await bus.publish("events", _envelope(n))
    delivery = await anext(subscription)
    await delivery.ack()  # the first one is stored; the rest wait for a store that is down
    print("PUBLISHED", flush=True)
    await asyncio.Event().wait()

asyncio.run(main())
"""


async def test_messages_survive_sigkill(tmp_path: Path) -> None:
    journal, count = tmp_path / "bus.db", 50
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(journal), str(count)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        line = child.stdout.readline()  # blocks until the child published (or died)
        assert line.strip() == "PUBLISHED", f"the child failed: {line!r}"
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=START_TIMEOUT)
        if child.stdout is not None:
            child.stdout.close()

    bus = MemoryEventBus(journal=journal)
    try:
        received = await _drain(bus, count, until=_envelope(count - 1).event_id)
    finally:
        await bus.close()
    # Positions are saved lazily, so the acknowledged first one may come again; none is lost.
    expected = [_envelope(n).event_id for n in range(count)]
    assert received in (expected, expected[1:])


async def test_a_consumer_name_nobody_uses_any_more_does_not_block_publishing(
    tmp_path: Path,
) -> None:
    """A durable name restored from the journal but never subscribed again is not waited for."""
    journal = tmp_path / "bus.db"
    first = MemoryEventBus(journal=journal, max_len=3)
    await (await first.subscribe("events", durable="retired")).close()
    await first.close()

    second = MemoryEventBus(journal=journal, max_len=3)
    try:
        for n in range(6):  # twice the log's room, with the live consumer keeping up
            await second.publish("events", _envelope(n))
            assert await _drain(second, 1) == [_envelope(n).event_id]
    finally:
        await second.close()

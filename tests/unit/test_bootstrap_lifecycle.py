"""``Lifecycle``: parts start in their declared order and stop in reverse, whatever fails."""

from __future__ import annotations

import pytest

from argus.bootstrap.lifecycle import Lifecycle, Step

pytestmark = pytest.mark.anyio


class Journal:
    """Records what was started and stopped, in order."""

    def __init__(self) -> None:
        self.entries: list[str] = []

    def step(self, name: str, *, fail_start: bool = False, fail_stop: bool = False) -> Step:
        """A part that records its start (plain function) and its stop (coroutine)."""

        def start() -> None:
            self.entries.append(f"start {name}")
            if fail_start:
                raise RuntimeError(f"{name} did not start")

        async def stop() -> None:
            self.entries.append(f"stop {name}")
            if fail_stop:
                raise RuntimeError(f"{name} did not stop")

        return Step(name, start=start, stop=stop)

    async def opened(self, name: str) -> str:
        self.entries.append(f"open {name}")
        return name

    def close(self, name: str) -> None:
        self.entries.append(f"close {name}")


async def test_parts_start_in_order_and_stop_in_reverse() -> None:
    journal = Journal()
    async with Lifecycle() as lifecycle:
        store = await lifecycle.open("store", journal.opened("store"), journal.close)
        lifecycle.add(journal.step("ingest"), Step("first admin"), journal.step("hub"))
        await lifecycle.start()
        assert store == "store"
        assert lifecycle.running == ("store", "ingest", "first admin", "hub")
    assert journal.entries == [
        "open store",
        "start ingest",
        "start hub",
        "stop hub",
        "stop ingest",
        "close store",
    ]
    assert not lifecycle.running


async def test_a_failed_start_stops_what_started_before_it() -> None:
    journal = Journal()
    lifecycle = Lifecycle()
    await lifecycle.open("store", journal.opened("store"), journal.close)
    lifecycle.add(journal.step("ingest"), journal.step("hub", fail_start=True), journal.step("x"))
    with pytest.raises(RuntimeError, match="hub did not start"):
        await lifecycle.start()
    assert journal.entries == [
        "open store",
        "start ingest",
        "start hub",
        "stop ingest",
        "close store",
    ]
    assert not lifecycle.running


async def test_every_part_stops_and_the_first_error_is_raised() -> None:
    journal = Journal()
    lifecycle = Lifecycle()
    lifecycle.add(
        journal.step("a", fail_stop=True), journal.step("b"), journal.step("c", fail_stop=True)
    )
    await lifecycle.start()
    with pytest.raises(RuntimeError, match="c did not stop"):
        await lifecycle.stop()
    assert journal.entries[3:] == ["stop c", "stop b", "stop a"]


async def test_a_failed_opening_closes_what_opened_before_it() -> None:
    journal = Journal()

    async def unreachable() -> str:
        raise ConnectionError("bus unreachable")

    async def run() -> None:
        async with Lifecycle() as lifecycle:
            await lifecycle.open("store", journal.opened("store"), journal.close)
            await lifecycle.open("bus", unreachable(), journal.close)

    with pytest.raises(ConnectionError, match="bus unreachable"):
        await run()
    assert journal.entries == ["open store", "close store"]

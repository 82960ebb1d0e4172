"""``EdgeSyncer``: oldest first, only acknowledged items leave, and the link state machine.

The outbox is the real in-memory one; the link is a fake of our own port (a
control plane reduced to a set of stored ids), so every reply, failure and
reordering is chosen by the test.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from argus.adapters.edge.outbox_memory import MemoryOutbox
from argus.domain.backoff import Backoff, BackoffPolicy, Jitter
from argus.domain.edge import (
    EdgeConfig,
    ItemResult,
    NodeRegistration,
    OutboxItem,
    RegistrationReply,
    SyncBatch,
    SyncReply,
)
from argus.domain.errors import ValidationError
from argus.domain.event_ids import new_event_id
from argus.ports.edge_link import EdgeLink, LinkDown, LinkUnauthorized
from argus.ports.edge_outbox import Quarantined
from argus.services.edge_sync import EdgeSyncer, LinkState

pytestmark = pytest.mark.anyio

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
TAGS: dict[str, str] = {}
"""The test tag of every item id made by ``_items``."""
WAIT = 10.0
"""Seconds a loop test waits for the background task (bounded; it normally takes ms)."""


class FakeClock:
    """A node clock that moves only when told (and by ``step`` on every read)."""

    def __init__(self, step: float = 0.0) -> None:
        self.now = T0
        self.step = timedelta(seconds=step)

    def __call__(self) -> datetime:
        now, self.now = self.now, self.now + self.step
        return now


class FakeLink:
    """The control plane reduced to what sync needs: a set of stored ids."""

    def __init__(self) -> None:
        self.stored: list[str] = []
        self.batches: list[SyncBatch] = []
        self.down: Exception | None = None
        self.reject: dict[str, str] = {}
        self.unreadable: set[str] = set()
        self.shape: Callable[[list[ItemResult]], list[ItemResult]] = lambda r: r
        self.offset = timedelta(0)

    async def register(self, reg: NodeRegistration) -> RegistrationReply:
        raise NotImplementedError

    async def fetch_config(self, node_id: str, after: str | None, wait_s: float) -> EdgeConfig:
        raise NotImplementedError

    async def sync(self, batch: SyncBatch) -> SyncReply:
        self.batches.append(batch)
        if self.down is not None:
            raise self.down
        if any(item.id in self.unreadable for item in batch.items):
            raise ValidationError("HTTP 422 body.items.3: not a valid item")
        results = []
        for item in batch.items:
            if item.id in self.reject:
                results.append(ItemResult(item.id, "rejected", self.reject[item.id]))
            elif item.id in self.stored:
                results.append(ItemResult(item.id, "duplicate"))
            else:
                self.stored.append(item.id)
                results.append(ItemResult(item.id, "stored"))
        return SyncReply(tuple(self.shape(results)), batch.sent_at + self.offset)

    async def close(self) -> None:
        return None

    @property
    def tags(self) -> list[str]:
        return [TAGS[i] for i in self.stored]


def _items(*tags: str) -> list[OutboxItem]:
    made = []
    for tag in tags:
        item = OutboxItem(id=new_event_id(T0), kind="event", body={"tag": tag})
        TAGS[item.id] = tag
        made.append(item)
    return made


States = list[tuple[LinkState, LinkState]]


def _kit(**kw: object) -> tuple[MemoryOutbox, FakeLink, EdgeSyncer, States]:
    """A fresh outbox, link and syncer with a tiny backoff, and the state changes seen."""
    outbox, link = MemoryOutbox(), FakeLink()
    states: States = []
    policy = BackoffPolicy(initial=0.001, max_delay=0.005, jitter=Jitter.NONE)
    kw.setdefault("clock", FakeClock())
    syncer = EdgeSyncer(
        outbox,
        link,
        "node-1",
        backoff=Backoff(policy),
        on_state=lambda old, new: states.append((old, new)),
        **kw,  # type: ignore[arg-type]
    )
    return outbox, link, syncer, states


async def test_batches_go_oldest_first_and_only_acknowledged_items_leave() -> None:
    outbox, link, syncer, states = _kit(batch_items=2)
    outbox.append(_items("a", "b", "c", "d", "e"), at=T0)
    assert isinstance(link, EdgeLink)
    while (await syncer.send_batch()).sent:
        pass
    assert link.tags == ["a", "b", "c", "d", "e"]
    assert [len(b.items) for b in link.batches] == [2, 2, 1]
    assert all(b.node_id == "node-1" for b in link.batches)
    assert outbox.stats(T0).items == 0
    assert (syncer.state, states, syncer.sent_items) == ("online", [], 5)


async def test_outage_buffers_then_syncs_the_backlog_then_goes_online() -> None:
    outbox, link, syncer, states = _kit(batch_items=2)
    outbox.append(_items("a", "b", "c"), at=T0)
    link.down = LinkDown("connection refused")
    with pytest.raises(LinkDown):
        await syncer.send_batch()
    assert (syncer.state, syncer.last_error, syncer.unauthorized) == (
        "buffering",
        "connection refused",
        False,
    )
    assert outbox.stats(T0).items == 3  # nothing leaves without an acknowledgement
    link.down = None
    await syncer.send_batch()
    assert (syncer.state, syncer.last_error) == ("syncing", None)
    await syncer.send_batch()
    assert syncer.state == "online"
    assert states == [("online", "buffering"), ("buffering", "syncing"), ("syncing", "online")]
    assert link.tags == ["a", "b", "c"]


async def test_empty_outbox_while_buffering_proves_nothing() -> None:
    outbox, link, syncer, _ = _kit()
    outbox.append(_items("a"), at=T0)
    link.down = LinkDown("timeout")
    with pytest.raises(LinkDown):
        await syncer.send_batch()
    outbox.remove([s.seq for s in outbox.peek(10, 1 << 20)])
    assert not (await syncer.send_batch()).sent
    assert syncer.state == "buffering"


async def test_a_revoked_key_keeps_buffering_and_says_so_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    outbox, link, syncer, _ = _kit()
    outbox.append(_items("a", "b"), at=T0)
    link.down = LinkUnauthorized("HTTP 401 invalid API key", 401)
    with caplog.at_level(logging.INFO):
        for _ in range(3):
            with pytest.raises(LinkUnauthorized):
                await syncer.send_batch()
        assert (syncer.state, syncer.unauthorized) == ("buffering", True)
        assert outbox.stats(T0).items == 2
        errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
        assert len(errors) == 1
        assert "key" in errors[0].getMessage()
        link.down = None
        await syncer.send_batch()
    assert (syncer.state, syncer.unauthorized) == ("online", False)
    assert link.tags == ["a", "b"]


async def test_rejected_items_are_quarantined_with_the_reason() -> None:
    outbox, link, syncer, _ = _kit()
    items = _items("a", "b", "c")
    link.reject[items[1].id] = "camera cam-9 is not assigned to node-1"
    outbox.append(items, at=T0)
    result = await syncer.send_batch()
    assert (result.acknowledged, result.quarantined, result.left) == (2, 1, 0)
    assert link.tags == ["a", "c"]
    stats = outbox.stats(T0)
    assert (stats.items, stats.quarantined) == (0, 1)
    assert outbox.quarantined() == [
        Quarantined(items[1].id, "event", "camera cam-9 is not assigned to node-1")
    ]


@pytest.mark.parametrize(
    "shape",
    [
        pytest.param(lambda r: list(reversed(r)), id="reordered"),
        pytest.param(lambda r: [*r, *r], id="doubled"),
        pytest.param(lambda r: [*r, ItemResult(new_event_id(T0), "stored")], id="unknown-id"),
    ],
)
async def test_odd_replies_are_matched_by_id(
    shape: Callable[[list[ItemResult]], list[ItemResult]],
) -> None:
    outbox, link, syncer, _ = _kit()
    link.shape = shape
    outbox.append(_items("a", "b", "c"), at=T0)
    result = await syncer.send_batch()
    assert (result.acknowledged, result.left) == (3, 0)
    assert outbox.stats(T0).items == 0


async def test_items_a_reply_leaves_out_stay_for_the_next_batch() -> None:
    outbox, link, syncer, _ = _kit()
    link.shape = lambda r: r[:1]
    outbox.append(_items("a", "b"), at=T0)
    result = await syncer.send_batch()
    assert (result.acknowledged, result.left) == (1, 1)
    link.shape = lambda r: r
    await syncer.send_batch()
    assert link.tags == ["a", "b"]  # b was stored the first time; the resend is a duplicate
    assert outbox.stats(T0).items == 0


async def test_a_replayed_item_is_acknowledged_as_a_duplicate() -> None:
    outbox, link, syncer, _ = _kit()
    item = _items("a")
    outbox.append(item, at=T0)
    await syncer.send_batch()
    outbox.append(item, at=T0)  # a producer retried after a crash
    result = await syncer.send_batch()
    assert result.acknowledged == 1
    assert link.stored == [item[0].id]
    assert outbox.stats(T0).items == 0


async def test_an_unreadable_batch_is_split_until_the_bad_item_is_quarantined() -> None:
    outbox, link, syncer, _ = _kit(batch_items=8)
    items = _items("a", "b", "c", "d", "e", *(f"n{n}" for n in range(40)))
    link.unreadable.add(items[3].id)
    outbox.append(items, at=T0)
    for _ in range(40):
        if not (await syncer.send_batch()).sent:
            break
    assert outbox.stats(T0).items == 0
    # Once past the bad item, batches grow back to full size.
    sizes = [len(b.items) for b in link.batches]
    assert sizes[:3] == [8, 4, 2]  # halved until the bad item is found
    assert sizes[-4:-1] == [8, 8, 8]  # and back to full batches after it
    assert link.tags[:4] == ["a", "b", "c", "e"]
    assert outbox.stats(T0).quarantined == 1
    assert outbox.quarantined()[0].id == items[3].id
    assert syncer.state == "online"


async def test_clock_offset_is_taken_against_the_midpoint_of_the_request() -> None:
    # Every read of the node clock moves it 2 s: the request takes 2 s of node time.
    outbox, link, syncer, _ = _kit(clock=FakeClock(step=2.0))
    link.offset = timedelta(seconds=13)  # server_time = sent_at + 13 s
    outbox.append(_items("a"), at=T0)
    assert syncer.clock_offset_s is None
    await syncer.send_batch()
    assert syncer.clock_offset_s == pytest.approx(12.0)


async def _until(check: Callable[[], bool]) -> None:
    deadline = asyncio.get_running_loop().time() + WAIT
    while not check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("the condition did not hold in time")
        await asyncio.sleep(0.005)


async def test_the_loop_sends_on_wake_from_another_thread_and_rides_out_an_outage() -> None:
    outbox, link, syncer, states = _kit(idle_s=60.0, linger_s=0.0)
    syncer.start()
    try:
        started = syncer.running
        assert started
        await asyncio.sleep(0)  # the loop finds nothing and waits for a wake
        first = _items("a")

        def produce() -> None:
            outbox.append(first, at=T0)
            syncer.wake()

        thread = threading.Thread(target=produce)
        thread.start()
        thread.join()
        await _until(lambda: link.tags == ["a"])

        link.down = LinkDown("connection refused")
        outbox.append(_items("b", "c"), at=T0)
        syncer.wake()
        await _until(lambda: syncer.state == "buffering" and len(link.batches) > 3)
        assert outbox.stats(T0).items == 2
        link.down = None
        await _until(lambda: syncer.state == "online" and outbox.stats(T0).items == 0)
        assert link.tags == ["a", "b", "c"]
    finally:
        await syncer.stop()
    assert not syncer.running
    assert ("online", "buffering") in states

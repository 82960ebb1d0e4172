"""``EdgeSyncer``: drains the node's durable outbox to the control plane, oldest first.

One background loop peeks a batch (oldest first, bounded by items and bytes),
sends it, and then, item by item according to the reply: removes what the
server ``stored`` or already had (``duplicate``), quarantines what it
``rejected`` (with the reason, so one bad item never blocks the outbox), and
leaves anything the reply does not mention for the next batch. Results are
matched by item id, so a reply in another order, with an item twice or with
ids it was never sent is handled safely; only acknowledged items ever leave.

The link state follows the reference design::

    online ──send fails──▶ buffering ──send succeeds, backlog left──▶ syncing
      ▲                       │  ▲                                       │
      └──send succeeds, empty─┘  └────────────send fails─────────────────┤
      ▲                                                                  │
      └──────────────────────backlog drained────────────────────────────┘

While buffering the loop retries after an exponential backoff (or the
server's ``Retry-After``), however many items are appended meanwhile; a
revoked key (``LinkUnauthorized``) keeps it buffering too, nothing is lost,
``unauthorized`` says so and it is logged once per change. While online an
append calls ``wake()`` (from any thread) and the batch leaves at once; a
periodic look every ``idle_s`` catches anything appended without a wake.

A whole batch refused as unreadable (an HTTP 4xx other than 401/403/429, a
``ValidationError`` from the link) is split in halves until the item at fault
is alone, and that item is quarantined with the server's message; the batch
size then doubles back with every batch the server reads.

The clock offset (server minus node) is estimated from each reply's
``server_time`` against the midpoint of the request, NTP style.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from argus.domain.backoff import Backoff, BackoffPolicy
from argus.domain.edge import MAX_BATCH_ITEMS, SyncBatch, SyncReply
from argus.domain.errors import ValidationError
from argus.ports.edge_link import EdgeLink, LinkDown, LinkUnauthorized
from argus.ports.edge_outbox import EdgeOutbox, StoredItem
from argus.services.background import TaskGroup

__all__ = ["MAX_RETRY_AFTER_S", "EdgeSyncer", "LinkState", "SendResult"]

log = logging.getLogger(__name__)

LinkState = Literal["online", "buffering", "syncing"]
"""The node's own view of its link (``NodeState`` less the server-only ``offline``)."""


MAX_RETRY_AFTER_S = 300.0
"""Longest a server's ``Retry-After`` may hold the node back, in seconds."""


def _now() -> datetime:
    return datetime.now(UTC)


def _ignore_state(_old: LinkState, _new: LinkState) -> None:
    return None


@dataclass(frozen=True, slots=True)
class SendResult:
    """What one batch did.

    Attributes:
        acknowledged: Items the server stored or already had (removed from the outbox).
        quarantined: Items the server rejected (moved aside).
        left: Items still pending (not mentioned in the reply, or a batch being split).
        split: The server refused the whole batch; the next one is half as large.
    """

    acknowledged: int = 0
    quarantined: int = 0
    left: int = 0
    split: bool = False

    @property
    def sent(self) -> int:
        """Items in the batch."""
        return self.acknowledged + self.quarantined + self.left


class EdgeSyncer:
    """Sends the outbox to the control plane in the background (see the module docstring).

    Args:
        outbox: The node's durable outbox.
        link: The link to the control plane.
        node_id: This node's id (stamped on every batch).
        batch_items: Most items per batch (capped at ``MAX_BATCH_ITEMS``).
        batch_bytes: Most item bytes per batch (one larger item still goes alone).
        clock: The node's wall clock (aware UTC).
        backoff: Delays between attempts while buffering.
        on_state: Called with ``(old, new)`` on every state change.
        idle_s: How often to look at the outbox while online with nothing to send.
        linger_s: How long to wait after a wake for more items to join the batch.
    """

    def __init__(
        self,
        outbox: EdgeOutbox,
        link: EdgeLink,
        node_id: str,
        *,
        batch_items: int = 200,
        batch_bytes: int = 4 << 20,
        clock: Callable[[], datetime] = _now,
        backoff: Backoff | None = None,
        on_state: Callable[[LinkState, LinkState], None] = _ignore_state,
        idle_s: float = 5.0,
        linger_s: float = 0.05,
    ) -> None:
        self._outbox = outbox
        self._link = link
        self.node_id = node_id
        self._batch_items = max(1, min(MAX_BATCH_ITEMS, batch_items))
        self._batch_bytes = max(1, batch_bytes)
        self._clock = clock
        self._backoff = backoff or Backoff(BackoffPolicy(initial=1.0, max_delay=30.0))
        self._on_state = on_state
        self._idle_s = idle_s
        self._linger_s = linger_s
        self._limit = self._batch_items  # lowered while bisecting an unreadable batch
        self._tasks = TaskGroup()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self._retry: asyncio.Event | None = None
        self.state: LinkState = "online"
        """The link state (see the module docstring)."""
        self.last_error: str | None = None
        """Why the last attempt failed; ``None`` once one succeeds."""
        self.unauthorized = False
        """Whether the server refuses the node's key or node id (401/403) right now."""
        self.clock_offset_s: float | None = None
        """Server clock minus node clock, seconds (``None`` before the first reply)."""
        self.sent_items = 0
        """Items acknowledged by the server since start (stored or duplicate)."""

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        """Start the loop on the running event loop (once)."""
        if self._tasks.started:
            return
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        self._retry = asyncio.Event()
        self._tasks.start(("argus-edge-sync", self._run))

    async def stop(self) -> None:
        """Stop the loop (a batch in flight is abandoned; its items stay in the outbox)."""
        await self._tasks.stop()

    @property
    def running(self) -> bool:
        """Whether the loop runs."""
        return self._tasks.started and not self._tasks.finished

    def wake(self) -> None:
        """Send soon (items were appended); safe from any thread; no effect while buffering."""
        loop, event = self._loop, self._wake
        if loop is not None and event is not None and not loop.is_closed():
            loop.call_soon_threadsafe(event.set)

    def retry_now(self) -> None:
        """Cut a backoff short (the link is known to be back); safe from any thread."""
        loop = self._loop
        if loop is not None and not loop.is_closed():
            for event in (self._wake, self._retry):
                if event is not None:
                    loop.call_soon_threadsafe(event.set)

    # -- the loop ----------------------------------------------------------------------------

    async def _run(self) -> None:
        while True:
            try:
                result = await self.send_batch()
            except (LinkDown, LinkUnauthorized) as exc:
                delay = self._backoff.next_delay()
                if isinstance(exc, LinkDown) and exc.retry_after is not None:
                    delay = min(max(delay, exc.retry_after), MAX_RETRY_AFTER_S)
                await self._pause(self._retry, delay)
                continue
            except Exception:  # the top of a task loop: log it, back off, keep going
                log.exception("edge sync failed unexpectedly")
                self.last_error = "internal error (see the log)"
                await self._pause(self._retry, self._backoff.next_delay())
                continue
            if result.sent == 0:
                await self._pause(self._wake, self._idle_s)
                if self._linger_s > 0:
                    await asyncio.sleep(self._linger_s)
            elif result.acknowledged + result.quarantined == 0 and not result.split:
                # The server answered but took nothing: do not spin on the same batch.
                await self._pause(self._retry, self._backoff.next_delay())

    @staticmethod
    async def _pause(event: asyncio.Event | None, seconds: float) -> None:
        if event is None:
            await asyncio.sleep(seconds)
            return
        # Cleared after waiting, not before: a wake that came during a send is kept.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), timeout=max(0.0, seconds))
        event.clear()

    # -- one batch ---------------------------------------------------------------------------

    async def send_batch(self) -> SendResult:
        """Send the oldest pending items once and apply the reply.

        Returns:
            What happened to the items (all zero when the outbox was empty).

        Raises:
            LinkDown: The server could not be reached (the state is now ``buffering``).
            LinkUnauthorized: The key or node id was refused (``buffering`` too).
        """
        stored = await asyncio.to_thread(self._outbox.peek, self._limit, self._batch_bytes)
        if not stored:
            self._limit = self._batch_items
            if self.state == "syncing":  # drained; while buffering, nothing proves the link
                self._set_state("online")
            return SendResult()
        started = self._clock()
        batch = SyncBatch(
            node_id=self.node_id, sent_at=started, items=tuple(s.item for s in stored)
        )
        try:
            reply = await self._link.sync(batch)
        except (LinkDown, LinkUnauthorized) as exc:
            self._failed(exc)
            raise
        except ValidationError as exc:
            return await self._unreadable(stored, str(exc))
        self.observe_clock(started, self._clock(), reply.server_time)
        result = await self._apply(stored, reply)
        # After a split, grow back (doubling) once batches are read again.
        self._limit = min(self._batch_items, self._limit * 2)
        backlog = (await asyncio.to_thread(self._outbox.stats, self._clock())).items > 0
        self._succeeded(backlog=backlog)
        return result

    async def _apply(self, stored: Sequence[StoredItem], reply: SyncReply) -> SendResult:
        results: dict[str, tuple[str, str | None]] = {}
        for result in reply.results:
            results.setdefault(result.id, (result.status, result.reason))
        done: list[int] = []
        rejected: list[tuple[int, str]] = []
        left = 0
        for item in stored:
            status, reason = results.get(item.item.id, (None, None))
            if status in ("stored", "duplicate"):
                done.append(item.seq)
            elif status == "rejected":
                rejected.append((item.seq, reason or "rejected by the server"))
            else:
                left += 1
        await asyncio.to_thread(self._settle, done, rejected)
        if rejected:
            log.warning(
                "edge sync: the server rejected %d item(s), now quarantined; the first: %s",
                len(rejected),
                rejected[0][1],
            )
        if left:
            log.warning("edge sync: the reply did not mention %d item(s); they stay", left)
        self.sent_items += len(done)
        return SendResult(len(done), len(rejected), left)

    def _settle(self, done: Sequence[int], rejected: Sequence[tuple[int, str]]) -> None:
        """Remove the acknowledged items and quarantine the rejected ones (in a worker thread)."""
        if done:
            self._outbox.remove(done)
        for seq, reason in rejected:
            self._outbox.quarantine(seq, reason)

    async def _unreadable(self, stored: Sequence[StoredItem], message: str) -> SendResult:
        """The server refused the whole batch: halve it, or quarantine the one item at fault."""
        if len(stored) > 1:
            self._limit = max(1, len(stored) // 2)
            log.warning(
                "edge sync: the server refused a batch of %d (%s); retrying with %d",
                len(stored),
                message,
                self._limit,
            )
            return SendResult(left=len(stored), split=True)
        await asyncio.to_thread(self._outbox.quarantine, stored[0].seq, message)
        log.warning("edge sync: the server refused outbox item %d: %s", stored[0].seq, message)
        return SendResult(quarantined=1)

    # -- state -------------------------------------------------------------------------------

    def observe_clock(self, started: datetime, finished: datetime, server_time: datetime) -> None:
        """Estimate the clock offset from one exchange (any reply carrying ``server_time``).

        Args:
            started: Node clock when the request was sent.
            finished: Node clock when the reply arrived.
            server_time: The server's clock in the reply.
        """
        midpoint = started + (finished - started) / 2
        self.clock_offset_s = (server_time - midpoint).total_seconds()

    def _set_state(self, new: LinkState) -> None:
        old, self.state = self.state, new
        if old != new:
            log.info("edge link %s -> %s", old, new)
            self._on_state(old, new)

    def _failed(self, exc: LinkDown | LinkUnauthorized) -> None:
        self.last_error = str(exc)
        unauthorized = isinstance(exc, LinkUnauthorized)
        if unauthorized and not self.unauthorized:
            log.error(
                "edge sync: the control plane refuses this node's key (%s); buffering until "
                "an operator issues a new key or rebinds the node id",
                exc,
            )
        elif not unauthorized and self.state != "buffering":
            log.warning("edge sync: control plane unreachable, buffering: %s", exc)
        self.unauthorized = unauthorized
        self._set_state("buffering")

    def _succeeded(self, *, backlog: bool) -> None:
        if self.unauthorized:
            log.warning("edge sync: the control plane accepts this node's key again")
        self.unauthorized = False
        self.last_error = None
        self._backoff.reset()
        if not backlog:
            self._set_state("online")
        elif self.state != "online":
            self._set_state("syncing")

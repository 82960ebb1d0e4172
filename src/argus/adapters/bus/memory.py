"""In-process event bus on asyncio: the embedded default, and the fake for tests.

It keeps the same contract as the broker adapters within one process: a log
per subject (bounded), durable consumers whose position
and unacknowledged deliveries live on the bus object (so a consumer that is
closed and opened again resumes), redelivery after ``ack_wait``, and fan-out
queues. Messages go through the same JSON codec as on a broker, so a payload
that would not survive NATS or Redis does not survive here either.

The log is bounded, and its oldest message is dropped to make room only once
every durable consumer of the subject has acknowledged it. While a consumer
still needs it (its store is down, so it holds its deliveries unacknowledged)
``publish`` refuses with ``BusError`` instead: the producer keeps the event and
retries (the edge outbox does), so nothing the bus acknowledged is lost while
the process runs. Subjects without durable consumers (fan-out only) drop the
oldest as before.

With a ``journal`` (``argus serve`` keeps one at ``data_dir/bus.db``) the
messages of subjects with durable consumers, and the consumers' positions,
are also written to a SQLite file (``argus.adapters.bus.journal``), so what a
consumer had not acknowledged when the process died is delivered again after
a restart.

Everything runs on one event loop; no locks are needed because no state is
touched across an ``await``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

from argus.adapters.bus._base import BusState, SubscriptionBase, decode_envelope, encode_envelope
from argus.adapters.bus.journal import Journal
from argus.domain.errors import BusError
from argus.domain.events import Envelope
from argus.ports.bus import Delivery, validate_name, validate_subject

__all__ = ["MemoryEventBus"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class _Entry:
    seq: int
    data: bytes


@dataclass(slots=True)
class _Pending:
    deadline: float
    deliveries: int


@dataclass(slots=True)
class _Group:
    """Position and unacknowledged deliveries of one durable consumer."""

    next_seq: int = 0
    pending: dict[int, _Pending] = field(default_factory=dict)
    dirty: bool = False
    """Acknowledged since its position was last saved in the journal."""
    live: bool = False
    """Subscribed in this process (a group only restored from the journal may be stale)."""

    @property
    def low(self) -> int:
        """The lowest message it has not acknowledged (or not yet received)."""
        return min(self.pending, default=self.next_seq)


class _Log:
    """The retained messages of one subject, numbered from 0."""

    def __init__(self, max_len: int) -> None:
        self.entries: deque[_Entry] = deque(maxlen=max_len)
        self.next_seq = 0
        self.groups: dict[str, _Group] = {}
        self.fan_outs: set[_FanOutSubscription] = set()

    def make_room(self, subject: str) -> None:
        """Raise ``BusError`` if appending would drop a message a consumer still needs."""
        full = len(self.entries) == self.entries.maxlen
        if full and self.still_needed(self.entries[0].seq):
            raise BusError(
                f"the event bus holds {len(self.entries)} messages on {subject} that a "
                "consumer has not acknowledged yet; retry later"
            )

    def append(self, data: bytes) -> None:
        self.entries.append(_Entry(self.next_seq, data))
        self.next_seq += 1

    def still_needed(self, seq: int) -> bool:
        """Whether a durable consumer has yet to read or acknowledge message ``seq``.

        Only consumers subscribed in this process count: a name restored from
        the journal that nobody uses any more must not block publishing.
        """
        return any(g.live and (g.next_seq <= seq or seq in g.pending) for g in self.groups.values())

    def get(self, seq: int) -> _Entry | None:
        if not self.entries:
            return None
        index = seq - self.entries[0].seq
        return self.entries[index] if 0 <= index < len(self.entries) else None


@dataclass(frozen=True, slots=True)
class _MemoryDelivery:
    subject: str
    envelope: Envelope
    redelivered: bool
    _group: _Group | None
    _seq: int

    async def ack(self) -> None:
        if self._group is not None:
            self._group.pending.pop(self._seq, None)
            self._group.dirty = True


class _Signal:
    """A broadcast wake-up: waiters take the current event, ``pulse`` sets and replaces it."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def current(self) -> asyncio.Event:
        return self._event

    def pulse(self) -> None:
        self._event.set()
        self._event = asyncio.Event()


class _DurableSubscription(SubscriptionBase):
    def __init__(self, bus: MemoryEventBus, subject: str, log_: _Log, group: _Group) -> None:
        super().__init__()
        self._bus = bus
        self._subject = subject
        self._log = log_
        self._group = group

    async def __anext__(self) -> Delivery:
        while True:
            if self.is_closed():
                raise StopAsyncIteration
            wake = self._bus.signal.current()
            delivery = self._next_ready(time.monotonic())
            if delivery is not None:
                return delivery
            deadlines = [p.deadline for p in self._group.pending.values()]
            timeout = max(0.0, min(deadlines) - time.monotonic()) if deadlines else None
            # asyncio.timeout, not wait_for: on Python 3.11, wait_for can turn a
            # cancellation that coincides with its timeout into TimeoutError, which
            # would be suppressed here and leave a cancelled reader waiting forever.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):
                    await wake.wait()

    def _next_ready(self, now: float) -> Delivery | None:
        group, ack_wait = self._group, self._bus.ack_wait
        for seq in sorted(s for s, p in group.pending.items() if p.deadline <= now):
            entry = self._log.get(seq)
            if entry is None:  # trimmed away by retention while unacknowledged
                del group.pending[seq]
                continue
            pending = group.pending[seq]
            pending.deadline = now + ack_wait
            pending.deliveries += 1
            delivery = self._delivery(entry, redelivered=True)
            if delivery is not None:
                return delivery
        while group.next_seq < self._log.next_seq:
            seq = group.next_seq
            group.next_seq += 1
            entry = self._log.get(seq)
            if entry is not None:
                group.pending[seq] = _Pending(now + ack_wait, 1)
                delivery = self._delivery(entry, redelivered=False)
                if delivery is not None:
                    return delivery
        return None

    def _delivery(self, entry: _Entry, *, redelivered: bool) -> Delivery | None:
        try:
            envelope = decode_envelope(entry.data)
        except BusError:
            # A poison message can never be handled; drop it rather than redeliver forever.
            log.exception("dropping malformed message %d on %s", entry.seq, self._subject)
            self._group.pending.pop(entry.seq, None)
            return None
        return _MemoryDelivery(self._subject, envelope, redelivered, self._group, entry.seq)

    async def _release(self) -> None:
        self._bus.forget(self)


class _FanOutSubscription(SubscriptionBase):
    def __init__(self, bus: MemoryEventBus, subject: str, log_: _Log, buffer: int) -> None:
        super().__init__()
        self._bus = bus
        self._subject = subject
        self._log = log_
        self._queue: deque[bytes] = deque(maxlen=buffer)
        self.dropped = 0
        """Messages dropped because this subscriber fell more than ``buffer`` behind."""

    def offer(self, data: bytes) -> None:
        if len(self._queue) == self._queue.maxlen:
            self.dropped += 1
        self._queue.append(data)

    async def __anext__(self) -> Delivery:
        while True:
            if self.is_closed():
                raise StopAsyncIteration
            wake = self._bus.signal.current()
            if self._queue:
                try:
                    envelope = decode_envelope(self._queue.popleft())
                except BusError:
                    log.exception("skipping a malformed message on %s", self._subject)
                    continue
                return _MemoryDelivery(self._subject, envelope, False, None, -1)
            await wake.wait()

    async def _release(self) -> None:
        self._log.fan_outs.discard(self)
        self._bus.forget(self)


class MemoryEventBus:
    """The in-process ``EventBus``.

    Args:
        ack_wait: Seconds before an unacknowledged delivery is handed out again.
        max_len: Messages kept per subject. The oldest is dropped to make room once
            every durable consumer acknowledged it; until then ``publish`` raises
            ``BusError`` (backpressure: the producer keeps the event).
        fan_out_buffer: Messages queued per fan-out subscriber before the oldest
            are dropped (a slow WebSocket client must not grow memory forever).
        journal: A SQLite file keeping unacknowledged messages across a crash
            (see the module docstring); ``None`` keeps everything in memory only.

    Raises:
        BusError: Bad sizes, or the journal cannot be opened (or another
            process owns it).
    """

    def __init__(
        self,
        *,
        ack_wait: float = 30.0,
        max_len: int = 100_000,
        fan_out_buffer: int = 1_000,
        journal: Path | None = None,
    ) -> None:
        if ack_wait <= 0 or max_len < 1 or fan_out_buffer < 1:
            raise BusError("ack_wait, max_len and fan_out_buffer must be positive")
        self.ack_wait = ack_wait
        self._max_len = max_len
        self._fan_out_buffer = fan_out_buffer
        self._logs: dict[str, _Log] = {}
        self._subscriptions: set[SubscriptionBase] = set()
        self._state = BusState.OPEN
        self.signal = _Signal()
        self._journal = Journal(journal) if journal is not None else None
        self._saved_at = time.monotonic()
        if self._journal is not None:
            try:
                self._restore(self._journal)
            except BaseException:
                self._journal.close()
                raise

    def _restore(self, journal: Journal) -> None:
        """Start from what the journal kept: messages, and each consumer at its position."""
        contents = journal.load()
        for subject, rows in contents.messages.items():
            log_ = self._logs.setdefault(subject, _Log(self._max_len))
            for seq, data in rows:
                log_.entries.append(_Entry(seq, data))
                log_.next_seq = seq + 1
        for subject, positions in contents.positions.items():
            log_ = self._logs.setdefault(subject, _Log(self._max_len))
            for name, low in positions.items():
                log_.groups[name] = _Group(next_seq=low)
                log_.next_seq = max(log_.next_seq, low)
        restored = sum(len(rows) for rows in contents.messages.values())
        if restored:
            log.info("the bus journal %s gave back %d message(s)", journal.path, restored)

    SAVE_INTERVAL = 0.5
    """Seconds between saves of consumer positions (they may lag; consumers are idempotent)."""

    def _save_positions(self, *, force: bool = False) -> None:
        journal = self._journal
        if journal is None:
            return
        now = time.monotonic()
        if not force and now - self._saved_at < self.SAVE_INTERVAL:
            return
        self._saved_at = now
        for subject, log_ in self._logs.items():
            groups = log_.groups
            if not groups or not (force or any(g.dirty for g in groups.values())):
                continue
            positions = [(name, group.low) for name, group in groups.items()]
            # Nothing older than the log holds in memory is kept on disk either, so a
            # stale consumer name cannot grow the journal past ``max_len`` messages.
            oldest = log_.entries[0].seq if log_.entries else log_.next_seq
            journal.save(subject, positions, max(oldest, min(low for _, low in positions)))
            for group in groups.values():
                group.dirty = False

    def _log_for(self, subject: str) -> _Log:
        if self._state is BusState.CLOSED:
            raise BusError("the event bus is closed")
        validate_subject(subject)
        log_ = self._logs.get(subject)
        if log_ is None:
            log_ = self._logs[subject] = _Log(self._max_len)
        return log_

    async def publish(self, subject: str, envelope: Envelope) -> None:
        """Append to the subject's log and wake its consumers (see ``EventBus``).

        Raises:
            BusError: The bus is closed, or the log is full of messages a durable
                consumer has not acknowledged (backpressure; retry later).
        """
        log_ = self._log_for(subject)
        data = encode_envelope(envelope)
        log_.make_room(subject)
        if self._journal is not None and log_.groups:
            # Written before it counts as published: a crash from here on keeps it.
            self._journal.append(subject, log_.next_seq, data)
        log_.append(data)
        self._save_positions()
        for subscription in log_.fan_outs:
            subscription.offer(data)
        self.signal.pulse()

    async def subscribe(self, subject: str, *, durable: str) -> _DurableSubscription:
        """Open or resume the durable consumer ``durable`` (see ``EventBus``)."""
        log_ = self._log_for(subject)
        name = validate_name(durable)
        group = log_.groups.get(name)
        if group is None:
            group = log_.groups[name] = _Group()
            self._save_positions(force=True)  # the journal keeps this subject from now on
        group.live = True
        subscription = _DurableSubscription(self, subject, log_, group)
        self._subscriptions.add(subscription)
        return subscription

    async def fan_out(self, subject: str) -> _FanOutSubscription:
        """Open a live subscription (see ``EventBus``)."""
        log_ = self._log_for(subject)
        subscription = _FanOutSubscription(self, subject, log_, self._fan_out_buffer)
        log_.fan_outs.add(subscription)
        self._subscriptions.add(subscription)
        return subscription

    def forget(self, subscription: SubscriptionBase) -> None:
        """Drop a closed subscription and wake its waiting reader."""
        self._subscriptions.discard(subscription)
        self.signal.pulse()

    async def close(self) -> None:
        """Close every subscription (and the journal); publishing afterwards raises ``BusError``."""
        if self._state is BusState.CLOSED:
            return
        self._state = BusState.CLOSED
        subscriptions, self._subscriptions = self._subscriptions, set()
        for subscription in subscriptions:
            await subscription.close()
        self.signal.pulse()
        if self._journal is not None:
            self._save_positions(force=True)
            self._journal.close()
            self._journal = None

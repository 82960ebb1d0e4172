"""In-process event bus on asyncio: the embedded default, and the fake for tests.

It keeps the same contract as the broker adapters within one process: a log
per subject (bounded, oldest dropped first), durable consumers whose position
and unacknowledged deliveries live on the bus object (so a consumer that is
closed and opened again resumes), redelivery after ``ack_wait``, and fan-out
queues. Messages go through the same JSON codec as on a broker, so a payload
that would not survive NATS or Redis does not survive here either.

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

from argus.adapters.bus._base import BusState, SubscriptionBase, decode_envelope, encode_envelope
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


class _Log:
    """The retained messages of one subject, numbered from 0."""

    def __init__(self, max_len: int) -> None:
        self.entries: deque[_Entry] = deque(maxlen=max_len)
        self.next_seq = 0
        self.groups: dict[str, _Group] = {}
        self.fan_outs: set[_FanOutSubscription] = set()

    def append(self, data: bytes) -> None:
        self.entries.append(_Entry(self.next_seq, data))
        self.next_seq += 1

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
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), timeout)

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
        max_len: Messages kept per subject; the oldest are dropped first.
        fan_out_buffer: Messages queued per fan-out subscriber before the oldest
            are dropped (a slow WebSocket client must not grow memory forever).
    """

    def __init__(
        self, *, ack_wait: float = 30.0, max_len: int = 100_000, fan_out_buffer: int = 1_000
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

    def _log_for(self, subject: str) -> _Log:
        if self._state is BusState.CLOSED:
            raise BusError("the event bus is closed")
        validate_subject(subject)
        log_ = self._logs.get(subject)
        if log_ is None:
            log_ = self._logs[subject] = _Log(self._max_len)
        return log_

    async def publish(self, subject: str, envelope: Envelope) -> None:
        """Append to the subject's log and wake its consumers (see ``EventBus``)."""
        log_ = self._log_for(subject)
        data = encode_envelope(envelope)
        log_.append(data)
        for subscription in log_.fan_outs:
            subscription.offer(data)
        self.signal.pulse()

    async def subscribe(self, subject: str, *, durable: str) -> _DurableSubscription:
        """Open or resume the durable consumer ``durable`` (see ``EventBus``)."""
        log_ = self._log_for(subject)
        group = log_.groups.setdefault(validate_name(durable), _Group())
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
        """Close every subscription; publishing afterwards raises ``BusError``."""
        self._state = BusState.CLOSED
        subscriptions, self._subscriptions = self._subscriptions, set()
        for subscription in subscriptions:
            await subscription.close()
        self.signal.pulse()

"""Event bus on Redis Streams (``redis`` asyncio client).

Layout on the server: a bus subject ``events.counts`` is the stream key
``argus:events.counts`` (``prefix:subject``); each entry has one field ``e``,
the JSON envelope. Streams are capped near ``max_len`` entries.

* ``publish`` is ``XADD``; it returns once Redis has appended the entry.
* ``subscribe`` is a consumer group named after the durable name (created at
  ``0``, so a new group reads the whole retained stream). Each subscription is
  one consumer of the group with a unique name, reading new entries with
  ``XREADGROUP`` and taking over entries that stayed unacknowledged longer
  than ``ack_wait`` (its own or a crashed consumer's) with ``XAUTOCLAIM``.
  Entries read but not handed out are made claimable at once on close.
* ``fan_out`` reads the stream with plain ``XREAD`` from the entry that was
  last when it opened: every subscriber sees every later entry, no group.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections import deque
from collections.abc import Awaitable
from typing import Any, Self, cast

import redis.asyncio as redis_asyncio
import redis.exceptions
from redis.typing import StreamIdT

from argus.adapters.bus._base import BusState, SubscriptionBase, decode_envelope, encode_envelope
from argus.domain.errors import BusError
from argus.domain.events import Envelope
from argus.ports.bus import Delivery, validate_name, validate_subject

__all__ = ["RedisStreamsEventBus"]

log = logging.getLogger(__name__)

_REDIS_ERRORS = (redis.exceptions.RedisError, OSError, asyncio.TimeoutError)
_FIELD = b"e"

_Entry = tuple[bytes, dict[bytes, bytes] | None]
"""A stream entry as redis-py returns it: id and fields (``None`` once trimmed away)."""


class _RedisDelivery:
    def __init__(
        self,
        subject: str,
        envelope: Envelope,
        *,
        redelivered: bool,
        ack: tuple[redis_asyncio.Redis, bytes, str, bytes] | None,
    ) -> None:
        self.subject = subject
        self.envelope = envelope
        self.redelivered = redelivered
        self._ack = ack

    async def ack(self) -> None:
        if self._ack is None:
            return
        client, key, group, entry_id = self._ack
        try:
            await client.xack(key, group, entry_id)
        except _REDIS_ERRORS as exc:
            raise BusError(f"cannot acknowledge {self.envelope.event_id}: {exc}") from exc
        self._ack = None


class _GroupSubscription(SubscriptionBase):
    def __init__(self, bus: RedisStreamsEventBus, subject: str, key: bytes, group: str) -> None:
        super().__init__()
        self._bus = bus
        self._client = bus.client
        self._subject = subject
        self._key = key
        self._group = group
        self._consumer = f"{group}-{uuid.uuid4().hex[:12]}"
        self._buffer: deque[tuple[_Entry, bool]] = deque()
        self._claim_cursor: bytes | str = "0-0"
        self._next_claim = 0.0

    async def __anext__(self) -> Delivery:
        while True:
            if self.is_closed():
                raise StopAsyncIteration
            if self._buffer:
                (entry_id, fields), redelivered = self._buffer.popleft()
                delivery = await self._delivery(entry_id, fields, redelivered=redelivered)
                if delivery is not None:
                    return delivery
                continue
            try:
                await self._fill()
            except _REDIS_ERRORS as exc:
                if self.is_closed():
                    raise StopAsyncIteration from None
                raise BusError(f"reading {self._subject} failed: {exc}") from exc

    async def _fill(self) -> None:
        """Claim stale entries when due, else block for new ones (up to ``poll_interval``)."""
        bus = self._bus
        if time.monotonic() >= self._next_claim:
            cursor, claimed, *_ = await self._client.xautoclaim(
                self._key,
                self._group,
                self._consumer,
                min_idle_time=bus.ack_wait_ms,
                start_id=self._claim_cursor,
                count=bus.batch,
            )
            if cursor in (b"0-0", "0-0"):  # scanned the whole pending list
                self._next_claim = time.monotonic() + bus.claim_interval
            self._claim_cursor = cursor
            if claimed:
                self._buffer.extend((entry, True) for entry in claimed)
                return
        response = await self._client.xreadgroup(
            self._group,
            self._consumer,
            {self._key: ">"},
            count=bus.batch,
            block=bus.poll_ms,
        )
        for _key, entries in response or ():
            self._buffer.extend((entry, False) for entry in entries)

    async def _delivery(
        self, entry_id: bytes, fields: dict[bytes, bytes] | None, *, redelivered: bool
    ) -> Delivery | None:
        try:
            if fields is None or _FIELD not in fields:
                raise BusError("entry without an envelope field")
            envelope = decode_envelope(fields[_FIELD])
        except BusError:
            # A poison (or trimmed) entry can never be handled; drop it.
            log.exception("acknowledging malformed entry %r on %s", entry_id, self._subject)
            await self._client.xack(self._key, self._group, entry_id)
            return None
        return _RedisDelivery(
            self._subject,
            envelope,
            redelivered=redelivered,
            ack=(self._client, self._key, self._group, entry_id),
        )

    async def _release(self) -> None:
        buffered: list[StreamIdT] = [entry_id for (entry_id, _fields), _redelivered in self._buffer]
        self._buffer.clear()
        try:
            if buffered:
                # Mark as idle long enough that the next XAUTOCLAIM of any consumer takes them.
                await self._client.xclaim(
                    self._key,
                    self._group,
                    self._consumer,
                    min_idle_time=0,
                    message_ids=buffered,
                    idle=self._bus.ack_wait_ms,
                    justid=True,
                )
            # DELCONSUMER would drop its pending entries; only remove an idle consumer.
            pending = await self._client.xpending_range(
                self._key, self._group, min="-", max="+", count=1, consumername=self._consumer
            )
            if not pending:
                await self._client.xgroup_delconsumer(self._key, self._group, self._consumer)
        except _REDIS_ERRORS as exc:
            log.warning("closing consumer %s on %s: %s", self._consumer, self._subject, exc)
        self._bus.forget(self)


class _FanOutSubscription(SubscriptionBase):
    def __init__(
        self, bus: RedisStreamsEventBus, subject: str, key: bytes, last_id: bytes | str
    ) -> None:
        super().__init__()
        self._bus = bus
        self._subject = subject
        self._key = key
        self._last_id = last_id
        self._buffer: deque[_Entry] = deque()

    async def __anext__(self) -> Delivery:
        while True:
            if self.is_closed():
                raise StopAsyncIteration
            if self._buffer:
                entry_id, fields = self._buffer.popleft()
                self._last_id = entry_id
                try:
                    if fields is None or _FIELD not in fields:
                        raise BusError("entry without an envelope field")
                    envelope = decode_envelope(fields[_FIELD])
                except BusError:
                    log.exception("skipping malformed entry %r on %s", entry_id, self._subject)
                    continue
                return _RedisDelivery(self._subject, envelope, redelivered=False, ack=None)
            try:
                response = await self._bus.client.xread(
                    {self._key: self._last_id}, count=self._bus.batch, block=self._bus.poll_ms
                )
            except _REDIS_ERRORS as exc:
                if self.is_closed():
                    raise StopAsyncIteration from None
                raise BusError(f"reading {self._subject} failed: {exc}") from exc
            for _key, entries in response or ():
                self._buffer.extend(entries)

    async def _release(self) -> None:
        self._bus.forget(self)


class RedisStreamsEventBus:
    """The Redis Streams ``EventBus``; build it with ``await RedisStreamsEventBus.connect(...)``.

    Args:
        client: A connected ``redis.asyncio.Redis`` with ``decode_responses=False``.
        prefix: Stream key prefix.
        ack_wait: Seconds before an unacknowledged delivery may be claimed again.
        max_len: Approximate entries kept per stream.
        batch: Entries read per command.
        poll_interval: Seconds a blocking read waits before it checks for ``close``.
    """

    def __init__(
        self,
        client: redis_asyncio.Redis,
        *,
        prefix: str = "argus",
        ack_wait: float = 30.0,
        max_len: int = 1_000_000,
        batch: int = 64,
        poll_interval: float = 1.0,
    ) -> None:
        validate_subject(prefix)
        if min(ack_wait, poll_interval) <= 0 or max_len < 1 or batch < 1:
            raise BusError("ack_wait, poll_interval, max_len and batch must be positive")
        self.client = client
        self.prefix = prefix
        self.ack_wait_ms = max(1, round(ack_wait * 1000))
        self.claim_interval = ack_wait / 2
        self.max_len = max_len
        self.batch = batch
        self.poll_ms = max(1, round(poll_interval * 1000))
        self._subscriptions: set[SubscriptionBase] = set()
        self._state = BusState.OPEN

    @classmethod
    async def connect(
        cls, url: str = "redis://127.0.0.1:6379/0", *, connect_timeout: float = 2.0, **options: Any
    ) -> Self:
        """Connect, check the server answers, and return the bus.

        Args:
            url: ``redis://`` (or ``rediss://``, ``unix://``) URL.
            connect_timeout: Seconds to wait for the TCP connection.
            **options: Passed to the constructor (``prefix``, ``ack_wait``, ...).

        Raises:
            BusError: The server is unreachable.
        """
        client = redis_asyncio.Redis.from_url(
            url, socket_connect_timeout=connect_timeout, decode_responses=False
        )
        try:
            # redis-py types ping() for both clients; the asyncio one returns an awaitable.
            await cast("Awaitable[bool]", client.ping())
        except _REDIS_ERRORS as exc:
            await client.aclose()
            raise BusError(f"cannot connect to Redis at {url}: {exc}") from exc
        try:
            return cls(client, **options)
        except BaseException:
            await client.aclose()
            raise

    def _key(self, subject: str) -> bytes:
        if self._state is BusState.CLOSED:
            raise BusError("the event bus is closed")
        return f"{self.prefix}:{validate_subject(subject)}".encode()

    async def publish(self, subject: str, envelope: Envelope) -> None:
        """``XADD`` the envelope (see ``EventBus``)."""
        key = self._key(subject)
        data = encode_envelope(envelope)
        try:
            await self.client.xadd(key, {_FIELD: data}, maxlen=self.max_len, approximate=True)
        except _REDIS_ERRORS as exc:
            raise BusError(f"publishing {envelope.event_id} to {subject} failed: {exc}") from exc

    async def subscribe(self, subject: str, *, durable: str) -> _GroupSubscription:
        """Join (creating if needed) the consumer group ``durable`` (see ``EventBus``)."""
        key = self._key(subject)
        group = validate_name(durable)
        try:
            await self.client.xgroup_create(key, group, id="0", mkstream=True)
        except redis.exceptions.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise BusError(f"cannot create group {group} on {subject}: {exc}") from exc
        except _REDIS_ERRORS as exc:
            raise BusError(f"cannot create group {group} on {subject}: {exc}") from exc
        subscription = _GroupSubscription(self, subject, key, group)
        self._subscriptions.add(subscription)
        return subscription

    async def fan_out(self, subject: str) -> _FanOutSubscription:
        """Start reading after the stream's current last entry (see ``EventBus``)."""
        key = self._key(subject)
        try:
            last: list[_Entry] = await self.client.xrevrange(key, count=1)
        except _REDIS_ERRORS as exc:
            raise BusError(f"cannot subscribe to {subject}: {exc}") from exc
        subscription = _FanOutSubscription(self, subject, key, last[0][0] if last else "0-0")
        self._subscriptions.add(subscription)
        return subscription

    def forget(self, subscription: SubscriptionBase) -> None:
        """Drop a closed subscription from the bus's set."""
        self._subscriptions.discard(subscription)

    async def close(self) -> None:
        """Close every subscription and the connection pool."""
        if self._state is BusState.CLOSED:
            return
        self._state = BusState.CLOSED
        for subscription in list(self._subscriptions):
            await subscription.close()
        try:
            await self.client.aclose()
        except _REDIS_ERRORS as exc:
            log.warning("closing the Redis connection: %s", exc)

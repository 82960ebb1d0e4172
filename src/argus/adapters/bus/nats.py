"""Event bus on NATS JetStream (``nats-py``).

Layout on the server: one stream (``stream``, default ``ARGUS``) captures every
subject under ``prefix`` (``argus.>``); a bus subject ``events.counts`` is the
NATS subject ``argus.events.counts``.

* ``publish`` is a JetStream publish: it returns once the stream has stored the
  message (the ``PubAck``). The event id travels as ``Nats-Msg-Id``, so a
  producer that retries after a lost acknowledgement is de-duplicated by the
  server within ``duplicate_window``.
* ``subscribe`` binds a pull consumer with explicit acks, one per durable name
  and subject; unacknowledged messages come back after ``ack_wait``. Messages
  fetched but not yet handed out are ``nak``-ed on close, so the next consumer
  gets them at once.
* ``fan_out`` is a plain core-NATS subscription on the subject: every
  subscriber sees every message published while it listens, nothing is kept.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections import deque
from typing import Self

import nats
import nats.errors
import nats.js.errors
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription as NatsSubscription
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy, StorageType, StreamConfig

from argus.adapters.bus._base import BusState, SubscriptionBase, decode_envelope, encode_envelope
from argus.domain.errors import BusError
from argus.domain.events import Envelope
from argus.ports.bus import Delivery, validate_name, validate_subject

__all__ = ["NatsEventBus"]

log = logging.getLogger(__name__)

_NATS_ERRORS = (nats.errors.Error, OSError, asyncio.TimeoutError)


class _ConnectionLog:
    """The client's callbacks: a disconnect is a warning, unless we are closing."""

    def __init__(self) -> None:
        self.closing = False

    async def error(self, exc: Exception) -> None:
        log.warning("NATS: %s", exc)

    async def disconnected(self) -> None:
        if self.closing:
            log.debug("NATS: disconnected (closing)")
        else:
            log.warning("NATS: disconnected; reconnecting")

    async def reconnected(self) -> None:
        log.info("NATS: reconnected")


class _NatsDelivery:
    """A JetStream (durable) or core (fan-out) message."""

    def __init__(self, subject: str, envelope: Envelope, msg: Msg, *, durable: bool) -> None:
        self.subject = subject
        self.envelope = envelope
        self._msg = msg
        self._durable = durable
        self.redelivered = durable and msg.metadata.num_delivered > 1

    async def ack(self) -> None:
        if not self._durable or self._msg.is_acked:
            return
        try:
            await self._msg.ack()
        except _NATS_ERRORS as exc:
            raise BusError(f"cannot acknowledge {self.envelope.event_id}: {exc}") from exc


class _DurableSubscription(SubscriptionBase):
    def __init__(
        self,
        bus: NatsEventBus,
        subject: str,
        sub: JetStreamContext.PullSubscription,
        *,
        batch: int,
        poll_interval: float,
    ) -> None:
        super().__init__()
        self._bus = bus
        self._subject = subject
        self._sub = sub
        self._batch = batch
        self._poll = poll_interval
        self._buffer: deque[Msg] = deque()

    async def __anext__(self) -> Delivery:
        while True:
            if self.is_closed():
                raise StopAsyncIteration
            if self._buffer:
                msg = self._buffer.popleft()
                try:
                    envelope = decode_envelope(msg.data)
                except BusError:
                    log.exception("terminating a malformed message on %s", self._subject)
                    await msg.term()
                    continue
                return _NatsDelivery(self._subject, envelope, msg, durable=True)
            try:
                msgs = await self._sub.fetch(self._batch, timeout=self._poll)
            except (nats.errors.TimeoutError, TimeoutError):
                # nats-py raises either its own TimeoutError or asyncio's (the
                # builtin) when a fetch finds nothing: an empty poll, not a failure.
                continue
            except _NATS_ERRORS as exc:
                if self.is_closed():
                    raise StopAsyncIteration from None
                raise BusError(f"fetching from {self._subject} failed: {exc}") from exc
            self._buffer.extend(msgs)
            if self.is_closed():  # closed while the fetch was in flight
                await self._return_buffered()

    async def _return_buffered(self) -> None:
        """Give fetched but unread messages back at once instead of after ``ack_wait``."""
        buffered, self._buffer = self._buffer, deque()
        for msg in buffered:
            try:
                await msg.nak()
            except _NATS_ERRORS:
                log.warning("could not nak a buffered message on %s", self._subject)

    async def _release(self) -> None:
        await self._return_buffered()
        try:
            await self._sub.unsubscribe()
            await self._bus.flush()
        except _NATS_ERRORS as exc:
            log.warning("closing the consumer on %s: %s", self._subject, exc)
        self._bus.forget(self)


FANOUT_BUFFER = 10_000
"""Live messages a fan-out subscription holds for a reader that lags; later ones are dropped."""


class _FanOutSubscription(SubscriptionBase):
    """A core-NATS subscription whose messages the client's callback queues here.

    ``Subscription.next_msg(timeout=...)`` is not used: it waits with
    ``asyncio.wait_for``, which on Python 3.11 can drop the message it was
    handed at the moment its timeout fires, and a poll loop times out all the
    time (suspected, not proven, in a fan-out message CI once waited 20 s for).
    An ``asyncio.Queue`` loses nothing when its reader is cancelled, and nothing
    wakes while no message comes; closing puts ``None`` in it to end the iteration.
    """

    def __init__(self, bus: NatsEventBus, subject: str) -> None:
        super().__init__()
        self._bus = bus
        self._subject = subject
        self._queue: asyncio.Queue[Msg | None] = asyncio.Queue(maxsize=FANOUT_BUFFER)
        self._sub: NatsSubscription | None = None
        self._dropped = 0

    def attach(self, sub: NatsSubscription) -> None:
        """Hold the client's subscription (unsubscribed on close)."""
        self._sub = sub

    async def receive(self, msg: Msg) -> None:
        """The client's callback: queue ``msg`` for the reader (dropped when it lags far)."""
        try:
            self._queue.put_nowait(msg)
        except asyncio.QueueFull:
            self._dropped += 1
            if self._dropped in (1, 10, 100) or self._dropped % 1000 == 0:
                log.warning(
                    "fan-out on %s: the reader lags %d messages; %d dropped so far",
                    self._subject,
                    FANOUT_BUFFER,
                    self._dropped,
                )

    async def __anext__(self) -> Delivery:
        while True:
            if self.is_closed():
                raise StopAsyncIteration
            msg = await self._queue.get()
            if msg is None:
                raise StopAsyncIteration
            try:
                envelope = decode_envelope(msg.data)
            except BusError:
                log.exception("skipping a malformed message on %s", self._subject)
                continue
            return _NatsDelivery(self._subject, envelope, msg, durable=False)

    async def _release(self) -> None:
        if self._sub is not None:
            try:
                await self._sub.unsubscribe()
            except _NATS_ERRORS as exc:
                log.warning("closing the fan-out on %s: %s", self._subject, exc)
        while True:  # room for the end marker: what was queued is not read any more
            try:
                self._queue.put_nowait(None)
                break
            except asyncio.QueueFull:
                self._queue.get_nowait()
        self._bus.forget(self)


class NatsEventBus:
    """The JetStream ``EventBus``; build it with ``await NatsEventBus.connect(...)``."""

    def __init__(
        self,
        client: Client,
        *,
        callbacks: _ConnectionLog,
        stream: str,
        prefix: str,
        ack_wait: float,
        batch: int,
        poll_interval: float,
        publish_timeout: float,
        max_ack_pending: int,
    ) -> None:
        self._client = client
        self._callbacks = callbacks
        self._js = client.jetstream(timeout=publish_timeout)
        self.stream = stream
        self.prefix = prefix
        self._ack_wait = ack_wait
        self._batch = batch
        self._poll = poll_interval
        self._publish_timeout = publish_timeout
        self._max_ack_pending = max_ack_pending
        self._subscriptions: set[SubscriptionBase] = set()
        self._state = BusState.OPEN

    @classmethod
    async def connect(
        cls,
        url: str = "nats://127.0.0.1:4222",
        *,
        stream: str = "ARGUS",
        prefix: str = "argus",
        ack_wait: float = 30.0,
        max_age: float | None = 7 * 24 * 3600.0,
        duplicate_window: float = 120.0,
        batch: int = 64,
        poll_interval: float = 1.0,
        publish_timeout: float = 5.0,
        max_ack_pending: int = 1_000,
        connect_timeout: float = 2.0,
        connect_attempts: int = 3,
    ) -> Self:
        """Connect, create the stream if it is missing, and return the bus.

        Args:
            url: Server URL (``nats://host:port``); comma-separate several.
            stream: JetStream stream name.
            prefix: Subject prefix the stream captures (``prefix.>``).
            ack_wait: Seconds before an unacknowledged delivery is sent again.
            max_age: Seconds the stream keeps a message (``None``: forever).
            duplicate_window: Seconds in which a re-published ``event_id`` is dropped.
            batch: Messages fetched per pull request.
            poll_interval: Seconds a fetch waits before it checks for ``close``.
            publish_timeout: Seconds to wait for the stream's acknowledgement.
            max_ack_pending: Unacknowledged messages a durable consumer may hold.
            connect_timeout: Seconds per connection attempt.
            connect_attempts: Attempts before the first connection gives up; once
                connected, the client reconnects without limit.

        Raises:
            BusError: The server is unreachable, JetStream is off, or a name is invalid.
        """
        validate_name(stream, "stream name")
        validate_subject(prefix)
        if min(ack_wait, poll_interval, publish_timeout, connect_timeout) <= 0:
            raise BusError("ack_wait, poll_interval and the timeouts must be positive")
        callbacks = _ConnectionLog()
        try:
            client = await nats.connect(
                url.split(","),
                connect_timeout=max(1, round(connect_timeout)),
                max_reconnect_attempts=connect_attempts,
                reconnect_time_wait=0.5,
                error_cb=callbacks.error,
                disconnected_cb=callbacks.disconnected,
                reconnected_cb=callbacks.reconnected,
            )
        except _NATS_ERRORS as exc:
            raise BusError(f"cannot connect to NATS at {url}: {exc}") from exc
        # nats-py uses one option for the first connection and for reconnects:
        # fail fast at start, then keep reconnecting for as long as we run.
        client.options["max_reconnect_attempts"] = -1
        bus = cls(
            client,
            callbacks=callbacks,
            stream=stream,
            prefix=prefix,
            ack_wait=ack_wait,
            batch=batch,
            poll_interval=poll_interval,
            publish_timeout=publish_timeout,
            max_ack_pending=max_ack_pending,
        )
        try:
            await bus._ensure_stream(max_age, duplicate_window)
        except BaseException:
            await client.close()
            raise
        return bus

    async def _ensure_stream(self, max_age: float | None, duplicate_window: float) -> None:
        config = StreamConfig(
            name=self.stream,
            subjects=[f"{self.prefix}.>"],
            storage=StorageType.FILE,
            max_age=max_age,
            duplicate_window=duplicate_window,
        )
        try:
            try:
                await self._js.stream_info(self.stream)
            except nats.js.errors.NotFoundError:
                await self._js.add_stream(config)
        except nats.js.errors.BadRequestError as exc:
            if "already in use" not in str(exc):  # created concurrently by another process
                raise BusError(f"cannot create stream {self.stream}: {exc}") from exc
        except _NATS_ERRORS as exc:
            raise BusError(f"JetStream unavailable (is the server run with -js?): {exc}") from exc

    def _check_open(self) -> None:
        if self._state is BusState.CLOSED:
            raise BusError("the event bus is closed")

    def _nats_subject(self, subject: str) -> str:
        return f"{self.prefix}.{validate_subject(subject)}"

    async def publish(self, subject: str, envelope: Envelope) -> None:
        """Publish and wait for the stream's acknowledgement (see ``EventBus``)."""
        self._check_open()
        data = encode_envelope(envelope)
        try:
            await self._js.publish(
                self._nats_subject(subject),
                data,
                timeout=self._publish_timeout,
                stream=self.stream,
                headers={"Nats-Msg-Id": envelope.event_id},
            )
        except _NATS_ERRORS as exc:
            raise BusError(f"publishing {envelope.event_id} to {subject} failed: {exc}") from exc

    async def subscribe(self, subject: str, *, durable: str) -> _DurableSubscription:
        """Open or resume a durable pull consumer (see ``EventBus``)."""
        self._check_open()
        nats_subject = self._nats_subject(subject)
        # One consumer per (durable, subject); the hash keeps names legal and distinct.
        digest = hashlib.sha256(subject.encode()).hexdigest()[:12]
        name = f"{validate_name(durable)}-{digest}"
        config = ConsumerConfig(
            name=name,
            durable_name=name,
            description=f"argus durable {durable!r} on {subject!r}",
            deliver_policy=DeliverPolicy.ALL,
            ack_policy=AckPolicy.EXPLICIT,
            ack_wait=self._ack_wait,
            max_deliver=-1,
            max_ack_pending=self._max_ack_pending,
            filter_subject=nats_subject,
        )
        try:
            try:
                await self._js.consumer_info(self.stream, name)
            except nats.js.errors.NotFoundError:
                await self._js.add_consumer(self.stream, config)
            sub = await self._js.pull_subscribe_bind(durable=name, stream=self.stream)
        except _NATS_ERRORS as exc:
            raise BusError(f"cannot open consumer {durable} on {subject}: {exc}") from exc
        subscription = _DurableSubscription(
            self, subject, sub, batch=self._batch, poll_interval=self._poll
        )
        self._subscriptions.add(subscription)
        return subscription

    async def fan_out(self, subject: str) -> _FanOutSubscription:
        """Open a core-NATS subscription (see ``EventBus``)."""
        self._check_open()
        subscription = _FanOutSubscription(self, subject)
        try:
            sub = await self._client.subscribe(self._nats_subject(subject), cb=subscription.receive)
            subscription.attach(sub)
            await self._client.flush(timeout=max(1, round(self._publish_timeout)))
        except _NATS_ERRORS as exc:
            await subscription.close()
            raise BusError(f"cannot subscribe to {subject}: {exc}") from exc
        self._subscriptions.add(subscription)
        return subscription

    async def flush(self) -> None:
        """Push buffered protocol messages (acks) to the server."""
        if self._client.is_connected:
            await self._client.flush(timeout=max(1, round(self._publish_timeout)))

    def forget(self, subscription: SubscriptionBase) -> None:
        """Drop a closed subscription from the bus's set."""
        self._subscriptions.discard(subscription)

    async def close(self) -> None:
        """Close every subscription, flush acknowledgements and disconnect."""
        if self._state is BusState.CLOSED:
            return
        self._state = BusState.CLOSED
        for subscription in list(self._subscriptions):
            await subscription.close()
        self._callbacks.closing = True
        try:
            await self._client.close()
        except _NATS_ERRORS as exc:
            log.warning("closing the NATS connection: %s", exc)

"""``NotificationDispatcher``: delivers the durable notification outbox, channel by channel.

The notifier writes one ``Notification`` per channel and recipient list into
the outbox; this takes them from there to the receivers. Design:

* **Per channel, never across.** Each pass claims items one channel at a time
  (``claim_due`` with every other channel excluded), at most as many as that
  channel has free delivery slots (``channel_concurrency``) and rate-limit
  tokens (``Channel.rate_per_minute``). Deliveries run as their own tasks, so
  a slow or dead SMTP server holds only its own slots: the other channels go
  on being claimed and delivered at the next pass.
* **Circuit breaker per channel** (``domain.notify.breaker``): failures in a
  row open it; while open the channel's items are not claimed at all (they stay
  pending, spending no attempts), then one probe goes out per cool-down.
* **Retries** with exponential backoff and full jitter (``domain.backoff``),
  at most ``max_attempts``; a permanent error (SMTP 5xx, HTTP 4xx other than
  408/425/429, a refused destination) dead-letters at once. Every attempt is
  recorded with its latency, error and the breaker's state: the delivery log.
* **Leases** make it safe to run one dispatcher per server over one database,
  and to crash: items claimed by a dispatcher that died are claimed again once
  their lease expires. A message is sent at least once; the notification id
  goes with it (``Message-ID``, ``X-Argus-Delivery``) so a receiver can drop
  the rare repeat after an ambiguous failure.
* A channel template that fails falls back to the built-in (``templates``);
  the error is written on the attempt.

``run_once`` is one pass that waits for its deliveries (tests, the CLI);
``start`` runs passes in the background until ``stop``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Protocol

from argus.domain.backoff import RandomSource
from argus.domain.errors import (
    ArgusError,
    ConflictError,
    NotFoundError,
    StorageError,
)
from argus.domain.notify import (
    Channel,
    ChannelKind,
    DeliveryAttempt,
    DeliveryError,
    Message,
    Notification,
    NotificationState,
)
from argus.domain.notify.breaker import Breakers
from argus.domain.notify.delivery import DispatchPolicy
from argus.domain.notify.ratelimit import ChannelRateLimits
from argus.ports.notify import ChannelRepository, NotificationOutbox, Sender
from argus.ports.paging import MAX_PAGE
from argus.services.background import TaskGroup

__all__ = ["DispatchPolicy", "NotificationDispatcher", "Renderer", "SnapshotSource"]

log = logging.getLogger(__name__)


class Renderer(Protocol):
    """Turns a notification into the message its channel sends, and a template error if one
    (``argus.adapters.notify.templates.render``)."""

    def __call__(
        self,
        channel: Channel,
        notification: Notification,
        *,
        snapshot: bytes | None = None,
        snapshot_url: str | None = None,
    ) -> tuple[Message, str | None]: ...


SnapshotSource = Callable[[Notification, Channel], Awaitable[tuple[bytes | None, str | None]]]
"""The snapshot of a notification's alert for a channel: JPEG bytes to attach and/or a link."""


class NotificationDispatcher:
    """Claims due notifications and delivers them over their channels' senders.

    Args:
        outbox: The durable outbox.
        channels: Stored channels (read each pass, so edits apply at once).
        senders: One sender per channel kind.
        render: Renders a notification with its channel's templates.
        clock: Wall-clock time (UTC) for leases, due times and attempts.
        owner: This dispatcher's name in leases (made unique per instance).
        policy: Retries, breaker, leases, concurrency.
        snapshot: The snapshot of a notification's alert, when channels use one.
        on_attempt: Called with every recorded attempt and its channel (metrics).
        monotonic: Monotonic seconds (breakers, rate limits, latency).
        rng: Jitter source.
    """

    def __init__(
        self,
        outbox: NotificationOutbox,
        channels: ChannelRepository,
        senders: Mapping[ChannelKind, Sender],
        *,
        render: Renderer,
        clock: Callable[[], datetime],
        owner: str,
        policy: DispatchPolicy | None = None,
        snapshot: SnapshotSource | None = None,
        on_attempt: Callable[[DeliveryAttempt, Channel], None] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        rng: RandomSource | None = None,
    ) -> None:
        self._outbox = outbox
        self._channels = channels
        self._senders = dict(senders)
        self._render = render
        self._clock = clock
        self.owner = f"{owner}:{uuid.uuid4().hex[:8]}"
        self._policy = policy or DispatchPolicy()
        self._snapshot = snapshot
        self._on_attempt = on_attempt
        self._monotonic = monotonic
        # Jitter only spreads retries in time; it needs no cryptographic strength.
        self._rng: RandomSource = rng if rng is not None else random.Random()  # noqa: S311
        self._breakers = Breakers(self._policy.breaker, monotonic)
        self._limits = ChannelRateLimits(monotonic)
        self._in_flight: dict[str, set[asyncio.Task[None]]] = {}
        self._wake = asyncio.Event()
        self._tasks = TaskGroup()
        self.store_error: str | None = None
        """Why the outbox could not be read or written lately; ``None`` once it could."""
        self.delivered = 0
        self.failed = 0

    def breaker_states(self) -> Mapping[str, str]:
        """The circuit breaker state of every channel tried so far, by channel id."""
        return dict(self._breakers.states())

    def wake(self) -> None:
        """Run the next pass now (the notifier calls it after enqueueing)."""
        self._wake.set()

    async def run_once(self) -> int:
        """One pass over every channel, waiting for the deliveries it started.

        Returns:
            How many deliveries it attempted.
        """
        started = await self._pass()
        if started:
            await asyncio.gather(*started, return_exceptions=True)
        return len(started)

    async def _all_channels(self) -> list[Channel]:
        found: list[Channel] = []
        while True:
            page = await self._channels.list(limit=MAX_PAGE, offset=len(found))
            found.extend(page.items)
            if len(page.items) < MAX_PAGE:
                return found

    async def _pass(self) -> list[asyncio.Task[None]]:
        try:
            channels = await self._all_channels()
            started = await self._claim_orphans({c.id for c in channels})
            for channel in channels:
                if channel.enabled:
                    started.extend(await self._claim(channel, channels))
        except StorageError as exc:
            self.store_error = str(exc) or type(exc).__name__
            log.warning("notification outbox unavailable: %s", self.store_error)
            return []
        self.store_error = None
        self._breakers.forget({c.id for c in channels})
        return started

    async def _claim(
        self, channel: Channel, channels: Sequence[Channel]
    ) -> list[asyncio.Task[None]]:
        breaker = self._breakers.of(channel.id)
        running = self._in_flight.setdefault(channel.id, set())
        free = min(self._policy.batch, self._policy.channel_concurrency - len(running))
        if free <= 0 or breaker.blocking:
            return []
        probing = breaker.state == "half_open"
        if probing:
            free = 1
        tokens = 0
        while tokens < free and self._limits.take(channel.id, channel.rate_per_minute):
            tokens += 1
        if tokens == 0 or (probing and not breaker.allow()):
            for _ in range(tokens):
                self._limits.give_back(channel.id)
            return []
        others = [c.id for c in channels if c.id != channel.id]
        items = await self._outbox.claim_due(
            self._clock(),
            owner=self.owner,
            lease_s=self._policy.lease_s,
            limit=tokens,
            exclude_channels=others,
        )
        for _ in range(tokens - len(items)):
            self._limits.give_back(channel.id)
        if probing and not items:
            breaker.release()
        tasks = []
        for item in items:
            task = asyncio.create_task(self._deliver(channel, item), name=f"notify-{item.id}")
            running.add(task)
            task.add_done_callback(self._finished(channel.id))
            tasks.append(task)
        return tasks

    def _finished(self, channel_id: str) -> Callable[[asyncio.Task[None]], None]:
        def done(task: asyncio.Task[None]) -> None:
            self._in_flight.get(channel_id, set()).discard(task)
            self._wake.set()

        return done

    async def _claim_orphans(self, known: set[str]) -> list[asyncio.Task[None]]:
        """Dead-letter items whose channel was deleted (they can never be delivered)."""
        items = await self._outbox.claim_due(
            self._clock(),
            owner=self.owner,
            lease_s=self._policy.lease_s,
            limit=self._policy.batch,
            exclude_channels=known,
        )
        for item in items:
            try:
                await self._channels.get(item.channel_id)
            except NotFoundError:
                attempt = DeliveryAttempt(item.id, item.attempts + 1, self._clock(), False, 0.0)
                error = f"channel {item.channel_id} no longer exists"
                await self._record(attempt, item, "dead", error=error)
            # else: created since this pass listed the channels; the lease runs out and
            # the item is claimed with its channel then.
        return []

    async def _deliver(self, channel: Channel, item: Notification) -> None:
        breaker = self._breakers.of(channel.id)
        state_then = breaker.state
        started = self._monotonic()
        number = item.attempts + 1
        notes: list[str] = []
        permanent = False
        try:
            message = await self._message(channel, item, notes)
            sender = self._senders.get(channel.kind)
            if sender is None:
                raise DeliveryError(f"no sender for {channel.kind} channels here", True)
            async with asyncio.timeout(self._policy.lease_s * 0.8):
                await sender.send(channel, message)
        except DeliveryError as exc:
            error = "; ".join([str(exc), *notes])
            permanent = exc.permanent
            if permanent:
                breaker.success()  # the channel answered: the message is at fault
            else:
                breaker.failure(str(exc))
        except TimeoutError:
            error = f"no answer within {self._policy.lease_s * 0.8:.0f} s"
            breaker.failure(error)
        except Exception as exc:  # top of a delivery task: a sender bug is one failed attempt
            log.exception("delivering notification %s failed", item.id)
            error = f"{type(exc).__name__}: {exc}"
            breaker.failure(error)
        else:
            breaker.success()
            note = "; ".join(notes) or None
            attempt = self._attempt(item, number, started, ok=True, error=note, breaker=state_then)
            self.delivered += 1
            await self._record(attempt, item, "delivered", channel=channel)
            return
        self.failed += 1
        attempt = self._attempt(item, number, started, ok=False, error=error, breaker=state_then)
        if permanent or number >= self._policy.max_attempts:
            await self._record(attempt, item, "dead", error=error, channel=channel)
            return
        delay = self._policy.retry_delay(number, self._rng)
        retry_at = self._clock() + timedelta(seconds=delay)
        await self._record(
            attempt, item, "pending", retry_at=retry_at, error=error, channel=channel
        )

    async def _message(self, channel: Channel, item: Notification, notes: list[str]) -> Message:
        snapshot: bytes | None = None
        url: str | None = None
        if self._snapshot is not None and item.alert_id is not None:
            try:
                snapshot, url = await self._snapshot(item, channel)
            except ArgusError as exc:
                notes.append(f"snapshot left out: {exc}")
        message, template_error = self._render(channel, item, snapshot=snapshot, snapshot_url=url)
        if template_error is not None:
            notes.append(f"built-in template used: {template_error}")
        return message

    def _attempt(
        self,
        item: Notification,
        number: int,
        started: float,
        *,
        ok: bool,
        error: str | None,
        breaker: str = "closed",
    ) -> DeliveryAttempt:
        latency = max(0.0, (self._monotonic() - started) * 1000.0)
        return DeliveryAttempt(item.id, number, self._clock(), ok, latency, error, breaker)

    async def _record(
        self,
        attempt: DeliveryAttempt,
        item: Notification,
        state: NotificationState,
        *,
        retry_at: datetime | None = None,
        error: str | None = None,
        channel: Channel | None = None,
    ) -> None:
        for tries in range(3):
            try:
                await self._outbox.record(
                    attempt,
                    state=state,
                    next_attempt_at=retry_at,
                    error=error,
                )
            except ConflictError as exc:
                log.warning("notification %s: %s", item.id, exc)
                return
            except StorageError as exc:
                self.store_error = str(exc) or type(exc).__name__
                if tries == 2:
                    # The lease runs out and the item is tried again: at least once.
                    log.error("recording notification %s failed: %s", item.id, exc)
                    return
                await asyncio.sleep(0.2 * (tries + 1))
                continue
            break
        if channel is not None and self._on_attempt is not None:
            self._on_attempt(attempt, channel)

    def start(self) -> None:
        """Run passes in the background (once)."""
        self._tasks.start(("argus-notify-dispatch", self._run_forever))

    async def _run_forever(self) -> None:
        while True:
            try:
                await self._pass()
            except asyncio.CancelledError:
                raise
            except Exception:  # top of a task loop: log and try again next pass
                log.exception("notification dispatch pass failed")
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._policy.poll_s):
                    await self._wake.wait()

    async def stop(self) -> None:
        """Stop passing and cancel deliveries in flight (their leases run out)."""
        await self._tasks.stop()
        tasks = [task for running in self._in_flight.values() for task in running]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._in_flight.clear()

    @property
    def started(self) -> bool:
        """Whether this server runs the dispatcher (``ARGUS_NOTIFY_DISPATCH``)."""
        return self._tasks.started

    def check(self) -> tuple[bool, str]:
        """Whether delivery runs, and a one-line reason (open breakers are named)."""
        if not self._tasks.started:
            return False, "notification dispatch not started"
        if self._tasks.finished:
            return False, "notification dispatch stopped"
        if self.store_error is not None:
            return False, f"notification outbox unavailable: {self.store_error}"
        blocked = self._breakers.blocked()
        if blocked:
            return True, f"delivering; breaker open on channel(s) {', '.join(sorted(blocked))}"
        return True, "delivering notifications"
